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
  /**
   * What `openssl cms` prints when it refuses the body with the reference commands (docs/protocol.md appendix A.3).
   * Absent: OpenSSL accepts the body, because what is wrong lies where it does not look (AMQP properties, signing-time
   * bounds, who was expected to sign, the payload) or is a profile rule it does not enforce (AES-CBC).
   */
  readonly openssl?: string;
  /**
   * Directory messages whose entries break the binding rule (docs/protocol.md §3, §5.1): the certificates that chain to
   * the CA and carry their usage but do not name the entry's directory id. The message itself opens. The hub refuses a
   * `directory.publish` carrying such an entry whole (`expected`: `not-authorized`, a `rejected` receipt); an endpoint
   * takes a `directory.update` or `directory.snapshot` (`accepted`) and leaves the practitioner out of its directory,
   * listed as refused.
   */
  readonly unboundEntries?: readonly UnboundEntry[];
}

/** A practitioner's certificate in a directory entry that names someone else (its subject CN) than the entry's id. */
export interface UnboundEntry {
  readonly practitionerId: string;
  readonly use: 'signing' | 'encryption';
  /** The certificate's subject common name. */
  readonly issuedTo: string;
}

/**
 * Identities of the conformance PKI issued, on purpose, against the naming rule of docs/protocol.md §3 (as
 * `rts pki request --subject-cn "Dr. …"` once did): identity name → the subject CN its certificate carries. Every other
 * certificate there names its holder's endpoint or directory id.
 */
export const CONFORMANCE_MISNAMED_IDENTITIES: Readonly<Record<string, string>> = {
  'person-named.signing': 'Dr. Adaeze Okafor',
  'person-named.encryption': 'Dr. Adaeze Okafor',
};

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

/**
 * The OpenSSL reference commands (docs/protocol.md appendix A.3), run verbatim by the conformance test in a directory
 * holding a vector's body.p7m, the opening identity as recipient.cert.pem / recipient.key.pem, ca.pem and ca.crl.pem.
 * SIGNING_TIME stands for the signed attribute signingTime in seconds since 1970 (shown by `printSigned`).
 */
export const OPENSSL_REFERENCE = {
  /** The region's CA and its CRL in one file: `-crl_check` looks for the CRL among the trusted certificates. */
  bundle: 'cat ca.pem ca.crl.pem > ca-and-crl.pem',
  /** The envelope's structure: each RecipientInfo's rid (issuer and decimal serial number), algorithms; no content. */
  printEnvelope: 'openssl cms -cmsout -print -inform DER -in body.p7m',
  /** The issuer and (hexadecimal) serial number of the receiver's own encryption certificate, to match against a rid. */
  ownRid: 'openssl x509 -in recipient.cert.pem -noout -issuer -serial',
  /** Signed-encrypted types: the SignedData inside (for signed types, body.p7m is the SignedData: copy it to signed.der). */
  decrypt:
    'openssl cms -decrypt -binary -inform DER -in body.p7m -recip recipient.cert.pem -inkey recipient.key.pem -out signed.der',
  /** The signed attributes, among them signingTime. */
  printSigned: 'openssl cms -cmsout -print -inform DER -in signed.der',
  /**
   * Signature, chain to the CA, every certificate's validity at the signing time, key usage (OpenSSL's S/MIME signing
   * purpose). Without the CRL: OpenSSL would judge the CRL at that time too, and a CRL issued after the signing time
   * (the usual case) is then "not yet valid".
   */
  verify:
    'openssl cms -verify -binary -inform DER -in signed.der -CAfile ca.pem -attime SIGNING_TIME -out payload.json',
  /** Revocation: the same chain against the CRL, times aside (the CRL's own freshness is `crlNextUpdate`'s). */
  revocation:
    'openssl cms -verify -binary -inform DER -in signed.der -CAfile ca-and-crl.pem -crl_check -no_check_time -out /dev/null',
  /** Until when the receiver may rely on its CRL (docs/protocol.md §2.3: nextUpdate plus 5 minutes). */
  crlNextUpdate: 'openssl crl -in ca.crl.pem -noout -nextupdate',
} as const;

/**
 * Checking an enrolment file with OpenSSL (docs/protocol.md §9), run by the conformance test on
 * docs/conformance/enrolment/: in a directory holding the file as endpoint.rtsenrol and the region CA, obtained out of
 * band, as ca.pem. The signer's subject must end in CN = RTS Region Administration.
 */
export const OPENSSL_ENROLMENT = {
  verify:
    'openssl cms -verify -binary -inform DER -in endpoint.rtsenrol -CAfile ca.pem -signer enrolment-signer.pem -out enrolment.json',
  signerName: 'openssl x509 -in enrolment-signer.pem -noout -subject',
} as const;

/**
 * Reason codes that no single message can show, each with why: they depend on what the receiver has seen or holds, or
 * on the hop. Every other code has at least one vector (a test keeps it so, and keeps this list in docs/protocol.md).
 */
export const CODES_WITHOUT_VECTOR: Readonly<Partial<Record<ReasonCode, string>>> = {
  duplicate: "needs the same message_id processed before: the receiver's de-duplication record (§7.1)",
  'out-of-order': 'needs the case as the earlier messages left it: its state and the last rtsSequence seen (§5.2)',
  'unknown-recipient': "needs the hub's directory and registered endpoints (§8)",
  'retired-expert': "needs the hub's directory: a retirement published earlier (§5.1)",
  'forged-sender':
    "judged only by the hub, on the uplink, against that hop's broker-verified sender (user_id on RabbitMQ, the uplink address on Artemis) and routing key; a message on a downlink always comes from rts-hub (§2.1)",
  'delivery-limit': "set when the broker dead-letters a message delivered more often than the queue's limit (§1.2)",
  'internal-error': "the receiver's own failure (e.g. its CRL missing or past nextUpdate, §2.3), never the message's",
};
