import type { EventContext, Message, Receiver } from 'rhea';
import type { ReasonCode } from '../shared/protocol/reason-codes.ts';
import { REASON_CODES } from '../shared/protocol/reason-codes.ts';
import { toStoredMessage } from './amqp-message.ts';
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
 * Messages are handled one at a time, in the order they arrive.
 */
export type HandlerResult =
  | { readonly outcome: 'processed'; readonly effect?: () => void }
  | { readonly outcome: 'rejected'; readonly reason: ReasonCode; readonly detail: string; readonly effect?: () => void };

export interface ReceivedMessage {
  readonly messageId: string;
  /** The AMQP message as rhea decoded it. */
  readonly amqp: Message;
  /** True when the broker says an earlier delivery of it was not settled (a redelivery). */
  readonly redelivered: boolean;
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
  /** How often to check that the receiver is still attached (a receiver can silently stop after a broker restart). */
  readonly livenessIntervalMs?: number;
  readonly now?: () => number;
}

export interface InboxReceiver {
  /** Resolves when every message received so far is settled. */
  idle(): Promise<void>;
  /** True while the link is attached; false means degraded (the liveness check re-attaches it). */
  readonly attached: boolean;
  stop(): Promise<void>;
}

export function createInboxReceiver(options: InboxReceiverOptions): InboxReceiver {
  const { connection, inbox, deadLetters } = options;
  const credit = options.credit ?? 32;
  const now = options.now ?? Date.now;
  let receiver: Receiver | undefined;
  let queue: Promise<void> = Promise.resolve();
  let stopped = false;

  function attach(): void {
    const amqp = connection.amqp;
    if (!amqp || stopped) return;
    receiver = amqp.open_receiver({ source: { address: options.source }, autoaccept: false, credit_window: credit });
    receiver.on('message', (context: EventContext) => {
      const { message, delivery } = context;
      if (!message || !delivery) return;
      // Chained: one message at a time, in arrival order, without blocking rhea's event loop.
      queue = queue.then(() => process(message, delivery)).catch(() => delivery.release());
    });
    receiver.on('receiver_error', () => undefined);
  }

  async function process(message: Message, delivery: NonNullable<EventContext['delivery']>): Promise<void> {
    const messageId = typeof message.message_id === 'string' ? message.message_id : undefined;
    const received = { messageId: messageId ?? '', amqp: message, redelivered: (message as { first_acquirer?: boolean }).first_acquirer === false };
    if (!messageId) {
      // Without an id nothing can be de-duplicated or answered: keep it for the operator and move on.
      const id = deadLetters.add({ messageId: '', source: options.sourceName, reason: REASON_CODES.missingProperty, detail: 'message_id: missing or not a string', message: toStoredMessage(message), receivedAt: now() });
      options.onDeadLetter?.(id, REASON_CODES.missingProperty);
      delivery.accept();
      return;
    }
    const earlier = inbox.find(messageId);
    if (earlier) {
      options.onDuplicate?.(earlier, received);
      delivery.accept();
      return;
    }
    let result: HandlerResult;
    try {
      result = await options.handle(received);
    } catch {
      // Transient: the broker counts the redelivery and dead-letters at the queue's limit.
      delivery.release();
      return;
    }
    if (result.outcome === 'processed') {
      inbox.commit({ messageId, outcome: 'processed', processedAt: now() }, result.effect);
    } else {
      let deadLetterId = 0;
      inbox.commit({ messageId, outcome: 'rejected', reason: result.reason, processedAt: now() }, () => {
        deadLetterId = deadLetters.add({ messageId, source: options.sourceName, reason: result.reason, detail: result.detail, message: toStoredMessage(message), receivedAt: now() });
        result.effect?.();
      });
      options.onDeadLetter?.(deadLetterId, result.reason);
    }
    delivery.accept();
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
    idle: () => queue,
    get attached() {
      return receiver?.is_open() ?? false;
    },
    async stop() {
      stopped = true;
      clearInterval(liveness);
      offOpened();
      await queue;
      receiver?.close();
    },
  };
}
