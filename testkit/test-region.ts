import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CmsSigner, CryptoKey } from '../shared/cms/index.ts';
import {
  createCrl,
  createRootCertificate,
  derToPem,
  exportPrivateKeyPkcs8,
  generateKeyPair,
  issueCertificate,
  PEM_LABELS,
  type CertificateIssuer,
  type LeafProfileName,
} from '../shared/pki/index.ts';
import { toBase64 } from '../shared/pki/index.ts';
import { buildExpertEntry, buildOrganization, type DirectoryResource } from '../shared/protocol/fhir/index.ts';

/**
 * A throw-away regional PKI for hub tests and benchmarks: a CA, the hub, clinic systems (CN = endpoint id) and
 * practitioners with a signing and an encryption certificate each (CN = directory id, as docs/protocol.md §3 requires:
 * the hub and workstations refuse an entry whose certificates name anyone else). EC P-256 throughout (fast to make).
 */
export interface TestIdentity extends CmsSigner {
  readonly certificate: Uint8Array;
  readonly privateKey: CryptoKey;
}

export interface TestPractitioner {
  readonly id: string;
  readonly signing: TestIdentity;
  readonly encryption: TestIdentity;
}

export interface TestRegion {
  readonly ca: TestIdentity;
  readonly hub: TestIdentity;
  readonly dir: string;
  /** Files of the hub's identity and the trust configuration, for a hub config. */
  readonly files: {
    readonly hubCertificate: string;
    readonly hubKey: string;
    readonly ca: string;
    readonly crl: string;
  };
  clinic(id: string): Promise<TestIdentity>;
  practitioner(id: string): Promise<TestPractitioner>;
  /** A certificate of any profile, optionally outside its validity now (expired, not yet valid), for refusal tests. */
  issue(
    profile: LeafProfileName,
    commonName: string,
    validity?: { notBefore?: Date; validityDays?: number },
  ): Promise<TestIdentity>;
  /**
   * A practitioner signing certificate listed on the region's CRL (made before the CRL is written, so that a hub
   * started on these files already sees it revoked).
   */
  readonly revoked: TestIdentity;
}

export async function createTestRegion(dir: string, regionName = 'Test Region'): Promise<TestRegion> {
  mkdirSync(dir, { recursive: true });
  const caKeys = await generateKeyPair();
  const caCert = await createRootCertificate({
    keyPair: caKeys,
    subject: { commonName: `${regionName} Root CA`, organization: regionName },
  });
  const issuer: CertificateIssuer = { certificate: caCert.der, privateKey: caKeys.privateKey };
  const issueWithSerial = async (
    profile: LeafProfileName,
    commonName: string,
    validity: { notBefore?: Date; validityDays?: number } = {},
  ) => {
    const keys = await generateKeyPair();
    const issued = await issueCertificate({
      profile,
      subject: { commonName, organization: regionName },
      publicKey: keys.publicKey,
      issuer,
      ...validity,
    });
    return { identity: { certificate: issued.der, privateKey: keys.privateKey }, serialNumber: issued.serialNumber };
  };
  const issue = async (
    profile: LeafProfileName,
    commonName: string,
    validity?: { notBefore?: Date; validityDays?: number },
  ): Promise<TestIdentity> => (await issueWithSerial(profile, commonName, validity)).identity;
  const revoked = await issueWithSerial('practitioner-signing', 'revoked.signer');
  const hub = await issue('hub', 'hub');
  const files = {
    hubCertificate: join(dir, 'hub.cert.pem'),
    hubKey: join(dir, 'hub.key.pem'),
    ca: join(dir, 'ca.pem'),
    crl: join(dir, 'ca.crl.pem'),
  };
  writeFileSync(files.hubCertificate, derToPem(hub.certificate, PEM_LABELS.certificate));
  writeFileSync(files.hubKey, derToPem(await exportPrivateKeyPkcs8(hub.privateKey), PEM_LABELS.privateKey), {
    mode: 0o600,
  });
  writeFileSync(files.ca, derToPem(caCert.der, PEM_LABELS.certificate));
  writeFileSync(
    files.crl,
    derToPem(
      await createCrl(issuer, { revoked: [{ serialNumber: revoked.serialNumber, revocationDate: new Date() }] }),
      PEM_LABELS.crl,
    ),
  );
  return {
    ca: { certificate: caCert.der, privateKey: caKeys.privateKey },
    hub,
    dir,
    files,
    clinic: (id) => issue('clinic-system', id),
    issue,
    revoked: revoked.identity,
    practitioner: async (id) => ({
      id,
      signing: await issue('practitioner-signing', id),
      encryption: await issue('practitioner-encryption', id),
    }),
  };
}

/** A practitioner's directory entry (Practitioner + PractitionerRole) of a clinic, reached at `endpoints`. */
export function expertEntry(
  p: TestPractitioner,
  options: { organizationId: string; endpoints: readonly string[]; family?: string; specialty?: string },
): DirectoryResource[] {
  return buildExpertEntry({
    practitionerId: p.id,
    family: options.family ?? p.id.slice(p.id.indexOf('.') + 1),
    given: ['Test'],
    languages: ['en'],
    specialties: [{ text: options.specialty ?? 'Cardiology' }],
    organizationId: options.organizationId,
    endpoints: options.endpoints,
    signingCertificate: toBase64(p.signing.certificate),
    encryptionCertificate: toBase64(p.encryption.certificate),
  });
}

export function hospital(id: string, name: string): DirectoryResource {
  return buildOrganization({ id, name, city: 'Testville', country: 'NO' });
}
