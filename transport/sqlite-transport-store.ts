import type { ReasonCode } from '../shared/protocol/index.ts';
import { migrate, type SqliteDatabase } from './sqlite-database.ts';
import { MIGRATIONS } from './sqlite-transport-migrations.ts';
import type {
  DeadLetter,
  DeadLetterBodyLimits,
  DeadLetterState,
  DeadLetters,
  Inbox,
  InboxRecord,
  Outbox,
  OutboxEntry,
  OutboxInput,
  OutboxState,
  OutboxTicket,
  ParkedMessages,
  StoredMessage,
  TransportStore,
} from './transport-store.ts';

/** A workstation keeps the last 200 refused bodies, at most 64 MiB of them, none older than 30 days. */
export const DEFAULT_DEAD_LETTER_BODY_LIMITS: DeadLetterBodyLimits = {
  maxCount: 200,
  maxBytes: 64 * 1024 * 1024,
  maxAgeMs: 30 * 86_400_000,
};

interface OutboxRow {
  seq: number;
  message_id: string;
  order_key: string;
  address: string;
  properties: string;
  body: Uint8Array;
  state: OutboxState;
  attempts: number;
  failure_reason: string | null;
  created_at: number;
}

interface DeadLetterRow {
  id: number;
  message_id: string;
  source: string;
  reason: ReasonCode;
  detail: string;
  properties: string;
  body: Uint8Array;
  received_at: number;
  state: DeadLetterState;
  body_bytes: number;
  body_kept: number;
}

function messageOf(properties: string, body: Uint8Array): StoredMessage {
  return { properties: JSON.parse(properties) as StoredMessage['properties'], body: new Uint8Array(body) };
}

function outboxEntry(row: OutboxRow): OutboxEntry {
  return {
    seq: row.seq,
    messageId: row.message_id,
    orderKey: row.order_key,
    address: row.address,
    message: messageOf(row.properties, row.body),
    attempts: row.attempts,
    state: row.state,
    createdAt: row.created_at,
    ...(row.failure_reason !== null && { failureReason: row.failure_reason }),
  };
}

function createOutbox(db: SqliteDatabase): Outbox {
  const insert = db.prepare(`insert into outbox (message_id, order_key, address, properties, bytes, state, created_at)
    values (?, ?, ?, ?, ?, 'pending', ?) on conflict (message_id) do nothing`);
  const insertBody = db.prepare(
    'insert into outbox_bodies (message_id, body) values (?, ?) on conflict (message_id) do nothing',
  );
  const removeBody = db.prepare('delete from outbox_bodies where message_id = ?');
  // The head of each order key (its oldest message not given up on) is sendable when pending and due.
  // CROSS JOIN fixes the join order: from the few heads to their rows by rowid.
  const sendable =
    db.prepare(`with heads as materialized (select min(seq) as seq from outbox where state != 'failed' group by order_key)
    select o.seq, o.message_id, o.order_key, o.address, o.attempts, o.bytes from heads h cross join outbox o on o.seq = h.seq
    where o.state = 'pending' and o.next_attempt_at <= ?
    order by o.seq limit ?`);
  const markInFlight = db.prepare(`update outbox set state = 'in-flight', attempts = attempts + 1 where seq = ?`);
  const remove = db.prepare('delete from outbox where message_id = ?');
  const retry = db.prepare(
    `update outbox set state = 'pending', next_attempt_at = ?, failure_reason = ? where message_id = ?`,
  );
  const fail = db.prepare(`update outbox set state = 'failed', failure_reason = ? where message_id = ?`);
  const requeue = db.prepare(`update outbox set state = 'pending' where state = 'in-flight'`);
  const counts = db.prepare(`select state, count(*) as n from outbox group by state`);
  const failed = db.prepare(
    `select o.*, b.body from outbox o join outbox_bodies b using (message_id) where o.state = 'failed' order by o.seq`,
  );

  const enqueueOne = ({ messageId, orderKey, address, message }: OutboxInput) => {
    if (
      insert.run(messageId, orderKey, address, JSON.stringify(message.properties), message.body.byteLength, Date.now())
        .changes > 0
    ) {
      insertBody.run(messageId, message.body);
    }
  };
  const enqueue = db.transaction(enqueueOne);
  const enqueueMany = db.transaction((entries: readonly OutboxInput[]) => entries.forEach(enqueueOne));
  const confirmOne = (id: string) => {
    remove.run(id);
    removeBody.run(id);
  };
  const confirm = db.transaction(confirmOne);
  const confirmMany = db.transaction((ids: readonly string[]) => ids.forEach(confirmOne));
  const load = db.prepare(
    'select o.properties, b.body from outbox o join outbox_bodies b using (message_id) where o.message_id = ?',
  );
  const putBack = db.prepare(
    `update outbox set state = 'pending', attempts = attempts - 1 where message_id = ? and state = 'in-flight'`,
  );
  const putBackMany = db.transaction((ids: readonly string[]) => ids.forEach((id) => putBack.run(id)));
  const take = db.transaction((limit: number, now: number): OutboxTicket[] => {
    const rows = sendable.all(now, limit) as {
      seq: number;
      message_id: string;
      order_key: string;
      address: string;
      attempts: number;
      bytes: number;
    }[];
    for (const row of rows) markInFlight.run(row.seq);
    return rows.map((row) => ({
      seq: row.seq,
      messageId: row.message_id,
      orderKey: row.order_key,
      address: row.address,
      attempts: row.attempts + 1,
      bytes: row.bytes,
    }));
  });

  return {
    enqueue: (entry) => enqueue(entry),
    enqueueMany: (entries) => enqueueMany(entries),
    takeSendable: (limit, now) => take(limit, now),
    load: (messageId) => {
      const row = load.get(messageId) as { properties: string; body: Uint8Array } | undefined;
      return row && messageOf(row.properties, row.body);
    },
    putBack: (messageIds) => putBackMany(messageIds),
    confirm: (messageId) => confirm(messageId),
    confirmMany: (messageIds) => confirmMany(messageIds),
    retry: (messageId, delayMs, reason) => void retry.run(Date.now() + delayMs, reason, messageId),
    fail: (messageId, reason) => void fail.run(reason, messageId),
    requeueInFlight: () => requeue.run().changes,
    counts: () => {
      const byState = new Map((counts.all() as { state: OutboxState; n: number }[]).map((r) => [r.state, r.n]));
      return {
        pending: byState.get('pending') ?? 0,
        inFlight: byState.get('in-flight') ?? 0,
        failed: byState.get('failed') ?? 0,
      };
    },
    failed: () => (failed.all() as OutboxRow[]).map(outboxEntry),
  };
}

function createInbox(db: SqliteDatabase): Inbox {
  const find = db.prepare('select message_id, outcome, reason, processed_at from inbox where message_id = ?');
  const insert = db.prepare('insert into inbox (message_id, outcome, reason, processed_at) values (?, ?, ?, ?)');
  const prune = db.prepare('delete from inbox where processed_at < ?');
  const apply = (record: InboxRecord | undefined, effect?: () => void) => {
    effect?.();
    if (record) insert.run(record.messageId, record.outcome, record.reason ?? null, record.processedAt);
  };
  const commit = db.transaction(apply);
  const commitMany = db.transaction((entries: readonly { record?: InboxRecord; effect?: () => void }[]) => {
    for (const entry of entries) apply(entry.record, entry.effect);
  });
  return {
    find: (messageId) => {
      const row = find.get(messageId) as
        | { message_id: string; outcome: InboxRecord['outcome']; reason: ReasonCode | null; processed_at: number }
        | undefined;
      return (
        row && {
          messageId: row.message_id,
          outcome: row.outcome,
          processedAt: row.processed_at,
          ...(row.reason !== null && { reason: row.reason }),
        }
      );
    },
    commit: (record, effect) => commit(record, effect),
    commitMany: (entries) => commitMany(entries),
    prune: (before) => prune.run(before).changes,
  };
}

function createDeadLetters(
  db: SqliteDatabase,
  limits: DeadLetterBodyLimits,
  clock: () => number,
): DeadLetters & { pruneBodies(): number } {
  const insert =
    db.prepare(`insert into dead_letters (message_id, source, reason, detail, properties, body, received_at, body_bytes, body_kept)
    values (?, ?, ?, ?, ?, ?, ?, ?, ?)`);
  // Newest first, the bodies past the count, past the running total of bytes, or too old.
  const prune = db.prepare(`update dead_letters set body = x'', body_kept = 0 where id in (
    select id from (
      select id, received_at, row_number() over newest as n, sum(body_bytes) over newest as total
      from dead_letters where body_kept = 1 window newest as (order by id desc)
    ) where n > @maxCount or total > @maxBytes or received_at < @before)`);
  const pruneBodies = () =>
    prune.run({ maxCount: limits.maxCount, maxBytes: limits.maxBytes, before: clock() - limits.maxAgeMs }).changes;
  const list = db.prepare('select * from dead_letters where state = ? order by id limit ?');
  const get = db.prepare('select * from dead_letters where id = ?');
  const setState = db.prepare('update dead_letters set state = ? where id = ?');
  const letter = (row: DeadLetterRow): DeadLetter => ({
    id: row.id,
    messageId: row.message_id,
    source: row.source,
    reason: row.reason,
    detail: row.detail,
    message: messageOf(row.properties, row.body),
    receivedAt: row.received_at,
    state: row.state,
    bodyBytes: row.body_bytes,
    bodyKept: row.body_kept === 1,
  });
  return {
    pruneBodies,
    add: (l) => {
      const kept = l.droppedBodyBytes === undefined;
      const id = Number(
        insert.run(
          l.messageId,
          l.source,
          l.reason,
          l.detail,
          JSON.stringify(l.message.properties),
          kept ? l.message.body : new Uint8Array(0),
          l.receivedAt,
          l.droppedBodyBytes ?? l.message.body.byteLength,
          kept ? 1 : 0,
        ).lastInsertRowid,
      );
      if (kept) pruneBodies();
      return id;
    },
    list: (options = {}) => (list.all(options.state ?? 'held', options.limit ?? 100) as DeadLetterRow[]).map(letter),
    get: (id) => {
      const row = get.get(id) as DeadLetterRow | undefined;
      return row && letter(row);
    },
    setState: (id, state) => void setState.run(state, id),
  };
}

function createParked(db: SqliteDatabase): ParkedMessages {
  const insert =
    db.prepare(`insert into parked (message_id, source, reason, properties, body, bytes, durable, parked_at)
    values (?, ?, ?, ?, ?, ?, ?, ?) on conflict (message_id) do nothing`);
  const list = db.prepare('select * from parked where source = ? and seq > ? order by seq limit ?');
  const remove = db.prepare('delete from parked where message_id = ?');
  const counts = db.prepare('select count(*) as n, coalesce(sum(bytes), 0) as bytes from parked where source = ?');
  const reasons = db.prepare('select distinct reason from parked where source = ? order by reason');
  return {
    add: (p) =>
      void insert.run(
        p.messageId,
        p.source,
        p.reason,
        JSON.stringify(p.message.properties),
        p.message.body,
        p.message.body.byteLength,
        p.durable ? 1 : 0,
        p.parkedAt,
      ),
    list: (source, options = {}) =>
      (
        list.all(source, options.afterSeq ?? 0, options.limit ?? 100) as {
          seq: number;
          message_id: string;
          source: string;
          reason: ReasonCode;
          properties: string;
          body: Uint8Array;
          durable: number;
          parked_at: number;
        }[]
      ).map((row) => ({
        seq: row.seq,
        messageId: row.message_id,
        source: row.source,
        reason: row.reason,
        message: messageOf(row.properties, row.body),
        durable: row.durable === 1,
        parkedAt: row.parked_at,
      })),
    remove: (messageId) => void remove.run(messageId),
    counts: (source) => {
      const row = counts.get(source) as { n: number; bytes: number };
      return {
        messages: row.n,
        bytes: row.bytes,
        reasons: (reasons.all(source) as { reason: ReasonCode }[]).map((r) => r.reason),
      };
    },
  };
}

/**
 * The transport's tables in an open database (the workstation's encrypted store, or a hub's own file). Refused bodies
 * past `deadLetterBodies` are dropped as letters arrive, and the old ones at every opening.
 */
export function createSqliteTransportStore(
  db: SqliteDatabase,
  options: { deadLetterBodies?: DeadLetterBodyLimits; now?: () => number } = {},
): TransportStore {
  migrate(db, 'transport', MIGRATIONS);
  const deadLetters = createDeadLetters(
    db,
    options.deadLetterBodies ?? DEFAULT_DEAD_LETTER_BODY_LIMITS,
    options.now ?? Date.now,
  );
  deadLetters.pruneBodies();
  return {
    outbox: createOutbox(db),
    inbox: createInbox(db),
    deadLetters,
    parked: createParked(db),
    close: () => db.close(),
  };
}
