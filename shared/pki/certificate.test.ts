import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as asn1js from 'asn1js';
import { Extension } from 'pkijs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCrl } from './crl.ts';
import {
  createRootCertificate,
  extendedKeyUsageOf,
  issueCertificate,
  keyUsageOf,
  parseCertificate,
  type CertificateIssuer,
  type LeafProfileName,
} from './certificate.ts';
import { describeCertificate } from './describe.ts';
import { PKI_ERROR_CODES } from './errors.ts';
import { generateKeyPair, type KeyType } from './keys.ts';
import { derToPem } from './pem.ts';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'rts-pki-cert-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function openssl(...args: string[]): { status: number | null; output: string } {
  const result = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
  return { status: result.status, output: result.stdout + result.stderr };
}

function writePem(name: string, der: Uint8Array): string {
  writeFileSync(join(dir, name), derToPem(der, 'CERTIFICATE'));
  return name;
}

async function makeCa(keyType: KeyType = 'ec-p256', validityDays?: number) {
  const keyPair = await generateKeyPair(keyType);
  const root = await createRootCertificate({
    keyPair,
    subject: { commonName: 'Test Region Root CA', organization: 'Test Region', country: 'DE' },
    ...(validityDays === undefined ? {} : { validityDays }),
  });
  const issuer: CertificateIssuer = { certificate: root.der, privateKey: keyPair.privateKey };
  return { root, issuer, file: writePem(`ca-${keyType}-${validityDays ?? 'default'}.pem`, root.der) };
}

async function issue(issuer: CertificateIssuer, profile: LeafProfileName, keyType: KeyType = 'ec-p256') {
  const { publicKey } = await generateKeyPair(keyType);
  return issueCertificate({
    profile,
    publicKey,
    issuer,
    subject: {
      commonName: 'Dr. Tomás Duarte',
      organizationalUnit: 'Clinic B',
      organization: 'Test Region',
      emailAddress: 'tomas.duarte@clinic-b.example',
    },
  });
}

/** The named extensions as `openssl x509 -ext` prints them. */
function extensions(file: string): string {
  const result = openssl('x509', '-in', file, '-noout', '-ext', 'basicConstraints,keyUsage,extendedKeyUsage');
  expect(result.status, result.output).toBe(0);
  return result.output;
}

describe('certificates as OpenSSL sees them', () => {
  it('root CA: self-signed, critical cA and keyCertSign/cRLSign, SKI = AKI, SHA-256', async () => {
    const { file } = await makeCa();
    const text = openssl('x509', '-in', file, '-noout', '-text').output;
    expect(text).toContain('Signature Algorithm: ecdsa-with-SHA256');
    expect(text).toMatch(/Basic Constraints: critical\s+CA:TRUE/);
    expect(text).toMatch(/Key Usage: critical\s+Certificate Sign, CRL Sign\n/);
    expect(text).not.toContain('Extended Key Usage');
    const ski = /Subject Key Identifier:\s+([0-9A-F:]+)/.exec(text)?.[1];
    const aki = /Authority Key Identifier:\s+(?:keyid:)?([0-9A-F:]+)/.exec(text)?.[1];
    expect(ski).toMatch(/^([0-9A-F]{2}:){19}[0-9A-F]{2}$/);
    expect(aki).toBe(ski);
    expect(openssl('verify', '-CAfile', file, file).status).toBe(0);
  });

  it('subjects: one attribute per RDN, UTF-8 kept, C/O/OU/CN/emailAddress in order', async () => {
    const { issuer } = await makeCa();
    const leaf = await issue(issuer, 'practitioner-signing');
    const file = writePem('subject.pem', leaf.der);
    const result = openssl('x509', '-in', file, '-noout', '-subject', '-issuer', '-nameopt', 'utf8,sep_comma_plus');
    expect(result.output).toContain(
      'subject=O=Test Region,OU=Clinic B,CN=Dr. Tomás Duarte,emailAddress=tomas.duarte@clinic-b.example',
    );
    expect(result.output).toContain('issuer=C=DE,O=Test Region,CN=Test Region Root CA');
  });

  const leafCases: [LeafProfileName, KeyType, RegExp][] = [
    [
      'hub',
      'ec-p256',
      /Key Usage: critical\s+Digital Signature\n[\s\S]*Extended Key Usage:\s+E-mail Protection, TLS Web Client Authentication/,
    ],
    [
      'clinic-system',
      'ec-p256',
      /Key Usage: critical\s+Digital Signature\n[\s\S]*Extended Key Usage:\s+E-mail Protection, TLS Web Client Authentication/,
    ],
    [
      'practitioner-signing',
      'ec-p256',
      /Key Usage: critical\s+Digital Signature, Non Repudiation\n[\s\S]*Extended Key Usage:\s+E-mail Protection\n/,
    ],
    [
      'practitioner-encryption',
      'ec-p256',
      /Key Usage: critical\s+Key Agreement\n[\s\S]*Extended Key Usage:\s+E-mail Protection\n/,
    ],
    [
      'practitioner-encryption',
      'rsa-2048',
      /Key Usage: critical\s+Key Encipherment\n[\s\S]*Extended Key Usage:\s+E-mail Protection\n/,
    ],
  ];

  it.each(leafCases)('%s (%s): profile extensions, CA:FALSE, chain verifies', async (profile, keyType, expected) => {
    const { issuer, file: caFile } = await makeCa();
    const leaf = await issue(issuer, profile, keyType);
    const file = writePem(`${profile}-${keyType}.pem`, leaf.der);
    const text = extensions(file);
    expect(text).toMatch(/Basic Constraints: critical\s+CA:FALSE/);
    expect(text).toMatch(expected);
    const verified = openssl('verify', '-CAfile', caFile, file);
    expect(verified.output).toContain(`${file}: OK`);
    // The same leaf against an unrelated CA must fail: the check above is not vacuous.
    const other = await makeCa();
    expect(openssl('verify', '-CAfile', other.file, file).status).not.toBe(0);
  });

  it('leaf AKI is the CA SKI; serial is random, positive, 16 bytes, and reported as OpenSSL prints it', async () => {
    const { root, issuer, file: caFile } = await makeCa();
    const a = await issue(issuer, 'hub');
    const b = await issue(issuer, 'hub');
    expect(a.serialNumber).not.toBe(b.serialNumber);
    const caSki = /Subject Key Identifier:\s+([0-9A-F:]+)/.exec(
      openssl('x509', '-in', caFile, '-noout', '-text').output,
    )?.[1];
    const file = writePem('aki.pem', a.der);
    const text = openssl('x509', '-in', file, '-noout', '-text', '-serial').output;
    expect(/Authority Key Identifier:\s+(?:keyid:)?([0-9A-F:]+)/.exec(text)?.[1]).toBe(caSki);
    expect(text).toContain(`serial=${a.serialNumber.toUpperCase()}`);
    expect(a.serialNumber).toMatch(/^[0-7][0-9a-f]{31}$/);
    expect(describeCertificate(root.der).serialNumber).toBe(root.serialNumber);
  });

  it('RSA-3072 CA signs with sha256WithRSAEncryption', async () => {
    const { issuer, file: caFile } = await makeCa('rsa-3072');
    const leaf = await issue(issuer, 'clinic-system');
    const file = writePem('rsa-ca-leaf.pem', leaf.der);
    expect(openssl('x509', '-in', file, '-noout', '-text').output).toContain(
      'Signature Algorithm: sha256WithRSAEncryption',
    );
    expect(openssl('verify', '-CAfile', caFile, file).output).toContain(`${file}: OK`);
  });

  it('writes CRL distribution points when asked', async () => {
    const { issuer } = await makeCa();
    const { publicKey } = await generateKeyPair();
    const leaf = await issueCertificate({
      profile: 'hub',
      publicKey,
      issuer,
      subject: { commonName: 'hub' },
      crlDistributionPoints: ['http://pki.test-region.example/ca.crl'],
    });
    const text = openssl(
      'x509',
      '-in',
      writePem('cdp.pem', leaf.der),
      '-noout',
      '-ext',
      'crlDistributionPoints',
    ).output;
    expect(text).toMatch(/CRL Distribution Points:\s+Full Name:\s+URI:http:\/\/pki\.test-region\.example\/ca\.crl/);
  });

  it('validity: notBefore as given, profile default length, never past the issuer, GeneralizedTime from 2050', async () => {
    const { root, issuer } = await makeCa('ec-p256', 100);
    const notBefore = new Date('2030-01-01T00:00:00.500Z');
    const { publicKey } = await generateKeyPair();
    const clamped = await issueCertificate({ profile: 'hub', publicKey, issuer, subject: { commonName: 'hub' } });
    expect(describeCertificate(clamped.der).notAfter).toBe(describeCertificate(root.der).notAfter);

    const far = await makeCa('ec-p256', 365 * 40);
    const leaf = await issueCertificate({
      profile: 'hub',
      publicKey,
      issuer: far.issuer,
      subject: { commonName: 'hub' },
      notBefore,
      validityDays: 365 * 25,
    });
    const description = describeCertificate(leaf.der);
    expect(description.notBefore).toBe('2030-01-01T00:00:00.000Z');
    expect(description.notAfter).toBe('2054-12-26T00:00:00.000Z');
    const dates = openssl('x509', '-in', writePem('far.pem', leaf.der), '-noout', '-dates').output;
    expect(dates).toContain('notAfter=Dec 26 00:00:00 2054 GMT');
  });

  it('refuses a non-CA issuer and invalid subjects with pki-invalid-input', async () => {
    const { issuer } = await makeCa();
    const { publicKey, privateKey } = await generateKeyPair();
    const leaf = await issueCertificate({ profile: 'hub', publicKey, issuer, subject: { commonName: 'hub' } });
    const invalid = expect.objectContaining({ code: PKI_ERROR_CODES.invalidInput });
    const leafAsIssuer = { certificate: leaf.der, privateKey };
    await expect(
      issueCertificate({ profile: 'hub', publicKey, issuer: leafAsIssuer, subject: { commonName: 'x' } }),
    ).rejects.toThrow(invalid);
    const subjects = [
      { commonName: ' ' },
      { commonName: 'x', country: 'Germany' },
      { commonName: 'x', emailAddress: 'tomás@example' },
    ];
    for (const subject of subjects) {
      await expect(issueCertificate({ profile: 'hub', publicKey, issuer, subject })).rejects.toThrow(invalid);
    }
  });
});

describe('reading KeyUsage and ExtendedKeyUsage', () => {
  /** The certificate with the extension's value replaced (its signature no longer matches, which reading ignores). */
  function withExtensionValue(der: Uint8Array, extnID: string, value: asn1js.BaseBlock): Uint8Array {
    const certificate = parseCertificate(der);
    certificate.extensions = (certificate.extensions ?? []).map((extension) =>
      extension.extnID === extnID
        ? new Extension({ extnID, critical: extension.critical, extnValue: value.toBER() })
        : extension,
    );
    return new Uint8Array(certificate.toSchema(true).toBER());
  }

  it('reads the usages, and undefined where the extension is absent', async () => {
    const { root, issuer } = await makeCa();
    const leaf = await issue(issuer, 'practitioner-signing');
    expect(keyUsageOf(parseCertificate(leaf.der))).toEqual(['digitalSignature', 'nonRepudiation']);
    expect(extendedKeyUsageOf(parseCertificate(leaf.der))).toEqual(['1.3.6.1.5.5.7.3.4']);
    expect(extendedKeyUsageOf(parseCertificate(root.der))).toBeUndefined();
  });

  it('fails closed with pki-malformed when an extension is present but unreadable', async () => {
    const { root, issuer } = await makeCa();
    const malformed = expect.objectContaining({ code: PKI_ERROR_CODES.malformed });
    const garbledCa = withExtensionValue(root.der, '2.5.29.15', new asn1js.Integer({ value: 1 }));
    expect(() => keyUsageOf(parseCertificate(garbledCa))).toThrow(malformed);
    expect(() => describeCertificate(garbledCa)).toThrow(malformed);
    // Unreadable is not "no KeyUsage, so any usage": the CA may not sign.
    const { publicKey } = await generateKeyPair();
    const garbledIssuer = { ...issuer, certificate: garbledCa };
    await expect(
      issueCertificate({ profile: 'hub', publicKey, issuer: garbledIssuer, subject: { commonName: 'x' } }),
    ).rejects.toThrow(malformed);
    await expect(createCrl(garbledIssuer)).rejects.toThrow(malformed);

    const leaf = await issue(issuer, 'hub');
    const garbledLeaf = withExtensionValue(leaf.der, '2.5.29.37', new asn1js.Integer({ value: 1 }));
    expect(() => extendedKeyUsageOf(parseCertificate(garbledLeaf))).toThrow(malformed);
  });
});
