import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3-multiple-ciphers';
import { describe, expect, it } from 'vitest';
import { openWorkstationSettings } from '../settings/workstation-settings.ts';
import { STORE_KEY_ACCOUNT } from '../vault/vault-accounts.ts';
import { KeychainChangedError, openWorkstationStore, STORE_FILE } from './workstation-store.ts';
import { createMemoryVault } from '../vault/memory-vault.ts';

describe('the encrypted workstation store', () => {
  it('creates its key in the keychain, and its file cannot be read without it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rts-store-'));
    const vault = createMemoryVault();
    const db = await openWorkstationStore({ dir, vault, settings: openWorkstationSettings(dir) });
    db.exec("create table notes (text text); insert into notes values ('Kari Nilsen, born 1961-04-12')");
    db.close();
    expect(vault.secrets.get(STORE_KEY_ACCOUNT)).toMatch(/^[\w-]{43}$/);
    const bytes = readFileSync(join(dir, STORE_FILE));
    expect(bytes.includes('Nilsen')).toBe(false);
    expect(bytes.subarray(0, 15).toString()).not.toBe('SQLite format 3');
    const plain = new Database(join(dir, STORE_FILE));
    expect(() => plain.prepare('select * from notes').all()).toThrow(/not a database/);
    plain.close();
    const again = await openWorkstationStore({ dir, vault, settings: openWorkstationSettings(dir) });
    expect(again.prepare('select text from notes').get()).toEqual({ text: 'Kari Nilsen, born 1961-04-12' });
    again.close();
  });

  it('refuses to start over when the keychain lost or changed the key, instead of creating a new store', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rts-store-'));
    const vault = createMemoryVault();
    (await openWorkstationStore({ dir, vault, settings: openWorkstationSettings(dir) })).close();

    await expect(
      openWorkstationStore({ dir, vault: createMemoryVault(), settings: openWorkstationSettings(dir) }),
    ).rejects.toThrow(KeychainChangedError);
    const other = createMemoryVault();
    other.secrets.set(STORE_KEY_ACCOUNT, 'x'.repeat(43));
    await expect(openWorkstationStore({ dir, vault: other, settings: openWorkstationSettings(dir) })).rejects.toThrow(
      /different store key/,
    );
    // The original keychain still opens it.
    (await openWorkstationStore({ dir, vault, settings: openWorkstationSettings(dir) })).close();
  });
});
