import { migrate, type SqliteDatabase } from '../transport/index.ts';

/**
 * What a clinic system follows: one numbered event per change it may act on, written by SQLite triggers in the same
 * transaction as the change itself (a committed effect always has its event, a rolled-back one never), read by cursor
 * and replayable from any cursor still kept. Events carry ids, types, states and reason codes only: never patient
 * data, and never free text that could hold it (the triggers drop any value that does not have the shape of an id or
 * a code).
 *
 * | type                  | cause                                                  | state                      | reason |
 * |-----------------------|--------------------------------------------------------|----------------------------|--------|
 * | consult.received      | a consult message received and verified                | its consult status         |        |
 * | consult.refused       | a consult message of a known case refused              |                            | yes    |
 * | consult.queued        | a consult message of ours queued for sending           | its consult status         |        |
 * | consult.message-state | a receipt moved one of our consult messages on         | message state (delivered…) | yes    |
 * | message.refused       | a received message refused (dead-lettered)             |                            | yes    |
 * | message.failed        | the outbox gave up sending a message                   |                            | yes    |
 * | publication.queued    | a directory publication queued                         | its state                  |        |
 * | publication.state     | a directory publication changed state                  | its state                  | yes    |
 *
 * A refused consult message of a known case gives both message.refused and consult.refused (same message id).
 */
export const FEED_EVENT_TYPES = [
  'consult.received',
  'consult.refused',
  'consult.queued',
  'consult.message-state',
  'message.refused',
  'message.failed',
  'publication.queued',
  'publication.state',
] as const;
export type FeedEventType = (typeof FEED_EVENT_TYPES)[number];

export interface FeedEvent {
  /** Strictly increasing, never reused; read(cursor) returns what came after this event. */
  readonly cursor: number;
  readonly type: FeedEventType;
  readonly at: string;
  readonly caseId?: string;
  readonly messageId?: string;
  readonly publicationId?: string;
  /** The protocol message type (consult.request, consult.status, consult.report, …). */
  readonly messageType?: string;
  readonly state?: string;
  /**
   * A protocol reason code (shared/protocol/reason-codes.ts), or for message.failed one of the connector's own:
   * delivery-limit (the broker released it too often), broker-refused, send-failed.
   */
  readonly reason?: string;
}

export interface EventFeed {
  /** Events after `after` (0: from the oldest kept), oldest first, at most `limit` (1 to MAX_FEED_READ). */
  read(after: number, limit: number): FeedEvent[];
  /**
   * `last`: the newest cursor ever given (0 before the first event), also when pruning left no event. `first`: the
   * oldest kept event. Reading after a cursor below `first - 1` (or below `last` when there is no `first`) would skip
   * pruned events: the caller must say so (410 Gone) rather than answer.
   */
  range(): { first?: number; last: number };
  /**
   * The next events after `after`: at once if there are some, else when notify() finds some, else [] after
   * `timeoutMs`. An aborted signal or dispose() also resolves it with []. Any number may wait at once.
   */
  wait(after: number, timeoutMs: number, signal?: AbortSignal, limit?: number): Promise<FeedEvent[]>;
  /** To be called after each commit that may have written events: wakes the waiters that now have some. */
  notify(): void;
  /** Drops events older than the retention, and the oldest beyond the maximum count; returns how many. */
  prune(now?: number): number;
  /** Wakes every waiter with []; later waits resolve with [] at once. */
  dispose(): void;
}

export const MAX_FEED_READ = 1000;
const DEFAULT_WAIT_LIMIT = 100;

// The shapes a value must have to reach the feed; anything else (a name, a sentence) becomes null.
const HEX = '[0-9a-f]';
const UUID_GLOB = [8, 4, 4, 4, 12].map((n) => HEX.repeat(n)).join('-');
const uuid = (x: string) => `(case when ${x} glob '${UUID_GLOB}' then ${x} end)`;
/** Codes: reason codes, message types, states (lower-case words joined by '-' or '.'). */
const code = (x: string) =>
  `(case when typeof(${x}) = 'text' and length(${x}) between 1 and 64 and ${x} not glob '*[^a-z0-9.-]*' then ${x} end)`;
/** Ids the connector makes itself (publications), whose form is not a protocol UUID. */
const localId = (x: string) =>
  `(case when typeof(${x}) = 'text' and length(${x}) between 1 and 64 and ${x} not glob '*[^A-Za-z0-9._:-]*' then ${x} end)`;
const rtsType = (properties: string) =>
  code(
    `(case when json_valid(${properties}) then json_extract(${properties}, '$.application_properties.rtsType') end)`,
  );
// SQLite's clock, not the connector's: a trigger cannot call back into JavaScript.
const NOW = `cast(unixepoch('subsec') * 1000 as integer)`;

const event = (columns: Record<string, string>) =>
  `insert into connector_events (at, ${Object.keys(columns).join(', ')}) values (${NOW}, ${Object.values(columns).join(', ')});`;

const MIGRATIONS = [
  {
    version: 1,
    sql: `
    create table connector_events (
      seq integer primary key autoincrement, at integer not null, type text not null, case_id text, message_id text,
      publication_id text, message_type text, state text, reason text
    );
    create index connector_events_by_age on connector_events (at);

    create trigger connector_events_consult_received after insert on case_messages when new.direction = 'in' and new.state = 'verified' begin
      ${event({ type: `'consult.received'`, case_id: uuid('new.case_id'), message_id: uuid('new.message_id'), message_type: code('new.type'), state: code('new.status') })}
    end;
    create trigger connector_events_consult_refused after insert on case_messages when new.direction = 'in' and new.state = 'rejected' begin
      ${event({ type: `'consult.refused'`, case_id: uuid('new.case_id'), message_id: uuid('new.message_id'), message_type: code('new.type'), reason: code('new.reason') })}
    end;
    create trigger connector_events_consult_queued after insert on case_messages when new.direction = 'out' begin
      ${event({ type: `'consult.queued'`, case_id: uuid('new.case_id'), message_id: uuid('new.message_id'), message_type: code('new.type'), state: code('new.status') })}
    end;
    create trigger connector_events_consult_state after update of state on case_messages when new.direction = 'out' and new.state is not old.state begin
      ${event({ type: `'consult.message-state'`, case_id: uuid('new.case_id'), message_id: uuid('new.message_id'), message_type: code('new.type'), state: code('new.state'), reason: code('new.reason') })}
    end;

    create trigger connector_events_dead_letter after insert on dead_letters begin
      ${event({ type: `'message.refused'`, message_id: uuid('new.message_id'), message_type: rtsType('new.properties'), reason: code('new.reason') })}
    end;
    -- The outbox keeps a sentence (with the broker's own words) as its reason: only its kind reaches the feed.
    create trigger connector_events_outbox_failed after update of state on outbox when new.state = 'failed' and old.state is not 'failed' begin
      ${event({
        type: `'message.failed'`,
        case_id: uuid('(select case_id from case_messages where message_id = new.message_id)'),
        message_id: uuid('new.message_id'),
        message_type: rtsType('new.properties'),
        reason: `(case when new.failure_reason like 'released by the broker%' then 'delivery-limit'
          when new.failure_reason like '% by the broker%' then 'broker-refused' else 'send-failed' end)`,
      })}
    end;

    create trigger connector_events_publication_queued after insert on connector_publications begin
      ${event({ type: `'publication.queued'`, publication_id: localId('new.publication_id'), state: code('new.state') })}
    end;
    create trigger connector_events_publication_state after update of state on connector_publications when new.state is not old.state begin
      ${event({ type: `'publication.state'`, publication_id: localId('new.publication_id'), state: code('new.state'), reason: code('new.reason') })}
    end;
  `,
  },
];

/** The tables whose changes are events; their owners create them before the feed is opened. */
const SOURCE_TABLES = ['case_messages', 'dead_letters', 'outbox', 'connector_publications'];

interface EventRow {
  seq: number;
  at: number;
  type: FeedEventType;
  case_id: string | null;
  message_id: string | null;
  publication_id: string | null;
  message_type: string | null;
  state: string | null;
  reason: string | null;
}

const toEvent = (r: EventRow): FeedEvent => ({
  cursor: r.seq,
  type: r.type,
  at: new Date(r.at).toISOString(),
  ...(r.case_id !== null && { caseId: r.case_id }),
  ...(r.message_id !== null && { messageId: r.message_id }),
  ...(r.publication_id !== null && { publicationId: r.publication_id }),
  ...(r.message_type !== null && { messageType: r.message_type }),
  ...(r.state !== null && { state: r.state }),
  ...(r.reason !== null && { reason: r.reason }),
});

function requireCount(name: string, value: number, min: number, max: number): void {
  if (!Number.isSafeInteger(value) || value < min || value > max)
    throw new RangeError(`${name}: must be a whole number from ${min} to ${max} (got ${String(value)})`);
}

export function openEventFeed(
  db: SqliteDatabase,
  options: { retainDays?: number; maxEvents?: number } = {},
): EventFeed {
  const retainDays = options.retainDays ?? 30;
  const maxEvents = options.maxEvents ?? 1_000_000;
  if (!(retainDays > 0) || !Number.isFinite(retainDays))
    throw new RangeError(`retainDays: must be a positive number of days (got ${String(retainDays)})`);
  requireCount('maxEvents', maxEvents, 1, Number.MAX_SAFE_INTEGER);
  const exists = db.prepare<[string], { name: string }>(
    `select name from sqlite_master where type = 'table' and name = ?`,
  );
  const missing = SOURCE_TABLES.filter((t) => !exists.get(t));
  if (missing.length > 0)
    throw new Error(
      `the event feed needs the tables ${missing.join(', ')}: open the case store, the transport store and the publications before it`,
    );
  migrate(db, 'connector-events', MIGRATIONS);

  const select = db.prepare<[number, number], EventRow>(
    'select * from connector_events where seq > ? order by seq limit ?',
  );
  const first = db.prepare<[], { seq: number | null }>('select min(seq) as seq from connector_events');
  // AUTOINCREMENT keeps the highest seq ever given here, also once its row is pruned.
  const last = db.prepare<[], { seq: number }>(
    `select coalesce((select seq from sqlite_sequence where name = 'connector_events'), 0) as seq`,
  );
  const prune = db.prepare<[number, number]>(
    'delete from connector_events where at < ? or seq <= (select max(seq) from connector_events) - ?',
  );

  const read = (after: number, limit: number) => {
    requireCount('after', after, 0, Number.MAX_SAFE_INTEGER);
    requireCount('limit', limit, 1, MAX_FEED_READ);
    return select.all(after, limit).map(toEvent);
  };
  const lastSeq = () => last.get()?.seq ?? 0;

  interface Waiter {
    readonly after: number;
    check(): void;
  }
  const waiters = new Set<Waiter>();
  let disposed = false;

  const feed: EventFeed = {
    read,
    range: () => {
      const oldest = first.get()?.seq ?? null;
      return { ...(oldest !== null && { first: oldest }), last: lastSeq() };
    },
    wait(after, timeoutMs, signal, limit = DEFAULT_WAIT_LIMIT) {
      if (!(timeoutMs >= 0) || timeoutMs > 2_147_483_647)
        throw new RangeError(`timeoutMs: must be from 0 to 2147483647 (got ${String(timeoutMs)})`);
      if (disposed || signal?.aborted) return Promise.resolve([]);
      const ready = read(after, limit);
      if (ready.length > 0) return Promise.resolve(ready);
      return new Promise<FeedEvent[]>((resolve, reject) => {
        const settle = (done: () => void) => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          waiters.delete(waiter);
          done();
        };
        const onAbort = () => settle(() => resolve([]));
        const waiter: Waiter = {
          after,
          check() {
            if (disposed) return onAbort();
            let events: FeedEvent[];
            try {
              events = read(after, limit);
            } catch (error) {
              return settle(() => reject(error instanceof Error ? error : new Error(String(error))));
            }
            if (events.length > 0) settle(() => resolve(events));
          },
        };
        const timer = setTimeout(onAbort, timeoutMs);
        signal?.addEventListener('abort', onAbort, { once: true });
        waiters.add(waiter);
      });
    },
    notify() {
      if (disposed || waiters.size === 0) return;
      // One query for the newest cursor; only the waiters behind it read.
      const newest = lastSeq();
      for (const waiter of [...waiters]) if (waiter.after < newest) waiter.check();
    },
    prune: (now = Date.now()) => prune.run(now - retainDays * 86_400_000, maxEvents).changes,
    dispose() {
      disposed = true;
      for (const waiter of [...waiters]) waiter.check();
    },
  };
  return feed;
}
