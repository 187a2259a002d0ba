import type { Message } from 'rhea';
import type { AmqpMessageFields } from '../shared/protocol/index.ts';
import { bodyBytes, toStoredMessage } from '../transport/index.ts';
import type { UplinkMessage } from './uplink-processor.ts';

/** A delivery from the uplink (or the broker's dead letters) as the processor reads it. */

export const amqpFields = (message: Message): AmqpMessageFields => ({
  ...(message as AmqpMessageFields),
  body: bodyBytes(message.body),
});

export function uplinkMessage(message: Message): UplinkMessage {
  const routingKey: unknown = message.message_annotations?.['x-routing-key'];
  return {
    fields: amqpFields(message),
    stored: toStoredMessage(message),
    ...(typeof routingKey === 'string' && { routingKey }),
  };
}
