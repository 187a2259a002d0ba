import { describe, expect, it } from 'vitest';
import { envOrFileSecretReferenceSchema, secretReferenceSchema } from './secret-reference.ts';

/** The one secret-reference schema of the hub's and the connector's configuration files. */
describe('secret references', () => {
  it('takes an environment variable, a file or a keychain account', () => {
    for (const reference of [{ env: 'HUB_PW' }, { file: 'secrets/pw' }, { keychain: 'broker' }])
      expect(secretReferenceSchema.parse(reference)).toEqual(reference);
  });

  it('refuses a secret written in clear, an empty name, two sources at once and unknown keys', () => {
    for (const bad of [
      'in-clear',
      { env: '' },
      { file: '' },
      { keychain: '' },
      { env: 'A', file: 'b' },
      { env: 'A', note: 'x' },
      {},
    ]) {
      expect(secretReferenceSchema.safeParse(bad).success, JSON.stringify(bad)).toBe(false);
    }
  });

  it('takes no keychain account where there is no keychain (the hub)', () => {
    expect(envOrFileSecretReferenceSchema.parse({ file: 'secrets/pw' })).toEqual({ file: 'secrets/pw' });
    expect(envOrFileSecretReferenceSchema.safeParse({ keychain: 'broker' }).success).toBe(false);
    expect(envOrFileSecretReferenceSchema.safeParse({ env: '' }).success).toBe(false);
  });
});
