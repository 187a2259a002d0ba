import type { Bundle } from '@medplum/fhirtypes';
import type { CmsSigner } from '../../../shared/cms/index.ts';
import { sealMessage, type ApplicationProperties } from '../../../shared/protocol/index.ts';
import { newMessageId, type StoredMessage } from '../../../transport/index.ts';

/** What a part asks to send: the properties, the payload made with the message's id and time, who it is encrypted to. */
export interface SealInput {
  readonly properties: ApplicationProperties;
  readonly payload: (messageId: string, timestamp: Date) => Bundle;
  readonly recipients?: readonly Uint8Array[];
  readonly correlationId?: string;
}

/** Seals one message of `endpointId` with `signer`, as the outbox stores it: a new message id, now as its creation time. */
export async function sealForOutbox(endpointId: string, signer: CmsSigner, input: SealInput): Promise<StoredMessage> {
  const messageId = newMessageId();
  const creationTime = new Date();
  const fields = await sealMessage({
    messageId,
    creationTime,
    userId: endpointId,
    properties: input.properties,
    payload: input.payload(messageId, creationTime),
    signer,
    ...(input.recipients && { recipientCertificates: input.recipients }),
    ...(input.correlationId && { correlationId: input.correlationId }),
  });
  return {
    properties: {
      message_id: messageId,
      user_id: endpointId,
      creation_time: creationTime.getTime(),
      content_type: String(fields.content_type),
      application_properties: fields.application_properties,
      ...(input.correlationId && { correlation_id: input.correlationId }),
    },
    body: fields.body,
  };
}
