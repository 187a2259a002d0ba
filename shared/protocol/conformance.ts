import type { ReasonCode } from './reason-codes.ts';

/**
 * The shape of docs/conformance/vectors.json: each vector is one AMQP message (message.json + body.p7m) and the
 * outcome a conforming receiver reaches when it opens it at `evaluateAt`, holding the `openedBy` encryption key, with
 * pki/ca.pem as trust anchor, pki/ca.crl.pem as CRL, and `signer`'s certificate as the one expected to have signed.
 */
export const CONFORMANCE_EVALUATE_AT = '2026-11-20T12:00:00.000Z';

export interface ConformanceVector {
  readonly name: string;
  readonly description: string;
  /** Directory under docs/conformance/. */
  readonly dir: string;
  /** `accepted`, or the reason code the message must be rejected with (what its receipt says). */
  readonly expected: 'accepted' | ReasonCode;
  /**
   * For a signed-encrypted message refused after its key was unwrapped (expected `decrypt-failed`, docs/protocol.md §3
   * step 2): the precise reason the reference receiver records for itself. Informative; never on the wire.
   */
  readonly recorded?: ReasonCode;
  /** Identity (pki/<name>.cert.pem) the receiver expects to have signed it. */
  readonly signer: string;
  /** Identity whose encryption key opens it (signed-encrypted types). */
  readonly openedBy?: string;
}

/** message.json: the AMQP fields as JSON (user_id as text, creation_time as ISO 8601, the body in a file). */
export interface VectorMessage {
  readonly message_id: string;
  readonly user_id: string;
  readonly correlation_id?: string;
  readonly creation_time: string;
  readonly content_type: string;
  readonly durable: boolean;
  readonly application_properties: Record<string, unknown>;
  readonly body: string;
}
