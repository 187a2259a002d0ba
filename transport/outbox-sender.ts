import { errorCodeOf, NO_LOGGER, type Logger } from '../shared/index.ts';
import type { BrokerConnection } from './broker-connection.ts';
import { createSettlingSender, PERMANENT_CONDITIONS, type SendOutcome } from './settling-sender.ts';
import type { Outbox, OutboxTicket } from './transport-store.ts';

/**
 * Drains the durable outbox into the broker. A message is done only when the broker settles it `accepted`:
 *   accepted          → confirmed: removed from the outbox (confirmations are written in groups)
 *   rejected          → permanent: kept as failed with the broker's reason, surfaced, never re-sent
 *   released/modified → transient: re-sent after a delay, given up as failed after `maxAttempts`
 *   connection lost   → ambiguous (it may or may not have arrived): re-sent after reconnect; receivers de-duplicate
 * What is in flight lives here, in memory, never in the store: after a restart everything still queued is sent again.
 * Up to `windowPerKey` messages of one order key are in flight at once, sent in the order they were queued on one link,
 * whose order the broker keeps (docs/protocol.md §7.2 says what that guarantees); a message waiting to be re-sent holds
 * back the rest of its key.
 */
/** The address an endpoint queues its messages to: the uplink, as the broker adapter spells it for `endpointId`. */
export const UPLINK = 'uplink';

export interface OutboxSenderOptions {
  readonly connection: BrokerConnection;
  readonly outbox: Outbox;
  /** Whose uplink `UPLINK` means. Other addresses are sent to as they are (rows queued before `UPLINK` existed). */
  readonly endpointId?: string;
  /** Messages sent and not yet settled, at most. */
  readonly maxInFlight?: number;
  /** Bytes sent and not yet settled, at most (large attachments). */
  readonly maxInFlightBytes?: number;
  /** Messages of one order key sent and not yet settled, at most. */
  readonly windowPerKey?: number;
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
  /** Messages sent and not yet settled by the broker. */
  readonly inFlight: number;
  /**
   * Lets go of a queued message the user withdraws, so that it is not sent: false while it is in flight (the broker
   * may or may not have it; it cannot be taken back). The caller then takes it out of the store (Outbox.withdraw).
   */
  withdraw(messageId: string): boolean;
  stop(): void;
}

interface Item {
  readonly ticket: OutboxTicket;
  attempts: number;
  /** When it may be sent (again); 0 at once. */
  dueAt: number;
  flying: boolean;
}

/** Queued messages held in memory at a time; the rest are read from the store as these go. */
const READ_AHEAD = 2_048;
/** Confirmations are written together: after this long, or at this many, whichever comes first. */
const CONFIRM_GROUP_MS = 20;
const CONFIRM_GROUP_COUNT = 1_024;

export function createOutboxSender(options: OutboxSenderOptions): OutboxSender {
  const { connection, outbox } = options;
  const windowPerKey = options.windowPerKey ?? 32;
  // Resolved when sent, not when queued: the row outlives the connection, and whatever broker it goes to.
  const target = (address: string) => {
    if (address !== UPLINK) return address;
    if (!options.endpointId) throw new Error(`the outbox sender has no endpoint id to resolve ${UPLINK}`);
    return connection.adapter.uplinkTarget(options.endpointId);
  };
  const retryDelayMs = options.retryDelayMs ?? 2_000;
  const maxAttempts = options.maxAttempts ?? 10;
  const logger = options.logger ?? NO_LOGGER;
  const sender = createSettlingSender({
    connection,
    maxInFlight: options.maxInFlight ?? 256,
    maxInFlightBytes: options.maxInFlightBytes ?? 16 * 1024 * 1024,
    logger,
  });
  /** What was read from the store and is not done, by order key, in queue order. */
  const keys = new Map<string, Item[]>();
  /** Keys that may have a message to send now, oldest first. */
  const ready = new Set<string>();
  let held = 0;
  let cursor = 0;
  /** The store may hold queued messages past `cursor`. */
  let more = true;
  let stopped = false;
  let pumping = false;
  /** One message in flight at a time (see `settled`). */
  let probing = false;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  let retryAt = Infinity;

  let confirmed: string[] = [];
  let confirmTimer: ReturnType<typeof setTimeout> | undefined;
  const flushConfirmed = () => {
    if (confirmTimer) clearTimeout(confirmTimer);
    confirmTimer = undefined;
    const ids = confirmed;
    if (ids.length === 0) return;
    confirmed = [];
    try {
      outbox.confirmMany(ids);
    } catch (error) {
      // E.g. a full disk: kept to be written again, never lost (they would be sent again at the next start otherwise).
      logger.warn('outbox.confirm-failed', { messages: ids.length, error: errorCodeOf(error) });
      confirmed = ids.concat(confirmed);
      if (!stopped) confirmTimer = setTimeout(flushConfirmed, 1_000);
      return;
    }
    options.onChange?.();
    pump();
  };

  function read(): void {
    if (!more || held > READ_AHEAD / 2) return;
    const want = READ_AHEAD - held;
    const tickets = outbox.queuedAfter(cursor, want);
    more = tickets.length === want;
    for (const ticket of tickets) {
      cursor = ticket.seq;
      const items = keys.get(ticket.orderKey);
      const item = { ticket, attempts: 0, dueAt: 0, flying: false };
      if (items) items.push(item);
      else keys.set(ticket.orderKey, [item]);
      ready.add(ticket.orderKey);
      held += 1;
    }
  }

  function done(item: Item): void {
    const items = keys.get(item.ticket.orderKey);
    const index = items?.indexOf(item) ?? -1;
    if (!items || index < 0) return;
    items.splice(index, 1);
    if (items.length === 0) keys.delete(item.ticket.orderKey);
    else ready.add(item.ticket.orderKey);
    held -= 1;
  }

  function settled(item: Item, outcome: SendOutcome): void {
    item.flying = false;
    const { messageId, orderKey } = item.ticket;
    if (outcome.kind === 'accepted') {
      probing = false;
      done(item);
      if (confirmed.push(messageId) >= CONFIRM_GROUP_COUNT) flushConfirmed();
      else confirmTimer ??= setTimeout(flushConfirmed, CONFIRM_GROUP_MS);
      return;
    }
    if (outcome.kind === 'lost') {
      // Not an attempt: the connection, not the message, failed.
      item.attempts -= 1;
      item.dueAt = 0;
      ready.add(orderKey);
      return;
    }
    if (outcome.kind === 'rejected' || item.attempts >= maxAttempts) {
      const reason = outcome.kind === 'rejected' ? outcome.reason : `released by the broker ${item.attempts} times`;
      if (outcome.kind === 'rejected')
        logger.warn('outbox.rejected', { messageId, error: outcome.condition ?? 'none', attempts: item.attempts });
      else logger.warn('outbox.given-up', { messageId, attempts: item.attempts });
      done(item);
      outbox.fail(messageId, reason);
      options.onChange?.();
      pump();
      return;
    }
    // A link refused for good with several in flight: one at a time until one is accepted, so that the one it was
    // about is refused alone (settling-sender.ts).
    if (outcome.condition && PERMANENT_CONDITIONS.has(outcome.condition)) probing = true;
    logger.info('outbox.released', { messageId, attempts: item.attempts });
    item.dueAt = Date.now() + retryDelayMs;
    ready.add(orderKey);
    retryLater(item.dueAt);
  }

  function retryLater(at: number): void {
    if (stopped || at >= retryAt) return;
    if (retryTimer) clearTimeout(retryTimer);
    retryAt = at;
    retryTimer = setTimeout(
      () => {
        retryTimer = undefined;
        retryAt = Infinity;
        for (const key of keys.keys()) ready.add(key);
        pump();
      },
      Math.max(0, at - Date.now()),
    );
  }

  /** The next message of a key to send now, if its window has room and nothing before it waits for a re-send. */
  function nextOf(items: readonly Item[], now: number): Item | undefined {
    let flying = 0;
    for (const item of items) {
      if (item.flying) {
        if (++flying >= windowPerKey) return undefined;
        continue;
      }
      if (item.dueAt > now) {
        retryLater(item.dueAt);
        return undefined;
      }
      return item;
    }
    return undefined;
  }

  function pump(): void {
    if (pumping || stopped) return;
    pumping = true;
    try {
      read();
      const now = Date.now();
      let sent = true;
      while (sent && ready.size > 0) {
        sent = false;
        for (const key of ready) {
          const items = keys.get(key);
          const item = items && nextOf(items, now);
          if (!item) {
            ready.delete(key);
            continue;
          }
          if (probing && sender.inFlight > 0) return;
          const address = target(item.ticket.address);
          if (!sender.canSend(address, item.ticket.bytes)) return;
          let message;
          try {
            message = outbox.load(item.ticket.messageId);
          } catch (error) {
            // Its body cannot be read back (a segment lost or altered): it can never be sent, and must not hold up the rest.
            logger.warn('outbox.unreadable', { messageId: item.ticket.messageId, error: errorCodeOf(error) });
            done(item);
            outbox.fail(item.ticket.messageId, `its stored body cannot be read: ${(error as Error).message}`);
            options.onChange?.();
            continue;
          }
          if (!message) {
            done(item); // confirmed or discarded meanwhile
            continue;
          }
          item.flying = true;
          item.attempts += 1;
          sender.send(address, message, (outcome) => settled(item, outcome));
          sent = true;
        }
        read();
      }
    } finally {
      pumping = false;
    }
  }

  const offSendable = sender.onSendable(pump);
  const offDisconnected = connection.onDisconnected(() => {
    // Settled before the drop: recorded now, so that they are not sent again after a restart.
    flushConfirmed();
    if (sender.inFlight > 0) logger.info('outbox.requeued', { inFlight: sender.inFlight });
  });

  return {
    wake() {
      more = true;
      pump();
    },
    withdraw(messageId) {
      // Accepted by the broker, its confirmation not yet written: sent.
      if (confirmed.includes(messageId)) return false;
      for (const items of keys.values()) {
        const item = items.find((i) => i.ticket.messageId === messageId);
        if (!item) continue;
        if (item.flying) return false;
        done(item);
        return true;
      }
      return true;
    },
    get inFlight() {
      return sender.inFlight;
    },
    stop() {
      stopped = true;
      flushConfirmed();
      if (retryTimer) clearTimeout(retryTimer);
      offSendable();
      offDisconnected();
      sender.close();
    },
  };
}

/** What the outbox holds, as a user sees it: waiting to be sent, in flight (sent, not yet settled), given up on. */
export function outboxCounts(
  outbox: Outbox,
  sender: OutboxSender | undefined,
): { pending: number; inFlight: number; failed: number } {
  const { queued, failed } = outbox.counts();
  const inFlight = Math.min(queued, sender?.inFlight ?? 0);
  return { pending: queued - inFlight, inFlight, failed };
}
