import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRootCertificate, parseCertificate, type CertificateIssuer } from './certificate.ts';
import {
  createCertificationRequest,
  issueCertificateFromRequest,
  readCertificationRequest,
} from './certification-request.ts';
import { describeCertificate } from './describe.ts';
import { PKI_ERROR_CODES } from './errors.ts';
import { exportPrivateKeyPkcs8, generateKeyPair, privateKeyMatchesPublicKey, type KeyType } from './keys.ts';
import { derToPem } from './pem.ts';

let dir: string;
let issuer: CertificateIssuer;
const CA_FILE = 'ca.pem';

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rts-pki-csr-'));
  const keyPair = await generateKeyPair();
  const root = await createRootCertificate({
    keyPair,
    subject: { commonName: 'Test Region Root CA', organization: 'Test Region' },
  });
  issuer = { certificate: root.der, privateKey: keyPair.privateKey };
  writeFileSync(join(dir, CA_FILE), derToPem(root.der, 'CERTIFICATE'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function openssl(...args: string[]): { status: number | null; output: string } {
  const result = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
  return { status: result.status, output: result.stdout + result.stderr };
}

function write(name: string, data: Uint8Array | string): string {
  writeFileSync(join(dir, name), data);
  return name;
}

/** A DER request made by `openssl req -new` with a fresh key. */
function opensslRequest(name: string, subject: string, ...keyArgs: string[]): Uint8Array {
  const result = openssl(
    'req',
    '-new',
    ...keyArgs,
    '-nodes',
    '-keyout',
    `${name}.key.pem`,
    '-subj',
    subject,
    '-outform',
    'DER',
    '-out',
    `${name}.csr`,
  );
  expect(result.status, result.output).toBe(0);
  return new Uint8Array(readFileSync(join(dir, `${name}.csr`)));
}

const spkiOfCertificate = (der: Uint8Array) =>
  new Uint8Array(parseCertificate(der).subjectPublicKeyInfo.toSchema().toBER());

const SUBJECT = {
  commonName: 'Dr. Tomás Duarte',
  organizationalUnit: 'Hillview Clinic',
  organization: 'Test Region',
  emailAddress: 'tomas.duarte@clinic-b.example',
};

describe('certification requests', () => {
  it.each(['ec-p256', 'rsa-2048'] as const)(
    '%s: round trip, openssl req -verify accepts it, issued for its key',
    async (keyType: KeyType) => {
      const keyPair = await generateKeyPair(keyType);
      const csr = await createCertificationRequest({ keyPair, subject: SUBJECT });
      const file = write(`ours-${keyType}.csr`, csr);
      const verified = openssl('req', '-verify', '-noout', '-inform', 'DER', '-in', file);
      expect(verified.status, verified.output).toBe(0);
      // The exit status alone proves nothing: OpenSSL 3.0 exits 0 after a failed self-signature too.
      expect(verified.output).toMatch(/verify OK/i);

      const spki = new Uint8Array(await crypto.subtle.exportKey('spki', keyPair.publicKey));
      expect(await readCertificationRequest(csr)).toEqual({
        subject: SUBJECT,
        publicKeySpki: spki,
        keyUsage: undefined,
      });

      const issued = await issueCertificateFromRequest({
        request: csr,
        profile: 'practitioner-signing',
        issuer,
        validityDays: 30,
      });
      expect(spkiOfCertificate(issued.der)).toEqual(spki);
      expect(
        await privateKeyMatchesPublicKey(
          await exportPrivateKeyPkcs8(keyPair.privateKey),
          spkiOfCertificate(issued.der),
        ),
      ).toBe(true);
      const description = describeCertificate(issued.der);
      expect(description.subject).toBe(
        'emailAddress=tomas.duarte@clinic-b.example,CN=Dr. Tomás Duarte,OU=Hillview Clinic,O=Test Region',
      );
      expect(description.keyUsage).toEqual(['digitalSignature', 'nonRepudiation']);
      expect(Date.parse(description.notAfter) - Date.parse(description.notBefore)).toBe(30 * 24 * 60 * 60 * 1000);
      const chain = openssl(
        'verify',
        '-CAfile',
        CA_FILE,
        write(`ours-${keyType}.pem`, derToPem(issued.der, 'CERTIFICATE')),
      );
      expect(chain.status, chain.output).toBe(0);
    },
  );

  it('reads and issues a request made by openssl req (EC P-256, and RSA)', async () => {
    for (const [name, keyArgs] of [
      ['openssl-ec', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256']],
      ['openssl-rsa', ['-newkey', 'rsa:2048']],
    ] as const) {
      const csr = opensslRequest(name, '/CN=x', ...keyArgs);
      const contents = await readCertificationRequest(csr);
      expect(contents.subject).toEqual({ commonName: 'x' });
      const issued = await issueCertificateFromRequest({ request: csr, profile: 'practitioner-encryption', issuer });
      expect(spkiOfCertificate(issued.der)).toEqual(contents.publicKeySpki);
      const certificate = write(`${name}.pem`, derToPem(issued.der, 'CERTIFICATE'));
      expect(openssl('verify', '-CAfile', CA_FILE, certificate).status).toBe(0);
      // The certificate is for the key openssl made.
      const keyPem = openssl('pkey', '-in', `${name}.key.pem`, '-pubout').output;
      expect(keyPem).toMatch(/^-----BEGIN PUBLIC KEY-----/);
      expect(openssl('x509', '-in', certificate, '-noout', '-pubkey').output).toBe(keyPem);
    }
  });

  it('with a profile, asks for its key usages; issuing under a profile that does not grant them is refused', async () => {
    const ec = await generateKeyPair();
    const csr = await createCertificationRequest({
      keyPair: ec,
      subject: { commonName: 'x' },
      profile: 'practitioner-encryption',
    });
    const text = openssl('req', '-noout', '-text', '-inform', 'DER', '-in', write('profile.csr', csr)).output;
    expect(text).toMatch(
      /Requested Extensions:\s+X509v3 Key Usage: critical\s+Key Agreement\s+X509v3 Extended Key Usage:\s+E-mail Protection/,
    );
    expect((await readCertificationRequest(csr)).keyUsage).toEqual(['keyAgreement']);

    await expect(
      issueCertificateFromRequest({ request: csr, profile: 'practitioner-signing', issuer }),
    ).rejects.toThrow(
      expect.objectContaining({ code: PKI_ERROR_CODES.invalidInput, message: expect.stringContaining('keyAgreement') }),
    );
    const issued = await issueCertificateFromRequest({ request: csr, profile: 'practitioner-encryption', issuer });
    expect(describeCertificate(issued.der).keyUsage).toEqual(['keyAgreement']);

    const rsa = await generateKeyPair('rsa-2048');
    const rsaCsr = await createCertificationRequest({
      keyPair: rsa,
      subject: { commonName: 'x' },
      profile: 'practitioner-encryption',
    });
    expect((await readCertificationRequest(rsaCsr)).keyUsage).toEqual(['keyEncipherment']);
  });

  it('refuses a request altered after signing (one byte of the subject) as a bad signature', async () => {
    const csr = await createCertificationRequest({
      keyPair: await generateKeyPair(),
      subject: { commonName: 'Dr. Ahmed' },
    });
    const at = Buffer.from(csr).indexOf('Ahmed');
    expect(at).toBeGreaterThan(0);
    const tampered = csr.slice();
    tampered[at] = (tampered[at] ?? 0) ^ 0x01; // 'A' -> '@': still a valid name
    const badSignature = expect.objectContaining({ code: PKI_ERROR_CODES.badSignature });
    await expect(readCertificationRequest(tampered)).rejects.toThrow(badSignature);
    await expect(issueCertificateFromRequest({ request: tampered, profile: 'hub', issuer })).rejects.toThrow(
      badSignature,
    );
    // OpenSSL 3.0 exits 0 even when the self-signature fails, so its words are what counts.
    const opensslSays = openssl(
      'req',
      '-verify',
      '-noout',
      '-inform',
      'DER',
      '-in',
      write('tampered.csr', tampered),
    ).output;
    expect(opensslSays).toMatch(/verify failure/i);
    expect(opensslSays).not.toMatch(/verify OK/i);
  });

  it('refuses garbage, and a certificate, as malformed', async () => {
    const malformed = expect.objectContaining({ code: PKI_ERROR_CODES.malformed });
    for (const bytes of [
      new Uint8Array(0),
      Uint8Array.of(0x30, 0x00),
      crypto.getRandomValues(new Uint8Array(300)),
      issuer.certificate,
    ]) {
      await expect(readCertificationRequest(bytes)).rejects.toThrow(malformed);
    }
  });

  it('refuses keys, signature algorithms and subject attributes this PKI does not use', async () => {
    const p256 = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'];
    const cases: [string, string, string[], string][] = [
      [
        'secp256k1',
        '/CN=x',
        ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:secp256k1'],
        'unsupported or unnamed curve',
      ],
      ['sha1', '/CN=x', [...p256, '-sha1'], 'signed with unsupported algorithm 1.2.840.10045.4.1'],
      ['locality', '/CN=x/L=Berlin', p256, 'attribute L'],
      ['two-units', '/OU=a/OU=b/CN=x', p256, 'more than one OU'],
    ];
    for (const [name, subject, keyArgs, message] of cases) {
      await expect(readCertificationRequest(opensslRequest(name, subject, ...keyArgs)), name).rejects.toThrow(
        expect.objectContaining({ code: PKI_ERROR_CODES.unsupported, message: expect.stringContaining(message) }),
      );
    }
    const noCommonName = opensslRequest('no-cn', '/O=Test Region', ...p256);
    await expect(readCertificationRequest(noCommonName)).rejects.toThrow(
      expect.objectContaining({ code: PKI_ERROR_CODES.invalidInput }),
    );
  });
});
