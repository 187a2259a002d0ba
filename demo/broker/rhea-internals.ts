import rhea, { type Connection, type Delivery, type Receiver, type Sender, type Session } from 'rhea';

/**
 * The parts of rhea a broker needs that its public typings do not describe (they type them `any`, or leave them out):
 * the AMQP type codec, the authenticated SASL user, the frame handlers of one connection, and a link's local attach.
 * Everything that reaches into rhea's internals is here, narrowly typed, so that an upgrade breaks in one place.
 */

export interface Typed {
  readonly type: { readonly typecode: number };
  readonly value: unknown;
  descriptor?: Typed;
}

interface RheaTypes {
  Reader: new (buffer: Buffer) => { position: number; read(): Typed; remaining(): number };
  Writer: new () => { write(value: Typed): void; toBuffer(): Buffer };
  unwrap(value: unknown): unknown;
  wrap_ulong(value: number): Typed;
  wrap_boolean(value: boolean): Typed;
  wrap_ubyte(value: number): Typed;
  wrap_uint(value: number): Typed;
  Null(): Typed;
  List8(items: Typed[]): Typed;
  described_nc(descriptor: Typed, value: Typed): Typed;
}

export const amqpTypes = rhea.types as unknown as RheaTypes;

/** A frame as rhea hands it to a connection's `on_<performative>` handler. */
export interface Frame {
  readonly channel: number;
  readonly performative: Record<string, unknown> & {
    message_format?: number;
    role?: boolean;
    source?: unknown;
    target?: unknown;
  };
}

export type FrameName = 'begin' | 'attach' | 'flow' | 'transfer' | 'disposition' | 'detach' | 'end';

interface ConnectionInternals {
  sasl_transport?: { username?: string };
  remote_channel_map: Record<number, Session | undefined>;
  socket?: { destroy(): void };
  on_begin(frame: Frame): void;
  on_attach(frame: Frame): void;
  on_flow(frame: Frame): void;
  on_transfer(frame: Frame): void;
  on_disposition(frame: Frame): void;
  on_detach(frame: Frame): void;
  on_end(frame: Frame): void;
}

const internals = (connection: Connection) => connection as unknown as ConnectionInternals;

/** The user SASL PLAIN authenticated on a server-side connection. */
export function authenticatedUser(connection: Connection): string | undefined {
  return internals(connection).sasl_transport?.username;
}

/** The session a frame arrived on (undefined before its begin). */
export function sessionOfFrame(connection: Connection, frame: Frame): Session | undefined {
  return internals(connection).remote_channel_map[frame.channel];
}

/**
 * Puts a filter in front of one of the connection's frame handlers: it sees the frame first and returns false to
 * drop it (e.g. frames of a session the broker has ended, which the peer may still send until it sees the end).
 */
export function interceptFrames(connection: Connection, name: FrameName, filter: (frame: Frame) => boolean): void {
  const c = internals(connection);
  const key = `on_${name}` as const;
  const original = c[key].bind(c);
  c[key] = (frame: Frame) => {
    if (filter(frame)) original(frame);
  };
}

/** A message format no client uses: rhea then hands the broker a transfer's bytes instead of decoding them. */
const RAW_MESSAGE_FORMAT = 0xfffffff0;

/**
 * Makes rhea deliver incoming messages of this connection as their encoded bytes (a Buffer in `context.message`), so
 * that the broker can store and forward the sections exactly as they came. rhea decodes format-0 transfers itself.
 */
export function receiveRawMessages(connection: Connection): void {
  interceptFrames(connection, 'transfer', (frame) => {
    if (frame.performative.message_format === 0) frame.performative.message_format = RAW_MESSAGE_FORMAT;
    return true;
  });
}

/** Ends the TCP connection at once, without a close frame (as RabbitMQ does when a connection process crashes). */
export function destroySocket(connection: Connection): void {
  internals(connection).socket?.destroy();
}

/** The address of a source or target as it arrived in an attach frame (described list, address first). */
export function terminusAddress(field: unknown): string | undefined {
  const terminus = field as { descriptor?: unknown; value?: unknown } | undefined;
  if (!terminus?.descriptor || !Array.isArray(terminus.value)) return undefined;
  const address = amqpTypes.unwrap(terminus.value[0]);
  return typeof address === 'string' ? address : undefined;
}

/** A consumer that asked for pre-settled deliveries (snd-settle-mode settled) gets them. */
export function mirrorSenderSettleMode(sender: Sender): boolean {
  const link = sender as unknown as {
    local: { attach: { snd_settle_mode?: number } };
    remote: { attach?: { snd_settle_mode?: number } };
  };
  const settled = link.remote.attach?.snd_settle_mode === 1;
  if (settled) link.local.attach.snd_settle_mode = 1;
  return settled;
}

/** The peer asked this sender to drain: use up its credit when nothing is left to send. */
export function isDraining(sender: Sender): boolean {
  return (sender as unknown as { _draining?: boolean })._draining === true;
}

/** The outcome state a disposition carried (rhea keeps it on the delivery). */
export function remoteOutcome(delivery: Delivery): {
  name?: string;
  deliveryFailed?: boolean;
  undeliverableHere?: boolean;
} {
  const state = (
    delivery as unknown as {
      remote_state?: {
        constructor?: { composite_type?: string };
        delivery_failed?: boolean;
        undeliverable_here?: boolean;
      };
    }
  ).remote_state;
  return {
    ...(state?.constructor?.composite_type && { name: state.constructor.composite_type }),
    ...(state?.delivery_failed !== undefined && { deliveryFailed: state.delivery_failed }),
    ...(state?.undeliverable_here !== undefined && { undeliverableHere: state.undeliverable_here }),
  };
}

/** rhea writes pending frames (e.g. a drained flow set outside its own event handlers) only when asked to. */
export function requestProcessing(connection: Connection): void {
  (connection as unknown as { _register(): void })._register();
}

/** A link's current credit (rhea keeps it on the link; its typings leave it out). */
export function linkCredit(link: Sender | Receiver): number {
  return (link as unknown as { credit: number }).credit;
}

/**
 * How many deliveries the peer allows this sender in all: rhea's delivery count (transfers written) plus its credit.
 * rhea writes a sent message (and only then takes the credit) on its next tick, so a broker that counts what it
 * handed over compares against this, not against `credit`.
 */
export function deliveryLimit(sender: Sender): number {
  const link = sender as unknown as { delivery_count: number; credit: number };
  return link.delivery_count + link.credit;
}
