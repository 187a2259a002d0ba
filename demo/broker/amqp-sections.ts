import rhea from 'rhea';
import { amqpTypes, type Typed } from './rhea-internals.ts';

/**
 * An AMQP 1.0 message as the broker keeps it: the header fields it regenerates on delivery, and everything from the
 * message annotations on (properties, application properties, body, footer) as the exact bytes the publisher sent.
 * RabbitMQ 3.10 forwards those sections byte for byte and writes a new header; so does the demo broker.
 */
export interface ParsedMessage {
  readonly durable: boolean;
  readonly priority?: number;
  readonly ttl?: number;
  /** RabbitMQ 3.10 drops the connection of a publisher that sends them (measured); the demo broker does the same. */
  readonly hasDeliveryAnnotations: boolean;
  /** properties.user_id as sent (binary). */
  readonly userId?: Buffer;
  /** properties.subject: the routing key of a message sent to `/exchange/NAME` without one. */
  readonly subject?: string;
  /** Message annotations, bare message and footer, exactly as received. */
  readonly tail: Buffer;
}

const HEADER = 0x70;
const DELIVERY_ANNOTATIONS = 0x71;
const MESSAGE_ANNOTATIONS = 0x72;
const PROPERTIES = 0x73;

const SYMBOLIC: Record<string, number> = {
  'amqp:header:list': 0x70,
  'amqp:delivery-annotations:map': 0x71,
  'amqp:message-annotations:map': 0x72,
  'amqp:properties:list': 0x73,
  'amqp:application-properties:map': 0x74,
  'amqp:data:binary': 0x75,
  'amqp:amqp-sequence:list': 0x76,
  'amqp:amqp-value:*': 0x77,
  'amqp:footer:map': 0x78,
};

export class MessageDecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MessageDecodeError';
  }
}

function sectionCode(section: Typed): number {
  const descriptor = section.descriptor?.value;
  if (typeof descriptor === 'number') return descriptor;
  if (typeof descriptor === 'string' && SYMBOLIC[descriptor] !== undefined) return SYMBOLIC[descriptor];
  // A ulong descriptor beyond 2^53 arrives as bytes; no section has one.
  throw new MessageDecodeError(`not a message section: descriptor ${String(descriptor)}`);
}

export function parseMessage(bytes: Buffer): ParsedMessage {
  const reader = new amqpTypes.Reader(bytes);
  let tailStart: number | undefined;
  let durable = false;
  let priority: number | undefined;
  let ttl: number | undefined;
  let hasDeliveryAnnotations = false;
  let userId: Buffer | undefined;
  let subject: string | undefined;
  try {
    while (reader.position < bytes.length) {
      const start = reader.position;
      const code = sectionCode(reader.read());
      const section = () => rhea.message.decode(bytes.subarray(start, reader.position)) as Record<string, unknown>;
      if (code === HEADER && tailStart === undefined) {
        const header = section();
        durable = header.durable === true;
        if (typeof header.priority === 'number') priority = header.priority;
        if (typeof header.ttl === 'number') ttl = header.ttl;
        continue;
      }
      if (code === DELIVERY_ANNOTATIONS && tailStart === undefined) {
        hasDeliveryAnnotations = true;
        continue;
      }
      tailStart ??= start;
      if (code === PROPERTIES) {
        const properties = section();
        if (Buffer.isBuffer(properties.user_id)) userId = properties.user_id;
        if (typeof properties.subject === 'string') subject = properties.subject;
      } else if (
        code === HEADER ||
        code === DELIVERY_ANNOTATIONS ||
        (code === MESSAGE_ANNOTATIONS && start !== tailStart)
      ) {
        throw new MessageDecodeError(`section 0x${code.toString(16)} out of order`);
      }
    }
  } catch (error) {
    if (error instanceof MessageDecodeError) throw error;
    throw new MessageDecodeError(`malformed message: ${(error as Error).message}`);
  }
  return {
    durable,
    hasDeliveryAnnotations,
    ...(priority !== undefined && { priority }),
    ...(ttl !== undefined && { ttl }),
    ...(userId && { userId }),
    ...(subject !== undefined && { subject }),
    tail: tailStart === undefined ? Buffer.alloc(0) : bytes.subarray(tailStart),
  };
}

/**
 * The header RabbitMQ 3.10 writes on delivery (measured): durable, priority and ttl as published, first-acquirer
 * false on a redelivery, and no delivery-count (it stays unset however often a message was redelivered).
 */
export function encodeHeader(fields: {
  durable: boolean;
  priority?: number;
  ttl?: number;
  firstAcquirer: boolean;
}): Buffer {
  const t = amqpTypes;
  const list = t.List8([
    t.wrap_boolean(fields.durable),
    fields.priority === undefined ? t.Null() : t.wrap_ubyte(fields.priority),
    fields.ttl === undefined ? t.Null() : t.wrap_uint(fields.ttl),
    t.wrap_boolean(fields.firstAcquirer),
    t.Null(),
  ]);
  const writer = new t.Writer();
  writer.write(t.described_nc(t.wrap_ulong(HEADER), list));
  return writer.toBuffer();
}
