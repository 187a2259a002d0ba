import { checkTrustRevocation, createCertificateValidator, importDecryptionKey, importSigningKey, isCmsError, type CmsRecipientIdentity, type CmsSigner, type CryptoKey, type TrustConfig } from '../../../shared/cms/index.ts';
import { toBase64 } from '../../../shared/pki/bytes.ts';
import {
  commonNameOf, createCertificationRequest, derToPem, describeCertificate, exportPrivateKeyPkcs8, generateKeyPair, isPkiError, parsePkcs12, pemToDerAll, PEM_LABELS, readCrl, verifyCrl,
} from '../../../shared/pki/index.ts';
import { migrate, type SqliteDatabase } from '../../../transport/sqlite-database.ts';
import type { SecretVault } from '../vault/secret-vault.ts';
import { privateKeyAccount } from '../vault/vault-accounts.ts';

/**
 * The practitioner working at this workstation: a signing and an encryption certificate (in the encrypted store) with
 * their private keys (in the OS keychain, and once loaded only as non-extractable keys in this process), plus the
 * region's trust configuration: CA certificates, CRLs and the hub's certificate.
 */
export type CertificateUse = 'signing' | 'encryption';
export const CERTIFICATE_USES: readonly CertificateUse[] = ['signing', 'encryption'];

export type CertificateState = 'valid' | 'expiring' | 'expired' | 'not-yet-valid' | 'revoked' | 'untrusted';

export interface CertificateStatus {
  readonly use: CertificateUse | 'hub' | 'anchor';
  readonly subject: string;
  readonly issuer: string;
  readonly serialNumber: string;
  readonly notBefore: string;
  readonly notAfter: string;
  readonly state: CertificateState;
  /** Why it is not valid, in words for the user. */
  readonly problem?: string;
}

export interface IdentityStatus {
  readonly practitionerId?: string;
  readonly certificates: CertificateStatus[];
  readonly trust: { readonly anchors: CertificateStatus[]; readonly hub?: CertificateStatus; readonly crlNextUpdate?: string };
  /** Both certificates and keys present, and the trust configured: the workstation can register and work. */
  readonly ready: boolean;
}

/** A failure the user can act on, with its code for the UI. */
export class IdentityError extends Error {
  readonly code: 'identity-invalid' | 'trust-missing' | 'identity-missing';
  constructor(code: IdentityError['code'], message: string) {
    super(message);
    this.name = 'IdentityError';
    this.code = code;
  }
}

export interface PractitionerIdentity {
  setTrust(input: { anchorsPem: string; crlsPem?: string; hubCertificatePem: string }): Promise<IdentityStatus>;
  importPkcs12(input: { use: CertificateUse; pkcs12: Uint8Array; password: string }): Promise<IdentityStatus>;
  /** A new key pair for `use`, kept in the keychain until its certificate comes back; returns the request (PEM) for the CA. */
  createRequest(input: { use: CertificateUse; practitionerId: string; organization?: string }): Promise<string>;
  /** The certificate the CA issued for an earlier request, matched to the key waiting for it. */
  importCertificate(input: { use: CertificateUse; certificatePem: string }): Promise<IdentityStatus>;
  status(now?: Date): Promise<IdentityStatus>;
  /** Any certificate judged under the region's trust now, e.g. an expert's from the directory. */
  checkCertificate(der: Uint8Array, use: CertificateUse): Promise<CertificateStatus>;
  practitionerId(): string | undefined;
  trust(): TrustConfig;
  hubCertificate(): Uint8Array | undefined;
  certificate(use: CertificateUse): Uint8Array | undefined;
  signer(): Promise<CmsSigner>;
  recipient(): Promise<CmsRecipientIdentity>;
}

const MIGRATIONS = [{
  version: 1,
  sql: `
    create table identity_certificates (use text primary key, practitioner_id text not null, certificate blob not null, chain text not null);
    create table trust_items (kind text not null check (kind in ('anchor', 'crl', 'hub')), der blob not null, added_at integer not null);
  `,
}];

const EXPIRING_DAYS = 30;

const fromBase64 = (text: string) => new Uint8Array(Buffer.from(text, 'base64'));

export function openPractitionerIdentity(db: SqliteDatabase, vault: SecretVault): PractitionerIdentity {
  migrate(db, 'identity', MIGRATIONS);
  const loaded = new Map<CertificateUse, CryptoKey>();

  const trustItems = (kind: 'anchor' | 'crl' | 'hub') =>
    db.prepare<[string], { der: Uint8Array }>('select der from trust_items where kind = ? order by rowid').all(kind).map((r) => new Uint8Array(r.der));
  // One object until the trust changes: parsing its anchors and CRLs is then paid once (shared/cms keeps the parsed
  // form per object), not for every message checked against it.
  let currentTrust: TrustConfig | undefined;
  const trust = (): TrustConfig => (currentTrust ??= { anchors: trustItems('anchor'), crls: trustItems('crl') });
  const certificateRow = (use: CertificateUse) =>
    db.prepare<[string], { practitioner_id: string; certificate: Uint8Array; chain: string }>('select * from identity_certificates where use = ?').get(use);

  async function judge(der: Uint8Array, use: CertificateStatus['use'], now: Date): Promise<CertificateStatus> {
    const d = describeCertificate(der);
    const base = { use, subject: d.subject, issuer: d.issuer, serialNumber: d.serialNumber, notBefore: d.notBefore, notAfter: d.notAfter };
    const config = trust();
    if (use !== 'anchor') {
      if (config.anchors.length === 0) return { ...base, state: 'untrusted', problem: 'No regional CA certificate is configured.' };
      try {
        await createCertificateValidator(config)(der, use === 'encryption' ? 'encryption' : 'signing', now);
      } catch (error) {
        if (!isCmsError(error)) throw error;
        const state: CertificateState = error.code === 'cms-certificate-expired' ? 'expired'
          : error.code === 'cms-certificate-not-yet-valid' ? 'not-yet-valid'
            : error.code === 'cms-certificate-revoked' ? 'revoked' : 'untrusted';
        return { ...base, state, problem: error.message };
      }
    }
    const daysLeft = (Date.parse(d.notAfter) - now.getTime()) / 86_400_000;
    if (daysLeft < 0) return { ...base, state: 'expired', problem: `Expired on ${d.notAfter.slice(0, 10)}.` };
    if (daysLeft < EXPIRING_DAYS) return { ...base, state: 'expiring', problem: `Expires in ${Math.ceil(daysLeft)} days; ask the clinic administrator for a new certificate.` };
    return { ...base, state: 'valid' };
  }

  async function status(now = new Date()): Promise<IdentityStatus> {
    const certificates: CertificateStatus[] = [];
    for (const use of CERTIFICATE_USES) {
      const row = certificateRow(use);
      if (row) certificates.push(await judge(new Uint8Array(row.certificate), use, now));
    }
    const crls = trustItems('crl').map((der) => readCrl(der));
    const hub = trustItems('hub')[0];
    const ids = new Set(CERTIFICATE_USES.map((u) => certificateRow(u)?.practitioner_id).filter(Boolean));
    const keys = await Promise.all(CERTIFICATE_USES.map(async (u) => {
      const id = certificateRow(u)?.practitioner_id;
      return id !== undefined && (await vault.get(privateKeyAccount(id, u))) !== undefined;
    }));
    const nextUpdate = crls.map((c) => c.nextUpdate).filter((d): d is Date => d instanceof Date).sort((a, b) => a.getTime() - b.getTime())[0];
    return {
      ...(ids.size === 1 && { practitionerId: [...ids][0]! }),
      certificates,
      trust: {
        anchors: await Promise.all(trustItems('anchor').map((der) => judge(der, 'anchor', now))),
        ...(hub && { hub: await judge(hub, 'hub', now) }),
        ...(nextUpdate && { crlNextUpdate: nextUpdate.toISOString() }),
      },
      ready: ids.size === 1 && certificates.length === 2 && keys.every(Boolean) && hub !== undefined && trustItems('anchor').length > 0,
    };
  }

  function practitionerId(): string | undefined {
    return certificateRow('signing')?.practitioner_id ?? certificateRow('encryption')?.practitioner_id;
  }

  async function key(use: CertificateUse): Promise<{ key: CryptoKey; certificate: Uint8Array; chain: Uint8Array[] }> {
    const row = certificateRow(use);
    if (!row) throw new IdentityError('identity-missing', `No ${use} certificate is installed; import the practitioner's certificates first.`);
    const certificate = new Uint8Array(row.certificate);
    let privateKey = loaded.get(use);
    if (!privateKey) {
      const pkcs8 = await vault.get(privateKeyAccount(row.practitioner_id, use));
      if (pkcs8 === undefined) throw new IdentityError('identity-missing', `The ${use} private key of ${row.practitioner_id} is not in the OS keychain; import the certificate again.`);
      privateKey = use === 'signing' ? await importSigningKey(fromBase64(pkcs8), certificate) : await importDecryptionKey(fromBase64(pkcs8), certificate);
      loaded.set(use, privateKey);
    }
    return { key: privateKey, certificate, chain: (JSON.parse(row.chain) as string[]).map(fromBase64) };
  }


  /** Checks a certificate with its key and stores both: the key in the keychain, the certificate in the store. */
  async function install(use: CertificateUse, pkcs8: Uint8Array, certificate: Uint8Array, chain: readonly Uint8Array[]): Promise<void> {
    const id = commonNameOf(certificate);
    if (!id) throw new IdentityError('identity-invalid', 'The certificate names no practitioner (no common name).');
    const other = practitionerId();
    const otherUse = use === 'signing' ? 'encryption' : 'signing';
    if (other && other !== id && certificateRow(otherUse)) {
      throw new IdentityError('identity-invalid', `This certificate belongs to ${id}, but the ${otherUse} certificate here belongs to ${other}.`);
    }
    const verdict = await judge(certificate, use, new Date());
    if (verdict.state !== 'valid' && verdict.state !== 'expiring') throw new IdentityError('identity-invalid', `The ${use} certificate cannot be used: ${verdict.problem ?? verdict.state}`);
    // Proves key and certificate belong together, and that the key suits the use, before anything is stored.
    try {
      if (use === 'signing') await importSigningKey(pkcs8, certificate);
      else await importDecryptionKey(pkcs8, certificate);
    } catch (error) {
      if (isCmsError(error)) throw new IdentityError('identity-invalid', `The certificate does not belong to this key: ${error.message}`);
      throw error;
    }
    await vault.set(privateKeyAccount(id, use), toBase64(pkcs8));
    db.prepare('insert into identity_certificates (use, practitioner_id, certificate, chain) values (?, ?, ?, ?) on conflict(use) do update set practitioner_id = excluded.practitioner_id, certificate = excluded.certificate, chain = excluded.chain')
      .run(use, id, certificate, JSON.stringify(chain.map(toBase64)));
    loaded.delete(use);
  }

  return {
    async setTrust(input) {
      const anchors = pemToDerAll(input.anchorsPem, PEM_LABELS.certificate);
      const hub = pemToDerAll(input.hubCertificatePem, PEM_LABELS.certificate);
      const crls = input.crlsPem ? pemToDerAll(input.crlsPem, PEM_LABELS.crl) : [];
      if (anchors.length === 0) throw new IdentityError('identity-invalid', 'The CA file holds no certificate.');
      if (hub.length !== 1) throw new IdentityError('identity-invalid', 'The hub certificate file must hold exactly one certificate.');
      for (const crl of crls) {
        const issuers = await Promise.all(anchors.map((a) => verifyCrl(crl, a).then(() => true, () => false)));
        if (!issuers.some(Boolean)) throw new IdentityError('identity-invalid', 'A CRL is not signed by any of the CA certificates.');
      }
      // Revocation is checked on every certificate: without a current CRL of each CA none could be relied on.
      try {
        await checkTrustRevocation({ anchors, crls }, new Date());
      } catch (error) {
        if (!isCmsError(error)) throw error;
        throw new IdentityError('identity-invalid', `${error.message} (the CRL file from the region's administrator).`);
      }
      try {
        await createCertificateValidator({ anchors, crls })(hub[0]!, 'signing', new Date());
      } catch (error) {
        if (!isCmsError(error)) throw error;
        throw new IdentityError('identity-invalid', `The hub certificate is not valid under this CA: ${error.message}`);
      }
      const now = Date.now();
      db.transaction(() => {
        db.prepare('delete from trust_items').run();
        const add = db.prepare('insert into trust_items (kind, der, added_at) values (?, ?, ?)');
        for (const der of anchors) add.run('anchor', der, now);
        for (const der of crls) add.run('crl', der, now);
        add.run('hub', hub[0]!, now);
      })();
      currentTrust = undefined;
      return status();
    },

    async importPkcs12(input) {
      if (trust().anchors.length === 0) throw new IdentityError('trust-missing', 'Configure the regional CA before importing certificates.');
      let contents;
      try {
        contents = await parsePkcs12(input.pkcs12, input.password);
      } catch (error) {
        if (isPkiError(error)) throw new IdentityError('identity-invalid', `The certificate file cannot be read: ${error.message}`);
        throw error;
      }
      await install(input.use, contents.privateKeyPkcs8, contents.certificate, contents.chain);
      return status();
    },

    async createRequest(input) {
      const keyPair = await generateKeyPair();
      const request = await createCertificationRequest({
        keyPair, subject: { commonName: input.practitionerId, ...(input.organization && { organization: input.organization }) },
        profile: input.use === 'signing' ? 'practitioner-signing' : 'practitioner-encryption',
      });
      await vault.set(privateKeyAccount(input.practitionerId, input.use, true), toBase64(await exportPrivateKeyPkcs8(keyPair.privateKey)));
      return derToPem(request, PEM_LABELS.certificationRequest);
    },

    async importCertificate(input) {
      const [certificate, ...chain] = pemToDerAll(input.certificatePem, PEM_LABELS.certificate);
      if (!certificate) throw new IdentityError('identity-invalid', 'The file holds no certificate.');
      const id = commonNameOf(certificate);
      const pending = id ? await vault.get(privateKeyAccount(id, input.use, true)) : undefined;
      if (!id || pending === undefined) throw new IdentityError('identity-invalid', `No ${input.use} key on this workstation waits for a certificate of ${id ?? 'this subject'}; create the request here first.`);
      await install(input.use, fromBase64(pending), certificate, chain);
      await vault.delete(privateKeyAccount(id, input.use, true));
      return status();
    },

    status,
    checkCertificate: (der, use) => judge(der, use, new Date()),
    practitionerId,
    trust,
    hubCertificate: () => trustItems('hub')[0],
    certificate: (use) => {
      const row = certificateRow(use);
      return row ? new Uint8Array(row.certificate) : undefined;
    },
    async signer() {
      const { key: privateKey, certificate, chain } = await key('signing');
      return { certificate, privateKey, ...(chain.length > 0 && { chain }) };
    },
    async recipient() {
      const { key: privateKey, certificate } = await key('encryption');
      return { certificate, privateKey };
    },
  };
}
