import type { Delivery, EventContext, Sender } from 'rhea';
import { toRheaMessage, type BrokerConnection } from '../transport/index.ts';
import * as store from './store/hub-store.ts';
import type { SqlClient } from './store/sql-client.ts';

/**
 * Sends the hub's outbox rows to the endpoints' downlinks. Rows come from this instance's own commits (sent at once)
 * and from rows whose claim lapsed (an instance died, or the operator CLI queued them), taken over periodically.
 *   accepted          → the row is deleted (in batches)
 *   anything else     → the row is dropped from memory; its claim lapses and it is taken over and sent again
 *   connection lost   → ambiguous: what was in flight is sent again after reconnecting (receivers de-duplicate)
 * While this instance holds rows it renews their claims, so other instances leave them alone.
 */
export interface DownlinkSenderOptions {
  readonly connection: BrokerConnection;
  readonly sql: SqlClient;
  readonly instanceId: string;
  /** How long a claim holds without renewal; a dead instance's rows are taken over after this. */
  readonly claimMs?: number;
  /** How often to look for lapsed rows. */
  readonly sweepIntervalMs?: number;
  readonly maxInFlight?: number;
  readonly maxInFlightBytes?: number;
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

export function createDownlinkSender(options: DownlinkSenderOptions): DownlinkSender {
  const { connection, sql, instanceId } = options;
  const claimMs = options.claimMs ?? 60_000;
  const maxInFlight = options.maxInFlight ?? 500;
  const maxInFlightBytes = options.maxInFlightBytes ?? 64 * 1024 * 1024;
  const onError = options.onError ?? (() => undefined);
  const waiting: Queued[] = [];
  const inFlight = new Map<Delivery, Queued>();
  /** Row ids this instance holds (waiting, loading or in flight): their claims are renewed. */
  const held = new Set<number>();
  const senders = new Map<string, Sender>();
  let inFlightBytes = 0;
  let done: number[] = [];
  let stopped = false;
  let pumping = false;
  let loading: Promise<void> | undefined;

  function senderFor(endpoint: string): Sender | undefined {
    const amqp = connection.amqp;
    if (!amqp || connection.state.status !== 'online') return undefined;
    const address = connection.adapter.downlinkTarget(endpoint);
    let sender = senders.get(address);
    if (!sender || sender.is_closed()) {
      sender = amqp.open_sender({ target: { address }, autosettle: true });
      sender.on('accepted', (context: EventContext) => settle(context.delivery, true));
      for (const event of ['rejected', 'released', 'modified'])
        sender.on(event, (context: EventContext) => settle(context.delivery, false));
      sender.on('sendable', pump);
      sender.on('sender_error', () => abandon(address));
      sender.session.on('session_error', () => abandon(address));
      senders.set(address, sender);
    }
    return sender;
  }

  function settle(delivery: Delivery | undefined, accepted: boolean): void {
    const queued = delivery && inFlight.get(delivery);
    if (!delivery || !queued) return;
    inFlight.delete(delivery);
    inFlightBytes -= queued.body?.byteLength ?? 0;
    if (accepted) {
      if (done.push(queued.row.id) === 1) setImmediate(() => void flushDone());
    } else {
      // Left to lapse: another sweep (of any instance) sends it again later.
      held.delete(queued.row.id);
    }
    pump();
  }

  function abandon(address: string): void {
    const sender = senders.get(address);
    senders.delete(address);
    for (const [delivery, queued] of inFlight) {
      if (delivery.link !== sender) continue;
      inFlight.delete(delivery);
      inFlightBytes -= queued.body?.byteLength ?? 0;
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
      while (waiting.length > 0 && inFlight.size < maxInFlight && inFlightBytes < maxInFlightBytes) {
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
        const sender = senderFor(next.row.endpoint);
        if (!sender?.sendable()) return; // 'sendable' or the next connection_open pumps again
        waiting.shift();
        inFlight.set(sender.send(toRheaMessage({ properties: next.row.properties, body: next.body })), next);
        inFlightBytes += next.body.byteLength;
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
    if (stopped || connection.state.status !== 'online' || waiting.length > maxInFlight) return;
    const now = new Date();
    if (held.size > 0) await store.renewClaims(sql, instanceId, [...held], new Date(now.getTime() + claimMs));
    const rows = await store.claimLapsed(sql, instanceId, new Date(now.getTime() + claimMs), now, maxInFlight);
    enqueue(rows, new Map());
  }

  const sweeper = setInterval(
    () => void sweep().catch(onError),
    options.sweepIntervalMs ?? Math.min(2_000, claimMs / 3),
  );
  sweeper.unref();

  const offOpened = connection.onOpened(pump);
  const offDisconnected = connection.onDisconnected(() => {
    void flushDone();
    senders.clear();
    // Unsettled when the connection dropped: may or may not have arrived. Send again, in the original order.
    const lost = [...inFlight.values()];
    inFlight.clear();
    inFlightBytes = 0;
    waiting.unshift(...lost.sort((a, b) => a.row.id - b.row.id));
  });

  return {
    enqueue,
    get pending() {
      return waiting.length + inFlight.size;
    },
    async stop() {
      stopped = true;
      clearInterval(sweeper);
      offOpened();
      offDisconnected();
      await flushDone();
      for (const sender of senders.values()) sender.close();
      senders.clear();
    },
  };
}
