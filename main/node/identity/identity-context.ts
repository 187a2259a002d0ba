import {
  createCertificateValidator,
  importDecryptionKey,
  importSigningKey,
  isCmsError,
  type CryptoKey,
  type TrustConfig,
} from '../../../shared/cms/index.ts';
import { describeCertificate } from '../../../shared/pki/index.ts';
import { preparedStatement, type SqliteDatabase } from '../../../transport/index.ts';
import type { SecretVault } from '../vault/secret-vault.ts';
import type {
  CertificateState,
  CertificateStatus,
  CertificateUse,
  PractitionerIdentityOptions,
} from './identity-types.ts';

/**
 * What the parts of the practitioner identity share (practitioner-identity.ts composes them): its tables as read, the
 * region's trust parsed once, the judging of a certificate under it, and the private keys loaded from the keychain.
 */
export interface IdentityContext {
  readonly db: SqliteDatabase;
  readonly vault: SecretVault;
  readonly options: PractitionerIdentityOptions;
  /** The private keys imported so far (non-extractable), by keychain account. */
  readonly loaded: Map<string, CryptoKey>;
  trustItems(kind: 'anchor' | 'crl' | 'hub'): Uint8Array[];
  trust(): TrustConfig;
  /** The trust items changed: the next trust() reads them again. */
  trustChanged(): void;
  certificateRow(use: CertificateUse): CertificateRow | undefined;
  /** The identity's certificates changed (enrolment): the next certificateRow() reads them again. */
  certificatesChanged(): void;
  /** Earlier certificates of `use` whose keys are kept, newest first. */
  retiredRows(use: CertificateUse): RetiredRow[];
  judge(der: Uint8Array, use: CertificateStatus['use'], now: Date): Promise<CertificateStatus>;
  practitionerId(): string | undefined;
  /** The key of `account` for `certificate`, imported once (non-extractable); undefined if the keychain has none. */
  loadKey(account: string, use: CertificateUse, certificate: Uint8Array): Promise<CryptoKey | undefined>;
}

export interface CertificateRow {
  readonly practitioner_id: string;
  readonly certificate: Uint8Array;
  readonly chain: string;
  readonly key_account: string;
}

export interface RetiredRow extends CertificateRow {
  readonly rowid: number;
}

const EXPIRING_DAYS = 30;

export const fromBase64 = (text: string) => new Uint8Array(Buffer.from(text, 'base64'));

export function createIdentityContext(
  db: SqliteDatabase,
  vault: SecretVault,
  options: PractitionerIdentityOptions,
): IdentityContext {
  const loaded = new Map<string, CryptoKey>();
  const trustItems = (kind: 'anchor' | 'crl' | 'hub') =>
    preparedStatement<[string], { der: Uint8Array }>(db, 'select der from trust_items where kind = ? order by rowid')
      .all(kind)
      .map((r) => new Uint8Array(r.der));
  // One object until the trust changes: parsing its anchors and CRLs is then paid once (shared/cms keeps the parsed
  // form per object), not for every message checked against it.
  let currentTrust: TrustConfig | undefined;
  const trust = (): TrustConfig => (currentTrust ??= { anchors: trustItems('anchor'), crls: trustItems('crl') });
  // Asked for every message signed, opened or addressed: 13 times a consult in P2, about 17 µs a read from the
  // encrypted store. Kept until enrolment changes them (certificatesChanged).
  const rows = new Map<CertificateUse, CertificateRow | undefined>();
  const certificateRow = (use: CertificateUse) => {
    if (!rows.has(use))
      rows.set(
        use,
        preparedStatement<[string], CertificateRow>(db, 'select * from identity_certificates where use = ?').get(use),
      );
    return rows.get(use);
  };
  const retiredRows = (use: CertificateUse) =>
    preparedStatement<[string], RetiredRow>(
      db,
      'select rowid, certificate, key_account, chain, practitioner_id from retired_certificates where use = ? order by retired_at desc, rowid desc',
    ).all(use);

  async function judge(der: Uint8Array, use: CertificateStatus['use'], now: Date): Promise<CertificateStatus> {
    const d = describeCertificate(der);
    const base = {
      use,
      subject: d.subject,
      issuer: d.issuer,
      serialNumber: d.serialNumber,
      notBefore: d.notBefore,
      notAfter: d.notAfter,
    };
    const config = trust();
    if (use !== 'anchor') {
      if (config.anchors.length === 0)
        return { ...base, state: 'untrusted', problem: 'No regional CA certificate is configured.' };
      try {
        await createCertificateValidator(config)(der, use === 'encryption' ? 'encryption' : 'signing', now);
      } catch (error) {
        if (!isCmsError(error)) throw error;
        const state: CertificateState =
          error.code === 'cms-certificate-expired'
            ? 'expired'
            : error.code === 'cms-certificate-not-yet-valid'
              ? 'not-yet-valid'
              : error.code === 'cms-certificate-revoked'
                ? 'revoked'
                : 'untrusted';
        return { ...base, state, problem: error.message };
      }
    }
    const daysLeft = (Date.parse(d.notAfter) - now.getTime()) / 86_400_000;
    if (daysLeft < 0) return { ...base, state: 'expired', problem: `Expired on ${d.notAfter.slice(0, 10)}.` };
    if (daysLeft < EXPIRING_DAYS)
      return {
        ...base,
        state: 'expiring',
        problem: `Expires in ${Math.ceil(daysLeft)} days; ask the clinic administrator for a new certificate.`,
      };
    return { ...base, state: 'valid' };
  }

  function practitionerId(): string | undefined {
    return certificateRow('signing')?.practitioner_id ?? certificateRow('encryption')?.practitioner_id;
  }

  /** The key of `account` for `certificate`, imported once (non-extractable); undefined if the keychain has none. */
  async function loadKey(
    account: string,
    use: CertificateUse,
    certificate: Uint8Array,
  ): Promise<CryptoKey | undefined> {
    let privateKey = loaded.get(account);
    if (!privateKey) {
      const pkcs8 = await vault.get(account);
      if (pkcs8 === undefined) return undefined;
      privateKey =
        use === 'signing'
          ? await importSigningKey(fromBase64(pkcs8), certificate)
          : await importDecryptionKey(fromBase64(pkcs8), certificate);
      loaded.set(account, privateKey);
    }
    return privateKey;
  }

  return {
    db,
    vault,
    options,
    loaded,
    trustItems,
    trust,
    certificateRow,
    retiredRows,
    judge,
    practitionerId,
    loadKey,
    certificatesChanged: () => rows.clear(),
    trustChanged: () => {
      currentTrust = undefined;
      options.onTrustChanged?.();
    },
  };
}
