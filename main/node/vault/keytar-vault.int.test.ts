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
