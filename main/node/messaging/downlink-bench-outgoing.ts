import type { Bundle } from '@medplum/fhirtypes';
import type { CmsSigner } from '../../../shared/cms/index.ts';
import {
  CONTENT_TYPES,
  sealMessage,
  type ApplicationProperties,
  type MessageMetadata,
} from '../../../shared/protocol/index.ts';
import { newMessageId, type SqliteDatabase, type StoredMessage } from '../../../transport/index.ts';

/**
 * Test support for downlink-bench.ts: what its workstation sends — sealed as the core seals, and recorded as the peer
 * will validate it — and the receipts it queued.
 */

/** One message the workstation sealed: metadata, payload bytes and the signing certificate. */
export interface SealedRecord {
  readonly metadata: MessageMetadata;
  readonly payload: Uint8Array;
  readonly signer: Uint8Array;
}

/** A seal for the consult service and downlink handler that also records each message in `sealed`. */
export function createRecordingSeal(options: {
  userId: string;
  signer: () => Promise<CmsSigner>;
  sealed: SealedRecord[];
}) {
  return async function seal(input: {
    properties: ApplicationProperties;
    payload: (messageId: string, timestamp: Date) => Bundle;
    recipients?: readonly Uint8Array[];
    correlationId?: string;
  }): Promise<StoredMessage> {
    const messageId = newMessageId();
    const creationTime = new Date();
    const payload = input.payload(messageId, creationTime);
    // As the core does: the identity picks the signing certificate (the one the directory lists).
    const signer = await options.signer();
    options.sealed.push({
      metadata: {
        messageId,
        creationTime,
        userId: options.userId,
        contentType: CONTENT_TYPES.authEnveloped,
        properties: input.properties,
        ...(input.correlationId && { correlationId: input.correlationId }),
      },
      payload: new TextEncoder().encode(JSON.stringify(payload)),
      signer: signer.certificate,
    });
    const fields = await sealMessage({
      messageId,
      creationTime,
      userId: options.userId,
      properties: input.properties,
      payload,
      signer,
      ...(input.recipients && { recipientCertificates: input.recipients }),
      ...(input.correlationId && { correlationId: input.correlationId }),
    });
    return {
      properties: {
        message_id: messageId,
        user_id: options.userId,
        creation_time: creationTime.getTime(),
        content_type: String(fields.content_type),
        application_properties: fields.application_properties,
        ...(input.correlationId && { correlation_id: input.correlationId }),
      },
      body: fields.body,
    };
  };
}

/** The receipts queued in the outbox, in order. */
export function queuedReceipts(db: SqliteDatabase): { correlationId: string; outcome: string; reason?: string }[] {
  return db
    .prepare<[], { properties: string }>('select properties from outbox order by seq')
    .all()
    .map((row) => JSON.parse(row.properties) as StoredMessage['properties'])
    .filter((p) => p.application_properties.rtsType === 'receipt')
    .map((p) => ({
      correlationId: p.correlation_id ?? '',
      outcome: String(p.application_properties.rtsReceipt),
      ...(p.application_properties.rtsReason !== undefined && {
        reason: String(p.application_properties.rtsReason),
      }),
    }));
}
