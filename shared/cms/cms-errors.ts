/**
 * Every failure of the CMS envelope is a CmsError with one of these codes. Messages are plain words for an
 * administrator and never contain content bytes or key material.
 */
export const CMS_ERROR_CODES = {
  malformed: 'cms-malformed',
  tooLarge: 'cms-too-large',
  unsupportedAlgorithm: 'cms-unsupported-algorithm',
  notARecipient: 'cms-not-a-recipient',
  decryptFailed: 'cms-decrypt-failed',
  badSignature: 'cms-bad-signature',
  untrustedChain: 'cms-untrusted-chain',
  certificateExpired: 'cms-certificate-expired',
  certificateNotYetValid: 'cms-certificate-not-yet-valid',
  signingTimeInvalid: 'cms-signing-time-invalid',
  certificateRevoked: 'cms-certificate-revoked',
  wrongKeyUsage: 'cms-wrong-key-usage',
  /** The verifier's own trust configuration has no CRL of an issuer in the path: its operator must load one. */
  crlMissing: 'cms-crl-missing',
  /** The verifier's CRL of an issuer is past its nextUpdate: its operator must load the region's current CRL. */
  crlExpired: 'cms-crl-expired',
} as const;

export type CmsErrorCode = (typeof CMS_ERROR_CODES)[keyof typeof CMS_ERROR_CODES];

export class CmsError extends Error {
  readonly code: CmsErrorCode;

  constructor(code: CmsErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CmsError';
    this.code = code;
  }
}

export function isCmsError(error: unknown, code?: CmsErrorCode): error is CmsError {
  return error instanceof CmsError && (code === undefined || error.code === code);
}

/** The error for input that does not have the structure it must have. */
export function malformed(message: string): CmsError {
  return new CmsError(CMS_ERROR_CODES.malformed, message);
}

/** Runs a parsing step and turns anything it throws (pkijs schema errors, asn1js oddities) into cms-malformed. */
export function parseOrThrow<T>(what: string, parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (error instanceof CmsError) throw error;
    throw new CmsError(CMS_ERROR_CODES.malformed, `${what} is not well-formed`, { cause: error });
  }
}
