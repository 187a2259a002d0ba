/** Error codes of the PKI building blocks; callers (CLI, UI) branch on `code`, never on the message. */
export const PKI_ERROR_CODES = {
  malformed: 'pki-malformed',
  wrongPassword: 'pki-wrong-password',
  unsupported: 'pki-unsupported',
  invalidInput: 'pki-invalid-input',
  badSignature: 'pki-bad-signature',
  alreadyRevoked: 'pki-already-revoked',
} as const;

export type PkiErrorCode = (typeof PKI_ERROR_CODES)[keyof typeof PKI_ERROR_CODES];

export class PkiError extends Error {
  readonly code: PkiErrorCode;

  constructor(code: PkiErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PkiError';
    this.code = code;
  }
}

export function isPkiError(error: unknown): error is PkiError {
  return error instanceof PkiError;
}

/** Runs a parser of untrusted bytes, turning whatever the ASN.1 layer throws into one typed error. */
export function parseOrThrow<T>(what: string, parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (error instanceof PkiError) throw error;
    throw new PkiError(PKI_ERROR_CODES.malformed, `${what} is not valid DER`, { cause: error });
  }
}
