import {
  openBodySegments,
  segmentKeyFrom,
  storeKeyOf,
  type BodyRef,
  type BodySegments,
  type SqliteDatabase,
} from '../../../transport/index.ts';
import type { Logger } from '../../../shared/index.ts';

/** Separate from the outbox's segments: a record moved from one family to the other fails its tag. */
const CASE_BODIES_INFO = 'rts case bodies v1';

/**
 * Where a case's messages keep their envelopes: sealed once (AES-256-GCM, a key derived from the store's) into
 * append-only segment files beside the store, `<store>.cases/`. The outbox sends an outgoing message from here rather
 * than from a copy of its own, so a consult's megabyte is written once per endpoint instead of into the case and again
 * into the outbox, and never into the page-encrypted B-tree (measured 15 ms per MiB of encrypted pages, and again when
 * the WAL is checkpointed). Cases are kept, so these segments are never reclaimed; a record whose row was rolled back,
 * or whose message was refused after it was written ahead of its validation (consult-incoming.ts keepAhead: only once
 * its signer is verified), stays unreferenced in them. A store in memory keeps bodies in its rows instead.
 */
export interface CaseBodies {
  /**
   * Sealed, written and fsynced on the thread pool (bodies kept meanwhile share the next write), before the row that
   * refers to it is committed: the event loop runs while the disk works (an fsync blocked it 1–2.5 ms per consult in
   * P2, and for as long as a slow disk takes).
   */
  keep(body: Uint8Array): Promise<BodyRef>;
  read(ref: BodyRef): Uint8Array;
  close(): void;
}

export function openCaseBodies(db: SqliteDatabase, logger?: Logger): CaseBodies | undefined {
  if (db.memory || db.name === '') return undefined;
  // Opened at the first body: a core that only lists cases (P6's memory, a second reader) opens no file.
  let segments: BodySegments | undefined;
  const open = (): BodySegments => {
    if (segments) return segments;
    segments = openBodySegments({
      dir: `${db.name}.cases`,
      key: segmentKeyFrom(storeKeyOf(db), CASE_BODIES_INFO),
      ...(logger && { logger }),
    });
    return segments;
  };
  return {
    keep: async (body) => (await open().appendDurably([body]))[0]!,
    read: (ref) => {
      const body = open().read(ref);
      return new Uint8Array(body.buffer, body.byteOffset, body.byteLength); // a plain view, as the rows give
    },
    close: () => segments?.close(),
  };
}
