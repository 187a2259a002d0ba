import { useCallback, useEffect, useEffectEvent, useState } from 'react';
import type {
  CommandChannel,
  EventChannel,
  ApiError,
  CommandInput,
  CommandOutput,
  EventPayload,
  Result,
} from '../../shared/api/index.ts';
import type { RtsApi } from '../../preload/index.ts';

/** One command call with its input as a value (the typed `invoke` spreads input into optional arguments). */
export function invoke<C extends CommandChannel>(
  api: RtsApi,
  command: C,
  input: unknown,
): Promise<Result<CommandOutput<C>>> {
  return (api as unknown as { invoke(c: C, i: unknown): Promise<Result<CommandOutput<C>>> }).invoke(command, input);
}

export interface CommandState<T> {
  readonly value: T | undefined;
  readonly error: ApiError | undefined;
  /** True until the answer for the current input (and reload) has arrived. */
  readonly loading: boolean;
  /** Asks again (after an event says the answer changed). */
  readonly reload: () => void;
}

/**
 * The answer to one command, asked when the input changes and again on `reload`. The input must be JSON-able (it is
 * compared by its JSON); a late answer to an earlier input never overwrites a newer one.
 */
export function useCommand<C extends CommandChannel>(
  api: RtsApi,
  command: C,
  input: CommandInput<C>,
): CommandState<CommandOutput<C>> {
  const key = JSON.stringify(input ?? null);
  const [generation, setGeneration] = useState(0);
  const [answer, setAnswer] = useState<{ for: string; value?: CommandOutput<C>; error?: ApiError }>();
  const ticket = `${command}|${key}|${generation}`;
  useEffect(() => {
    let live = true;
    void invoke(api, command, JSON.parse(key) ?? undefined).then((result) => {
      // An error keeps the last value on screen (e.g. a form being filled in beside it), with the error shown.
      if (live)
        setAnswer((previous) =>
          result.ok
            ? { for: ticket, value: result.value }
            : { for: ticket, error: result.error, ...(previous?.value !== undefined && { value: previous.value }) },
        );
    });
    return () => {
      live = false;
    };
  }, [api, command, key, ticket]);
  const reload = useCallback(() => setGeneration((g) => g + 1), []);
  // Between a reload and its answer the previous value stays on screen (no flicker); `loading` says it is being renewed.
  return { value: answer?.value, error: answer?.error, loading: answer?.for !== ticket, reload };
}

/** Runs `listener` for every event of one channel while the component is mounted. */
export function useEvent<E extends EventChannel>(
  api: RtsApi,
  event: E,
  listener: (payload: EventPayload<E>) => void,
): void {
  const onEvent = useEffectEvent(listener);
  useEffect(() => api.on(event, (payload) => onEvent(payload)), [api, event]);
}

/** Calls a command on the user's behalf (a button): the result, or the error to show next to the button. */
export function useAction<C extends CommandChannel>(
  api: RtsApi,
  command: C,
): {
  run: (input: CommandInput<C>) => Promise<CommandOutput<C> | undefined>;
  error: ApiError | undefined;
  busy: boolean;
} {
  const [error, setError] = useState<ApiError>();
  const [busy, setBusy] = useState(false);
  const run = useCallback(
    async (input: CommandInput<C>) => {
      setBusy(true);
      setError(undefined);
      try {
        const result = await invoke(api, command, input);
        if (!result.ok) {
          setError(result.error);
          return undefined;
        }
        return result.value;
      } finally {
        setBusy(false);
      }
    },
    [api, command],
  );
  return { run, error, busy };
}
