import type { Bundle } from '@medplum/fhirtypes';
import { bytesEqual } from '../pki/bytes.ts';
import {
  checkTrustRevocation,
  OPENING_FAILED_MESSAGE,
  isCmsError,
  open,
  readUnverifiedSignedContent,
  seal,
  sign,
  verify,
  withheldFailure,
  type CmsErrorCode,
  type CmsRecipients,
  type CmsSigner,
  type SignerInfoSummary,
  type TrustConfig,
} from '../cms/index.ts';
import type { ApplicationProperties } from './application-properties.ts';
import { readHubNotice } from './fhir/message-builders.ts';
import { validatePayload, type PayloadResult } from './fhir/payload-validator.ts';
import {
  CONTENT_TYPES,
  decodeMessage,
  encodeMessage,
  type AmqpMessageFields,
  type MessageMetadata,
} from './message-codec.ts';
import { MESSAGE_TYPE_SPECS } from './message-types.ts';
import { PROTOCOL_LIMITS } from './limits.ts';
import { REASON_CODES, failureClass, type ReasonCode } from './reason-codes.ts';
import { jsonBytes } from './json-bytes.ts';

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
  const content = jsonBytes(input.payload);
  const encrypted = MESSAGE_TYPE_SPECS[input.properties.rtsType].envelope === 'signed-encrypted';
  if (encrypted && !input.recipientCertificates?.length)
    throw new Error(`${input.properties.rtsType} needs recipient certificates`);
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
  /** The identity (encryption key, or the current and earlier ones of one holder) the message must be decrypted with, e.g. that of rtsToPractitioner. */
  readonly recipientFor: (metadata: MessageMetadata) => CmsRecipients | undefined;
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
  /** What the receipt may say. */
  readonly code: ReasonCode;
  readonly detail: string;
  /** Present when the properties could be read, so that a receipt can be addressed. */
  readonly metadata?: MessageMetadata;
  /**
   * A signed-encrypted message refused after its content key was unwrapped: `code` and `detail` are then the one answer
   * for every such failure (decrypt-failed, OPENING_FAILED_MESSAGE), and this is the precise reason, for the receiver's
   * own records only — never for a receipt (docs/protocol.md §3, step 2).
   */
  readonly withheld?: { readonly code: ReasonCode; readonly detail: string };
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
  // The receiver's own CRL is missing or stale: nothing is wrong with the message, which is retried (transient) while
  // the receiver's operator loads the region's current CRL; the detail says so.
  'cms-crl-missing': REASON_CODES.internalError,
  'cms-crl-expired': REASON_CODES.internalError,
};

/** The protocol's reason code for a CMS failure (docs/protocol.md §3, "Opening a message"). */
export function reasonForCmsError(code: CmsErrorCode): ReasonCode {
  return CMS_REASONS[code];
}

const MINUTE_MS = 60_000;
const DAY_MS = 24 * 60 * MINUTE_MS;

/**
 * The CMS signing time against the message's arrival and its `creation_time` (docs/protocol.md §2.3): at most the
 * de-duplication window old (a message written offline is delivered that late at most) and at most the clock skew from
 * `creation_time`. Certificates are judged at the signing time, so without these bounds a signer whose certificate has
 * expired could back-date a new signature into its validity. Returns what is wrong, or undefined.
 */
export function signingTimeProblem(signingTime: Date, creationTime: Date, arrival: Date): string | undefined {
  const { deduplicationWindowDays: windowDays, clockSkewMinutes: skewMinutes } = PROTOCOL_LIMITS;
  if (arrival.getTime() - signingTime.getTime() > windowDays * DAY_MS) {
    return `The signing time ${signingTime.toISOString()} is more than ${windowDays} days before the message arrived`;
  }
  if (Math.abs(signingTime.getTime() - creationTime.getTime()) > skewMinutes * MINUTE_MS) {
    return `The signing time ${signingTime.toISOString()} is more than ${skewMinutes} minutes from creation_time ${creationTime.toISOString()}`;
  }
  return undefined;
}

/**
 * The CRL a `crl-updated` hub notice carries, read from the signed content WITHOUT opening the message
 * (docs/protocol.md §5.3): a receiver whose own CRL is stale can open no message, this notice included, yet the CRL
 * inside is what cures it, and a CRL is verified on its own (against the receiver's anchors) before it is taken.
 * Nothing else of the notice may be used before `openMessage` has checked it. Undefined for any other message and for
 * anything unreadable; never throws.
 */
export function crlOfUnopenedNotice(message: AmqpMessageFields): Uint8Array | undefined {
  const properties = message.application_properties as Record<string, unknown> | null | undefined;
  if (
    properties?.rtsType !== 'hub.notice' ||
    properties.rtsNotice !== 'crl-updated' ||
    !(message.body instanceof Uint8Array)
  )
    return undefined;
  const content = readUnverifiedSignedContent(message.body, PROTOCOL_LIMITS.maxBodyBytes);
  if (!content || content.byteLength > PROTOCOL_LIMITS.maxPayloadBytes) return undefined;
  try {
    return readHubNotice(JSON.parse(new TextDecoder().decode(content)) as Bundle).crl;
  } catch {
    return undefined;
  }
}

export async function openMessage(message: AmqpMessageFields, context: OpenContext): Promise<OpenResult> {
  const decoded = decodeMessage(message, context.now ? { now: context.now } : {});
  if (!decoded.ok) return decoded;
  const { metadata, body } = decoded.value;
  const reject = (code: ReasonCode, detail: string): OpenResult => ({ ok: false, error: { code, detail, metadata } });
  const encrypted = MESSAGE_TYPE_SPECS[metadata.properties.rtsType].envelope === 'signed-encrypted';
  // Past the key unwrap of an encrypted message, every permanent failure gets the same answer: a receipt that told
  // them apart would let whoever forwards it (the hub) probe the ciphertext. Transient ones are not answered at all.
  const rejectOpened = (code: ReasonCode, detail: string): OpenResult =>
    encrypted && failureClass(code) === 'permanent'
      ? {
          ok: false,
          error: {
            code: REASON_CODES.decryptFailed,
            detail: `${OPENING_FAILED_MESSAGE}.`,
            metadata,
            withheld: { code, detail },
          },
        }
      : reject(code, detail);

  // This receiver's own CRLs, before anything of the message is read: a missing or stale one is its operator's to fix
  // (internal-error, transient: the message waits), and found only after decryption it would answer good and bad
  // ciphertexts differently. The CRL that cures a stale one comes in a notice the receiver takes out first
  // (crlOfUnopenedNotice).
  try {
    await checkTrustRevocation(context.trust, context.now ?? new Date());
  } catch (error) {
    if (!isCmsError(error)) throw error;
    return reject(reasonForCmsError(error.code), error.message);
  }

  let opened: { content: Uint8Array; signer: SignerInfoSummary };
  try {
    const options = {
      maxBytes: PROTOCOL_LIMITS.maxBodyBytes,
      ...(context.now && { now: context.now }),
      // Before the certificates are judged at the signing time (a back-dated one could otherwise pass as valid then).
      signingTimeProblem: (signingTime: Date) =>
        signingTimeProblem(signingTime, metadata.creationTime, context.now ?? new Date()),
    };
    if (encrypted) {
      const identity = context.recipientFor(metadata);
      if (!identity)
        return reject(
          REASON_CODES.notAddressedToMe,
          `no identity here for ${metadata.properties.rtsType} to this recipient`,
        );
      opened = await open(body, identity, context.trust, options);
    } else {
      opened = await verify(body, context.trust, options);
    }
  } catch (error) {
    if (!isCmsError(error)) throw error;
    const precise = withheldFailure(error);
    return precise === error
      ? reject(reasonForCmsError(error.code), error.message)
      : rejectOpened(reasonForCmsError(precise.code), precise.message);
  }

  const expected = context.expectedSigners(metadata);
  if (!expected || !expected.some((certificate) => bytesEqual(certificate, opened.signer.certificate))) {
    return rejectOpened(
      REASON_CODES.signerMismatch,
      `signed by ${opened.signer.subject}, which is not a certificate of ${metadata.properties.rtsSender}'s claimed signer`,
    );
  }

  const payload = await (context.validate ?? validatePayload)(opened.content, metadata);
  if (!payload.ok) return rejectOpened(payload.error.code, payload.error.detail);
  return { ok: true, value: { metadata, payload: payload.value, signer: opened.signer } };
}
