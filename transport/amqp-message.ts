import rhea, { type Message } from 'rhea';
import type { StoredMessage } from './transport-store.ts';

/** Between rhea's message objects and the store's JSON-able form. The body always travels as one data section. */

const DATA_SECTION = 0x75;

interface RheaSection {
  typecode: number;
  content: unknown;
  multiple?: boolean;
}

/** The body as bytes when it is data section(s), as the protocol requires; anything else as it came. */
export function bodyBytes(body: unknown): unknown {
  const section = body as RheaSection | undefined;
  if (!section || typeof section !== 'object' || section.typecode !== DATA_SECTION) return body;
  const parts = (section.multiple ? section.content : [section.content]) as Uint8Array[];
  if (parts.length === 1) return new Uint8Array(parts[0]!.buffer, parts[0]!.byteOffset, parts[0]!.byteLength);
  return new Uint8Array(Buffer.concat(parts));
}

/**
 * Integer application properties go as AMQP `long`: rhea's default (`uint`, `int` for 0) is a type Qpid JMS cannot
 * read with getLongProperty, and JMS has no unsigned types (docs/protocol.md appendix A.2).
 */
export function toRheaMessage(message: StoredMessage): Message {
  const p = message.properties;
  // rhea types user_id as a string, but AMQP's user_id is binary and the broker compares bytes.
  return {
    message_id: p.message_id,
    user_id: Buffer.from(p.user_id, 'utf8'),
    creation_time: new Date(p.creation_time),
    content_type: p.content_type,
    durable: true,
    application_properties: Object.fromEntries(
      Object.entries(p.application_properties).map(([name, value]) => [
        name,
        Number.isInteger(value) ? rhea.types.wrap_long(value as number) : value,
      ]),
    ),
    ...(p.correlation_id !== undefined && { correlation_id: p.correlation_id }),
    body: rhea.message.data_section(
      Buffer.from(message.body.buffer, message.body.byteOffset, message.body.byteLength),
    ) as unknown,
  } as unknown as Message;
}

/**
 * A received message in storable form, as far as it can be read: used for dead letters, so that an operator can see
 * (and replay) exactly what arrived even when it was malformed.
 */
export function toStoredMessage(message: Message): StoredMessage {
  const body = bodyBytes(message.body);
  const userId = message.user_id as unknown;
  const properties = {
    message_id: typeof message.message_id === 'string' ? message.message_id : String(message.message_id ?? ''),
    user_id:
      userId instanceof Uint8Array ? Buffer.from(userId).toString('utf8') : typeof userId === 'string' ? userId : '',
    creation_time: message.creation_time instanceof Date ? message.creation_time.getTime() : 0,
    content_type: typeof message.content_type === 'string' ? message.content_type : '',
    application_properties: Object.fromEntries(
      Object.entries((message.application_properties ?? {}) as Record<string, unknown>).filter(
        (entry): entry is [string, string | number | boolean] =>
          ['string', 'number', 'boolean'].includes(typeof entry[1]),
      ),
    ),
    ...(typeof message.correlation_id === 'string' && { correlation_id: message.correlation_id }),
  };
  return { properties, body: body instanceof Uint8Array ? body : new Uint8Array(0) };
}
