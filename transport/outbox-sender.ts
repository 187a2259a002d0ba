import type { Delivery, EventContext, Sender } from 'rhea';
import { errorCodeOf, NO_LOGGER, type Logger } from '../shared/index.ts';
import type { BrokerConnection } from './broker-connection.ts';
import { toRheaMessage } from './amqp-message.ts';
import type { Outbox } from './transport-store.ts';

/**
 * Drains the durable outbox into the broker. A message is done only when the broker settles it `accepted`:
 *   accepted          → confirmed, removed from the outbox
 *   rejected          → permanent: kept as failed with the broker's reason, surfaced, never re-sent
 *   released/modified → transient: re-sent after a delay
 *   connection lost   → ambiguous (it may or may not have arrived): re-sent after reconnect; receivers de-duplicate
 * In-flight messages are bounded (back-pressure), and the outbox keeps order per order key.
 */
export interface OutboxSenderOptions {
  readonly connection: BrokerConnection;
  readonly outbox: Outbox;
  /** Messages sent and not yet settled, at most. */
  readonly maxInFlight?: number;
  /** Bytes sent and not yet settled, at most (large attachments). */
  readonly maxInFlightBytes?: number;
  /** Delay before re-sending a message the broker released. */
  readonly retryDelayMs?: number;
  /** Re-sends of one message after which a transient failure is given up as permanent. */
  readonly maxAttempts?: number;
  /** After messages were confirmed or given up: the outbox's counts changed (for a UI to show). */
  readonly onChange?: () => void;
  /** Messages refused, given up or re-sent, by message id (shared/logger.ts). */
  readonly logger?: Logger;
}

export interface OutboxSender {
  /** Call after enqueuing: sends what can be sent now. */
  wake(): void;
  stop(): void;
}

/** Link errors that no retry can heal: the message itself is not allowed where it is going. */
const PERMANENT_CONDITIONS: ReadonlySet<string> = new Set([
  'amqp:unauthorized-access',
  'amqp:not-allowed',
  'amqp:not-found',
  'amqp:invalid-field',
  'amqp:link:message-size-exceeded',
]);

export function createOutboxSender(options: OutboxSenderOptions): OutboxSender {
  const { connection, outbox } = options;
  const maxInFlight = options.maxInFlight ?? 64;
  const maxInFlightBytes = options.maxInFlightBytes ?? 16 * 1024 * 1024;
  let inFlightBytes = 0;
  const retryDelayMs = options.retryDelayMs ?? 2_000;
  const maxAttempts = options.maxAttempts ?? 10;
  const logger = options.logger ?? NO_LOGGER;
  const senders = new Map<string, Sender>();
  const inFlight = new Map<Delivery, { messageId: string; attempts: number; bytes: number }>();
  let online = connection.state.status === 'online';
  let stopped = false;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  let pumping = false;
  let pumpScheduled = false;
  // Settlements and credit arrive in bursts: one pump per tick serves them all.
  const pumpSoon = () => {
    if (pumpScheduled) return;
    pumpScheduled = true;
    setImmediate(() => {
      pumpScheduled = false;
      pump();
    });
  };
  // Confirmations of one tick are written in one transaction: one disk flush for a burst of settlements.
  let confirmed: string[] = [];
  const flushConfirmed = () => {
    const ids = confirmed;
    // stop() may have flushed them already, and the store may be closed by now.
    if (ids.length === 0) return;
    confirmed = [];
    outbox.confirmMany(ids);
    options.onChange?.();
    pumpSoon();
  };

  function senderFor(address: string): Sender | undefined {
    const amqp = connection.amqp;
    if (!amqp) return undefined;
    let sender = senders.get(address);
    if (!sender || sender.is_closed()) {
      sender = amqp.open_sender({ target: { address }, autosettle: true });
      sender.on('accepted', (context: EventContext) => settle(context.delivery, 'accepted'));
      sender.on('rejected', (context: EventContext) => settle(context.delivery, 'rejected'));
      sender.on('released', (context: EventContext) => settle(context.delivery, 'released'));
      sender.on('modified', (context: EventContext) => settle(context.delivery, 'released'));
      sender.on('sendable', pumpSoon);
      const linkLost = (context: EventContext) => abandonLink(address, context.session?.error ?? context.sender?.error);
      sender.on('sender_error', linkLost);
      // A refused publish ends the whole session (RabbitMQ), so its deliveries will never be settled.
      sender.session.on('session_error', linkLost);
      senders.set(address, sender);
    }
    return sender;
  }

  function settle(delivery: Delivery | undefined, outcome: 'accepted' | 'rejected' | 'released'): void {
    const entry = delivery && inFlight.get(delivery);
    // After stop() the store may be closed: a late settlement is lost, and the message is sent again at the next start.
    if (!delivery || !entry || stopped) return;
    inFlight.delete(delivery);
    inFlightBytes -= entry.bytes;
    if (outcome === 'accepted') {
      if (confirmed.push(entry.messageId) === 1) setImmediate(flushConfirmed);
      return;
    } else if (outcome === 'rejected') {
      const error = (delivery.remote_state as { error?: { condition?: string; description?: string } } | undefined)
        ?.error;
      logger.warn('outbox.rejected', { messageId: entry.messageId, error: error?.condition ?? 'none' });
      outbox.fail(
        entry.messageId,
        `rejected by the broker${error?.condition ? `: ${error.condition}${error.description ? ` (${error.description})` : ''}` : ''}`,
      );
      options.onChange?.();
    } else if (entry.attempts >= maxAttempts) {
      logger.warn('outbox.given-up', { messageId: entry.messageId, attempts: entry.attempts });
      outbox.fail(entry.messageId, `released by the broker ${entry.attempts} times`);
      options.onChange?.();
    } else {
      logger.info('outbox.released', { messageId: entry.messageId, attempts: entry.attempts });
      outbox.retry(entry.messageId, retryDelayMs, 'released by the broker');
      scheduleRetry(retryDelayMs);
    }
    pumpSoon();
  }

  /** The link (or its session) ended with an error: settle its in-flight messages by the error's class. */
  function abandonLink(address: string, error: unknown): void {
    const sender = senders.get(address);
    senders.delete(address);
    const { condition, description } = (error ?? {}) as { condition?: string; description?: string };
    const reason = `refused by the broker${condition ? `: ${condition}` : ''}${description ? ` (${description})` : ''}`;
    const permanent = PERMANENT_CONDITIONS.has(condition ?? '');
    let settled = 0;
    for (const [delivery, entry] of inFlight) {
      if (delivery.link !== sender) continue;
      inFlight.delete(delivery);
      inFlightBytes -= entry.bytes;
      if (permanent) outbox.fail(entry.messageId, reason);
      else outbox.retry(entry.messageId, retryDelayMs, reason);
      settled += 1;
    }
    logger.warn('outbox.link-lost', { address, error: condition ?? errorCodeOf(error), inFlight: settled, permanent });
    options.onChange?.();
    scheduleRetry(retryDelayMs);
  }

  function scheduleRetry(delayMs: number): void {
    if (retryTimer || stopped) return;
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      pump();
    }, delayMs);
  }

  function pump(): void {
    if (pumping || stopped || !online) return;
    pumping = true;
    try {
      let blocked = false;
      while (!blocked && inFlight.size < maxInFlight && inFlightBytes < maxInFlightBytes) {
        // Take no more than the links can carry now: what cannot be sent would only be put back.
        const credit =
          senders.size === 0
            ? 1
            : [...senders.values()].reduce((sum, s) => sum + Math.max(0, (s as { credit?: number }).credit ?? 0), 0);
        if (credit === 0) break;
        const batch = outbox.takeSendable(Math.min(maxInFlight - inFlight.size, credit), Date.now());
        if (batch.length === 0) break;
        const handBack: string[] = [];
        for (const ticket of batch) {
          const sender = blocked ? undefined : senderFor(ticket.address);
          const message =
            sender?.sendable() && inFlightBytes < maxInFlightBytes ? outbox.load(ticket.messageId) : undefined;
          if (!sender || !message) {
            // No credit or over the byte bound: it goes back as it was; 'sendable' or a settlement pumps again.
            blocked = true;
            handBack.push(ticket.messageId);
            continue;
          }
          inFlight.set(sender.send(toRheaMessage(message)), {
            messageId: ticket.messageId,
            attempts: ticket.attempts,
            bytes: ticket.bytes,
          });
          inFlightBytes += ticket.bytes;
        }
        if (handBack.length > 0) outbox.putBack(handBack);
      }
    } finally {
      pumping = false;
    }
  }

  const offOpened = connection.onOpened(() => {
    online = true;
    pump();
  });
  const offDisconnected = connection.onDisconnected(() => {
    online = false;
    if (inFlight.size > 0) logger.info('outbox.requeued', { inFlight: inFlight.size });
    // Settled before the drop: record them first, so they are not sent again.
    if (confirmed.length > 0) flushConfirmed();
    // rhea drops unsettled deliveries silently: whatever was in flight may or may not have arrived. Send it again.
    inFlight.clear();
    inFlightBytes = 0;
    outbox.requeueInFlight();
  });
  // Anything left in flight by a previous run was never confirmed.
  outbox.requeueInFlight();

  return {
    wake: () => pump(),
    stop() {
      if (confirmed.length > 0) flushConfirmed();
      stopped = true;
      if (retryTimer) clearTimeout(retryTimer);
      offOpened();
      offDisconnected();
      for (const sender of senders.values()) sender.close();
      senders.clear();
    },
  };
}
