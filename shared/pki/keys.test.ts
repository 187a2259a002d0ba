import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { PKI_ERROR_CODES } from './errors.ts';
import {
  exportPrivateKeyPkcs8,
  generateKeyPair,
  importSigningPrivateKey,
  keyFamilyOf,
  privateKeyMatchesPublicKey,
} from './keys.ts';
import { derToPem, pemToDer } from './pem.ts';
import type { CryptoKey } from './webcrypto.ts';

function opensslKey(...args: string[]): Uint8Array {
  const result = spawnSync('openssl', ['genpkey', ...args], { encoding: 'utf8' });
  expect(result.status, result.stderr).toBe(0);
  return pemToDer(result.stdout, 'PRIVATE KEY');
}

async function spkiOf(key: CryptoKey): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.exportKey('spki', key));
}

describe('keys', () => {
  it.each([
    ['ec-p256', 'EC', 'prime256v1'],
    ['rsa-2048', 'RSA', '2048 bit'],
    ['rsa-3072', 'RSA', '3072 bit'],
  ] as const)('%s: generates a key whose PKCS#8 OpenSSL reads as %s (%s)', async (keyType, kind, detail) => {
    const { privateKey, publicKey } = await generateKeyPair(keyType);
    expect(keyFamilyOf(publicKey)).toBe(kind.toLowerCase());
    const pkcs8 = await exportPrivateKeyPkcs8(privateKey);
    const result = spawnSync('openssl', ['pkey', '-noout', '-text'], {
      input: derToPem(pkcs8, 'PRIVATE KEY'),
      encoding: 'utf8',
    });
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toContain(detail);
  });

  it('imports OpenSSL keys for signing and matches them to their public key only', async () => {
    for (const args of [
      ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-384'],
      ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048'],
    ]) {
      const pkcs8 = opensslKey(...args);
      const key = await importSigningPrivateKey(pkcs8);
      expect(key.type).toBe('private');
      expect(key.usages).toEqual(['sign']);
      const spki = spawnSync('openssl', ['pkey', '-pubout', '-outform', 'DER'], {
        input: derToPem(pkcs8, 'PRIVATE KEY'),
      });
      expect(await privateKeyMatchesPublicKey(pkcs8, new Uint8Array(spki.stdout))).toBe(true);
    }
    const ours = await generateKeyPair();
    const other = await generateKeyPair();
    const pkcs8 = await exportPrivateKeyPkcs8(ours.privateKey);
    expect(await privateKeyMatchesPublicKey(pkcs8, await spkiOf(ours.publicKey))).toBe(true);
    expect(await privateKeyMatchesPublicKey(pkcs8, await spkiOf(other.publicKey))).toBe(false);
    expect(await privateKeyMatchesPublicKey(pkcs8, await spkiOf((await generateKeyPair('rsa-2048')).publicKey))).toBe(
      false,
    );
  });

  it('refuses unsupported curves and algorithms, and garbage, with typed codes', async () => {
    const unsupported = expect.objectContaining({ code: PKI_ERROR_CODES.unsupported });
    await expect(
      importSigningPrivateKey(opensslKey('-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:secp256k1')),
    ).rejects.toThrow(unsupported);
    await expect(importSigningPrivateKey(opensslKey('-algorithm', 'ED25519'))).rejects.toThrow(unsupported);
    await expect(importSigningPrivateKey(new Uint8Array([0x30, 0x00]))).rejects.toThrow(
      expect.objectContaining({ code: PKI_ERROR_CODES.malformed }),
    );
  });
});
