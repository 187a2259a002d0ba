import type { SqlQueryable } from './sql-client.ts';

/**
 * The hub's queries, each taking the transaction (or client) it runs in, so that a message's effects — directory
 * change, outgoing messages, de-duplication record, dead letter — commit together or not at all. Each table's SQL
 * lives in the module that owns it; this module keeps the small ones and is where callers import them all from.
 */

export * from './endpoint-rows.ts';
export * from './directory-rows.ts';
export * from './crl-rows.ts';
export * from './publish-set-rows.ts';
export * from './outbox-rows.ts';
export * from './dead-letter-rows.ts';

// --- de-duplication -------------------------------------------------------------------------------------------------

export type ProcessedOutcome = 'processed' | 'delivered' | 'rejected';

export interface ProcessedRecord {
  readonly outcome: ProcessedOutcome;
  readonly reason: string | null;
  readonly sender: string;
}

/**
 * Claims a message id for this transaction. False: it was processed before (or another instance is processing it
 * now; the insert waits for that transaction and then sees its row).
 */
export async function claimMessage(
  q: SqlQueryable,
  m: { messageId: string; sender: string; type: string; outcome: ProcessedOutcome; at: Date },
): Promise<boolean> {
  const rows = await q.query(
    'insert into processed_messages (message_id, sender, type, outcome, processed_at) values ($1, $2, $3, $4, $5) on conflict do nothing returning message_id',
    [m.messageId, m.sender, m.type, m.outcome, m.at],
  );
  return rows.length === 1;
}

/** Claims several message ids in one statement; returns those claimed now (the others were processed before). */
export async function claimMessages(
  q: SqlQueryable,
  messages: readonly { messageId: string; sender: string; type: string; outcome: ProcessedOutcome }[],
  at: Date,
): Promise<Set<string>> {
  if (messages.length === 0) return new Set();
  const rows = await q.query<{ message_id: string }>(
    `insert into processed_messages (message_id, sender, type, outcome, processed_at)
     select * , $5::timestamptz from unnest($1::text[], $2::text[], $3::text[], $4::text[]) on conflict do nothing returning message_id`,
    [
      messages.map((m) => m.messageId),
      messages.map((m) => m.sender),
      messages.map((m) => m.type),
      messages.map((m) => m.outcome),
      at,
    ],
  );
  return new Set(rows.map((r) => r.message_id));
}

export async function setMessageOutcome(
  q: SqlQueryable,
  messageId: string,
  outcome: ProcessedOutcome,
  reason?: string,
): Promise<void> {
  await q.query('update processed_messages set outcome = $2, reason = $3 where message_id = $1', [
    messageId,
    outcome,
    reason ?? null,
  ]);
}

export async function getProcessed(q: SqlQueryable, messageId: string): Promise<ProcessedRecord | undefined> {
  return (
    await q.query<ProcessedRecord>('select outcome, reason, sender from processed_messages where message_id = $1', [
      messageId,
    ])
  )[0];
}

export async function forgetMessage(q: SqlQueryable, messageId: string): Promise<void> {
  await q.query('delete from processed_messages where message_id = $1', [messageId]);
}

export async function pruneProcessed(q: SqlQueryable, before: Date): Promise<number> {
  return (await q.query('delete from processed_messages where processed_at < $1 returning 1', [before])).length;
}

// --- routed messages --------------------------------------------------------------------------------------------------

/** The endpoints a consult message was routed to, from its sender: what receipts may later refer to. */
export async function recordRoutes(
  q: SqlQueryable,
  routes: readonly { messageId: string; sender: string; recipients: readonly string[] }[],
  at: Date,
): Promise<void> {
  const rows = routes.flatMap((r) =>
    r.recipients.map((recipient) => ({ messageId: r.messageId, sender: r.sender, recipient })),
  );
  if (rows.length === 0) return;
  await q.query(
    `insert into routed_messages (message_id, recipient, sender, routed_at)
     select m, r, s, $4 from unnest($1::text[], $2::text[], $3::text[]) as x(m, r, s) on conflict do nothing`,
    [rows.map((r) => r.messageId), rows.map((r) => r.recipient), rows.map((r) => r.sender), at],
  );
}

/** Whether the hub routed this message from `sender` to `recipient`. */
/**
 * Waits until no other transaction holds an uncommitted claim of `messageId` (another instance forwarding it now: its
 * forwards reach the broker before its commit, so an answer to one can arrive first). A claim of the same id waits for
 * that transaction to end, and is then undone: this records nothing.
 */
export async function awaitClaim(q: SqlQueryable, messageId: string): Promise<void> {
  await q.query('savepoint await_claim');
  await q.query(
    "insert into processed_messages (message_id, sender, type, outcome, processed_at) values ($1, '', '', 'delivered', now()) on conflict do nothing",
    [messageId],
  );
  await q.query('rollback to savepoint await_claim');
  await q.query('release savepoint await_claim');
}

export async function wasRouted(
  q: SqlQueryable,
  route: { messageId: string; sender: string; recipient: string },
): Promise<boolean> {
  return (
    (
      await q.query('select 1 from routed_messages where message_id = $1 and recipient = $2 and sender = $3', [
        route.messageId,
        route.recipient,
        route.sender,
      ])
    ).length === 1
  );
}

export async function pruneRouted(q: SqlQueryable, before: Date): Promise<number> {
  return (await q.query('delete from routed_messages where routed_at < $1 returning 1', [before])).length;
}

// --- snapshots ------------------------------------------------------------------------------------------------------

export interface SnapshotState {
  /** When the last full snapshot was sent to the endpoint, and at which version; null before the first. */
  readonly sentAt: Date | null;
  readonly version: number | null;
  /** A request waits for the next snapshot (it came too soon after the last one). */
  readonly pending: boolean;
}

/** The endpoint's snapshot state, locked for this transaction (taken before the directory lock, always). */
export async function lockSnapshotState(q: SqlQueryable, endpoint: string): Promise<SnapshotState> {
  await q.query('insert into snapshot_state (endpoint) values ($1) on conflict do nothing', [endpoint]);
  return (
    await q.query<SnapshotState>(
      'select sent_at as "sentAt", version, pending from snapshot_state where endpoint = $1 for update',
      [endpoint],
    )
  )[0]!;
}

export async function snapshotSent(q: SqlQueryable, endpoint: string, version: number, at: Date): Promise<void> {
  await q.query('update snapshot_state set sent_at = $2, version = $3, pending = false where endpoint = $1', [
    endpoint,
    at,
    version,
  ]);
}

export async function deferSnapshot(q: SqlQueryable, endpoint: string): Promise<void> {
  await q.query('update snapshot_state set pending = true where endpoint = $1', [endpoint]);
}

/** Endpoints whose waiting request is due (their last snapshot is older than `before`), locked; none another instance holds. */
export async function dueSnapshots(q: SqlQueryable, before: Date, limit: number): Promise<string[]> {
  return (
    await q.query<{ endpoint: string }>(
      'select endpoint from snapshot_state where pending and sent_at <= $1 order by sent_at limit $2 for update skip locked',
      [before, limit],
    )
  ).map((r) => r.endpoint);
}

// --- instances ------------------------------------------------------------------------------------------------------

export interface InstanceRecord {
  readonly id: string;
  readonly host: string;
  readonly pid: number;
  readonly version: string;
  readonly startedAt: Date;
  readonly heartbeatAt: Date;
  readonly broker: string;
  readonly stopped: boolean;
}

export async function heartbeat(
  q: SqlQueryable,
  instance: Omit<InstanceRecord, 'heartbeatAt'>,
  at: Date,
): Promise<void> {
  await q.query(
    `insert into hub_instances (id, host, pid, version, started_at, heartbeat_at, broker, stopped) values ($1, $2, $3, $4, $5, $6, $7, $8)
     on conflict (id) do update set heartbeat_at = excluded.heartbeat_at, broker = excluded.broker, stopped = excluded.stopped,
       pid = excluded.pid, started_at = excluded.started_at, version = excluded.version`,
    [
      instance.id,
      instance.host,
      instance.pid,
      instance.version,
      instance.startedAt,
      at,
      instance.broker,
      instance.stopped,
    ],
  );
}

export function listInstances(q: SqlQueryable): Promise<InstanceRecord[]> {
  return q.query<InstanceRecord>(
    'select id, host, pid, version, started_at as "startedAt", heartbeat_at as "heartbeatAt", broker, stopped from hub_instances order by heartbeat_at desc',
  );
}
