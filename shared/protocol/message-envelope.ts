import type { Bundle } from '@medplum/fhirtypes';
import { bytesEqual } from '../pki/bytes.ts';
import { isCmsError, open, seal, sign, verify, type CmsErrorCode, type CmsRecipientIdentity, type CmsSigner, type SignerInfoSummary, type TrustConfig } from '../cms/index.ts';
import type { ApplicationProperties } from './application-properties.ts';
import { validatePayload, type PayloadResult } from './fhir/payload-validator.ts';
import { CONTENT_TYPES, decodeMessage, encodeMessage, type AmqpMessageFields, type MessageMetadata } from './message-codec.ts';
import { MESSAGE_TYPE_SPECS } from './message-types.ts';
import { PROTOCOL_LIMITS } from './limits.ts';
import { REASON_CODES, type ReasonCode } from './reason-codes.ts';

/**
 * The two ends of a message: `sealMessage` turns a FHIR payload into the AMQP message of its type (signed, and
 * encrypted where the type carries patient data); `openMessage` runs every check of docs/protocol.md §2–4 on an
 * incoming one and returns either the verified payload or the reason code to reject it with.
 */
export interface SealInput {
  readonly messageId: string;
  readonly creationTime: Date;
  readonly correlationId?: string;
  /** The broker user sending this hop. */
  readonly userId: string;
  readonly properties: ApplicationProperties;
  readonly payload: Bundle;
  readonly signer: CmsSigner;
  /** Encryption certificates of every recipient and of the sender (signed-encrypted types only). */
  readonly recipientCertificates?: readonly Uint8Array[];
}

export async function sealMessage(input: SealInput): Promise<ReturnType<typeof encodeMessage>> {
  const content = new TextEncoder().encode(JSON.stringify(input.payload));
  const encrypted = MESSAGE_TYPE_SPECS[input.properties.rtsType].envelope === 'signed-encrypted';
  if (encrypted && !input.recipientCertificates?.length) throw new Error(`${input.properties.rtsType} needs recipient certificates`);
  const body = encrypted
    ? await seal(content, input.signer, [...input.recipientCertificates!], { signingTime: input.creationTime })
    : await sign(content, input.signer, { signingTime: input.creationTime });
  return encodeMessage({
    messageId: input.messageId,
    creationTime: input.creationTime,
    userId: input.userId,
    contentType: encrypted ? CONTENT_TYPES.authEnveloped : CONTENT_TYPES.signed,
    properties: input.properties,
    body,
    ...(input.correlationId !== undefined && { correlationId: input.correlationId }),
  });
}

export interface OpenContext {
  readonly trust: TrustConfig;
  /** The identity (encryption key) the message must be decrypted with, e.g. that of rtsToPractitioner. */
  readonly recipientFor: (metadata: MessageMetadata) => CmsRecipientIdentity | undefined;
  /**
   * Certificates one of which must have signed the message: the practitioner's signing certificates from the directory
   * for consult types, the clinic system's or the hub's otherwise. Undefined: the sender is not known here.
   */
  readonly expectedSigners: (metadata: MessageMetadata) => readonly Uint8Array[] | undefined;
  readonly now?: Date;
  /** Payload validation (defaults to `validatePayload`); a hub may run it elsewhere, e.g. ahead of time in a worker. */
  readonly validate?: (content: Uint8Array, metadata: MessageMetadata) => PayloadResult | Promise<PayloadResult>;
}

export interface OpenedMessage {
  readonly metadata: MessageMetadata;
  readonly payload: Record<string, unknown>;
  readonly signer: SignerInfoSummary;
}

export interface Rejection {
  readonly code: ReasonCode;
  readonly detail: string;
  /** Present when the properties could be read, so that a receipt can be addressed. */
  readonly metadata?: MessageMetadata;
}

export type OpenResult = { ok: true; value: OpenedMessage } | { ok: false; error: Rejection };

const CMS_REASONS: Readonly<Record<CmsErrorCode, ReasonCode>> = {
  'cms-malformed': REASON_CODES.cmsMalformed,
  'cms-too-large': REASON_CODES.tooLarge,
  'cms-unsupported-algorithm': REASON_CODES.cmsUnsupportedAlgorithm,
  'cms-not-a-recipient': REASON_CODES.notARecipient,
  'cms-decrypt-failed': REASON_CODES.decryptFailed,
  'cms-bad-signature': REASON_CODES.badSignature,
  'cms-untrusted-chain': REASON_CODES.untrustedChain,
  'cms-certificate-expired': REASON_CODES.certificateExpired,
  'cms-certificate-not-yet-valid': REASON_CODES.certificateNotYetValid,
  'cms-certificate-revoked': REASON_CODES.certificateRevoked,
  'cms-wrong-key-usage': REASON_CODES.wrongKeyUsage,
  'cms-signing-time-invalid': REASON_CODES.signingTimeInvalid,
};

/** The protocol's reason code for a CMS failure (docs/protocol.md §3, "Opening a message"). */
export function reasonForCmsError(code: CmsErrorCode): ReasonCode {
  return CMS_REASONS[code];
}

export async function openMessage(message: AmqpMessageFields, context: OpenContext): Promise<OpenResult> {
  const decoded = decodeMessage(message, context.now ? { now: context.now } : {});
  if (!decoded.ok) return decoded;
  const { metadata, body } = decoded.value;
  const reject = (code: ReasonCode, detail: string): OpenResult => ({ ok: false, error: { code, detail, metadata } });

  let opened: { content: Uint8Array; signer: SignerInfoSummary };
  try {
    const options = { maxBytes: PROTOCOL_LIMITS.maxBodyBytes, ...(context.now && { now: context.now }) };
    if (MESSAGE_TYPE_SPECS[metadata.properties.rtsType].envelope === 'signed-encrypted') {
      const identity = context.recipientFor(metadata);
      if (!identity) return reject(REASON_CODES.notAddressedToMe, `no identity here for ${metadata.properties.rtsType} to this recipient`);
      opened = await open(body, identity, context.trust, options);
    } else {
      opened = await verify(body, context.trust, options);
    }
  } catch (error) {
    if (isCmsError(error)) return reject(reasonForCmsError(error.code), error.message);
    throw error;
  }

  const expected = context.expectedSigners(metadata);
  if (!expected || !expected.some((certificate) => bytesEqual(certificate, opened.signer.certificate))) {
    return reject(REASON_CODES.signerMismatch, `signed by ${opened.signer.subject}, which is not a certificate of ${metadata.properties.rtsSender}'s claimed signer`);
  }

  const payload = await (context.validate ?? validatePayload)(opened.content, metadata);
  if (!payload.ok) return reject(payload.error.code, payload.error.detail);
  return { ok: true, value: { metadata, payload: payload.value, signer: opened.signer } };
}
