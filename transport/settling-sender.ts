import type { Delivery, EventContext, Sender } from 'rhea';
import { errorCodeOf, NO_LOGGER, type Logger } from '../shared/index.ts';
import { toRheaMessage } from './amqp-message.ts';
import type { BrokerConnection } from './broker-connection.ts';
import type { StoredMessage } from './transport-store.ts';

/**
 * The one way anything of ours sends to the broker (the endpoints' outbox, the hub's outbox and its forwards): a link
 * per address, opened on first use and cached; every transfer unsettled until the broker settles it, and told once how
 * it ended, by class (the owner decides what to do about each):
 *   accepted   → the broker has it: done
 *   rejected   → permanent: the broker refused the message itself (or its link with a condition no retry heals)
 *   released   → transient: the broker released or modified it, or its link ended for a reason that may heal
 *   lost       → ambiguous: the connection dropped before the broker settled it; it may or may not have arrived, so
 *                it is sent again and receivers de-duplicate by message_id
 * After `close` nothing is told any more: a settlement that arrives later is dropped, and the owner sends the message
 * again at its next start (its store still holds it).
 */
export type SendOutcome =
  | { readonly kind: 'accepted' }
  | {
      readonly kind: 'rejected' | 'released' | 'lost';
      /** For the user: may quote the broker's description, which may quote the message; never for the log. */
      readonly reason: string;
      /** The AMQP error condition, when the broker gave one: safe to log. */
      readonly condition?: string;
    };

export interface SettlingSenderOptions {
  readonly connection: BrokerConnection;
  /** Transfers sent and not yet settled, at most. */
  readonly maxInFlight: number;
  /** Bytes sent and not yet settled, at most (a single larger message still goes when nothing else is in flight). */
  readonly maxInFlightBytes: number;
  readonly logger?: Logger;
  /** After a link ended with an error, when to try again (owners hear `onSendable`): default 1 s. */
  readonly relinkDelayMs?: number;
}

export interface SettlingSender {
  /** True when a message of `bytes` to `address` can be sent now: online, within both bounds, and the link has credit. */
  canSend(address: string, bytes: number): boolean;
  /** Sends now (call `canSend` first); `onSettled` is told once how it ended, unless the sender was closed first. */
  send(address: string, message: StoredMessage, onSettled: (outcome: SendOutcome) => void): void;
  /** Transfers sent and not yet settled. */
  readonly inFlight: number;
  /** The broker gave credit, or a settlement made room: a good moment to send more. */
  onSendable(listener: () => void): () => void;
  /** Closes the links; in-flight transfers are no longer told about. */
  close(): void;
}

/** Link errors that no retry can heal: the message itself is not allowed where it is going. */
export const PERMANENT_CONDITIONS: ReadonlySet<string> = new Set([
  'amqp:unauthorized-access',
  'amqp:not-allowed',
  'amqp:not-found',
  'amqp:invalid-field',
  'amqp:link:message-size-exceeded',
]);

interface InFlight {
  readonly bytes: number;
  readonly onSettled: (outcome: SendOutcome) => void;
}

const describe = (prefix: string, error: { condition?: string; description?: string } | undefined) =>
  `${prefix}${error?.condition ? `: ${error.condition}` : ''}${error?.description ? ` (${error.description})` : ''}`;

export function createSettlingSender(options: SettlingSenderOptions): SettlingSender {
  const { connection } = options;
  const logger = options.logger ?? NO_LOGGER;
  const links = new Map<string, Sender>();
  const inFlight = new Map<Delivery, InFlight>();
  const sendable = new Set<() => void>();
  let inFlightBytes = 0;
  let closed = false;
  let told = false;
  let relinkTimer: ReturnType<typeof setTimeout> | undefined;
  // Credit and settlements arrive in bursts: listeners hear once per tick.
  const tellSendable = () => {
    if (told || closed) return;
    told = true;
    setImmediate(() => {
      told = false;
      if (!closed) for (const listener of [...sendable]) listener();
    });
  };

  function linkFor(address: string): Sender | undefined {
    const amqp = connection.amqp;
    // Not while the connection is down, even if its state has not caught up yet: a link opened then never attaches
    // (seen in the broker-kill suite: the outbox stalled on such a link after the broker came back).
    if (!amqp || connection.state.status !== 'online' || !amqp.is_open()) return undefined;
    let link = links.get(address);
    if (!link || link.is_closed()) {
      link = amqp.open_sender({ target: { address }, autosettle: true });
      link.on('accepted', (context: EventContext) => settle(context.delivery, { kind: 'accepted' }));
      link.on('rejected', (context: EventContext) => {
        const error = (context.delivery?.remote_state as { error?: { condition?: string; description?: string } })
          ?.error;
        settle(context.delivery, {
          kind: 'rejected',
          reason: describe('rejected by the broker', error),
          ...(error?.condition && { condition: error.condition }),
        });
      });
      for (const event of ['released', 'modified'])
        link.on(event, (context: EventContext) =>
          settle(context.delivery, { kind: 'released', reason: `${event} by the broker` }),
        );
      link.on('sendable', tellSendable);
      link.on('sender_error', (context: EventContext) => abandonLink(address, context.sender?.error));
      watchSession(link.session);
      links.set(address, link);
    }
    return link;
  }

  /** A refused publish ends the whole session (RabbitMQ), so the deliveries of all its links will never be settled. */
  const watchedSessions = new WeakSet<object>();
  function watchSession(session: Sender['session']): void {
    if (watchedSessions.has(session)) return;
    watchedSessions.add(session);
    session.on('session_error', (context: EventContext) => {
      for (const [address, link] of [...links])
        if (link.session === session) abandonLink(address, context.session?.error);
    });
  }

  function settle(delivery: Delivery | undefined, outcome: SendOutcome): void {
    const entry = delivery && inFlight.get(delivery);
    if (!delivery || !entry || closed) return;
    inFlight.delete(delivery);
    inFlightBytes -= entry.bytes;
    entry.onSettled(outcome);
    tellSendable();
  }

  /**
   * The link (or its session) ended with an error: its in-flight transfers end by the error's class. A condition no
   * retry heals condemns the transfer only when it was the link's one transfer in flight; with several, the culprit is
   * not known, so all are `released` with the condition, and the owner sends them again one at a time to find it.
   */
  function abandonLink(address: string, error: unknown): void {
    const link = links.get(address);
    links.delete(address);
    const condition = (error as { condition?: string } | undefined)?.condition;
    const onLink = [...inFlight.keys()].filter((delivery) => delivery.link === link);
    const outcome: SendOutcome = {
      kind: PERMANENT_CONDITIONS.has(condition ?? '') && onLink.length === 1 ? 'rejected' : 'released',
      reason: describe('refused by the broker', error as { condition?: string; description?: string }),
      ...(condition && { condition }),
    };
    for (const delivery of onLink) settle(delivery, outcome);
    const ended = onLink.length;
    logger.warn('sender.link-lost', { address, error: condition ?? errorCodeOf(error), inFlight: ended });
    // Nothing else would wake the owners: the link that would have given credit is gone (e.g. refused while the broker
    // was still starting), and no transfer is left to settle.
    relinkTimer ??= setTimeout(() => {
      relinkTimer = undefined;
      tellSendable();
    }, options.relinkDelayMs ?? 1_000);
  }

  const offDisconnected = connection.onDisconnected(() => {
    // rhea drops unsettled deliveries silently: whatever was in flight may or may not have arrived. The links stay:
    // rhea attaches them again when the connection is back, and their credit wakes the owners.
    const lost = [...inFlight.values()];
    inFlight.clear();
    inFlightBytes = 0;
    for (const entry of lost) entry.onSettled({ kind: 'lost', reason: 'the connection dropped before it was settled' });
  });
  const offOpened = connection.onOpened(tellSendable);

  return {
    canSend(address, bytes) {
      if (closed || inFlight.size >= options.maxInFlight) return false;
      if (inFlight.size > 0 && inFlightBytes + bytes > options.maxInFlightBytes) return false;
      return linkFor(address)?.sendable() ?? false;
    },
    send(address, message, onSettled) {
      const link = linkFor(address);
      if (!link) throw new Error('the broker connection is not open');
      inFlight.set(link.send(toRheaMessage(message)), { bytes: message.body.byteLength, onSettled });
      inFlightBytes += message.body.byteLength;
    },
    get inFlight() {
      return inFlight.size;
    },
    onSendable(listener) {
      sendable.add(listener);
      return () => void sendable.delete(listener);
    },
    close() {
      closed = true;
      if (relinkTimer) clearTimeout(relinkTimer);
      offDisconnected();
      offOpened();
      for (const link of links.values()) link.close();
      links.clear();
      inFlight.clear();
      sendable.clear();
    },
  };
}
