import type { ApiErrorCode } from '../../shared/api/index.ts';

/** A refusal the user can understand and act on; the dispatcher passes its code and message to the renderer. */
export class CoreError extends Error {
  readonly code: ApiErrorCode;
  readonly retryable: boolean;

  constructor(code: ApiErrorCode, message: string, retryable = false) {
    super(message);
    this.name = 'CoreError';
    this.code = code;
    this.retryable = retryable;
  }
}
