import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createSealedFileVault } from './sealed-file-vault.ts';

const KEY = 'k'.repeat(40);

describe('sealed file vault', () => {
  it('keeps secrets across instances under the same master key, and none of them readable in the file', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'rts-vault-')), 'vault.json');
    const vault = createSealedFileVault(path, KEY);
    await vault.set('store-key', 'the-store-key-0123456789');
    await vault.set('audit-key', 'the-audit-key');
    expect(await createSealedFileVault(path, KEY).get('store-key')).toBe('the-store-key-0123456789');
    expect(readFileSync(path, 'utf8')).not.toContain('the-store-key');
    expect(await vault.delete('audit-key')).toBe(true);
    expect(await vault.delete('audit-key')).toBe(false);
    expect(await vault.get('audit-key')).toBeUndefined();
  });

  it('refuses another master key, a changed file and a short key, and never replaces the file', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'rts-vault-')), 'vault.json');
    await createSealedFileVault(path, KEY).set('store-key', 'x'.repeat(32));
    const before = readFileSync(path, 'utf8');
    expect(() => createSealedFileVault(path, 'o'.repeat(40))).toThrow(/cannot be opened with this master key/);
    const sealed = JSON.parse(before) as { data: string };
    writeFileSync(path, JSON.stringify({ ...sealed, data: Buffer.from('tampered').toString('base64') }));
    expect(() => createSealedFileVault(path, KEY)).toThrow(/cannot be opened/);
    expect(() => createSealedFileVault(join(tmpdir(), 'unused.json'), 'short')).toThrow(/at least 32/);
  });
});
