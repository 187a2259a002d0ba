import type { EventContext, Message } from 'rhea';
import { PROTOCOL_LIMITS, REASON_CODES, type ReasonCode } from '../shared/protocol/index.ts';
import { bodyBytes, toStoredMessage } from './amqp-message.ts';
import type { DeadLetters, InboxRecord, ParkedMessage } from './transport-store.ts';

/** The inbox receiver's units (inbox-receiver.ts): a message as it arrives, and what becomes of it for the commit. */

/** How a message is settled: a broker delivery, or nothing for a parked one (its removal is part of its commit). */
export type Delivery = Pick<NonNullable<EventContext['delivery']>, 'accept' | 'release'>;

/** A parked message is neither accepted nor released again: the broker has long forgotten it. */
export const FROM_PARK: Delivery = { accept: () => undefined, release: () => undefined };

/** A parked message as rhea would have decoded it (plain numbers, binary user_id, the body as bytes). */
export function fromParked({ message, durable }: ParkedMessage): Message {
  const p = message.properties;
  return {
    message_id: p.message_id,
    user_id: Buffer.from(p.user_id, 'utf8'),
    creation_time: new Date(p.creation_time),
    content_type: p.content_type,
    durable,
    application_properties: { ...p.application_properties },
    ...(p.correlation_id !== undefined && { correlation_id: p.correlation_id }),
    body: message.body,
  } as unknown as Message;
}

/** One message to handle: from the link, or from the park. */
export interface Arrival {
  readonly message: Message;
  readonly delivery: Delivery;
  readonly parked?: ParkedMessage;
}

/** One message of a batch: how it is settled, and what it writes first (nothing for a duplicate). */
export interface Entry {
  /** For the log; '' for a message without one. */
  readonly messageId: string;
  readonly delivery: Delivery;
  readonly commit?: { readonly record?: InboxRecord; readonly effect?: () => void };
  /** After its commit succeeded: notifications (a dead letter for the operator, a change for the UI). */
  readonly afterCommit?: () => void;
}

/**
 * What a receiver link announces as its max_message_size: the protocol's body limit and room for the properties.
 * RabbitMQ 3.10 ignores it (measured: a 5,000-byte message reached a receiver that announced 1,024), so the receiver
 * checks each transfer itself and refuses a larger one as too-large: recorded with the reason, its body not kept,
 * accepted so that it never blocks the queue. A smaller but still oversized body is the protocol's `too-large` too.
 */
export const LINK_MAX_MESSAGE_BYTES = PROTOCOL_LIMITS.maxBodyBytes + 1024 * 1024;

export function transferBytes(message: Message): number {
  const body = bodyBytes(message.body);
  if (body instanceof Uint8Array) return body.byteLength;
  return typeof body === 'string' ? Buffer.byteLength(body) : 0;
}

/** Where a receiver's dead letters go, and whom it tells once they are committed. */
export interface DeadLetterSink {
  readonly deadLetters: DeadLetters;
  readonly sourceName: string;
  readonly now: () => number;
  readonly onDeadLetter?: (id: number, reason: ReasonCode) => void;
}

/** Without an id nothing can be de-duplicated or answered: kept for the operator, accepted. */
export function missingIdEntry(sink: DeadLetterSink, delivery: Delivery, message: Message): Entry {
  let id = 0;
  return {
    messageId: '',
    delivery,
    commit: {
      effect: () => {
        id = sink.deadLetters.add({
          messageId: '',
          source: sink.sourceName,
          reason: REASON_CODES.missingProperty,
          detail: 'message_id: missing or not a string',
          message: toStoredMessage(message),
          receivedAt: sink.now(),
        });
      },
    },
    afterCommit: () => sink.onDeadLetter?.(id, REASON_CODES.missingProperty),
  };
}

/** Larger than the link allows: the record and the reason are kept, the body is not (it is never handled). */
export function refusedAtLinkEntry(
  sink: DeadLetterSink,
  delivery: Delivery,
  message: Message,
  messageId: string | undefined,
  bytes: number,
  maxMessageBytes: number,
): Entry {
  const reason = REASON_CODES.tooLarge;
  const detail = `transfer of ${bytes} bytes exceeds this link's max_message_size of ${maxMessageBytes}`;
  let id = 0;
  return {
    messageId: messageId ?? '',
    delivery,
    commit: {
      ...(messageId && { record: { messageId, outcome: 'rejected', reason, processedAt: sink.now() } }),
      effect: () => {
        id = sink.deadLetters.add({
          messageId: messageId ?? '',
          source: sink.sourceName,
          reason,
          detail,
          message: { ...toStoredMessage(message), body: new Uint8Array(0) },
          droppedBodyBytes: bytes,
          receivedAt: sink.now(),
        });
      },
    },
    afterCommit: () => sink.onDeadLetter?.(id, reason),
  };
}
