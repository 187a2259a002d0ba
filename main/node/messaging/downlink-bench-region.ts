import {
  importDecryptionKey,
  type CmsRecipientIdentity,
  type CmsSigner,
  type CryptoKey,
} from '../../../shared/cms/index.ts';
import {
  createPkcs12,
  createRootCertificate,
  exportPrivateKeyPkcs8,
  generateKeyPair,
  issueCertificate,
  type CertificateIssuer,
  type LeafProfileName,
} from '../../../shared/pki/index.ts';
import { buildExpertEntry } from '../../../shared/protocol/fhir/index.ts';

/**
 * Test support for downlink-bench.ts: the throw-away regional PKI its workstation lives in — the region's CA, the hub,
 * the applicant (dr-berg of clinic-b) and the expert (dr-ahmed of clinic-a) — and the directory entries that publish
 * the practitioners' certificates.
 */
export interface BenchPractitioner {
  readonly id: string;
  readonly signing: CmsSigner;
  readonly encryption: CmsRecipientIdentity;
}

export interface BenchRegion {
  /** The region's CA, to issue renewed certificates and CRLs. */
  readonly issuer: CertificateIssuer;
  readonly hub: CmsSigner;
  readonly applicant: BenchPractitioner;
  readonly expert: BenchPractitioner;
  /** The expert's encryption key as it can be exported to a `.p12` (the identity's own is for key agreement only). */
  readonly expertEncryptionKey: CryptoKey;
  /** A `.p12` of this key and certificate (password 'bench'). */
  readonly p12: (certificate: Uint8Array, privateKey: CryptoKey) => Promise<Uint8Array>;
  /** A `.p12` of a new key and certificate for `practitionerId` issued by the region's CA (password 'bench'). */
  readonly issuePkcs12: (use: 'signing' | 'encryption', practitionerId: string) => Promise<Uint8Array>;
  /** The directory resources of a practitioner's entry, publishing `signingCertificate` (theirs unless given). */
  readonly entry: (
    p: BenchPractitioner,
    organizationId: string,
    endpoint: string,
    signingCertificate?: Uint8Array,
  ) => ReturnType<typeof buildExpertEntry>;
}

export async function createBenchRegion(): Promise<BenchRegion> {
  const caKeys = await generateKeyPair();
  const ca = await createRootCertificate({
    keyPair: caKeys,
    subject: { commonName: 'Bench Region Root CA', organization: 'Bench Region' },
  });
  const issuer: CertificateIssuer = { certificate: ca.der, privateKey: caKeys.privateKey };
  const issue = async (profile: LeafProfileName, commonName: string) => {
    const keys = await generateKeyPair();
    const issued = await issueCertificate({
      profile,
      subject: { commonName, organization: 'Bench Region' },
      publicKey: keys.publicKey,
      issuer,
    });
    return { certificate: issued.der, privateKey: keys.privateKey };
  };
  const exportable = new Map<string, CryptoKey>();
  const practitioner = async (id: string): Promise<BenchPractitioner> => {
    const encryption = await issue('practitioner-encryption', id);
    exportable.set(id, encryption.privateKey);
    // A decryption key as the workstation's identity holds it: ECDH, for key agreement.
    const privateKey = await importDecryptionKey(
      await exportPrivateKeyPkcs8(encryption.privateKey),
      encryption.certificate,
    );
    return {
      id,
      signing: await issue('practitioner-signing', id),
      encryption: { certificate: encryption.certificate, privateKey },
    };
  };
  const applicant = await practitioner('clinic-b.dr-berg');
  const expert = await practitioner('clinic-a.dr-ahmed');
  const hub = await issue('hub', 'hub');
  const p12 = async (certificate: Uint8Array, privateKey: CryptoKey) =>
    createPkcs12({
      privateKeyPkcs8: await exportPrivateKeyPkcs8(privateKey),
      certificate,
      chain: [],
      password: 'bench',
    });
  const base64 = (der: Uint8Array) => Buffer.from(der).toString('base64');
  return {
    issuer,
    hub,
    applicant,
    expert,
    expertEncryptionKey: exportable.get(expert.id)!,
    p12,
    issuePkcs12: async (use, practitionerId) => {
      const issued = await issue(
        use === 'signing' ? 'practitioner-signing' : 'practitioner-encryption',
        practitionerId,
      );
      return p12(issued.certificate, issued.privateKey);
    },
    entry: (p, organizationId, endpoint, signingCertificate = p.signing.certificate) =>
      buildExpertEntry({
        practitionerId: p.id,
        family: p.id.slice(p.id.indexOf('.') + 1),
        given: ['Test'],
        languages: ['en'],
        specialties: [{ text: 'Cardiology' }],
        organizationId,
        endpoints: [endpoint],
        signingCertificate: base64(signingCertificate),
        encryptionCertificate: base64(p.encryption.certificate),
      }),
  };
}
