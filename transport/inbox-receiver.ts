import type { Message } from 'rhea';
import { errorCodeOf, NO_LOGGER, type Logger } from '../shared/index.ts';
import type { ReasonCode } from '../shared/protocol/index.ts';
import { toStoredMessage } from './amqp-message.ts';
import type { RetryableDelivery } from './broker-adapter.ts';
import type { BrokerConnection } from './broker-connection.ts';
import { commitEntries } from './inbox-commit.ts';
import {
  FROM_PARK,
  fromParked,
  LINK_MAX_MESSAGE_BYTES,
  missingIdEntry,
  refusedAtLinkEntry,
  transferBytes,
  type Arrival,
  type DeadLetterSink,
  type Entry,
} from './inbox-entries.ts';
import { openInboxLink } from './inbox-link.ts';
import {
  DEFAULT_PARK_LIMITS,
  parkedEntry,
  unparkedEntry,
  type ParkLimits,
  type Parking,
  type ParkSink,
} from './inbox-park.ts';
import type { DeadLetters, Inbox, InboxRecord, ParkedMessages } from './transport-store.ts';

// Callers import the link's limit from here, where the receiver that announces it lives.
export { LINK_MAX_MESSAGE_BYTES } from './inbox-entries.ts';

/**
 * Consumes one queue with bounded credit. Each message is handled, its effect and outcome committed in one
 * transaction, and only then accepted:
 *   processed                 → committed, accepted
 *   rejected (permanent)      → recorded as a dead letter with the reason (RabbitMQ's own reasons are invisible to
 *                               AMQP 1.0 readers), committed, accepted: it never blocks the messages behind it
 *   handler threw (transient) → given back (the adapter's counted retry: `released` on RabbitMQ, `modified` on
 *                               Artemis): the broker redelivers it, and dead-letters it at the queue's delivery limit
 *   waiting (own trust)       → cannot be judged yet for a reason of this endpoint's own (its CRL missing or stale):
 *                               parked whole in the store, committed, accepted. `handleParkedAgain` (the trust changed)
 *                               and each start hand the parked messages to the handler again, in arrival order, ahead
 *                               of what arrives after, as if they had just arrived; one still waiting stays parked.
 *                               Without a park, or with the park full (`parkLimits`), it is given back as above
 *   duplicate message_id      → accepted again without effect; `onDuplicate` may repeat the original receipt
 * Messages are handled one at a time, in the order they arrive; what arrived together is committed together. A handler
 * judges each message against what the earlier messages of its batch will write (`ReceivedMessage.batch`), and each
 * effect checks again under the transaction. If the batch's commit fails all the same, its messages are committed one
 * by one (as the hub's `runGroup` does): one message whose effect cannot be written is given back alone, and never takes
 * the rest of the batch back to the broker with it (where the delivery limit would dead-letter good messages unseen).
 */
export type HandlerResult =
  | { readonly outcome: 'processed'; readonly effect?: () => void; readonly afterCommit?: () => void }
  | {
      readonly outcome: 'rejected';
      readonly reason: ReasonCode;
      readonly detail: string;
      readonly effect?: () => void;
      readonly afterCommit?: () => void;
    }
  | { readonly outcome: 'waiting'; readonly reason: ReasonCode; readonly detail: string };

/**
 * The messages handled for one commit. It carries nothing itself: handlers key what they must remember between the
 * messages of a batch by it (e.g. in a WeakMap), and that memory goes with the batch.
 */
export interface BatchScope {
  /** Counts the batches of this receiver, from 1. */
  readonly serial: number;
}

export interface ReceivedMessage {
  readonly messageId: string;
  /** The AMQP message as rhea decoded it. */
  readonly amqp: Message;
  /** True when the broker says an earlier delivery of it was not settled (a redelivery). */
  readonly redelivered: boolean;
  /** The batch this message is handled in, with the messages before it. */
  readonly batch: BatchScope;
}

export interface InboxReceiverOptions {
  readonly connection: BrokerConnection;
  readonly source: string;
  /** Logical name recorded with dead letters, e.g. "downlink". */
  readonly sourceName: string;
  readonly inbox: Inbox;
  readonly deadLetters: DeadLetters;
  readonly handle: (message: ReceivedMessage) => Promise<HandlerResult>;
  readonly onDuplicate?: (record: InboxRecord, message: ReceivedMessage) => void;
  readonly onDeadLetter?: (id: number, reason: ReasonCode) => void;
  /** Where messages that cannot be judged yet wait (see the header); without it they are released. */
  readonly parked?: ParkedMessages;
  readonly parkLimits?: ParkLimits;
  /** After messages were parked or handled out of the park (committed): the count of waiting messages changed. */
  readonly onParkChanged?: () => void;
  /** Deliveries the broker may push ahead of processing. */
  readonly credit?: number;
  /** The link's max_message_size (default LINK_MAX_MESSAGE_BYTES). */
  readonly maxMessageBytes?: number;
  /** How often to check that the receiver is still attached (a receiver can silently stop after a broker restart). */
  readonly livenessIntervalMs?: number;
  readonly now?: () => number;
  /** Failures (a handler threw, a commit failed, a link lost), with the source and message ids, never bodies. */
  readonly logger?: Logger;
}

export interface InboxReceiver {
  /** True while the link is attached; false means degraded (the liveness check re-attaches it). */
  readonly attached: boolean;
  /** This endpoint's trust changed: the parked messages are handled again, ahead of anything not yet handled. */
  handleParkedAgain(): void;
  /** Resolves once everything that has arrived, and the park when it is being handled, has been handled. */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

/** What judging a message may consult and change of the batch it is in. */
interface BatchState {
  readonly scope: BatchScope;
  /** Ids judged in this batch so far (copies of them are duplicates too). */
  readonly inBatch: Set<string>;
  readonly parking: Parking;
  /** What the inbox held of the batch's ids when it began. */
  readonly recorded: ReadonlyMap<string, InboxRecord>;
}

export function createInboxReceiver(options: InboxReceiverOptions): InboxReceiver {
  const { connection, inbox, deadLetters, parked } = options;
  const credit = options.credit ?? 32;
  const maxMessageBytes = options.maxMessageBytes ?? LINK_MAX_MESSAGE_BYTES;
  const now = options.now ?? Date.now;
  const logger = options.logger ?? NO_LOGGER;
  const source = options.sourceName;
  const sink: DeadLetterSink = {
    deadLetters,
    sourceName: options.sourceName,
    now,
    ...(options.onDeadLetter && { onDeadLetter: options.onDeadLetter }),
  };
  // A transient failure goes back to the broker with the outcome it counts towards the queue's delivery limit.
  const retry = (delivery: RetryableDelivery) => connection.adapter.retry(delivery);
  const parkSink: ParkSink = {
    parked,
    limits: options.parkLimits ?? DEFAULT_PARK_LIMITS,
    sourceName: options.sourceName,
    now,
    logger,
    retry,
    ...(options.onParkChanged && { onParkChanged: options.onParkChanged }),
  };
  const arrived: Arrival[] = [];
  let draining: Promise<void> = Promise.resolve();
  let isDraining = false;
  let stopped = false;
  // Set when the trust changed (and at start with messages parked): the park is handled before anything else.
  let parkWanted = parked !== undefined && parked.counts(options.sourceName).messages > 0;

  function wake(): void {
    if (isDraining || stopped) return;
    isDraining = true;
    draining = drain().finally(() => {
      isDraining = false;
    });
  }

  let batches = 0;

  /**
   * Handles what has arrived, one message at a time in arrival order, then commits the whole batch in one transaction
   * (one disk flush), and only then settles: a crash before the commit loses nothing, the broker redelivers.
   */
  async function drain(): Promise<void> {
    // rhea emits the transfers of one socket read in one go: let them join the batch. A drain that finished within the
    // first emit (nothing awaited: refusals, duplicates) would otherwise strand them until the next transfer arrives.
    await Promise.resolve();
    // Group commit: what the socket holds already joins this batch (one turn of the event loop), up to the credit.
    if (arrived.length < credit) await new Promise((resolve) => setImmediate(resolve));
    while ((parkWanted && !stopped) || arrived.length > 0) {
      if (parkWanted) await handleParked();
      else await handleBatch(arrived.splice(0, credit));
    }
  }

  /** The parked messages, oldest first, in batches of `credit`; one still waiting keeps its place. */
  async function handleParked(): Promise<void> {
    parkWanted = false;
    let afterSeq = 0;
    for (;;) {
      const page = parked?.list(options.sourceName, { afterSeq, limit: credit }) ?? [];
      if (page.length === 0 || stopped) return;
      afterSeq = page.at(-1)!.seq;
      await handleBatch(page.map((p) => ({ message: fromParked(p), delivery: FROM_PARK, parked: p })));
      options.onParkChanged?.();
    }
  }

  /** What the inbox holds already of these arrivals, looked up once for all of them. */
  const recordedOf = (arrivals: readonly Arrival[]) =>
    inbox.findMany(arrivals.flatMap(({ message: { message_id: id } }) => (typeof id === 'string' ? [id] : [])));

  async function handleBatch(batch: readonly Arrival[]): Promise<void> {
    const fromPark = batch[0]?.parked !== undefined;
    let scope: BatchScope = { serial: ++batches };
    let entries: Entry[] = [];
    let inBatch = new Set<string>();
    let parking: Parking = { messages: 0, bytes: 0 };
    let recorded = recordedOf(batch);
    for (const [i, arrival] of batch.entries()) {
      const entry = await judge(arrival, { scope, inBatch, parking, recorded });
      if (entry) entries.push(arrival.parked ? unparkedEntry(entry, parked, arrival.parked.messageId) : entry);
      // The trust changed while this batch was handled (e.g. a crl-updated notice): what is parked arrived before the
      // rest of the batch, so it goes first. What was handled so far is committed, the rest starts a new batch.
      if (parkWanted && !fromPark) {
        commit(entries);
        await handleParked();
        scope = { serial: ++batches };
        entries = [];
        inBatch = new Set();
        parking = { messages: 0, bytes: 0 };
        // The parked messages just committed may be copies of those still to come.
        recorded = recordedOf(batch.slice(i + 1));
      }
    }
    commit(entries);
  }

  /** What becomes of one message: its entry to commit and settle, or none when it was released (or stays parked). */
  async function judge(arrival: Arrival, batch: BatchState): Promise<Entry | undefined> {
    const { scope, inBatch, parking, recorded } = batch;
    const { message, delivery } = arrival;
    const messageId = typeof message.message_id === 'string' ? message.message_id : undefined;
    const received: ReceivedMessage = {
      messageId: messageId ?? '',
      amqp: message,
      redelivered: arrival.parked !== undefined || (message as { first_acquirer?: boolean }).first_acquirer === false,
      batch: scope,
    };
    const bytes = transferBytes(message);
    if (bytes > maxMessageBytes && !(messageId && (recorded.has(messageId) || inBatch.has(messageId)))) {
      if (messageId) inBatch.add(messageId);
      return refusedAtLinkEntry(sink, delivery, message, messageId, bytes, maxMessageBytes);
    }
    if (!messageId) return missingIdEntry(sink, delivery, message);
    const earlier = recorded.get(messageId);
    if (earlier) {
      options.onDuplicate?.(earlier, received);
      return { messageId, delivery };
    }
    if (inBatch.has(messageId)) {
      // A copy in the same batch as its first: told once the first's record is committed (the copies may have come in
      // one socket read; the transport integration suite once waited in vain for this second onDuplicate).
      const told = () => {
        const first = inbox.find(messageId);
        if (first) options.onDuplicate?.(first, received);
      };
      return { messageId, delivery, afterCommit: told };
    }
    let result: HandlerResult;
    try {
      result = await options.handle(received);
    } catch (error) {
      // Transient: the broker counts the redelivery and dead-letters at the queue's limit (a parked one stays parked).
      logger.warn('inbox.handler-failed', {
        source,
        messageId,
        error: errorCodeOf(error),
        parked: arrival.parked !== undefined,
      });
      retry(delivery);
      return undefined;
    }
    if (result.outcome === 'waiting')
      return arrival.parked ? undefined : parkedEntry(parkSink, arrival, messageId, result.reason, parking);
    inBatch.add(messageId);
    if (result.outcome === 'processed') {
      return {
        messageId,
        delivery,
        commit: {
          record: { messageId, outcome: 'processed', processedAt: now() },
          ...(result.effect && { effect: result.effect }),
        },
        ...(result.afterCommit && { afterCommit: result.afterCommit }),
      };
    }
    let id = 0;
    return {
      messageId,
      delivery,
      commit: {
        record: { messageId, outcome: 'rejected', reason: result.reason, processedAt: now() },
        effect: () => {
          id = deadLetters.add({
            messageId,
            source: options.sourceName,
            reason: result.reason,
            detail: result.detail,
            message: toStoredMessage(message),
            receivedAt: now(),
          });
          result.effect?.();
        },
      },
      afterCommit: () => {
        options.onDeadLetter?.(id, result.reason);
        result.afterCommit?.();
      },
    };
  }

  function commit(entries: readonly Entry[]): void {
    commitEntries(inbox, entries, source, logger, retry);
  }

  const link = openInboxLink({
    connection,
    address: options.source,
    sourceName: source,
    credit,
    maxMessageBytes,
    livenessIntervalMs: options.livenessIntervalMs ?? 5_000,
    logger,
    onArrival: (arrival) => {
      arrived.push(arrival);
      wake();
    },
  });
  // What was parked before a restart is judged again at once: the trust may have changed meanwhile.
  if (parkWanted) wake();

  return {
    get attached() {
      return link.attached;
    },
    handleParkedAgain() {
      if (!parked) return;
      parkWanted = true;
      wake();
    },
    async idle() {
      while (isDraining) await draining;
    },
    async stop() {
      stopped = true;
      link.stop();
      await draining;
      link.close();
    },
  };
}
