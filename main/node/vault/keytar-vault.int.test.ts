import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createKeytarVault } from './keytar-vault.ts';

describe('keytar vault on the OS keychain', () => {
  it('stores, reads back and deletes a secret', async () => {
    const vault = createKeytarVault(`rts-test-${randomUUID()}`);
    const secret = `s3cret-${randomUUID()}`;
    expect(await vault.get('broker-password:clinic-a')).toBeUndefined();
    await vault.set('broker-password:clinic-a', secret);
    expect(await vault.get('broker-password:clinic-a')).toBe(secret);
    expect(await vault.delete('broker-password:clinic-a')).toBe(true);
    expect(await vault.get('broker-password:clinic-a')).toBeUndefined();
    expect(await vault.delete('broker-password:clinic-a')).toBe(false);
  });
});

describe('keytar vault without a keychain', () => {
  it('fails fast with an actionable keychain-unavailable error when no D-Bus session exists', async () => {
    const { spawnSync } = await import('node:child_process');
    const env = { ...process.env };
    delete env.DBUS_SESSION_BUS_ADDRESS;
    delete env.DISPLAY;
    const probe = `
      import { createKeytarVault } from './main/node/vault/keytar-vault.ts';
      try { await createKeytarVault('rts-probe').get('x'); console.log(JSON.stringify({ ok: true })); }
      catch (e) { console.log(JSON.stringify({ name: e.name, code: e.code, hint: e.hint })); }`;
    const result = spawnSync(process.execPath, ['--input-type=module', '-e', probe], { env, encoding: 'utf8', timeout: 20_000 });
    expect(JSON.parse(result.stdout.trim().split('\n').pop()!)).toMatchObject({
      name: 'VaultUnavailableError',
      code: 'keychain-unavailable',
      hint: expect.stringMatching(/D-Bus session/),
    });
  });
});
