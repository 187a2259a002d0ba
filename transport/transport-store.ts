import type { ReasonCode } from '../shared/protocol/index.ts';

/**
 * What the transport keeps durably: the outbox (a message is stored before it is sent, and done only when the broker
 * accepts it), the inbox (ids of processed messages, so redeliveries are absorbed), and dead letters (messages that
 * can never succeed, with the reason, for an operator to replay or discard). One interface; SQLite implements it for
 * the workstation, and the hub may bring its own.
 */

/** An AMQP message as stored: properties as JSON-able values, the body apart. */
export interface StoredMessage {
  readonly properties: {
    readonly message_id: string;
    readonly user_id: string;
    readonly correlation_id?: string;
    /** Milliseconds since the epoch. */
    readonly creation_time: number;
    readonly content_type: string;
    readonly application_properties: Readonly<Record<string, string | number | boolean>>;
  };
  readonly body: Uint8Array;
}

export type OutboxState = 'pending' | 'failed';

export interface OutboxEntry {
  readonly seq: number;
  readonly messageId: string;
  /** Messages with the same key are sent in the order they were queued (e.g. one case). */
  readonly orderKey: string;
  readonly address: string;
  readonly message: StoredMessage;
  readonly state: OutboxState;
  readonly failureReason?: string;
  readonly createdAt: number;
}

export interface OutboxInput {
  readonly messageId: string;
  readonly orderKey: string;
  readonly address: string;
  readonly message: StoredMessage;
  /**
   * The store's owner keeps this body durable for as long as the message may be sent, and gives it back by message id
   * (HeldBodies): the outbox writes no copy of it. Durable before the caller's transaction commits.
   */
  readonly bodyHeld?: boolean;
}

/** Bodies the outbox does not keep itself (OutboxInput.bodyHeld), read back from their owner to send them. */
export interface HeldBodies {
  /** The body of a message queued with bodyHeld; undefined if its owner has none (an error the sender reports). */
  read(messageId: string): Uint8Array | undefined;
}

export interface OutboxTicket {
  readonly seq: number;
  readonly messageId: string;
  readonly orderKey: string;
  readonly address: string;
  /** Size of the body. */
  readonly bytes: number;
}

export interface OutboxCounts {
  /** Queued and not yet accepted by the broker (some of them may be in flight: the sender knows which). */
  readonly queued: number;
  readonly failed: number;
}

/**
 * The durable half of the outbox: what is queued and what was given up on. Nothing about sending is written here: what
 * is in flight lives in the sender's memory, and after a restart everything queued is sent again (receivers
 * de-duplicate by message_id).
 */
export interface Outbox {
  /** Stores a message to send. Queuing the same message id twice keeps the first. */
  enqueue(entry: OutboxInput): void;
  /** A burst in one transaction (one disk flush), e.g. a directory publish in batches. */
  enqueueMany(entries: readonly OutboxInput[]): void;
  /** Up to `limit` messages queued after `afterSeq` and not given up on, oldest first, without their bodies. */
  queuedAfter(afterSeq: number, limit: number): OutboxTicket[];
  /** The message itself, read just before it is sent (bodies can be megabytes). */
  load(messageId: string): StoredMessage | undefined;
  /** The broker accepted them: done, in one transaction (one disk flush for a burst of settlements). */
  confirmMany(messageIds: readonly string[]): void;
  /** Will not be sent again; kept with its reason until the user discards or re-queues it. */
  fail(messageId: string, reason: string): void;
  /**
   * Takes back a message still queued, before it is sent (the user withdrew it): false when it is no longer queued
   * (accepted or given up). The sender must have let go of it first (OutboxSender.withdraw).
   */
  withdraw(messageId: string): boolean;
  counts(): OutboxCounts;
  failed(): OutboxEntry[];
}

export interface InboxRecord {
  readonly messageId: string;
  readonly outcome: 'processed' | 'rejected';
  readonly reason?: ReasonCode;
  readonly processedAt: number;
}

export interface Inbox {
  find(messageId: string): InboxRecord | undefined;
  /** The records of those of `messageIds` processed already, by id: one query for a batch instead of one per message. */
  findMany(messageIds: readonly string[]): ReadonlyMap<string, InboxRecord>;
  /**
   * Records the outcome of a message and runs `effect` (the handler's own writes) in the same transaction: either both
   * are durable or neither is.
   */
  commit(record: InboxRecord, effect?: () => void): void;
  /** Several records and their effects in one transaction: all of them are durable, or none. */
  commitMany(entries: readonly { record?: InboxRecord; effect?: () => void }[]): void;
  /** Forgets ids processed before `before` (the de-duplication window has passed). */
  prune(before: number): number;
}

export type DeadLetterState = 'held' | 'replayed' | 'discarded';

export interface DeadLetter {
  readonly id: number;
  readonly messageId: string;
  /** Where it was consumed from (logical name, e.g. "downlink" or "uplink"). */
  readonly source: string;
  readonly reason: ReasonCode;
  readonly detail: string;
  readonly message: StoredMessage;
  readonly receivedAt: number;
  readonly state: DeadLetterState;
  /** The body's size as it arrived. */
  readonly bodyBytes: number;
  /** False once the body was dropped (refused at the link, or pruned, see DeadLetterBodyLimits): `message.body` is empty. */
  readonly bodyKept: boolean;
}

/**
 * How many refused bodies a store keeps: the newest ones within all three limits; older ones lose their body and keep
 * their record and reason. Bad input must not fill a workstation's disk.
 */
export interface DeadLetterBodyLimits {
  readonly maxCount: number;
  readonly maxBytes: number;
  readonly maxAgeMs: number;
}

export interface DeadLetters {
  /** `droppedBodyBytes`: the body is not kept at all (the message's body is empty), and this was its size. */
  add(
    letter: Omit<DeadLetter, 'id' | 'state' | 'bodyBytes' | 'bodyKept'> & { readonly droppedBodyBytes?: number },
  ): number;
  list(options?: { state?: DeadLetterState; limit?: number }): DeadLetter[];
  get(id: number): DeadLetter | undefined;
  setState(id: number, state: Exclude<DeadLetterState, 'held'>): void;
}

/**
 * A message received but not judged yet: it failed for a reason of this endpoint's own (its CRL missing or stale), not
 * of the message. Kept whole, accepted at the broker, and handled again when the endpoint's trust changes.
 */
export interface ParkedMessage {
  readonly seq: number;
  readonly messageId: string;
  /** Where it was consumed from (logical name, e.g. "downlink"). */
  readonly source: string;
  readonly reason: ReasonCode;
  readonly message: StoredMessage;
  /** The AMQP header's durable flag as it arrived (a StoredMessage does not carry it; the protocol requires it). */
  readonly durable: boolean;
  readonly parkedAt: number;
}

export interface ParkedMessages {
  /** Keeps a message to handle again later. Parking the same message id twice keeps the first. */
  add(entry: Omit<ParkedMessage, 'seq'>): void;
  /** The parked messages of `source` after `afterSeq`, in the order they were parked. */
  list(source: string, options?: { afterSeq?: number; limit?: number }): ParkedMessage[];
  /** Handled (or found to be a duplicate): no longer parked. */
  remove(messageId: string): void;
  /** How many are parked, and their bodies' total size. */
  counts(source: string): {
    readonly messages: number;
    readonly bytes: number;
    readonly reasons: readonly ReasonCode[];
  };
}

export interface TransportStore {
  readonly outbox: Outbox;
  readonly inbox: Inbox;
  readonly deadLetters: DeadLetters;
  readonly parked: ParkedMessages;
  close(): void;
}
