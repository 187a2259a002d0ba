import { applicationPropertiesSchema, VERSION_PATTERN, type ApplicationProperties } from './application-properties.ts';
import { UUID_PATTERN } from './identifiers.ts';
import { PROTOCOL_LIMITS } from './limits.ts';
import { MESSAGE_TYPE_SPECS, isMessageType, type Envelope } from './message-types.ts';
import { isSupportedVersion } from './protocol-version.ts';
import { REASON_CODES, type ReasonCode } from './reason-codes.ts';

/** AMQP content types (RFC 8551 smime-type) of the three CMS bodies the protocol knows. */
export const CONTENT_TYPES = {
  signed: 'application/pkcs7-mime; smime-type=signed-data',
  authEnveloped: 'application/pkcs7-mime; smime-type=authEnveloped-data',
  enveloped: 'application/pkcs7-mime; smime-type=enveloped-data',
} as const;

const ACCEPTED_CONTENT_TYPES: Readonly<Record<Envelope, readonly string[]>> = {
  signed: [CONTENT_TYPES.signed],
  // AES-256-GCM only: unauthenticated AES-256-CBC EnvelopedData is refused since protocol 2.0 (docs/protocol.md §3).
  'signed-encrypted': [CONTENT_TYPES.authEnveloped],
};

/**
 * The fields of an AMQP 1.0 message the protocol uses, named as rhea (and Proton) name them. `user_id` is binary on
 * the wire; the broker checks it against the authenticated user.
 */
export interface AmqpMessageFields {
  message_id?: unknown;
  user_id?: unknown;
  correlation_id?: unknown;
  creation_time?: unknown;
  content_type?: unknown;
  durable?: unknown;
  application_properties?: unknown;
  body?: unknown;
}

export interface MessageMetadata {
  readonly messageId: string;
  readonly creationTime: Date;
  readonly correlationId?: string;
  /** The broker-verified sender of this hop (endpoint id on the uplink, the hub's user on a downlink). */
  readonly userId?: string;
  readonly contentType: string;
  readonly properties: ApplicationProperties;
}

export interface DecodedMessage {
  readonly metadata: MessageMetadata;
  readonly body: Uint8Array;
}

export interface ProtocolViolation {
  readonly code: ReasonCode;
  /** Plain words, naming the property at fault; never payload content. */
  readonly detail: string;
}

export type DecodeResult = { ok: true; value: DecodedMessage } | { ok: false; error: ProtocolViolation };

const violation = (code: ReasonCode, detail: string): DecodeResult => ({ ok: false, error: { code, detail } });

/** A short, quotable rendering of an offending property value (never of a body). */
function shown(value: unknown): string {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean'
    ? JSON.stringify(value).slice(0, 40)
    : `a ${typeof value}`;
}

function userIdText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (value instanceof Uint8Array) return new TextDecoder('utf-8', { fatal: false }).decode(value);
  return undefined;
}

function toDate(value: unknown): Date | undefined {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? undefined : value;
  if (typeof value === 'number' && Number.isFinite(value)) return new Date(value);
  return undefined;
}

export interface DecodeOptions {
  /** Judge `creation_time` against this instant (replay window and clock skew). */
  readonly now?: Date;
}

/**
 * Checks an incoming AMQP message against the protocol: properties present and well-formed, a known type of a
 * supported version, the content type its envelope requires, a body within the size limit, and a creation time inside
 * the replay window. The first failure is returned with its reason code; nothing is thrown.
 */
export function decodeMessage(message: AmqpMessageFields, options: DecodeOptions = {}): DecodeResult {
  const body = message.body;
  if (!(body instanceof Uint8Array))
    return violation(REASON_CODES.malformedProperties, 'body: must be one binary data section');
  if (body.byteLength > PROTOCOL_LIMITS.maxBodyBytes) {
    return violation(REASON_CODES.tooLarge, `body: ${body.byteLength} bytes, limit ${PROTOCOL_LIMITS.maxBodyBytes}`);
  }
  if (message.message_id === undefined) return violation(REASON_CODES.missingProperty, 'message_id: missing');
  if (typeof message.message_id !== 'string' || !UUID_PATTERN.test(message.message_id)) {
    return violation(REASON_CODES.malformedProperties, 'message_id: must be a lower-case UUID string');
  }
  if (message.creation_time === undefined) return violation(REASON_CODES.missingProperty, 'creation_time: missing');
  const creationTime = toDate(message.creation_time);
  if (!creationTime) return violation(REASON_CODES.malformedProperties, 'creation_time: must be an AMQP timestamp');
  if (message.durable !== true) return violation(REASON_CODES.malformedProperties, 'durable: messages must be durable');
  if (
    message.correlation_id !== undefined &&
    (typeof message.correlation_id !== 'string' || !UUID_PATTERN.test(message.correlation_id))
  ) {
    return violation(REASON_CODES.malformedProperties, 'correlation_id: must be a lower-case UUID string');
  }
  if (typeof message.content_type !== 'string') return violation(REASON_CODES.missingProperty, 'content_type: missing');

  const raw = message.application_properties;
  if (typeof raw !== 'object' || raw === null)
    return violation(REASON_CODES.missingProperty, 'application_properties: missing');
  const props = raw as Record<string, unknown>;
  if (props.rtsType === undefined) return violation(REASON_CODES.missingProperty, 'rtsType: missing');
  if (!isMessageType(props.rtsType))
    return violation(REASON_CODES.unknownType, `rtsType: ${shown(props.rtsType)} is not a message type`);
  if (props.rtsVersion === undefined) return violation(REASON_CODES.missingProperty, 'rtsVersion: missing');
  // Not a version at all is a malformed property; a well-formed version of another major is one we do not speak.
  if (typeof props.rtsVersion !== 'string' || !VERSION_PATTERN.test(props.rtsVersion)) {
    return violation(REASON_CODES.malformedProperties, `rtsVersion: ${shown(props.rtsVersion)} is not major.minor`);
  }
  if (!isSupportedVersion(props.rtsVersion))
    return violation(REASON_CODES.unsupportedVersion, `rtsVersion: ${shown(props.rtsVersion)} is not supported`);
  const parsed = applicationPropertiesSchema.safeParse(props);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const name = issue.path.join('.');
    const missing = props[String(issue.path[0])] === undefined;
    return violation(
      missing ? REASON_CODES.missingProperty : REASON_CODES.malformedProperties,
      `${name}: ${missing ? 'missing' : issue.message}`,
    );
  }
  const spec = MESSAGE_TYPE_SPECS[parsed.data.rtsType];
  if (spec.envelope === 'signed-encrypted' && message.content_type === CONTENT_TYPES.enveloped) {
    return violation(
      REASON_CODES.cmsUnsupportedAlgorithm,
      `content_type: AES-256-CBC EnvelopedData is not accepted; ${parsed.data.rtsType} requires ${CONTENT_TYPES.authEnveloped} (AES-256-GCM)`,
    );
  }
  if (!ACCEPTED_CONTENT_TYPES[spec.envelope].includes(message.content_type)) {
    return violation(
      REASON_CODES.malformedProperties,
      `content_type: ${parsed.data.rtsType} requires ${ACCEPTED_CONTENT_TYPES[spec.envelope].join(' or ')}`,
    );
  }

  const now = options.now ?? new Date();
  const ageMs = now.getTime() - creationTime.getTime();
  if (ageMs > PROTOCOL_LIMITS.deduplicationWindowDays * 86_400_000) {
    return violation(REASON_CODES.replay, `creation_time: older than ${PROTOCOL_LIMITS.deduplicationWindowDays} days`);
  }
  if (-ageMs > PROTOCOL_LIMITS.clockSkewMinutes * 60_000) {
    return violation(
      REASON_CODES.replay,
      `creation_time: more than ${PROTOCOL_LIMITS.clockSkewMinutes} minutes in the future`,
    );
  }

  const userId = userIdText(message.user_id);
  return {
    ok: true,
    value: {
      body,
      metadata: {
        messageId: message.message_id,
        creationTime,
        contentType: message.content_type,
        properties: parsed.data,
        ...(typeof message.correlation_id === 'string' && { correlationId: message.correlation_id }),
        ...(userId !== undefined && { userId }),
      },
    },
  };
}

export interface EncodeInput {
  readonly messageId: string;
  readonly creationTime: Date;
  readonly correlationId?: string;
  /** The broker user this hop is sent as. */
  readonly userId: string;
  readonly contentType: string;
  readonly properties: ApplicationProperties;
  readonly body: Uint8Array;
}

/** The AMQP fields of an outgoing message. Validates the properties so that we never send what we would reject. */
export function encodeMessage(
  input: EncodeInput,
): AmqpMessageFields & { application_properties: ApplicationProperties; body: Uint8Array } {
  const properties = applicationPropertiesSchema.parse(input.properties);
  const fields = {
    message_id: input.messageId,
    user_id: new TextEncoder().encode(input.userId),
    creation_time: input.creationTime,
    content_type: input.contentType,
    durable: true,
    application_properties: properties,
    body: input.body,
    ...(input.correlationId !== undefined && { correlation_id: input.correlationId }),
  };
  const check = decodeMessage(fields, { now: input.creationTime });
  if (!check.ok) throw new Error(`refusing to encode an invalid message: ${check.error.code}: ${check.error.detail}`);
  return fields;
}
