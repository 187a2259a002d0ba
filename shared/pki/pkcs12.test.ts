import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRootCertificate, issueCertificate } from './certificate.ts';
import { PKI_ERROR_CODES } from './errors.ts';
import { exportPrivateKeyPkcs8, generateKeyPair, type KeyType } from './keys.ts';
import { derToPem, pemToDer, pemToDerAll } from './pem.ts';
import { createPkcs12, parsePkcs12 } from './pkcs12.ts';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'rts-pki-p12-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function openssl(...args: string[]): { status: number | null; stdout: string; output: string } {
  const result = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
  return { status: result.status, stdout: result.stdout, output: result.stdout + result.stderr };
}

const PASSWORD = 'correct horse – battery'; // non-ASCII on purpose: UTF-8 for PBKDF2, BMPString for the MAC

async function makeIdentity(keyType: KeyType) {
  const caKeys = await generateKeyPair(keyType);
  const ca = await createRootCertificate({ keyPair: caKeys, subject: { commonName: 'P12 Test CA' } });
  const keys = await generateKeyPair(keyType);
  const leaf = await issueCertificate({
    profile: 'practitioner-signing',
    publicKey: keys.publicKey,
    issuer: { certificate: ca.der, privateKey: caKeys.privateKey },
    subject: { commonName: 'Dr. Layla Ahmed' },
  });
  return { ca: ca.der, certificate: leaf.der, privateKeyPkcs8: await exportPrivateKeyPkcs8(keys.privateKey) };
}

describe('PKCS#12', () => {
  it.each<KeyType>(['ec-p256', 'rsa-2048'])(
    '%s: OpenSSL 3 reads ours: same key, cert and chain; PBES2/AES-256, SHA-256 MAC',
    async (keyType) => {
      const identity = await makeIdentity(keyType);
      const p12 = await createPkcs12({
        ...identity,
        chain: [identity.ca],
        password: PASSWORD,
        friendlyName: 'Dr. Layla Ahmed',
      });
      writeFileSync(join(dir, `ours-${keyType}.p12`), p12);

      const read = openssl('pkcs12', '-in', `ours-${keyType}.p12`, '-passin', `pass:${PASSWORD}`, '-nodes');
      expect(read.status, read.output).toBe(0);
      expect(pemToDer(read.stdout, 'PRIVATE KEY')).toEqual(identity.privateKeyPkcs8);
      expect(pemToDerAll(read.stdout, 'CERTIFICATE')).toEqual([identity.certificate, identity.ca]);
      expect(read.stdout).toContain('friendlyName: Dr. Layla Ahmed');

      const info = openssl('pkcs12', '-in', `ours-${keyType}.p12`, '-passin', `pass:${PASSWORD}`, '-info', '-noout');
      expect(info.output).toContain('MAC: sha256');
      expect(info.output).toMatch(/Shrouded Keybag: PBES2, PBKDF2, AES-256-CBC, Iteration 2048, PRF hmacWithSHA256/);
      expect(info.output).toMatch(
        /PKCS7 Encrypted data: PBES2, PBKDF2, AES-256-CBC, Iteration 2048, PRF hmacWithSHA256/,
      );

      const wrong = openssl('pkcs12', '-in', `ours-${keyType}.p12`, '-passin', 'pass:wrong', '-nodes');
      expect(wrong.status).not.toBe(0);
      expect(wrong.output).toContain('Mac verify error');
    },
  );

  it.each<KeyType>(['ec-p256', 'rsa-2048'])('%s: we read what `openssl pkcs12 -export` writes', async (keyType) => {
    const identity = await makeIdentity(keyType);
    writeFileSync(join(dir, 'leaf.pem'), derToPem(identity.certificate, 'CERTIFICATE'));
    writeFileSync(join(dir, 'key.pem'), derToPem(identity.privateKeyPkcs8, 'PRIVATE KEY'));
    writeFileSync(join(dir, 'ca.pem'), derToPem(identity.ca, 'CERTIFICATE'));
    const created = openssl(
      ...['pkcs12', '-export', '-inkey', 'key.pem', '-in', 'leaf.pem', '-certfile', 'ca.pem'],
      ...['-passout', `pass:${PASSWORD}`, '-out', `theirs-${keyType}.p12`],
    );
    expect(created.status, created.output).toBe(0);

    const parsed = await parsePkcs12(readFileSync(join(dir, `theirs-${keyType}.p12`)), PASSWORD);
    expect(parsed.privateKeyPkcs8).toEqual(identity.privateKeyPkcs8);
    expect(parsed.certificate).toEqual(identity.certificate);
    expect(parsed.chain).toEqual([identity.ca]);

    await expect(parsePkcs12(readFileSync(join(dir, `theirs-${keyType}.p12`)), 'wrong')).rejects.toThrow(
      expect.objectContaining({ code: PKI_ERROR_CODES.wrongPassword }),
    );
  });

  it('reads a file without MAC (wrong password still caught), and refuses files without key or matching cert', async () => {
    const identity = await makeIdentity('ec-p256');
    writeFileSync(join(dir, 'm-leaf.pem'), derToPem(identity.certificate, 'CERTIFICATE'));
    writeFileSync(join(dir, 'm-key.pem'), derToPem(identity.privateKeyPkcs8, 'PRIVATE KEY'));
    const export12 = (out: string, ...extra: string[]) => {
      const result = openssl(
        'pkcs12',
        '-export',
        '-in',
        'm-leaf.pem',
        '-inkey',
        'm-key.pem',
        '-passout',
        'pass:x',
        '-out',
        out,
        ...extra,
      );
      expect(result.status, result.output).toBe(0);
      return readFileSync(join(dir, out));
    };
    const noMac = export12('nomac.p12', '-nomac');
    expect((await parsePkcs12(noMac, 'x')).certificate).toEqual(identity.certificate);
    // Without a MAC, a wrong password decrypts to garbage with valid padding now and then (about 1 in 256 per
    // encrypted part; the CI met one): each of 300 wrong passwords is still told as one.
    for (let i = 0; i < 300; i++)
      await expect(parsePkcs12(noMac, `wrong-${i}`)).rejects.toThrow(
        expect.objectContaining({ code: PKI_ERROR_CODES.wrongPassword }),
      );
    await expect(parsePkcs12(export12('nokey.p12', '-nokeys'), 'x')).rejects.toThrow(
      expect.objectContaining({ code: PKI_ERROR_CODES.malformed, message: expect.stringContaining('no private key') }),
    );
    await expect(parsePkcs12(export12('nocert.p12', '-nocerts'), 'x')).rejects.toThrow(
      expect.objectContaining({ code: PKI_ERROR_CODES.malformed, message: expect.stringContaining('no certificate') }),
    );
  });

  it('round-trips through itself, rejects a wrong password with its code, and refuses a key of another cert', async () => {
    const identity = await makeIdentity('ec-p256');
    const p12 = await createPkcs12({ ...identity, chain: [], password: 'pw', iterations: 5000 });
    expect(await parsePkcs12(p12, 'pw')).toEqual({
      privateKeyPkcs8: identity.privateKeyPkcs8,
      certificate: identity.certificate,
      chain: [],
    });
    await expect(parsePkcs12(p12, 'pW')).rejects.toThrow(
      expect.objectContaining({ code: PKI_ERROR_CODES.wrongPassword }),
    );
    const other = await makeIdentity('ec-p256');
    await expect(
      createPkcs12({ ...identity, certificate: other.certificate, chain: [], password: 'pw' }),
    ).rejects.toThrow(expect.objectContaining({ code: PKI_ERROR_CODES.invalidInput }));
  });

  it('refuses legacy 3DES files as unsupported, garbage as malformed, an empty password as invalid', async () => {
    const identity = await makeIdentity('ec-p256');
    writeFileSync(join(dir, 'l-leaf.pem'), derToPem(identity.certificate, 'CERTIFICATE'));
    writeFileSync(join(dir, 'l-key.pem'), derToPem(identity.privateKeyPkcs8, 'PRIVATE KEY'));
    const legacy = openssl(
      ...['pkcs12', '-export', '-in', 'l-leaf.pem', '-inkey', 'l-key.pem', '-passout', 'pass:x', '-out', 'legacy.p12'],
      ...['-keypbe', 'PBE-SHA1-3DES', '-certpbe', 'PBE-SHA1-3DES', '-macalg', 'sha1'],
    );
    expect(legacy.status, legacy.output).toBe(0);
    await expect(parsePkcs12(readFileSync(join(dir, 'legacy.p12')), 'x')).rejects.toThrow(
      expect.objectContaining({ code: PKI_ERROR_CODES.unsupported }),
    );
    await expect(parsePkcs12(new Uint8Array([1, 2, 3]), 'x')).rejects.toThrow(
      expect.objectContaining({ code: PKI_ERROR_CODES.malformed }),
    );
    await expect(createPkcs12({ ...identity, chain: [], password: '' })).rejects.toThrow(
      expect.objectContaining({ code: PKI_ERROR_CODES.invalidInput }),
    );
  });
});
