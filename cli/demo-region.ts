import { randomBytes } from 'node:crypto';
import {
  createCrl,
  createPkcs12,
  createRootCertificate,
  derToPem,
  describeCertificate,
  exportPrivateKeyPkcs8,
  generateKeyPair,
  issueCertificate,
  PEM_LABELS,
  type CertificateIssuer,
  type DistinguishedName,
  type KeyType,
  type LeafProfileName,
} from '../shared/pki/index.ts';
import type { Manifest, ManifestIdentity } from './manifest.ts';

/**
 * A demo regional PKI, made in memory: a root CA, the hub, two clinic systems and two practitioners per clinic, each
 * practitioner with a signing and an encryption certificate. The people and clinics are invented. Certificates name
 * what the protocol knows them by (docs/protocol.md §3): a clinic system its endpoint id, a practitioner their
 * directory id (`clinic-a.dr-ahmed`); the person's name is in the directory entry, and the mail address here.
 */

export const CA_FILES = { certificate: 'ca.pem', privateKey: 'ca.key.pem', crl: 'ca.crl.pem' } as const;
export const PKCS12_PASSWORD_FILE = 'p12-password.txt';

/** A demo CRL is not refreshed by any service, so it stays current for a year rather than the usual month. */
export const DEMO_CRL_VALIDITY_DAYS = 365;

const CLINICS = [
  {
    name: 'clinic-a',
    unit: 'Riverside Health Centre',
    practitioners: [
      { name: 'dr-ahmed', mailbox: 'layla.ahmed' },
      { name: 'dr-berg', mailbox: 'jonas.berg' },
    ],
  },
  {
    name: 'clinic-b',
    unit: 'Hillview Clinic',
    practitioners: [
      { name: 'dr-chen', mailbox: 'mei.chen' },
      { name: 'dr-duarte', mailbox: 'tomas.duarte' },
    ],
  },
] as const;

export interface DemoFile {
  readonly name: string;
  readonly data: string | Uint8Array;
  /** Keys and the password file are readable by the owner only. */
  readonly secret: boolean;
}

export interface DemoRegion {
  readonly files: DemoFile[];
  readonly manifest: Manifest;
  readonly pkcs12Password: string;
}

interface PlannedIdentity {
  readonly name: string;
  readonly profile: LeafProfileName;
  readonly subject: DistinguishedName;
}

export async function createDemoRegion(options: { region: string; keyType: KeyType }): Promise<DemoRegion> {
  const { region, keyType } = options;
  const pkcs12Password = randomBytes(18).toString('base64url');
  const files: DemoFile[] = [];
  const domain = `${slug(region)}.example`;

  const caKeys = await generateKeyPair(keyType);
  const ca = await createRootCertificate({
    keyPair: caKeys,
    subject: { commonName: `${region} Root CA`, organization: region, organizationalUnit: 'RTS PKI' },
  });
  const issuer: CertificateIssuer = { certificate: ca.der, privateKey: caKeys.privateKey };
  const caKey = await exportPrivateKeyPkcs8(caKeys.privateKey);
  const emptyCrl = await createCrl(issuer, { validityDays: DEMO_CRL_VALIDITY_DAYS });
  files.push(
    { name: CA_FILES.certificate, data: derToPem(ca.der, PEM_LABELS.certificate), secret: false },
    { name: CA_FILES.privateKey, data: derToPem(caKey, PEM_LABELS.privateKey), secret: true },
    { name: CA_FILES.crl, data: derToPem(emptyCrl, PEM_LABELS.crl), secret: false },
    { name: PKCS12_PASSWORD_FILE, data: `${pkcs12Password}\n`, secret: true },
  );

  const identities: ManifestIdentity[] = [];
  for (const planned of plan(region, domain)) {
    const keys = await generateKeyPair(keyType);
    const certificate = await issueCertificate({
      profile: planned.profile,
      subject: planned.subject,
      publicKey: keys.publicKey,
      issuer,
    });
    const privateKeyPkcs8 = await exportPrivateKeyPkcs8(keys.privateKey);
    const names = {
      certificate: `${planned.name}.cert.pem`,
      privateKey: `${planned.name}.key.pem`,
      pkcs12: `${planned.name}.p12`,
    };
    files.push(
      { name: names.certificate, data: derToPem(certificate.der, PEM_LABELS.certificate), secret: false },
      { name: names.privateKey, data: derToPem(privateKeyPkcs8, PEM_LABELS.privateKey), secret: true },
      {
        name: names.pkcs12,
        data: await createPkcs12({
          privateKeyPkcs8,
          certificate: certificate.der,
          chain: [ca.der],
          password: pkcs12Password,
          friendlyName: planned.name,
        }),
        secret: true,
      },
    );
    identities.push(manifestEntry(planned.name, planned.profile, certificate.der, names));
  }

  const manifest: Manifest = {
    region,
    keyType,
    createdAt: new Date().toISOString(),
    ca: manifestEntry('ca', 'root-ca', ca.der, { certificate: CA_FILES.certificate, privateKey: CA_FILES.privateKey }),
    crl: { file: CA_FILES.crl, crlNumber: 1 },
    pkcs12PasswordFile: PKCS12_PASSWORD_FILE,
    identities,
  };
  return { files, manifest, pkcs12Password };
}

function plan(region: string, domain: string): PlannedIdentity[] {
  const identities: PlannedIdentity[] = [
    {
      name: 'hub',
      profile: 'hub',
      subject: { commonName: 'hub', organization: region, organizationalUnit: 'RTS Hub' },
    },
  ];
  for (const clinic of CLINICS) {
    identities.push({
      name: clinic.name,
      profile: 'clinic-system',
      subject: { commonName: clinic.name, organization: region, organizationalUnit: clinic.unit },
    });
  }
  for (const clinic of CLINICS) {
    for (const practitioner of clinic.practitioners) {
      // The directory id: what the hub and every workstation check against the entry that carries the certificate.
      const name = `${clinic.name}.${practitioner.name}`;
      const subject: DistinguishedName = {
        commonName: name,
        organization: region,
        organizationalUnit: clinic.unit,
        emailAddress: `${practitioner.mailbox}@${clinic.name}.${domain}`,
      };
      identities.push(
        { name: `${name}.signing`, profile: 'practitioner-signing', subject },
        { name: `${name}.encryption`, profile: 'practitioner-encryption', subject },
      );
    }
  }
  return identities;
}

function manifestEntry(
  name: string,
  profile: ManifestIdentity['profile'],
  der: Uint8Array,
  files: ManifestIdentity['files'],
): ManifestIdentity {
  const { subject, serialNumber, notAfter } = describeCertificate(der);
  return { name, profile, subject, serialNumber, notAfter, files };
}

/** "Demo Region" → "demo-region", for the invented mail domain; diacritics dropped. */
function slug(text: string): string {
  const ascii = text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase();
  return ascii.replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '') || 'region';
}
