import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '../shared/index.ts';
import { openBodySegments, segmentKeyFrom, type BodySegments } from './body-segments.ts';
import { commitWithoutSync, storeKeyOf, syncWal, type SqliteDatabase } from './sqlite-database.ts';
import type {
  HeldBodies,
  Outbox,
  OutboxEntry,
  OutboxInput,
  OutboxState,
  OutboxTicket,
  StoredMessage,
} from './transport-store.ts';

/**
 * The outbox in the transport's SQLite store (sqlite-transport-store.ts): rows hold a message's state, properties and
 * where its body is; the bodies are sealed once into segment files beside the database (body-segments.ts), not into
 * the page-encrypted B-tree, which encrypted, journalled and checkpointed each megabyte, read it back to send it and
 * rewrote pages to delete it. A segment file goes once no row refers to it. A body its owner keeps anyway (a case's
 * message) is not written here at all: the row says so (body_held) and the body is read from the owner. One process at
 * a time uses a store (the workstation's app lock, the connector's data directory).
 */

interface BodyColumns {
  message_id: string;
  body: Uint8Array | null;
  body_segment: number | null;
  body_offset: number | null;
  body_held: number;
  bytes: number;
}

interface OutboxRow extends BodyColumns {
  seq: number;
  order_key: string;
  address: string;
  properties: string;
  state: OutboxState;
  failure_reason: string | null;
  created_at: number;
}

/**
 * Bodies queued lately, kept in memory until they are confirmed or given up on: a message is usually sent within
 * milliseconds of being queued, and reading it back would decrypt what was encrypted a moment ago.
 */
const RECENT_BODY_BYTES = 32 * 1024 * 1024;

/** The segment files of a database: `<file>.bodies/` beside it, or a temporary folder for one in memory. */
function segmentsOf(db: SqliteDatabase, logger: Logger | undefined): BodySegments {
  const inMemory = db.memory || db.name === '';
  const dir = inMemory ? mkdtempSync(join(tmpdir(), 'rts-bodies-')) : `${db.name}.bodies`;
  const segments = openBodySegments({ dir, key: segmentKeyFrom(storeKeyOf(db)), ...(logger && { logger }) });
  if (!inMemory) return segments;
  return Object.assign(Object.create(segments) as BodySegments, {
    close() {
      segments.close();
      rmSync(dir, { recursive: true, force: true });
    },
  });
}

export interface SqliteOutbox extends Outbox {
  /** Closes the segment files (the database is closed by its owner). */
  close(): void;
}

export function createSqliteOutbox(
  db: SqliteDatabase,
  options: { logger?: Logger; heldBodies?: HeldBodies } = {},
): SqliteOutbox {
  const { logger, heldBodies } = options;
  const insert = db.prepare(`insert into outbox
    (message_id, order_key, address, properties, bytes, state, created_at, body_segment, body_offset, body_held)
    values (?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?) on conflict (message_id) do nothing`);
  const queuedAfter = db.prepare(`select seq, message_id as messageId, order_key as orderKey, address, bytes
    from outbox where seq > ? and state = 'pending' order by seq limit ?`);
  const load =
    db.prepare(`select o.message_id, o.properties, o.bytes, o.body_segment, o.body_offset, o.body_held, b.body
    from outbox o left join outbox_bodies b using (message_id) where o.message_id = ?`);
  // A group of ids as one JSON array: one statement for what took one each (7.5 µs an id in the transport bench).
  const remove = db.prepare(`delete from outbox where message_id in (select value from json_each(?))
    returning message_id, body_segment, body_held`);
  const isPending = db.prepare(`select 1 from outbox where message_id = ? and state = 'pending'`);
  const isQueued = db.prepare('select 1 from outbox where message_id = ?');
  const removeBody = db.prepare('delete from outbox_bodies where message_id = ?');
  const fail = db.prepare(`update outbox set state = 'failed', failure_reason = ? where message_id = ?`);
  const counts = db.prepare(`select state, count(*) as n from outbox group by state`);
  const failed = db.prepare(`select o.*, b.body from outbox o left join outbox_bodies b using (message_id)
    where o.state = 'failed' order by o.seq`);
  const segmentCounts = db.prepare(
    'select body_segment as segment, count(*) as n from outbox where body_segment is not null group by body_segment',
  );

  // Opened at first use: a store that only receives, or a second reader beside the process that sends, never opens
  // them (opening cuts a torn tail off the newest segment, which must not be another process's write in progress).
  let opened: BodySegments | undefined;
  /** Rows referring to each segment: a segment is reclaimed when its count reaches 0. */
  const references = new Map<number, number>();
  const segments = (): BodySegments => {
    if (opened) return opened;
    opened = segmentsOf(db, logger);
    for (const { segment, n } of segmentCounts.all() as { segment: number; n: number }[]) references.set(segment, n);
    opened.reclaim(new Set(references.keys()));
    return opened;
  };
  const heldBodyOf = (messageId: string): Uint8Array => {
    const body = heldBodies?.read(messageId);
    if (!body) throw new Error(`the body of ${messageId} is held by the store's owner, which has none for it`);
    return body;
  };
  const bodyOf = (row: BodyColumns): Uint8Array => {
    if (row.body_held) return heldBodyOf(row.message_id);
    return row.body_segment === null
      ? new Uint8Array(row.body ?? new Uint8Array(0))
      : segments().read({ segment: row.body_segment, offset: row.body_offset!, length: row.bytes });
  };
  const messageOf = (row: BodyColumns & { properties: string }): StoredMessage => ({
    properties: JSON.parse(row.properties) as StoredMessage['properties'],
    body: bodyOf(row),
  });

  // A message given up on because its body could not be read is still listed, with its reason and no body: the list
  // must not fail for the one message it is there to explain.
  const failedMessageOf = (row: OutboxRow): StoredMessage => {
    try {
      return messageOf(row);
    } catch {
      return { properties: JSON.parse(row.properties) as StoredMessage['properties'], body: new Uint8Array(0) };
    }
  };

  const recent = new Map<string, StoredMessage>();
  let recentBytes = 0;
  /**
   * Queued inside a caller's transaction (a consult with its case): kept too, or the sender would read back from the
   * case's segment what was sealed there a moment ago (1 ms and two megabyte copies per consult in P2's profile). Until
   * seen committed they are checked against the rows, so that one rolled back is neither sent nor kept.
   */
  const uncommitted = new Set<string>();
  const forget = (messageId: string) => {
    const message = recent.get(messageId);
    if (!message) return;
    recent.delete(messageId);
    uncommitted.delete(messageId);
    recentBytes -= message.body.byteLength;
  };
  const remember = ({ messageId, message }: OutboxInput) => {
    forget(messageId);
    if (recentBytes + message.body.byteLength > RECENT_BODY_BYTES) return;
    recent.set(messageId, message);
    recentBytes += message.body.byteLength;
    if (db.inTransaction) uncommitted.add(messageId);
  };
  /** Outside any transaction: what is still queued was committed; the rest was rolled back. */
  const settleUncommitted = () => {
    if (uncommitted.size === 0 || db.inTransaction) return;
    for (const messageId of uncommitted) if (isQueued.get(messageId) === undefined) forget(messageId);
    uncommitted.clear();
  };

  // The bodies are durable in their segment before the rows that point at them commit. A body whose row is never
  // committed (a duplicate, or a rolled-back transaction) stays an orphan record, which goes with its segment.
  const enqueueMany = db.transaction((entries: readonly OutboxInput[]) => {
    const written = entries.filter((e) => !e.bodyHeld);
    const refs = written.length > 0 ? segments().append(written.map((e) => e.message.body)) : [];
    let next = 0;
    return entries.filter(({ messageId, orderKey, address, message, bodyHeld }) => {
      const ref = bodyHeld ? undefined : refs[next++]!;
      const { changes } = insert.run(
        messageId,
        orderKey,
        address,
        JSON.stringify(message.properties),
        message.body.byteLength,
        Date.now(),
        ref?.segment ?? null,
        ref?.offset ?? null,
        bodyHeld ? 1 : 0,
      );
      if (changes > 0 && ref) references.set(ref.segment, (references.get(ref.segment) ?? 0) + 1);
      return changes > 0;
    });
  });
  // The counts are lowered only once the deletion committed: lowered early, a failed commit would leave rows pointing
  // into a segment that reclaim then deletes. (Raised early on enqueue: a rollback then only keeps a segment too long.)
  const deleteRows = (ids: readonly string[]) => {
    const segmentsOfRemoved: number[] = [];
    const rows = remove.all(JSON.stringify(ids)) as {
      message_id: string;
      body_segment: number | null;
      body_held: number;
    }[];
    for (const row of rows) {
      if (row.body_segment !== null) segmentsOfRemoved.push(row.body_segment);
      else if (!row.body_held) removeBody.run(row.message_id);
    }
    return segmentsOfRemoved;
  };

  const queue = (entries: readonly OutboxInput[]) => {
    enqueueMany(entries).forEach(remember);
  };

  // A deletion need not outlive a power cut: undone, its message is sent again and the receiver's inbox absorbs it
  // (commitWithoutSync). The WAL is fsynced before a segment file goes, so that rows a power cut brings back never point
  // into a deleted file.
  const removeRows = (messageIds: readonly string[]) => commitWithoutSync(db, () => deleteRows(messageIds));

  /** Rows taken away (accepted, or withdrawn); a segment goes once no row refers to it. */
  const removeMany = (messageIds: readonly string[]) => {
    segments(); // its references counted before any is taken away
    const removed = removeRows(messageIds);
    messageIds.forEach(forget);
    let emptied = false;
    for (const segment of removed) {
      const left = (references.get(segment) ?? 1) - 1;
      if (left > 0) references.set(segment, left);
      else emptied = references.delete(segment) || emptied;
    }
    if (!emptied) return;
    if (!db.inTransaction) syncWal(db);
    segments().reclaim(new Set(references.keys()));
  };

  return {
    enqueue: (entry) => {
      queue([entry]);
    },
    enqueueMany: (entries) => {
      queue(entries);
    },
    queuedAfter: (afterSeq, limit) => {
      settleUncommitted();
      return queuedAfter.all(afterSeq, limit) as OutboxTicket[];
    },
    load: (messageId) => {
      settleUncommitted();
      const cached = recent.get(messageId);
      if (cached && !uncommitted.has(messageId)) return cached;
      if (cached) return isQueued.get(messageId) === undefined ? undefined : cached;
      const row = load.get(messageId) as (BodyColumns & { properties: string }) | undefined;
      return row && messageOf(row);
    },
    confirmMany: removeMany,
    withdraw: (messageId) => {
      if (isPending.get(messageId) === undefined) return false;
      removeMany([messageId]);
      return true;
    },
    fail: (messageId, reason) => {
      fail.run(reason, messageId);
      forget(messageId);
    },
    counts: () => {
      const byState = new Map((counts.all() as { state: OutboxState; n: number }[]).map((r) => [r.state, r.n]));
      return { queued: byState.get('pending') ?? 0, failed: byState.get('failed') ?? 0 };
    },
    failed: () =>
      (failed.all() as OutboxRow[]).map((row): OutboxEntry => ({
        seq: row.seq,
        messageId: row.message_id,
        orderKey: row.order_key,
        address: row.address,
        message: failedMessageOf(row),
        state: row.state,
        createdAt: row.created_at,
        ...(row.failure_reason !== null && { failureReason: row.failure_reason }),
      })),
    close: () => opened?.close(),
  };
}
