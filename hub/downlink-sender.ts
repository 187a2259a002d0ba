import type { BrokerConnection, SendOutcome, SettlingSender } from '../transport/index.ts';
import * as store from './store/hub-store.ts';
import type { SqlClient } from './store/sql-client.ts';

/**
 * Sends the hub's outbox rows (its own messages: receipts, notices, directory messages) to the endpoints' downlinks,
 * through the settling sender. Rows come from this instance's own commits (sent at once) and from rows whose claim
 * lapsed (an instance died, or the operator CLI queued them), taken over periodically.
 *   accepted            → the row is deleted (in batches)
 *   rejected / released → the row is dropped from memory; its claim lapses and it is taken over and sent again
 *   lost                → ambiguous: sent again, in row order, once the connection is back (receivers de-duplicate)
 * While this instance holds rows it renews their claims, so other instances leave them alone.
 */
export interface DownlinkSenderOptions {
  readonly connection: BrokerConnection;
  /** Shared with the forwards (one link per downlink, one bound on what is in flight). */
  readonly sender: SettlingSender;
  readonly sql: SqlClient;
  readonly instanceId: string;
  /** How long a claim holds without renewal; a dead instance's rows are taken over after this. */
  readonly claimMs?: number;
  /** How often to look for lapsed rows. */
  readonly sweepIntervalMs?: number;
  /** Rows taken over per sweep, at most (and none while more than this wait). */
  readonly sweepLimit?: number;
  readonly onError?: (error: unknown) => void;
}

export interface DownlinkSender {
  /** Rows this instance committed and claimed; bodies it still has in memory (others are read from the store). */
  enqueue(rows: readonly store.OutboxRow[], bodies: ReadonlyMap<number, Uint8Array>): void;
  readonly pending: number;
  stop(): Promise<void>;
}

interface Queued {
  readonly row: store.OutboxRow;
  body?: Uint8Array;
}

const byRowId = (a: Queued, b: Queued) => a.row.id - b.row.id;

export function createDownlinkSender(options: DownlinkSenderOptions): DownlinkSender {
  const { connection, sender, sql, instanceId } = options;
  const claimMs = options.claimMs ?? 60_000;
  const sweepLimit = options.sweepLimit ?? 500;
  const onError = options.onError ?? (() => undefined);
  const waiting: Queued[] = [];
  /** Lost with the connection, put back at the head of the queue together (in row order) once all are told. */
  const lost: Queued[] = [];
  /** Row ids this instance holds (waiting, loading or in flight): their claims are renewed. */
  const held = new Set<number>();
  let inFlight = 0;
  let done: number[] = [];
  let stopped = false;
  let pumping = false;
  let loading: Promise<void> | undefined;

  function settled(queued: Queued, outcome: SendOutcome): void {
    if (stopped) return; // its claim lapses and it is taken over
    inFlight -= 1;
    if (outcome.kind === 'accepted') {
      if (done.push(queued.row.id) === 1) setImmediate(() => void flushDone());
    } else if (outcome.kind === 'lost') {
      if (lost.push(queued) === 1)
        queueMicrotask(() => {
          waiting.unshift(...lost.splice(0).sort(byRowId));
          pump();
        });
    } else {
      // Left to lapse: another sweep (of any instance) sends it again later.
      held.delete(queued.row.id);
    }
  }

  async function flushDone(): Promise<void> {
    const ids = done;
    done = [];
    if (ids.length === 0) return;
    try {
      await store.deleteOutbox(sql, ids);
    } catch (error) {
      onError(error);
    } finally {
      for (const id of ids) held.delete(id);
    }
  }

  /** Bodies too large to keep in memory are read just before sending, a few at a time. */
  async function loadBodies(): Promise<void> {
    const missing = waiting.filter((q) => !q.body).slice(0, 16);
    const bodies = await store.loadBodies(
      sql,
      missing.map((q) => q.row.bodyId),
    );
    for (const q of missing) {
      const body = bodies.get(q.row.bodyId);
      if (body) q.body = body;
      else {
        // Its row was deleted meanwhile (sent by another instance after our claim lapsed).
        waiting.splice(waiting.indexOf(q), 1);
        held.delete(q.row.id);
      }
    }
  }

  function pump(): void {
    if (pumping || stopped) return;
    pumping = true;
    try {
      while (waiting.length > 0) {
        const next = waiting[0]!;
        if (!next.body) {
          loading ??= loadBodies()
            .catch(onError)
            .finally(() => {
              loading = undefined;
              pump();
            });
          return;
        }
        const address = connection.adapter.downlinkTarget(next.row.endpoint);
        if (!sender.canSend(address, next.body.byteLength)) return; // the sender's onSendable pumps again
        waiting.shift();
        inFlight += 1;
        sender.send(address, { properties: next.row.properties, body: next.body }, (outcome) => settled(next, outcome));
      }
    } finally {
      pumping = false;
    }
  }

  function enqueue(rows: readonly store.OutboxRow[], bodies: ReadonlyMap<number, Uint8Array>): void {
    for (const row of rows) {
      if (held.has(row.id)) continue;
      held.add(row.id);
      const body = bodies.get(row.bodyId);
      waiting.push(body ? { row, body } : { row });
    }
    pump();
  }

  async function sweep(): Promise<void> {
    if (stopped || connection.state.status !== 'online' || waiting.length > sweepLimit) return;
    const now = new Date();
    if (held.size > 0) await store.renewClaims(sql, instanceId, [...held], new Date(now.getTime() + claimMs));
    const rows = await store.claimLapsed(sql, instanceId, new Date(now.getTime() + claimMs), now, sweepLimit);
    enqueue(rows, new Map());
  }

  const sweeper = setInterval(
    () => void sweep().catch(onError),
    options.sweepIntervalMs ?? Math.min(2_000, claimMs / 3),
  );
  sweeper.unref();
  const offSendable = sender.onSendable(pump);

  return {
    enqueue,
    get pending() {
      return waiting.length + lost.length + inFlight;
    },
    async stop() {
      stopped = true;
      clearInterval(sweeper);
      offSendable();
      await flushDone();
    },
  };
}
