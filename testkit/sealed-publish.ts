import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { CmsSigner, TrustConfig } from '../shared/cms/index.ts';
import { PEM_LABELS, pemToDerAll } from '../shared/pki/index.ts';
import { buildDirectoryPublish, type DirectoryChange } from '../shared/protocol/fhir/index.ts';
import { PROTOCOL_VERSION, sealMessage, type AmqpMessageFields } from '../shared/protocol/index.ts';
import type { TestRegion } from './test-region.ts';

/** The region's trust as an endpoint holds it: its CA as the one anchor, and the CRL the region was made with. */
export function regionTrust(region: TestRegion): TrustConfig {
  return {
    anchors: [region.ca.certificate],
    crls: pemToDerAll(readFileSync(region.files.crl, 'utf8'), PEM_LABELS.crl),
  };
}

/** A one-batch delta `directory.publish` of `sender`, sealed by `signer`, as the broker would hand it over. */
export function sealedDeltaPublish(input: {
  readonly sender: string;
  readonly signer: CmsSigner;
  readonly changes: readonly DirectoryChange[];
  readonly messageId?: string;
  /** Two publishes with the same metadata (id, time, batch) that differ only in their content. */
  readonly creationTime?: Date;
  readonly batchId?: string;
}): Promise<AmqpMessageFields & { body: Uint8Array }> {
  const messageId = input.messageId ?? randomUUID();
  const creationTime = input.creationTime ?? new Date();
  return sealMessage({
    messageId,
    creationTime,
    userId: input.sender,
    signer: input.signer,
    properties: {
      rtsType: 'directory.publish',
      rtsVersion: PROTOCOL_VERSION,
      rtsSender: input.sender,
      rtsDirectoryMode: 'delta',
      rtsBatchId: input.batchId ?? randomUUID(),
      rtsBatchIndex: 1,
      rtsBatchCount: 1,
    },
    payload: buildDirectoryPublish(
      { messageId, timestamp: creationTime, sender: input.sender },
      { delta: input.changes },
    ),
  });
}
