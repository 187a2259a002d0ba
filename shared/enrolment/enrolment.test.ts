import { describe, expect, it } from 'vitest';
import {
  createCrl,
  createRootCertificate,
  derToPem,
  generateKeyPair,
  issueCertificate,
  PEM_LABELS,
  type CertificateIssuer,
} from '../pki/index.ts';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  certificateFingerprint,
  ENROLMENT_FORMAT,
  ENROLMENT_SIGNER_COMMON_NAME,
  EnrolmentError,
  signEnrolment,
  verifyEnrolment,
  verifyEnrolmentWithItsOwnCa,
  type Enrolment,
} from './enrolment.ts';

const DAY_MS = 86_400_000;

async function makeRegion() {
  const keyPair = await generateKeyPair();
  const root = await createRootCertificate({ keyPair, subject: { commonName: 'Enrolment Test CA' } });
  const issuer: CertificateIssuer = { certificate: root.der, privateKey: keyPair.privateKey };
  const identity = async (commonName: string) => {
    const keys = await generateKeyPair();
    const issued = await issueCertificate({
      profile: 'clinic-system',
      publicKey: keys.publicKey,
      issuer,
      subject: { commonName },
    });
    return { ...issued, signer: { certificate: issued.der, privateKey: keys.privateKey } };
  };
  const signer = await identity(ENROLMENT_SIGNER_COMMON_NAME);
  const hub = await identity('hub');
  const enrolment = (crl: Uint8Array): Enrolment => ({
    format: ENROLMENT_FORMAT,
    region: 'Test Region',
    endpoint: { id: 'ws-1', kind: 'workstation' },
    broker: {
      hosts: [{ host: 'broker.test.example', port: 5671 }],
      vhost: 'rts',
      username: 'ws-1',
      tlsCaPem: derToPem(root.der, PEM_LABELS.certificate),
    },
    caCertificatePem: derToPem(root.der, PEM_LABELS.certificate),
    crlPem: derToPem(crl, PEM_LABELS.crl),
    hubCertificatePem: derToPem(hub.der, PEM_LABELS.certificate),
    issuedAt: new Date().toISOString(),
  });
  return { root, issuer, signer, hub, enrolment };
}

const refusal = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (error: unknown) => error,
  );

describe('enrolment file', () => {
  it('verifies against the region CA and returns exactly what was signed', async () => {
    const region = await makeRegion();
    const enrolment = region.enrolment(await createCrl(region.issuer, { crlNumber: 1, validityDays: 7 }));
    const file = await signEnrolment(enrolment, region.signer.signer);
    await expect(verifyEnrolment(file, region.root.der)).resolves.toEqual(enrolment);
    // As Node's readFileSync gives it: a Buffer, whose slice() is a view into a larger pool, not a copy.
    const view = Buffer.concat([Buffer.alloc(8, 0x30), file]).subarray(8);
    await expect(verifyEnrolment(view, region.root.der)).resolves.toEqual(enrolment);
  });

  it("refuses a file signed by another of the region's certificates, one whose signer is revoked, and one whose CRL is out of date", async () => {
    const region = await makeRegion();
    const crl = await createCrl(region.issuer, { crlNumber: 1, validityDays: 7 });
    const byHub = await signEnrolment(region.enrolment(crl), region.hub.signer);
    const hubRefusal = await refusal(verifyEnrolment(byHub, region.root.der));
    expect(hubRefusal).toBeInstanceOf(EnrolmentError);
    expect((hubRefusal as Error).message).toBe(
      `the enrolment file is signed by "hub", not by the region's enrolment signer`,
    );

    const revoking = await createCrl(region.issuer, {
      crlNumber: 2,
      revoked: [{ serialNumber: region.signer.serialNumber, revocationDate: new Date() }],
    });
    const revoked = await refusal(
      verifyEnrolment(await signEnrolment(region.enrolment(revoking), region.signer.signer), region.root.der),
    );
    expect((revoked as Error).message).toMatch(/^the enrolment file's signature is refused: .*revoked/);

    const file = await signEnrolment(region.enrolment(crl), region.signer.signer);
    const stale = await refusal(verifyEnrolment(file, region.root.der, new Date(Date.now() + 30 * DAY_MS)));
    expect(stale).toBeInstanceOf(EnrolmentError);
    expect((stale as Error).message).toMatch(/^the enrolment file's signature is refused: /);
  });

  it('refuses bytes that are no enrolment file with one line, not a parser error', async () => {
    const region = await makeRegion();
    const error = await refusal(
      verifyEnrolment(new TextEncoder().encode('{"format":"rts-enrolment/1"}'), region.root.der),
    );
    expect(error).toBeInstanceOf(EnrolmentError);
    expect((error as Error).message).toBe('the file is not an enrolment file (no signed content)');
  });

  it('at first use verifies a file against the CA it carries, and refuses one whose signer another CA issued', async () => {
    const region = await makeRegion();
    const file = await signEnrolment(
      region.enrolment(await createCrl(region.issuer, { crlNumber: 1, validityDays: 7 })),
      region.signer.signer,
    );
    const verified = await verifyEnrolmentWithItsOwnCa(file);
    expect(verified.enrolment.endpoint).toEqual({ id: 'ws-1', kind: 'workstation' });
    expect(verified.caFingerprint).toBe(await certificateFingerprint(region.root.der));

    // The same contents, re-signed by another region's enrolment signer: the file still names the first CA.
    const other = await makeRegion();
    const resigned = await signEnrolment(verified.enrolment, other.signer.signer);
    const error = await refusal(verifyEnrolmentWithItsOwnCa(resigned));
    expect(error).toBeInstanceOf(EnrolmentError);
    expect((error as Error).message).toMatch(/^the enrolment file's signature is refused: /);
  });

  it("prints a CA's fingerprint as openssl x509 -fingerprint -sha256 does", async () => {
    const region = await makeRegion();
    const dir = mkdtempSync(join(tmpdir(), 'rts-fingerprint-'));
    writeFileSync(join(dir, 'ca.pem'), derToPem(region.root.der, PEM_LABELS.certificate));
    const openssl = execFileSync('openssl', ['x509', '-noout', '-fingerprint', '-sha256', '-in', join(dir, 'ca.pem')], {
      encoding: 'utf8',
    });
    expect(`sha256 Fingerprint=${await certificateFingerprint(region.root.der)}`).toBe(
      openssl.trim().replace(/^SHA256/i, 'sha256'),
    );
  });
});
