import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { createRootCertificate, issueCertificate } from './certificate.ts';
import { describeCertificate } from './describe.ts';
import { PKI_ERROR_CODES } from './errors.ts';
import { generateKeyPair } from './keys.ts';
import { derToPem } from './pem.ts';

function opensslX509(der: Uint8Array, ...args: string[]): string {
  const result = spawnSync('openssl', ['x509', '-noout', ...args], {
    input: derToPem(der, 'CERTIFICATE'),
    encoding: 'utf8',
  });
  expect(result.status, result.stderr).toBe(0);
  return result.stdout;
}

describe('describeCertificate', () => {
  it('agrees with OpenSSL on a CA and an RSA encryption leaf', async () => {
    const caKeys = await generateKeyPair();
    const ca = await createRootCertificate({
      keyPair: caKeys,
      subject: { commonName: 'Describe CA', organization: 'North Valley', country: 'NO' },
    });
    const { publicKey } = await generateKeyPair('rsa-3072');
    const leaf = await issueCertificate({
      profile: 'practitioner-encryption',
      publicKey,
      issuer: { certificate: ca.der, privateKey: caKeys.privateKey },
      subject: {
        commonName: 'Dr. Mei Chen',
        organization: 'North Valley',
        organizationalUnit: 'Clinic B',
        emailAddress: 'mei.chen@clinic-b.example',
      },
    });

    const caDescription = describeCertificate(ca.der);
    expect(caDescription).toMatchObject({
      subject: 'CN=Describe CA,O=North Valley,C=NO',
      issuer: 'CN=Describe CA,O=North Valley,C=NO',
      serialNumber: ca.serialNumber,
      keyAlgorithm: 'EC P-256',
      keyUsage: ['keyCertSign', 'cRLSign'],
      extendedKeyUsage: [],
      isCa: true,
    });

    const description = describeCertificate(leaf.der);
    expect(description).toMatchObject({
      subject: 'emailAddress=mei.chen@clinic-b.example,CN=Dr. Mei Chen,OU=Clinic B,O=North Valley',
      issuer: 'CN=Describe CA,O=North Valley,C=NO',
      keyAlgorithm: 'RSA 3072',
      keyUsage: ['keyEncipherment'],
      extendedKeyUsage: ['emailProtection'],
      isCa: false,
    });
    const openssl = opensslX509(leaf.der, '-serial', '-dates');
    expect(openssl).toContain(`serial=${description.serialNumber.toUpperCase()}`);
    const date = (name: string) => new Date(new RegExp(`${name}=(.+)`).exec(openssl)?.[1] ?? '').toISOString();
    expect(description.notBefore).toBe(date('notBefore'));
    expect(description.notAfter).toBe(date('notAfter'));
  });

  it('describes a certificate OpenSSL made (other extensions, unnamed EKU OID)', () => {
    const result = spawnSync('openssl', [
      ...['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-384', '-nodes', '-keyout', '/dev/null'],
      ...['-subj', '/CN=OpenSSL made', '-days', '1', '-outform', 'DER'],
      ...['-addext', 'extendedKeyUsage=serverAuth,1.3.6.1.4.1.99999.1'],
      ...['-addext', 'keyUsage=digitalSignature,decipherOnly'],
    ]);
    expect(result.status, result.stderr.toString()).toBe(0);
    expect(describeCertificate(new Uint8Array(result.stdout))).toMatchObject({
      subject: 'CN=OpenSSL made',
      keyAlgorithm: 'EC P-384',
      keyUsage: ['digitalSignature', 'decipherOnly'],
      extendedKeyUsage: ['serverAuth', '1.3.6.1.4.1.99999.1'],
      isCa: true, // openssl req -x509 marks its self-signed certificates as CAs
    });
  });

  it('refuses garbage as pki-malformed', () => {
    expect(() => describeCertificate(new Uint8Array([1, 2, 3]))).toThrow(
      expect.objectContaining({ code: PKI_ERROR_CODES.malformed }),
    );
  });
});
