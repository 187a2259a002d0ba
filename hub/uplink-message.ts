import type { Message } from 'rhea';
import type { AmqpMessageFields } from '../shared/protocol/index.ts';
import { bodyBytes, toStoredMessage, type BrokerAdapter } from '../transport/index.ts';
import type { UplinkMessage } from './uplink-processor.ts';

/** A delivery from the uplink (or the broker's dead letters) as the processor reads it. */

export const amqpFields = (message: Message): AmqpMessageFields => ({
  ...(message as AmqpMessageFields),
  body: bodyBytes(message.body),
});

export function uplinkMessage(message: Message, adapter: BrokerAdapter): UplinkMessage {
  const routingKey: unknown = message.message_annotations?.['x-routing-key'];
  const verifiedSender = adapter.verifiedSender(message);
  return {
    fields: amqpFields(message),
    stored: toStoredMessage(message),
    ...(verifiedSender !== undefined && { verifiedSender }),
    ...(typeof routingKey === 'string' && { routingKey }),
  };
}
