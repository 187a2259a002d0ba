import type { EventContext, Message, Receiver } from 'rhea';
import { PROTOCOL_LIMITS } from '../shared/protocol/limits.ts';
import type { ReasonCode } from '../shared/protocol/reason-codes.ts';
import { REASON_CODES } from '../shared/protocol/reason-codes.ts';
import { bodyBytes, toStoredMessage } from './amqp-message.ts';
import type { BrokerConnection } from './broker-connection.ts';
import type { DeadLetters, Inbox, InboxRecord } from './transport-store.ts';

/**
 * Consumes one queue with bounded credit. Each message is handled, its effect and outcome committed in one
 * transaction, and only then accepted:
 *   processed                 → committed, accepted
 *   rejected (permanent)      → recorded as a dead letter with the reason (RabbitMQ's own reasons are invisible to
 *                               AMQP 1.0 readers), committed, accepted: it never blocks the messages behind it
 *   handler threw (transient) → released: the broker redelivers it, and dead-letters it at the queue's delivery limit
 *   duplicate message_id      → accepted again without effect; `onDuplicate` may repeat the original receipt
 * Messages are handled one at a time, in the order they arrive; what arrived together is committed together. A handler
 * judges each message against what the earlier messages of its batch will write (`ReceivedMessage.batch`), and each
 * effect checks again under the transaction. If the batch's commit fails all the same, its messages are committed one
 * by one (as the hub's `runGroup` does): one message whose effect cannot be written is released alone, and never takes
 * the rest of the batch back to the broker with it (where the delivery limit would dead-letter good messages unseen).
 */
export type HandlerResult =
  | { readonly outcome: 'processed'; readonly effect?: () => void; readonly afterCommit?: () => void }
  | { readonly outcome: 'rejected'; readonly reason: ReasonCode; readonly detail: string; readonly effect?: () => void; readonly afterCommit?: () => void };

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
  /** Deliveries the broker may push ahead of processing. */
  readonly credit?: number;
  /** The link's max_message_size (default LINK_MAX_MESSAGE_BYTES). */
  readonly maxMessageBytes?: number;
  /** How often to check that the receiver is still attached (a receiver can silently stop after a broker restart). */
  readonly livenessIntervalMs?: number;
  readonly now?: () => number;
}

export interface InboxReceiver {
  /** True while the link is attached; false means degraded (the liveness check re-attaches it). */
  readonly attached: boolean;
  stop(): Promise<void>;
}

type Delivery = NonNullable<EventContext['delivery']>;

/**
 * What a receiver link announces as its max_message_size: the protocol's body limit and room for the properties.
 * RabbitMQ 3.10 ignores it (measured: a 5,000-byte message reached a receiver that announced 1,024), so the receiver
 * checks each transfer itself and refuses a larger one as too-large: recorded with the reason, its body not kept,
 * accepted so that it never blocks the queue. A smaller but still oversized body is the protocol's `too-large` too.
 */
export const LINK_MAX_MESSAGE_BYTES = PROTOCOL_LIMITS.maxBodyBytes + 1024 * 1024;

function transferBytes(message: Message): number {
  const body = bodyBytes(message.body);
  if (body instanceof Uint8Array) return body.byteLength;
  return typeof body === 'string' ? Buffer.byteLength(body) : 0;
}

/** One message of a batch: how it is settled, and what it writes first (nothing for a duplicate). */
interface Entry {
  readonly delivery: Delivery;
  readonly commit?: { readonly record?: InboxRecord; readonly effect?: () => void };
  /** After its commit succeeded: notifications (a dead letter for the operator, a change for the UI). */
  readonly afterCommit?: () => void;
}

export function createInboxReceiver(options: InboxReceiverOptions): InboxReceiver {
  const { connection, inbox, deadLetters } = options;
  const credit = options.credit ?? 32;
  const maxMessageBytes = options.maxMessageBytes ?? LINK_MAX_MESSAGE_BYTES;
  const now = options.now ?? Date.now;
  const arrived: { message: Message; delivery: Delivery }[] = [];
  let receiver: Receiver | undefined;
  let draining: Promise<void> = Promise.resolve();
  let isDraining = false;
  let stopped = false;

  function attach(): void {
    const amqp = connection.amqp;
    if (!amqp || stopped) return;
    receiver = amqp.open_receiver({ source: { address: options.source }, autoaccept: false, credit_window: credit, max_message_size: maxMessageBytes });
    receiver.on('message', (context: EventContext) => {
      // After stop() the store may be closed; a transfer the broker sent before it saw the detach is left unsettled,
      // and the broker delivers it again to the next receiver.
      if (stopped || !context.message || !context.delivery) return;
      arrived.push({ message: context.message, delivery: context.delivery });
      if (!isDraining) {
        isDraining = true;
        draining = drain().finally(() => {
          isDraining = false;
        });
      }
    });
    receiver.on('receiver_error', () => undefined);
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
    while (arrived.length > 0) {
      const batch = arrived.splice(0, credit);
      const scope: BatchScope = { serial: ++batches };
      const entries: Entry[] = [];
      const inBatch = new Set<string>();
      for (const { message, delivery } of batch) {
        const messageId = typeof message.message_id === 'string' ? message.message_id : undefined;
        const received: ReceivedMessage = { messageId: messageId ?? '', amqp: message, redelivered: (message as { first_acquirer?: boolean }).first_acquirer === false, batch: scope };
        const bytes = transferBytes(message);
        if (bytes > maxMessageBytes && !(messageId && (inbox.find(messageId) || inBatch.has(messageId)))) {
          if (messageId) inBatch.add(messageId);
          entries.push(refusedAtLink(delivery, message, messageId, bytes));
          continue;
        }
        if (!messageId) {
          // Without an id nothing can be de-duplicated or answered: keep it for the operator and move on.
          let id = 0;
          entries.push({
            delivery,
            commit: { effect: () => {
              id = deadLetters.add({ messageId: '', source: options.sourceName, reason: REASON_CODES.missingProperty, detail: 'message_id: missing or not a string', message: toStoredMessage(message), receivedAt: now() });
            } },
            afterCommit: () => options.onDeadLetter?.(id, REASON_CODES.missingProperty),
          });
          continue;
        }
        const earlier = inbox.find(messageId);
        if (earlier || inBatch.has(messageId)) {
          if (earlier) options.onDuplicate?.(earlier, received);
          entries.push({ delivery });
          continue;
        }
        let result: HandlerResult;
        try {
          result = await options.handle(received);
        } catch {
          // Transient: the broker counts the redelivery and dead-letters at the queue's limit.
          delivery.release();
          continue;
        }
        inBatch.add(messageId);
        if (result.outcome === 'processed') {
          entries.push({
            delivery,
            commit: { record: { messageId, outcome: 'processed', processedAt: now() }, ...(result.effect && { effect: result.effect }) },
            ...(result.afterCommit && { afterCommit: result.afterCommit }),
          });
        } else {
          let id = 0;
          entries.push({
            delivery,
            commit: {
              record: { messageId, outcome: 'rejected', reason: result.reason, processedAt: now() },
              effect: () => {
                id = deadLetters.add({ messageId, source: options.sourceName, reason: result.reason, detail: result.detail, message: toStoredMessage(message), receivedAt: now() });
                result.effect?.();
              },
            },
            afterCommit: () => {
              options.onDeadLetter?.(id, result.reason);
              result.afterCommit?.();
            },
          });
        }
      }
      commit(entries);
    }
  }

  /** Larger than the link allows: the record and the reason are kept, the body is not (it is never handled). */
  function refusedAtLink(delivery: Delivery, message: Message, messageId: string | undefined, bytes: number): Entry {
    const reason = REASON_CODES.tooLarge;
    const detail = `transfer of ${bytes} bytes exceeds this link's max_message_size of ${maxMessageBytes}`;
    let id = 0;
    return {
      delivery,
      commit: {
        ...(messageId && { record: { messageId, outcome: 'rejected', reason, processedAt: now() } }),
        effect: () => {
          id = deadLetters.add({
            messageId: messageId ?? '', source: options.sourceName, reason, detail, message: { ...toStoredMessage(message), body: new Uint8Array(0) }, droppedBodyBytes: bytes, receivedAt: now(),
          });
        },
      },
      afterCommit: () => options.onDeadLetter?.(id, reason),
    };
  }

  /**
   * The batch in one transaction. If that fails, one message's writes broke it: each is then committed alone, in order,
   * and only a message that fails alone is released (nothing of it is durable; it is judged again when it comes back).
   */
  function commit(entries: readonly Entry[]): void {
    const writes = entries.flatMap((e) => (e.commit ? [e.commit] : []));
    if (tryCommit(writes)) {
      for (const entry of entries) settle(entry, true);
      return;
    }
    for (const entry of entries) settle(entry, !entry.commit || (writes.length > 1 && tryCommit([entry.commit])));
  }

  function tryCommit(writes: readonly NonNullable<Entry['commit']>[]): boolean {
    try {
      inbox.commitMany(writes);
      return true;
    } catch {
      return false;
    }
  }

  function settle(entry: Entry, committed: boolean): void {
    if (!committed) {
      entry.delivery.release();
      return;
    }
    entry.delivery.accept();
    entry.afterCommit?.();
  }

  const offOpened = connection.onOpened(() => {
    if (!receiver) attach();
  });
  if (connection.state.status === 'online') attach();

  const liveness = setInterval(() => {
    if (stopped || connection.state.status !== 'online') return;
    if (!receiver || !receiver.is_open()) {
      receiver?.close();
      attach();
    }
  }, options.livenessIntervalMs ?? 5_000);
  liveness.unref();

  return {
    get attached() {
      return receiver?.is_open() ?? false;
    },
    async stop() {
      stopped = true;
      clearInterval(liveness);
      offOpened();
      await draining;
      receiver?.close();
    },
  };
}
