import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { openDatabase, type SqliteDatabase } from '../../../transport/index.ts';
import type { SecretVault } from '../vault/secret-vault.ts';
import { STORE_KEY_ACCOUNT } from '../vault/vault-accounts.ts';

export const STORE_FILE = 'workstation.db';

/**
 * The store exists but the keychain does not hold its key (or holds another one): the keychain backend changed, or
 * was reset. Creating a new store here would silently abandon every case, so the user is told instead.
 */
export class KeychainChangedError extends Error {
  readonly code = 'keychain-changed';
  readonly reason = 'keychain-store-key-lost';
  readonly hint =
    'Sign in to the desktop session whose keychain holds the RTS Workstation store key, or restore that ' +
    'keychain. Resetting the workstation discards its local cases.';

  constructor(message: string) {
    super(message);
    this.name = 'KeychainChangedError';
  }
}

const digestOf = (key: string) => createHash('sha256').update(`rts-store-key:${key}`).digest('hex');

/** Where the digest of the store's key is remembered (the workstation's settings; the connector's state file). */
export interface StoreKeyRecord {
  read(): { readonly storeKeyDigest?: string };
  setStoreKeyDigest(digest: string): void;
}

/** Opens the encrypted store in `dir`, creating it and its key (in the keychain) on first run. */
export async function openWorkstationStore(options: {
  dir: string;
  vault: SecretVault;
  settings: StoreKeyRecord;
  file?: string;
}): Promise<SqliteDatabase> {
  const { dir, vault, settings } = options;
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const path = join(dir, options.file ?? STORE_FILE);
  const known = settings.read().storeKeyDigest;
  let key = await vault.get(STORE_KEY_ACCOUNT);
  if (key === undefined) {
    if (known || existsSync(path)) {
      throw new KeychainChangedError("The OS keychain does not hold the key of this workstation's store");
    }
    key = randomBytes(32).toString('base64url');
    await vault.set(STORE_KEY_ACCOUNT, key);
    // Read back: a keychain that accepts and forgets (no persistent collection) must fail now, not at the next start.
    if ((await vault.get(STORE_KEY_ACCOUNT)) !== key)
      throw new KeychainChangedError('The OS keychain did not keep the new store key');
    settings.setStoreKeyDigest(digestOf(key));
  } else if (known && known !== digestOf(key)) {
    throw new KeychainChangedError(
      'The OS keychain holds a different store key than the one this workstation was set up with',
    );
  } else if (!known) {
    settings.setStoreKeyDigest(digestOf(key));
  }
  return openDatabase(path, key);
}
