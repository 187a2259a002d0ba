import type { CryptoKey } from './webcrypto.ts';

/** DER bytes: a certificate, a CRL, a PKCS#8 key or a CMS ContentInfo. */
export type Der = Uint8Array;

export interface CmsSigner {
  certificate: Der;
  privateKey: CryptoKey;
  /** Intermediate CA certificates to embed so recipients can build the chain. */
  chain?: Der[];
}

export interface CmsRecipientIdentity {
  certificate: Der;
  privateKey: CryptoKey;
}

/**
 * Who may open an envelope: one identity, or several of one holder (current first, then earlier ones kept for reading
 * what was sent to them); the RecipientInfo's issuer+serial or SKI picks the key.
 */
export type CmsRecipients = CmsRecipientIdentity | readonly CmsRecipientIdentity[];

/** Never changed in place: its parsed form is kept per object (chain.ts). */
export interface TrustConfig {
  readonly anchors: readonly Der[];
  readonly intermediates?: readonly Der[];
  readonly crls?: readonly Der[];
}

export const CONTENT_ENCRYPTION = {
  /** AuthEnvelopedData (RFC 5083/5084): the default. */
  gcm: 'aes-256-gcm',
  /** EnvelopedData, for peers that cannot read AuthEnvelopedData. */
  cbc: 'aes-256-cbc',
} as const;

export type ContentEncryption = (typeof CONTENT_ENCRYPTION)[keyof typeof CONTENT_ENCRYPTION];

export interface SignerInfoSummary {
  certificate: Der;
  /** RFC 4514 form, e.g. "CN=Dr A,O=Clinic A". */
  subject: string;
  /** Lower-case hex without the DER sign byte, as pki's `serialHex` reports it everywhere. */
  serialNumber: string;
  signingTime: Date;
  /** E.g. "ECDSA-SHA256", "RSASSA-PKCS1-v1_5-SHA256", "RSASSA-PSS-SHA256". */
  signatureAlgorithm: string;
}

export interface SignOptions {
  /** Defaults to now; written with whole seconds. */
  signingTime?: Date;
}

export interface VerifyOptions {
  now?: Date;
  /** Defaults to DEFAULT_MAX_BYTES (32 MiB). */
  maxBytes?: number;
  /**
   * The caller's bounds on the signing time, e.g. the protocol's against arrival and creation_time: what is wrong with
   * it, or undefined. Checked before the certificates are judged at that time (cms-signing-time-invalid).
   */
  signingTimeProblem?: (signingTime: Date) => string | undefined;
}

export interface EncryptOptions {
  contentEncryption?: ContentEncryption;
}

export interface DecryptOptions {
  maxBytes?: number;
  /**
   * Also read EnvelopedData with AES-256-CBC. Off by default: CBC is unauthenticated, so a receiver that decrypts it
   * for anyone who sends it can be made a padding oracle (docs/protocol.md §3). Only for envelopes that were verified
   * once already, e.g. stored before protocol 2.0.
   */
  allowCbc?: boolean;
}

export type SealOptions = SignOptions & EncryptOptions;
export type OpenOptions = VerifyOptions & DecryptOptions;

export interface VerifyResult {
  content: Uint8Array;
  signer: SignerInfoSummary;
}

export interface DecryptResult {
  content: Uint8Array;
  contentEncryption: ContentEncryption;
}

export interface OpenResult extends VerifyResult {
  contentEncryption: ContentEncryption;
}
