import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRootCertificate, issueCertificate, type CertificateIssuer } from './certificate.ts';
import { addRevokedSerial, createCrl, isNewerCrl, readCrl, verifyCrl, type CrlInfo } from './crl.ts';
import { PKI_ERROR_CODES } from './errors.ts';
import { generateKeyPair, type KeyType } from './keys.ts';
import { derToPem } from './pem.ts';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'rts-pki-crl-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function openssl(...args: string[]): { status: number | null; output: string } {
  const result = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
  return { status: result.status, output: result.stdout + result.stderr };
}

function write(name: string, der: Uint8Array, label: string): string {
  writeFileSync(join(dir, name), derToPem(der, label));
  return name;
}

async function makeRegion(keyType: KeyType = 'ec-p256') {
  const keyPair = await generateKeyPair(keyType);
  const root = await createRootCertificate({ keyPair, subject: { commonName: `CRL Test CA ${keyType}` } });
  const issuer: CertificateIssuer = { certificate: root.der, privateKey: keyPair.privateKey };
  const leaf = async (commonName: string) => {
    const { publicKey } = await generateKeyPair(keyType);
    return issueCertificate({ profile: 'clinic-system', publicKey, issuer, subject: { commonName } });
  };
  return { issuer, caFile: write(`ca-${keyType}.pem`, root.der, 'CERTIFICATE'), leaf };
}

describe('CRLs', () => {
  it.each<KeyType>(['ec-p256', 'rsa-2048'])(
    '%s: empty v2 CRL verifies; revoking makes openssl verify -crl_check reject that cert only',
    async (keyType) => {
      const { issuer, caFile, leaf } = await makeRegion(keyType);
      const revoked = await leaf('clinic-a');
      const kept = await leaf('clinic-b');
      const revokedFile = write(`revoked-${keyType}.pem`, revoked.der, 'CERTIFICATE');
      const keptFile = write(`kept-${keyType}.pem`, kept.der, 'CERTIFICATE');

      const empty = await createCrl(issuer);
      const emptyFile = write(`empty-${keyType}.crl.pem`, empty, 'X509 CRL');
      const checked = openssl('crl', '-in', emptyFile, '-CAfile', caFile, '-noout', '-text');
      expect(checked.output).toContain('verify OK');
      expect(checked.output).toContain('Version 2 (0x1)');
      expect(checked.output).toMatch(/X509v3 CRL Number:\s+1\n/);
      expect(checked.output).toContain('No Revoked Certificates.');
      expect(checked.output).toMatch(/Signature Algorithm: (ecdsa-with-SHA256|sha256WithRSAEncryption)/);
      expect(openssl('verify', '-crl_check', '-CAfile', caFile, '-CRLfile', emptyFile, revokedFile).status).toBe(0);

      const next = await addRevokedSerial(empty, revoked.serialNumber, issuer);
      const nextFile = write(`next-${keyType}.crl.pem`, next, 'X509 CRL');
      const text = openssl('crl', '-in', nextFile, '-CAfile', caFile, '-noout', '-text').output;
      expect(text).toContain('verify OK');
      expect(text).toMatch(/X509v3 CRL Number:\s+2\n/);
      expect(text).toContain(`Serial Number: ${revoked.serialNumber.toUpperCase()}`);

      const rejected = openssl('verify', '-crl_check', '-CAfile', caFile, '-CRLfile', nextFile, revokedFile);
      expect(rejected.status).not.toBe(0);
      expect(rejected.output).toContain('certificate revoked');
      expect(openssl('verify', '-crl_check', '-CAfile', caFile, '-CRLfile', nextFile, keptFile).status).toBe(0);
    },
  );

  it('keeps earlier entries, counts up, and reads back what it wrote', async () => {
    const { issuer, leaf } = await makeRegion();
    const [a, b] = [await leaf('a'), await leaf('b')];
    const thisUpdate = new Date('2030-06-01T12:00:00.700Z');
    let crl = await createCrl(issuer, { crlNumber: 41, thisUpdate, validityDays: 7 });
    expect(readCrl(crl)).toEqual({
      issuer: 'CN=CRL Test CA ec-p256',
      crlNumber: 41,
      thisUpdate: new Date('2030-06-01T12:00:00Z'),
      nextUpdate: new Date('2030-06-08T12:00:00Z'),
      revoked: [],
    });
    crl = await addRevokedSerial(crl, a.serialNumber, issuer, { revocationDate: new Date('2030-06-02T00:00:00Z') });
    crl = await addRevokedSerial(crl, b.serialNumber, issuer, { revocationDate: new Date('2030-06-03T00:00:00Z') });
    const info = await verifyCrl(crl, issuer.certificate);
    expect(info.crlNumber).toBe(43);
    expect(info.revoked).toEqual([
      { serialNumber: a.serialNumber, revocationDate: new Date('2030-06-02T00:00:00Z') },
      { serialNumber: b.serialNumber, revocationDate: new Date('2030-06-03T00:00:00Z') },
    ]);
    expect(info.thisUpdate).toEqual(new Date('2030-06-03T00:00:00Z'));
  });

  it('handles serials with the top bit set (DER sign byte) and refuses revoking twice', async () => {
    const { issuer } = await makeRegion();
    const empty = await createCrl(issuer);
    const crl = await addRevokedSerial(empty, 'FF01', issuer);
    expect(readCrl(crl).revoked.map((entry) => entry.serialNumber)).toEqual(['ff01']);
    await expect(addRevokedSerial(crl, '00ff01', issuer)).rejects.toThrow(
      expect.objectContaining({ code: PKI_ERROR_CODES.alreadyRevoked }),
    );
    await expect(addRevokedSerial(crl, 'not-hex', issuer)).rejects.toThrow(
      expect.objectContaining({ code: PKI_ERROR_CODES.invalidInput }),
    );
  });

  it("refuses to extend another CA's CRL, and garbage", async () => {
    const mine = await makeRegion();
    const theirs = await makeRegion();
    const foreign = await createCrl(theirs.issuer);
    await expect(addRevokedSerial(foreign, '01', mine.issuer)).rejects.toThrow(
      expect.objectContaining({ code: PKI_ERROR_CODES.badSignature }),
    );
    expect(() => readCrl(new Uint8Array([0x30, 0x03, 0x02, 0x01]))).toThrow(
      expect.objectContaining({ code: PKI_ERROR_CODES.malformed }),
    );
  });
});

describe('isNewerCrl', () => {
  const info = (crlNumber: number | undefined, thisUpdate: string): CrlInfo => ({
    issuer: 'CN=Test',
    crlNumber,
    thisUpdate: new Date(thisUpdate),
    nextUpdate: undefined,
    revoked: [],
  });
  it('takes a higher number whatever the dates, and a later thisUpdate only when the numbers are equal or missing', () => {
    expect(isNewerCrl(info(3, '2026-01-01'), info(2, '2026-06-01'))).toBe(true);
    expect(isNewerCrl(info(2, '2026-06-01'), info(3, '2026-01-01'))).toBe(false);
    expect(isNewerCrl(info(2, '2026-06-02'), info(2, '2026-06-01'))).toBe(true);
    expect(isNewerCrl(info(undefined, '2026-06-02'), info(7, '2026-06-01'))).toBe(true);
    expect(isNewerCrl(info(2, '2026-06-01'), info(2, '2026-06-01'))).toBe(false);
  });
});
