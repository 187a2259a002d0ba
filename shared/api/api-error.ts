/**
 * Error codes the renderer can explain to a clinician. `retryable` tells the UI whether offering "try again" makes
 * sense without changing anything.
 */
export const API_ERROR_CODES = {
  invalidRequest: 'invalid-request',
  unknownCommand: 'unknown-command',
  forbiddenSender: 'forbidden-sender',
  keychainUnavailable: 'keychain-unavailable',
  /** The keychain no longer holds this workstation's store key (another backend, or a reset). */
  keychainChanged: 'keychain-changed',
  /** The app is locked after idle: unlock first. */
  locked: 'locked',
  /** Too many wrong passphrases in a row: the message says how long to wait (the wait survives a restart). */
  tooManyAttempts: 'too-many-attempts',
  /** The act (signing a report) needs the lock passphrase entered again with it. */
  passphraseRequired: 'passphrase-required',
  /** Not set up yet: no region, no identity or no trust configuration. */
  notConfigured: 'not-configured',
  /** A certificate or key file that cannot be used, with the reason. */
  identityInvalid: 'identity-invalid',
  /** An enrolment file refused: altered, of another region CA, or not for a workstation; nothing was changed. */
  enrolmentRefused: 'enrolment-refused',
  notFound: 'not-found',
  /** The step does not follow from the case's state, or is not this user's to take. */
  notAllowed: 'not-allowed',
  internal: 'internal',
} as const;

export type ApiErrorCode = (typeof API_ERROR_CODES)[keyof typeof API_ERROR_CODES];

export interface ApiError {
  readonly code: ApiErrorCode;
  /** Plain words for the user; never patient data, never a secret. */
  readonly message: string;
  readonly retryable: boolean;
}

export function apiError(code: ApiErrorCode, message: string, retryable = false): ApiError {
  return { code, message, retryable };
}
