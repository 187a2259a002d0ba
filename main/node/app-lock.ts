import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import { API_ERROR_CODES } from '../../shared/api/api-error.ts';
import { CoreError } from './core-error.ts';
import type { SecretVault } from './vault/secret-vault.ts';
import { LOCK_PASSPHRASE_ACCOUNT } from './vault/vault-accounts.ts';

/**
 * The app lock a hospital desktop needs: after idle (the shell measures it) every command that shows or changes
 * patient data is refused until the user re-enters the passphrase. Only its scrypt hash is kept, in the keychain.
 */
const derive = promisify(scrypt) as (password: string, salt: Buffer, length: number) => Promise<Buffer>;

export interface AppLock {
  readonly locked: boolean;
  hasPassphrase(): Promise<boolean>;
  setPassphrase(passphrase: string, current?: string): Promise<void>;
  lock(): void;
  unlock(passphrase: string): Promise<boolean>;
  onChanged(listener: (locked: boolean) => void): () => void;
}

export function createAppLock(vault: SecretVault): AppLock {
  let locked = false;
  const listeners = new Set<(locked: boolean) => void>();
  const set = (value: boolean) => {
    if (locked === value) return;
    locked = value;
    for (const listener of listeners) listener(locked);
  };

  async function matches(passphrase: string): Promise<boolean> {
    const stored = await vault.get(LOCK_PASSPHRASE_ACCOUNT);
    if (!stored) return false;
    const [salt, hash] = stored.split(':').map((part) => Buffer.from(part, 'base64'));
    const candidate = await derive(passphrase, salt!, hash!.length);
    return timingSafeEqual(candidate, hash!);
  }

  return {
    get locked() {
      return locked;
    },
    hasPassphrase: async () => (await vault.get(LOCK_PASSPHRASE_ACCOUNT)) !== undefined,
    async setPassphrase(passphrase, current) {
      if ((await vault.get(LOCK_PASSPHRASE_ACCOUNT)) !== undefined && !(current !== undefined && (await matches(current)))) {
        throw new CoreError(API_ERROR_CODES.notAllowed, 'Enter the current lock passphrase to change it.');
      }
      const salt = randomBytes(16);
      await vault.set(LOCK_PASSPHRASE_ACCOUNT, `${salt.toString('base64')}:${(await derive(passphrase, salt, 32)).toString('base64')}`);
    },
    lock() {
      set(true);
    },
    async unlock(passphrase) {
      if (!(await matches(passphrase))) return false;
      set(false);
      return true;
    },
    onChanged(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
