import type { ApiErrorCode, ApiErrorParams, ApiErrorReason } from '../../shared/api/index.ts';

/**
 * A refusal the user can understand and act on. The dispatcher passes its class `code`, its `reason` and `params` to
 * the renderer, which words them in the user's language; the English `message` is for logs, tests and the clinic
 * connector's HTTP API, written at the throw site beside the reason so that each reads as what it means.
 */
export class CoreError extends Error {
  readonly code: ApiErrorCode;
  readonly reason: ApiErrorReason;
  readonly params: ApiErrorParams | undefined;
  readonly retryable: boolean;

  constructor(
    code: ApiErrorCode,
    reason: ApiErrorReason,
    message: string,
    options: { readonly params?: ApiErrorParams; readonly retryable?: boolean } = {},
  ) {
    super(message);
    this.name = 'CoreError';
    this.code = code;
    this.reason = reason;
    this.params = options.params;
    this.retryable = options.retryable ?? false;
  }
}
