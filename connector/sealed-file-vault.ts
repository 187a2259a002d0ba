import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { SecretVault } from '../main/node/index.ts';

/**
 * The connector's secrets (its store key, the audit log's key and anchor) on a server with no OS keychain: one file
 * in the data directory, AES-256-GCM under a master key the operator gives by reference (an environment variable or
 * a credentials file, e.g. systemd's LoadCredential). Without the master key the file is noise; with another one it is
 * refused, never replaced. A desktop session's keychain remains the default (`keychainService`).
 */
export class SealedVaultError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SealedVaultError';
  }
}

const FORMAT = 'rts-sealed-vault/1';

export function createSealedFileVault(path: string, masterKey: string): SecretVault {
  if (masterKey.length < 32)
    throw new SealedVaultError('the master key must have at least 32 characters (e.g. openssl rand -base64 32)');
  const key = createHash('sha256').update(`rts-connector-vault:${masterKey}`).digest();

  function read(): Record<string, string> {
    if (!existsSync(path)) return {};
    const sealed = JSON.parse(readFileSync(path, 'utf8')) as { format: string; iv: string; tag: string; data: string };
    if (sealed.format !== FORMAT) throw new SealedVaultError(`${path} is not a sealed vault of this version`);
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(sealed.iv, 'base64'));
      decipher.setAuthTag(Buffer.from(sealed.tag, 'base64'));
      decipher.setAAD(Buffer.from(FORMAT));
      return JSON.parse(
        Buffer.concat([decipher.update(Buffer.from(sealed.data, 'base64')), decipher.final()]).toString('utf8'),
      ) as Record<string, string>;
    } catch {
      throw new SealedVaultError(
        `${path} cannot be opened with this master key (another key, or the file was changed)`,
      );
    }
  }

  function write(entries: Record<string, string>): void {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(Buffer.from(FORMAT));
    const data = Buffer.concat([cipher.update(JSON.stringify(entries), 'utf8'), cipher.final()]);
    // Written, flushed, then renamed, and the directory flushed: a power cut leaves the old file or the new, never a
    // torn one (the store's key is in it, and without it the store is lost).
    const temporary = `${path}.${process.pid}.tmp`;
    const fd = openSync(temporary, 'w', 0o600);
    try {
      writeSync(
        fd,
        JSON.stringify({
          format: FORMAT,
          iv: iv.toString('base64'),
          tag: cipher.getAuthTag().toString('base64'),
          data: data.toString('base64'),
        }),
      );
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temporary, path);
    const dir = openSync(dirname(path), 'r');
    try {
      fsyncSync(dir);
    } finally {
      closeSync(dir);
    }
  }

  // Read once at creation: a wrong master key fails the start, not the first write.
  read();
  return {
    get: async (account) => read()[account],
    async set(account, secret) {
      write({ ...read(), [account]: secret });
    },
    async delete(account) {
      const entries = read();
      if (!(account in entries)) return false;
      delete entries[account];
      write(entries);
      return true;
    },
  };
}
