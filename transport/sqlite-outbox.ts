import type { SqliteDatabase } from './sqlite-database.ts';
import type { Outbox, OutboxEntry, OutboxInput, OutboxState, OutboxTicket, StoredMessage } from './transport-store.ts';

/** The outbox's rows in the transport's SQLite store (sqlite-transport-store.ts). */

interface OutboxRow {
  seq: number;
  message_id: string;
  order_key: string;
  address: string;
  properties: string;
  body: Uint8Array;
  state: OutboxState;
  failure_reason: string | null;
  created_at: number;
}

const messageOf = (properties: string, body: Uint8Array): StoredMessage => ({
  properties: JSON.parse(properties) as StoredMessage['properties'],
  body: new Uint8Array(body),
});

/**
 * Bodies queued lately, kept in memory until they are confirmed or given up on: a message is usually sent within
 * milliseconds of being queued, and reading it back would decrypt what was encrypted a moment ago.
 */
const RECENT_BODY_BYTES = 32 * 1024 * 1024;

export function createSqliteOutbox(db: SqliteDatabase): Outbox {
  const insert = db.prepare(`insert into outbox (message_id, order_key, address, properties, bytes, state, created_at)
    values (?, ?, ?, ?, ?, 'pending', ?) on conflict (message_id) do nothing`);
  const insertBody = db.prepare(
    'insert into outbox_bodies (message_id, body) values (?, ?) on conflict (message_id) do nothing',
  );
  const queuedAfter = db.prepare(`select seq, message_id as messageId, order_key as orderKey, address, bytes
    from outbox where seq > ? and state = 'pending' order by seq limit ?`);
  const load = db.prepare(
    'select o.properties, b.body from outbox o join outbox_bodies b using (message_id) where o.message_id = ?',
  );
  const properties = db.prepare('select properties from outbox where message_id = ?');
  const remove = db.prepare('delete from outbox where message_id = ?');
  const removeBody = db.prepare('delete from outbox_bodies where message_id = ?');
  const fail = db.prepare(`update outbox set state = 'failed', failure_reason = ? where message_id = ?`);
  const counts = db.prepare(`select state, count(*) as n from outbox group by state`);
  const failed = db.prepare(
    `select o.*, b.body from outbox o join outbox_bodies b using (message_id) where o.state = 'failed' order by o.seq`,
  );

  const recent = new Map<string, Uint8Array>();
  let recentBytes = 0;
  const forget = (messageId: string) => {
    const body = recent.get(messageId);
    if (!body) return;
    recent.delete(messageId);
    recentBytes -= body.byteLength;
  };
  const remember = (messageId: string, body: Uint8Array) => {
    if (recentBytes + body.byteLength > RECENT_BODY_BYTES) return;
    recent.set(messageId, body);
    recentBytes += body.byteLength;
  };

  const enqueueOne = ({ messageId, orderKey, address, message }: OutboxInput): boolean => {
    const { changes } = insert.run(
      messageId,
      orderKey,
      address,
      JSON.stringify(message.properties),
      message.body.byteLength,
      Date.now(),
    );
    if (changes > 0) insertBody.run(messageId, message.body);
    return changes > 0;
  };
  // Remembered only once committed: a rolled-back enqueue must not leave a body behind.
  const enqueueMany = db.transaction((entries: readonly OutboxInput[]) => entries.filter(enqueueOne));
  const confirmMany = db.transaction((ids: readonly string[]) => {
    for (const id of ids) {
      remove.run(id);
      removeBody.run(id);
    }
  });

  return {
    enqueue: (entry) => {
      for (const e of enqueueMany([entry])) remember(e.messageId, e.message.body);
    },
    enqueueMany: (entries) => {
      for (const e of enqueueMany(entries)) remember(e.messageId, e.message.body);
    },
    queuedAfter: (afterSeq, limit) => queuedAfter.all(afterSeq, limit) as OutboxTicket[],
    load: (messageId) => {
      const body = recent.get(messageId);
      if (body) {
        const row = properties.get(messageId) as { properties: string } | undefined;
        // Queued in a transaction that was rolled back after all.
        if (!row) forget(messageId);
        return row && { properties: JSON.parse(row.properties) as StoredMessage['properties'], body };
      }
      const row = load.get(messageId) as { properties: string; body: Uint8Array } | undefined;
      return row && messageOf(row.properties, row.body);
    },
    confirmMany: (messageIds) => {
      confirmMany(messageIds);
      messageIds.forEach(forget);
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
        message: messageOf(row.properties, row.body),
        state: row.state,
        createdAt: row.created_at,
        ...(row.failure_reason !== null && { failureReason: row.failure_reason }),
      })),
  };
}
