import { useCallback, useEffect, useRef, useState } from 'react';
import { COMMANDS, type ApiError, type DraftKey } from '../../shared/api/index.ts';
import type { RtsApi } from '../../preload/index.ts';
import { invoke } from './use-command.ts';

/** A pause in typing this long writes the draft: at most a few words are lost when the app stops at once. */
const SAVE_AFTER_MS = 600;

export interface DraftState {
  /** The draft kept when the screen opened, if any; `undefined` until it has been asked for (`ready`). */
  readonly found: { readonly body: string; readonly savedAt: string } | undefined;
  /** Settles once the draft has been asked for, with what `found` then holds. */
  readonly ready: Promise<DraftState['found']>;
  /** When this screen last wrote the draft. */
  readonly savedAt: string | undefined;
  /** Why the draft could not be written (or read). */
  readonly error: ApiError | undefined;
  /** Writes `body` once typing pauses, and at once when the screen closes. */
  readonly save: (body: string) => void;
  /** Forgets the draft (it was sent, or the user starts over); a write still pending is dropped. */
  readonly discard: () => Promise<void>;
}

/**
 * One draft in the encrypted store (drafts:get / save / discard). Writes go one after another, so that a discard is
 * never overtaken by an earlier write that resurrects the draft.
 */
/** `key` is fixed for the life of the component (a screen for another draft is another component). */
export function useDraft(api: RtsApi, key: DraftKey): DraftState {
  const [found, setFound] = useState<DraftState['found']>();
  const [savedAt, setSavedAt] = useState<string>();
  const [error, setError] = useState<ApiError>();
  const pending = useRef<{ body: string; timer: ReturnType<typeof setTimeout> }>(undefined);
  const written = useRef<string>(undefined);
  const queue = useRef<Promise<unknown>>(Promise.resolve());
  const [loading] = useState(() => {
    let resolve!: (found: DraftState['found']) => void;
    const promise = new Promise<DraftState['found']>((r) => (resolve = r));
    return { promise, resolve };
  });

  const write = useCallback(
    (body: string) =>
      (queue.current = queue.current.then(async () => {
        const result = await invoke(api, COMMANDS.saveDraft, { key, body });
        if (!result.ok) return setError(result.error);
        written.current = body;
        setSavedAt(result.value.savedAt);
        setError(undefined);
      })),
    [api, key],
  );

  useEffect(() => {
    let live = true;
    void invoke(api, COMMANDS.getDraft, { key }).then((result) => {
      if (!live) return;
      let draft: DraftState['found'];
      if (!result.ok) setError(result.error);
      else if (result.value.body !== undefined) {
        draft = { body: result.value.body, savedAt: result.value.savedAt ?? '' };
        setFound(draft);
        written.current = result.value.body;
      }
      loading.resolve(draft);
    });
    return () => {
      live = false;
      const waiting = pending.current;
      pending.current = undefined;
      if (waiting) {
        clearTimeout(waiting.timer);
        void write(waiting.body);
      }
    };
  }, [api, key, write, loading]);

  const save = useCallback(
    (body: string) => {
      if (body === (pending.current?.body ?? written.current)) return;
      if (pending.current) clearTimeout(pending.current.timer);
      const timer = setTimeout(() => {
        pending.current = undefined;
        void write(body);
      }, SAVE_AFTER_MS);
      pending.current = { body, timer };
    },
    [write],
  );

  const discard = useCallback(async () => {
    if (pending.current) clearTimeout(pending.current.timer);
    pending.current = undefined;
    written.current = undefined;
    setSavedAt(undefined);
    setFound(undefined);
    await (queue.current = queue.current.then(() => invoke(api, COMMANDS.discardDraft, { key })));
  }, [api, key]);

  return { found, ready: loading.promise, savedAt, error, save, discard };
}
