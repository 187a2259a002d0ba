import type { ApiErrorReason } from '../../../shared/api/index.ts';

/**
 * Where the workstation keeps secrets: the broker password, key protection, the store key. Only the OS keychain
 * (keychain-vault.ts) implements it in production.
 */
export interface SecretVault {
  get(account: string): Promise<string | undefined>;
  set(account: string, secret: string): Promise<void>;
  /** Resolves true when something was deleted. */
  delete(account: string): Promise<boolean>;
}

/**
 * The keychain cannot be reached at all; `hint` says what an administrator can do about it, in English for the log,
 * and `reason` names the same cause for the renderer to word.
 */
export class VaultUnavailableError extends Error {
  readonly code = 'keychain-unavailable';
  readonly hint: string;
  readonly reason: ApiErrorReason;

  constructor(message: string, hint: string, options?: { cause?: unknown; reason?: ApiErrorReason }) {
    super(message, options);
    this.name = 'VaultUnavailableError';
    this.hint = hint;
    this.reason = options?.reason ?? 'keychain-unavailable';
  }
}
