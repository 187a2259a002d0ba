/**
 * Error codes the renderer can explain to a clinician. `retryable` tells the UI whether offering "try again" makes
 * sense without changing anything.
 */
export const API_ERROR_CODES = {
  invalidRequest: 'invalid-request',
  unknownCommand: 'unknown-command',
  forbiddenSender: 'forbidden-sender',
  keychainUnavailable: 'keychain-unavailable',
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
