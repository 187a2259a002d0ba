/**
 * Why a message was rejected or dead-lettered. Carried in receipts (OperationOutcome issue details, code system
 * `REASON_CODE_SYSTEM`) and in the hub's dead-letter records. `permanent` reasons can never succeed on retry, so the
 * message is dead-lettered at once; `transient` ones are retried up to the queue's delivery limit.
 */
export const REASON_CODE_SYSTEM = 'urn:rts:reason-code';

export const REASON_CODES = {
  // The AMQP message itself
  malformedProperties: 'malformed-properties',
  missingProperty: 'missing-property',
  unknownType: 'unknown-type',
  unsupportedVersion: 'unsupported-version',
  tooLarge: 'too-large',
  forgedSender: 'forged-sender',
  duplicate: 'duplicate',
  replay: 'replay',
  // The CMS envelope
  cmsMalformed: 'cms-malformed',
  cmsUnsupportedAlgorithm: 'cms-unsupported-algorithm',
  notARecipient: 'not-a-recipient',
  decryptFailed: 'decrypt-failed',
  badSignature: 'bad-signature',
  untrustedChain: 'untrusted-chain',
  certificateExpired: 'certificate-expired',
  certificateNotYetValid: 'certificate-not-yet-valid',
  certificateRevoked: 'certificate-revoked',
  wrongKeyUsage: 'wrong-key-usage',
  signingTimeInvalid: 'signing-time-invalid',
  signerMismatch: 'signer-mismatch',
  // The FHIR payload
  invalidJson: 'invalid-json',
  schemaInvalid: 'schema-invalid',
  fhirInvalid: 'fhir-invalid',
  headerMismatch: 'header-mismatch',
  // Routing and the case lifecycle
  notAuthorized: 'not-authorized',
  unknownRecipient: 'unknown-recipient',
  retiredExpert: 'retired-expert',
  notAddressedToMe: 'not-addressed-to-me',
  outOfOrder: 'out-of-order',
  deliveryLimit: 'delivery-limit',
  internalError: 'internal-error',
} as const;

export type ReasonCode = (typeof REASON_CODES)[keyof typeof REASON_CODES];

export type FailureClass = 'permanent' | 'transient';

const TRANSIENT: ReadonlySet<ReasonCode> = new Set<ReasonCode>([REASON_CODES.internalError]);

export function failureClass(code: ReasonCode): FailureClass {
  return TRANSIENT.has(code) ? 'transient' : 'permanent';
}

/** One line per code, for operator output; docs/protocol.md §6.2 shows the same words (a test keeps them equal). */
export const REASON_DESCRIPTIONS: Readonly<Record<ReasonCode, string>> = {
  'malformed-properties':
    'An AMQP property has the wrong type or form (e.g. message_id not a UUID, body not binary, not durable).',
  'missing-property': 'A required AMQP or application property is absent.',
  'unknown-type': 'rtsType names no message type of this protocol version.',
  'unsupported-version': 'rtsVersion has a major version the receiver does not implement.',
  'too-large': 'The body or the decrypted payload exceeds the limits (§2.3).',
  'forged-sender':
    'rtsSender or user_id differs from the sender the broker vouches for (RabbitMQ: the user_id it checks; Artemis: the uplink address, as it does not check user_id), or rtsSender from the uplink routing key.',
  duplicate: 'A message with this message_id was already processed; the original outcome stands.',
  replay: 'creation_time is older than the de-duplication window, or too far in the future.',
  'cms-malformed': 'The body is not a well-formed CMS message of the expected kind (garbage or truncated).',
  'cms-unsupported-algorithm':
    'The envelope uses an algorithm outside the profile (AES-CBC EnvelopedData, SHA-1, PKCS#1 v1.5 key transport, …).',
  'not-a-recipient': 'The envelope is not encrypted to this endpoint.',
  'decrypt-failed':
    'An encrypted message could not be opened after its key was unwrapped (decryption, the signed message inside, its signer or its payload failed); receivers do not say which (§3).',
  'bad-signature': 'The signature does not verify over the content.',
  'untrusted-chain': "The signer's certificate does not chain to the regional trust anchor.",
  'certificate-expired': "The signer's certificate had expired at signing time.",
  'certificate-not-yet-valid': "The signer's certificate was not yet valid at signing time.",
  'certificate-revoked': "The signer's certificate (or one above it) is on the region's CRL.",
  'wrong-key-usage': 'A certificate is used for something its key usage does not allow.',
  'signing-time-invalid':
    'The signing time is missing, too far in the future, more than 5 minutes from creation_time, or more than 30 days before arrival.',
  'signer-mismatch': 'The signer is not the practitioner or system the message claims as its sender.',
  'invalid-json': 'The payload is not valid UTF-8 JSON.',
  'schema-invalid': 'The payload breaks the RTS profile of its message type.',
  'fhir-invalid': 'The payload breaks FHIR R4 (structure, cardinality, data types).',
  'header-mismatch': "The payload's MessageHeader disagrees with the AMQP properties (§4).",
  'not-authorized': 'The sender may not send this message (e.g. publishing experts of another clinic).',
  'unknown-recipient': 'The addressed practitioner or endpoint is not in the directory.',
  'retired-expert': 'The addressed practitioner has been retired from the directory.',
  'not-addressed-to-me': 'The message reached an endpoint it is not addressed to.',
  'out-of-order': 'The status does not follow from the case state, or its sequence number is stale.',
  'delivery-limit': 'Processing failed more often than the retry limit.',
  'internal-error':
    'The receiver failed for a reason of its own (e.g. its CRL is missing or out of date); the message will be retried.',
};
