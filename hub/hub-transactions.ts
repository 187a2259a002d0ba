import type { Arrival, BrokerAdapter } from '../transport/index.ts';
import type { DownlinkSender } from './downlink-sender.ts';
import type { Forwarder } from './forwarder.ts';
import type { HubLogEvent } from './hub-service.ts';
import * as store from './store/hub-store.ts';
import type { SqlClient } from './store/sql-client.ts';
import { uplinkMessage } from './uplink-message.ts';
import {
  createProcessContext,
  type Outgoing,
  type ProcessContext,
  type ProcessOutcome,
  type UplinkMessage,
  type UplinkProcessor,
} from './uplink-processor.ts';

/**
 * How a hub instance's work meets the database and the broker: each piece runs in a transaction with its effects;
 * its forwards (consult messages and receipts, by reference, and the hub's `delivered` receipts) are sent before the
 * commit and must all be accepted by the broker for it to commit; deliveries are settled only after the commit, and
 * what the commit queued in the outbox (the hub's other messages) is handed to the sender.
 *   crash, or a forward not accepted, before the commit → nothing committed; the uplink delivery comes back and is
 *                                 forwarded again with the same message_id (the endpoints' inboxes de-duplicate)
 *   crash after the commit, before the accept → the delivery comes back and is a duplicate (the first outcome holds)
 */
export interface HubTransactionsOptions {
  readonly sql: SqlClient;
  /** How the broker vouches for a sender and counts a retry. */
  readonly adapter: BrokerAdapter;
  readonly processor: UplinkProcessor;
  readonly sender: DownlinkSender;
  readonly forward: Forwarder;
  readonly instanceId: string;
  readonly claimMs: number;
  readonly log: (event: HubLogEvent) => void;
}

export type MessageWork = (context: ProcessContext, message: UplinkMessage) => Promise<ProcessOutcome>;

export interface HubTransactions {
  /** Runs messages in one transaction; on failure, each alone; a message that fails alone is retried (transient). */
  readonly runGroup: (items: readonly Arrival[], work: MessageWork, source: string) => Promise<void>;
  /** Runs work of the hub's own (no delivery to settle) in a transaction, and sends what it queued after the commit. */
  readonly runOwn: <T>(source: string, work: (context: ProcessContext) => Promise<T>) => Promise<T>;
}

/** Bodies of one transaction kept in memory from commit to send, in all; the rest are read back from the store. */
const KEEP_BODY_BYTES = 256 * 1024 * 1024;

export function createHubTransactions(options: HubTransactionsOptions): HubTransactions {
  const { sql, adapter, processor, sender, forward, instanceId, claimMs, log } = options;

  async function runGroup(items: readonly Arrival[], work: MessageWork, source: string): Promise<void> {
    let outgoing: Outgoing = { rows: [], bodies: new Map() };
    let outcomes: ProcessOutcome[];
    try {
      outcomes = await sql.transaction(async (tx) => {
        const started = Date.now();
        const context = createProcessContext(tx, { by: instanceId, until: new Date(started + claimMs) }, source);
        const messages = items.map((item) => uplinkMessage(item.message, adapter));
        // Each message's forwards leave as soon as it is routed, while the next ones are processed and the hub's own
        // messages written; the commit waits for the broker to have accepted them all.
        const forwarding = forward();
        try {
          if (messages.length > 1) await processor.claimAll(context, messages);
          const results: ProcessOutcome[] = [];
          for (const message of messages) {
            results.push(await work(context, message));
            forwarding.add(context.forwards.splice(0), context.delivered.splice(0));
          }
          await processor.flush(context);
          await forwarding.settled();
          // A long transaction (a large directory change) would commit rows whose claim has already lapsed.
          if (Date.now() - started > claimMs / 4 && context.outgoing.rows.length > 0) {
            await store.renewClaims(
              tx,
              instanceId,
              context.outgoing.rows.map((r) => r.id),
              new Date(Date.now() + claimMs),
            );
          }
          outgoing = context.outgoing;
          return results;
        } finally {
          forwarding.close();
        }
      });
    } catch (error) {
      if (items.length > 1) {
        for (const item of items) await runGroup([item], work, source);
        return;
      }
      log({
        event: 'transient-failure',
        source,
        messageId: String(items[0]!.message.message_id ?? ''),
        error: (error as Error).message,
      });
      adapter.retry(items[0]!.delivery);
      return;
    }
    for (const item of items) item.delivery.accept();
    let kept = 0;
    for (const [id, body] of outgoing.bodies) {
      kept += body.byteLength;
      if (kept > KEEP_BODY_BYTES) outgoing.bodies.delete(id);
    }
    sender.enqueue(outgoing.rows, outgoing.bodies);
    items.forEach((item, i) => {
      const outcome = outcomes[i]!;
      const messageId = String(item.message.message_id ?? '');
      const rtsType: unknown = (item.message.application_properties as Record<string, unknown> | undefined)?.rtsType;
      const type = typeof rtsType === 'string' ? rtsType : '';
      log({
        event: 'message',
        source,
        messageId,
        type,
        outcome: outcome.outcome,
        ...(outcome.outcome === 'rejected' && { reason: outcome.reason, detail: outcome.detail }),
      });
    });
  }

  async function runOwn<T>(source: string, work: (context: ProcessContext) => Promise<T>): Promise<T> {
    let outgoing: Outgoing = { rows: [], bodies: new Map() };
    const result = await sql.transaction(async (tx) => {
      const context = createProcessContext(tx, { by: instanceId, until: new Date(Date.now() + claimMs) }, source);
      const value = await work(context);
      // No delivery holds anything here: whatever it would forward is written to the outbox, sent after the commit.
      await processor.flush(context, { forwards: true });
      outgoing = context.outgoing;
      return value;
    });
    sender.enqueue(outgoing.rows, outgoing.bodies);
    return result;
  }

  return { runGroup, runOwn };
}
