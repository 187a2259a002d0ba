import type { Logger } from '../shared/index.ts';
import type { ReasonCode } from '../shared/protocol/index.ts';
import { toStoredMessage } from './amqp-message.ts';
import type { RetryableDelivery } from './broker-adapter.ts';
import type { Arrival, Entry } from './inbox-entries.ts';
import type { ParkedMessages } from './transport-store.ts';

// The inbox receiver's park (inbox-receiver.ts): a message this endpoint cannot judge yet for a reason of its own (its
// CRL missing or stale) waits whole in the store, within limits, rather than going back to the broker, whose delivery
// limit would dead-letter it unseen.

/** How much a receiver parks at most; beyond either limit a waiting message is released as a transient failure. */
export interface ParkLimits {
  readonly maxMessages: number;
  readonly maxBytes: number;
}

/** A workstation waits with at most 10,000 messages or 256 MiB of them for its region's current CRL. */
export const DEFAULT_PARK_LIMITS: ParkLimits = { maxMessages: 10_000, maxBytes: 256 * 1024 * 1024 };

/** Where a receiver parks, and whom it tells once the count of waiting messages changed. */
export interface ParkSink {
  /** Without a park, a waiting message is released. */
  readonly parked?: ParkedMessages;
  readonly limits: ParkLimits;
  readonly sourceName: string;
  readonly now: () => number;
  readonly logger: Logger;
  /** Gives a delivery back as a transient failure (the broker adapter's counted retry). */
  readonly retry: (delivery: RetryableDelivery) => void;
  readonly onParkChanged?: () => void;
}

/** What the messages of one batch will add to the park once committed (the store counts only what is committed). */
export interface Parking {
  messages: number;
  bytes: number;
}

/**
 * Kept whole in the park, accepted once that is committed; with no park or the park full, released as a transient
 * failure. No inbox record: it has not been handled, and a redelivery of it is judged (or parked) again.
 */
export function parkedEntry(
  sink: ParkSink,
  arrival: Arrival,
  messageId: string,
  reason: ReasonCode,
  parking: Parking,
): Entry | undefined {
  const { parked, limits } = sink;
  const stored = toStoredMessage(arrival.message);
  const held = parked?.counts(sink.sourceName);
  if (
    !parked ||
    !held ||
    held.messages + parking.messages + 1 > limits.maxMessages ||
    held.bytes + parking.bytes + stored.body.byteLength > limits.maxBytes
  ) {
    sink.logger.warn(parked ? 'inbox.park-full' : 'inbox.waiting-released', { source: sink.sourceName, messageId });
    sink.retry(arrival.delivery);
    return undefined;
  }
  parking.messages += 1;
  parking.bytes += stored.body.byteLength;
  return {
    messageId,
    delivery: arrival.delivery,
    commit: {
      effect: () =>
        parked.add({
          messageId,
          source: sink.sourceName,
          reason,
          message: stored,
          durable: arrival.message.durable === true,
          parkedAt: sink.now(),
        }),
    },
    afterCommit: () => sink.onParkChanged?.(),
  };
}

/** A parked message's writes take it out of the park in the same transaction. */
export function unparkedEntry(entry: Entry, parked: ParkedMessages | undefined, messageId: string): Entry {
  const effect = entry.commit?.effect;
  return {
    ...entry,
    commit: {
      ...entry.commit,
      effect: () => {
        effect?.();
        parked?.remove(messageId);
      },
    },
  };
}
