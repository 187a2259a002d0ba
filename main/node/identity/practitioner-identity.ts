import { createHash, createPublicKey, X509Certificate } from 'node:crypto';
import { checkTrustRevocation, createCertificateValidator, CRL_GRACE_MS, importDecryptionKey, importSigningKey, isCmsError, type CmsRecipientIdentity, type CmsSigner, type CryptoKey, type TrustConfig } from '../../../shared/cms/index.ts';
import { bytesEqual, toBase64 } from '../../../shared/pki/bytes.ts';
import {
  commonNameOf, createCertificationRequest, type CrlInfo, derToPem, describeCertificate, exportPrivateKeyPkcs8, generateKeyPair, isNewerCrl, isPkiError, parsePkcs12, pemToDerAll, PEM_LABELS, readCrl, verifyCrl,
} from '../../../shared/pki/index.ts';
import { migrate, type SqliteDatabase } from '../../../transport/sqlite-database.ts';
import type { SecretVault } from '../vault/secret-vault.ts';
import { legacyPendingKeyAccount, privateKeyAccount } from '../vault/vault-accounts.ts';

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

/**
 * The region's revocation list held here: `expiring` within CRL_EXPIRING_HOURS of its nextUpdate, `stale` past it
 * (then nothing can be checked until a new one arrives).
 */
export type CrlState = 'current' | 'expiring' | 'stale';

/** What applyCrl did: `held` for the very CRL held already (the hub sends its CRL to every endpoint that registers). */
export type CrlOutcome = 'applied' | 'held' | 'older' | 'invalid';

export interface IdentityStatus {
  readonly practitionerId?: string;
  readonly certificates: CertificateStatus[];
  /** Earlier encryption certificates whose keys are kept to read what was sent to them before a renewal. */
  readonly earlierEncryptionCertificates: number;
  /** Uses for which a key waits on this workstation for the certificate the CA issues for its request. */
  readonly pendingRequests: CertificateUse[];
  /**
   * Present while an earlier signing certificate still signs because this workstation's directory mirror does not list
   * the newest one yet (the clinic has not published it): the one in use. The newest takes over once the mirror lists it.
   */
  readonly signingInUse?: { readonly serialNumber: string; readonly notAfter: string };
  readonly trust: { readonly anchors: CertificateStatus[]; readonly hub?: CertificateStatus; readonly crlNextUpdate?: string; readonly crlState?: CrlState };
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
  /**
   * A new key pair for `use`, kept in the keychain under its own name until its certificate comes back (the current
   * key stays in use meanwhile); returns the request (PEM) for the CA.
   */
  createRequest(input: { use: CertificateUse; practitionerId: string; organization?: string }): Promise<string>;
  /**
   * The certificate the CA issued for an earlier request, matched to the key waiting for it. Like importPkcs12 it makes
   * the certificate current; an earlier encryption certificate is kept, with its key, for reading older messages.
   */
  importCertificate(input: { use: CertificateUse; certificatePem: string }): Promise<IdentityStatus>;
  /**
   * A CRL of one of the region's CAs (e.g. from a hub notice): applied if signed by an anchor and newer (higher
   * crlNumber, else later thisUpdate) than the one held; the next trust() judges with it.
   */
  applyCrl(der: Uint8Array): Promise<CrlOutcome>;
  status(now?: Date): Promise<IdentityStatus>;
  /** Any certificate judged under the region's trust now, e.g. an expert's from the directory. */
  checkCertificate(der: Uint8Array, use: CertificateUse): Promise<CertificateStatus>;
  practitionerId(): string | undefined;
  trust(): TrustConfig;
  hubCertificate(): Uint8Array | undefined;
  certificate(use: CertificateUse): Uint8Array | undefined;
  /**
   * The signing key peers and the hub will accept: that of the newest signing certificate the directory mirror lists
   * for this practitioner, or, while the mirror has no entry (or lists none held here), of the newest valid one.
   */
  signer(): Promise<CmsSigner>;
  /** The current encryption identity first, then the earlier ones whose keys are kept, newest first. */
  recipients(): Promise<[CmsRecipientIdentity, ...CmsRecipientIdentity[]]>;
}

export const MIGRATIONS = [{
  version: 1,
  sql: `
    create table identity_certificates (use text primary key, practitioner_id text not null, certificate blob not null, chain text not null);
    create table trust_items (kind text not null check (kind in ('anchor', 'crl', 'hub')), der blob not null, added_at integer not null);
  `,
}, {
  // Renewal: each certificate names the keychain account of its key. Keys installed before stay where they are, under
  // the one name per use they had; new keys are named by fingerprint, so none overwrites another.
  version: 2,
  sql: `
    alter table identity_certificates add column key_account text;
    update identity_certificates set key_account = 'private-key:' || use || ':' || practitioner_id;
    create table retired_certificates (certificate blob not null, use text not null, practitioner_id text not null, key_account text not null, retired_at integer not null);
    create table pending_requests (key_account text primary key, use text not null, practitioner_id text not null, created_at integer not null);
  `,
}, {
  // A replaced signing certificate is retired too (it signs until the directory lists its successor): with its chain.
  version: 3,
  sql: `alter table retired_certificates add column chain text not null default '[]';`,
}];

/** A CRL is reported as expiring this long before its nextUpdate. */
export const CRL_EXPIRING_HOURS = 72;

/** SHA-256 (first 16 bytes, hex) of a public key's SubjectPublicKeyInfo as Node re-encodes it: one spelling per key. */
function publicKeyFingerprint(spki: Uint8Array): string {
  const normalized = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' }).export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(normalized).digest('hex').slice(0, 32);
}

/** The keychain account of the key that belongs to `certificate` (its public key's fingerprint). */
export function keyAccountFor(practitionerId: string, use: CertificateUse, certificate: Uint8Array): string {
  const spki = new X509Certificate(certificate).publicKey.export({ type: 'spki', format: 'der' });
  return privateKeyAccount(practitionerId, use, publicKeyFingerprint(spki));
}

const EXPIRING_DAYS = 30;

const fromBase64 = (text: string) => new Uint8Array(Buffer.from(text, 'base64'));

export interface PractitionerIdentityOptions {
  /**
   * The signing certificates the directory lists for a practitioner (this workstation's mirror); undefined while it has
   * no entry. Peers and the hub accept a signature only by a certificate their directory lists.
   */
  readonly directorySigningCertificates?: (practitionerId: string) => readonly Uint8Array[] | undefined;
}

/** A signing certificate held here with the keychain account of its key: the current one or a retired one. */
interface HeldSigning {
  readonly certificate: Uint8Array;
  readonly keyAccount: string;
  readonly chain: string;
  readonly practitionerId: string;
  readonly retired: boolean;
}

export function openPractitionerIdentity(db: SqliteDatabase, vault: SecretVault, options: PractitionerIdentityOptions = {}): PractitionerIdentity {
  migrate(db, 'identity', MIGRATIONS);
  const loaded = new Map<string, CryptoKey>();

  const trustItems = (kind: 'anchor' | 'crl' | 'hub') =>
    db.prepare<[string], { der: Uint8Array }>('select der from trust_items where kind = ? order by rowid').all(kind).map((r) => new Uint8Array(r.der));
  // One object until the trust changes: parsing its anchors and CRLs is then paid once (shared/cms keeps the parsed
  // form per object), not for every message checked against it.
  let currentTrust: TrustConfig | undefined;
  const trust = (): TrustConfig => (currentTrust ??= { anchors: trustItems('anchor'), crls: trustItems('crl') });
  const certificateRow = (use: CertificateUse) =>
    db.prepare<[string], { practitioner_id: string; certificate: Uint8Array; chain: string; key_account: string }>('select * from identity_certificates where use = ?').get(use);
  const retiredRows = (use: CertificateUse) =>
    db.prepare<[string], { rowid: number; certificate: Uint8Array; key_account: string; chain: string; practitioner_id: string }>(
      'select rowid, certificate, key_account, chain, practitioner_id from retired_certificates where use = ? order by retired_at desc, rowid desc',
    ).all(use);

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
      const account = certificateRow(u)?.key_account;
      return account !== undefined && (await vault.get(account)) !== undefined;
    }));
    const anchors = trustItems('anchor');
    // Each CA's newest CRL counts (as the CMS checks judge it), and the first of them to run out; one without
    // nextUpdate is never current.
    const newest = new Map<string, CrlInfo>();
    for (const crl of crls) if ((newest.get(crl.issuer)?.thisUpdate.getTime() ?? -1) < crl.thisUpdate.getTime()) newest.set(crl.issuer, crl);
    const nextUpdate = [...newest.values()].map((c) => c.nextUpdate ?? new Date(0)).sort((a, b) => a.getTime() - b.getTime())[0];
    const pending = db.prepare<[], { use: CertificateUse }>('select distinct use from pending_requests order by use').all().map((r) => r.use);
    const signing = certificateRow('signing') ? await signingInUse(now) : undefined;
    const inUse = signing?.retired ? describeCertificate(signing.certificate) : undefined;
    return {
      ...(ids.size === 1 && { practitionerId: [...ids][0]! }),
      certificates,
      earlierEncryptionCertificates: retiredRows('encryption').length,
      pendingRequests: CERTIFICATE_USES.filter((u) => pending.includes(u)),
      ...(inUse && { signingInUse: { serialNumber: inUse.serialNumber, notAfter: inUse.notAfter } }),
      trust: {
        anchors: await Promise.all(anchors.map((der) => judge(der, 'anchor', now))),
        ...(hub && { hub: await judge(hub, 'hub', now) }),
        ...(nextUpdate && nextUpdate.getTime() > 0 && { crlNextUpdate: nextUpdate.toISOString() }),
        ...(anchors.length > 0 && { crlState: crlState(nextUpdate, now) }),
      },
      ready: ids.size === 1 && certificates.length === 2 && keys.every(Boolean) && hub !== undefined && trustItems('anchor').length > 0,
    };
  }

  function practitionerId(): string | undefined {
    return certificateRow('signing')?.practitioner_id ?? certificateRow('encryption')?.practitioner_id;
  }

  /** The key of `account` for `certificate`, imported once (non-extractable); undefined if the keychain has none. */
  async function loadKey(account: string, use: CertificateUse, certificate: Uint8Array): Promise<CryptoKey | undefined> {
    let privateKey = loaded.get(account);
    if (!privateKey) {
      const pkcs8 = await vault.get(account);
      if (pkcs8 === undefined) return undefined;
      privateKey = use === 'signing' ? await importSigningKey(fromBase64(pkcs8), certificate) : await importDecryptionKey(fromBase64(pkcs8), certificate);
      loaded.set(account, privateKey);
    }
    return privateKey;
  }

  async function key(use: CertificateUse): Promise<{ key: CryptoKey; certificate: Uint8Array; chain: Uint8Array[] }> {
    const row = certificateRow(use);
    if (!row) throw new IdentityError('identity-missing', `No ${use} certificate is installed; import the practitioner's certificates first.`);
    const certificate = new Uint8Array(row.certificate);
    const privateKey = await loadKey(row.key_account, use, certificate);
    if (!privateKey) throw new IdentityError('identity-missing', `The ${use} private key of ${row.practitioner_id} is not in the OS keychain; import the certificate again.`);
    return { key: privateKey, certificate, chain: (JSON.parse(row.chain) as string[]).map(fromBase64) };
  }

  /**
   * The signing certificate to sign with now (docs/operations.md §3, renewal): peers check a signature against their
   * directory and the hub a snapshot request against its own, so a renewed certificate signs only once the directory
   * lists it. Until then the certificate it replaced signs, with its key. With `prune` (when signing, at the real
   * time), retired ones the directory has moved past, and expired ones, leave (certificate and key): a signing key
   * serves nothing but new signatures, and one kept idle is only something to lose.
   */
  async function signingInUse(now: Date, prune = false): Promise<HeldSigning> {
    const row = certificateRow('signing');
    if (!row) throw new IdentityError('identity-missing', 'No signing certificate is installed; import the practitioner\'s certificates first.');
    const current: HeldSigning = { certificate: new Uint8Array(row.certificate), keyAccount: row.key_account, chain: row.chain, practitionerId: row.practitioner_id, retired: false };
    const retired = retiredRows('signing').map((r): HeldSigning & { rowid: number } => ({
      rowid: r.rowid, certificate: new Uint8Array(r.certificate), keyAccount: r.key_account, chain: r.chain, practitionerId: r.practitioner_id, retired: true,
    }));
    if (retired.length === 0) return current;
    const held = [current, ...retired];
    const usable = await Promise.all(held.map(async (h) => {
      const { state } = await judge(h.certificate, 'signing', now);
      return (state === 'valid' || state === 'expiring') && (loaded.has(h.keyAccount) || (await vault.get(h.keyAccount)) !== undefined);
    }));
    const listed = options.directorySigningCertificates?.(current.practitionerId) ?? [];
    const listedIndex = held.findIndex((h, i) => usable[i] && listed.some((l) => bytesEqual(l, h.certificate)));
    const chosenIndex = listedIndex >= 0 ? listedIndex : Math.max(0, usable.indexOf(true));
    if (prune) {
      // Older than the one the directory lists, or expired: nothing will be signed with these again.
      const done = retired.filter((r) => (listedIndex >= 0 && held.indexOf(r) > listedIndex) || Date.parse(describeCertificate(r.certificate).notAfter) < now.getTime());
      if (done.length > 0) await dropRetiredSigning(done);
    }
    return held[chosenIndex]!;
  }

  async function dropRetiredSigning(rows: readonly { rowid: number; keyAccount: string }[]): Promise<void> {
    db.transaction(() => {
      for (const r of rows) db.prepare('delete from retired_certificates where rowid = ?').run(r.rowid);
    })();
    // A renewal may certify the same key again: a key still named by another row stays.
    const stillUsed = new Set([
      ...db.prepare<[], { key_account: string }>('select key_account from identity_certificates').all().map((r) => r.key_account),
      ...db.prepare<[], { key_account: string }>('select key_account from retired_certificates').all().map((r) => r.key_account),
    ]);
    for (const account of new Set(rows.map((r) => r.keyAccount))) {
      if (stillUsed.has(account)) continue;
      await vault.delete(account);
      loaded.delete(account);
    }
  }

  function crlState(nextUpdate: Date | undefined, now: Date): CrlState {
    if (!nextUpdate || nextUpdate.getTime() + CRL_GRACE_MS < now.getTime()) return 'stale';
    return nextUpdate.getTime() - now.getTime() < CRL_EXPIRING_HOURS * 3600_000 ? 'expiring' : 'current';
  }

  /** The anchor that signed `der`, with what the CRL says; undefined if none did or it cannot be read. */
  async function crlIssuedHere(der: Uint8Array): Promise<CrlInfo | undefined> {
    for (const anchor of trustItems('anchor')) {
      try {
        return await verifyCrl(der, anchor);
      } catch {
        // Not this anchor's (or not a CRL at all): the next anchor, then 'invalid'. Bytes from the network must never
        // make the caller throw.
      }
    }
    return undefined;
  }

  /**
   * Checks a certificate with its key and stores both: the key in the keychain under its own name, the certificate in
   * the store as the current one of its use. The certificate it replaces is retired with its key: an encryption one to
   * read what was sent to it, a signing one to sign until the directory lists its successor (signingInUse). Once both
   * certificates are installed, only the same practitioner's can follow.
   */
  async function install(use: CertificateUse, pkcs8: Uint8Array, certificate: Uint8Array, chain: readonly Uint8Array[]): Promise<void> {
    const id = commonNameOf(certificate);
    if (!id) throw new IdentityError('identity-invalid', 'The certificate names no practitioner (no common name).');
    const current = practitionerId();
    const otherUse = use === 'signing' ? 'encryption' : 'signing';
    if (current && current !== id && certificateRow(otherUse)) {
      throw new IdentityError('identity-invalid', `This certificate belongs to ${id}, but the certificates here belong to ${current}: a renewed certificate must name the same practitioner.`);
    }
    // Half-way through the first run the one certificate here may be replaced by another practitioner's (a wrong file
    // corrected): it was never this practitioner's, so it is dropped, not kept as an earlier one.
    const correction = current !== undefined && current !== id;
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
    const account = keyAccountFor(id, use, certificate);
    await vault.set(account, toBase64(pkcs8));
    const previous = certificateRow(use);
    const replaced = previous && !bytesEqual(new Uint8Array(previous.certificate), certificate) ? previous : undefined;
    db.transaction(() => {
      if (replaced && !correction) {
        db.prepare('insert into retired_certificates (certificate, use, practitioner_id, key_account, retired_at, chain) values (?, ?, ?, ?, ?, ?)')
          .run(replaced.certificate, use, replaced.practitioner_id, replaced.key_account, Date.now(), replaced.chain);
      }
      // The same certificate imported again is current, not also earlier.
      db.prepare('delete from retired_certificates where use = ? and certificate = ?').run(use, certificate);
      db.prepare('insert into identity_certificates (use, practitioner_id, certificate, chain, key_account) values (?, ?, ?, ?, ?) on conflict(use) do update set practitioner_id = excluded.practitioner_id, certificate = excluded.certificate, chain = excluded.chain, key_account = excluded.key_account')
        .run(use, id, certificate, JSON.stringify(chain.map(toBase64)), account);
      db.prepare('delete from pending_requests where key_account = ?').run(account);
    })();
    if (replaced && correction && replaced.key_account !== account) {
      await vault.delete(replaced.key_account);
      loaded.delete(replaced.key_account);
    }
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
      const current = practitionerId();
      if (current && current !== input.practitionerId) {
        throw new IdentityError('identity-invalid', `The certificates here belong to ${current}: a new key request must be for the same practitioner.`);
      }
      const keyPair = await generateKeyPair();
      const request = await createCertificationRequest({
        keyPair, subject: { commonName: input.practitionerId, ...(input.organization && { organization: input.organization }) },
        profile: input.use === 'signing' ? 'practitioner-signing' : 'practitioner-encryption',
      });
      const spki = new Uint8Array(await crypto.subtle.exportKey('spki', keyPair.publicKey));
      const account = privateKeyAccount(input.practitionerId, input.use, publicKeyFingerprint(spki));
      // Its own account: the current key stays in use until the issued certificate is imported.
      await vault.set(account, toBase64(await exportPrivateKeyPkcs8(keyPair.privateKey)));
      db.prepare('insert into pending_requests (key_account, use, practitioner_id, created_at) values (?, ?, ?, ?) on conflict(key_account) do nothing')
        .run(account, input.use, input.practitionerId, Date.now());
      return derToPem(request, PEM_LABELS.certificationRequest);
    },

    async importCertificate(input) {
      const [certificate, ...chain] = pemToDerAll(input.certificatePem, PEM_LABELS.certificate);
      if (!certificate) throw new IdentityError('identity-invalid', 'The file holds no certificate.');
      const id = commonNameOf(certificate);
      const account = id ? keyAccountFor(id, input.use, certificate) : undefined;
      const waiting = account && db.prepare<[string, string], { key_account: string }>('select key_account from pending_requests where key_account = ? and use = ?').get(account, input.use);
      // A request made before keys were named by fingerprint waited under one name per use.
      const legacy = id ? legacyPendingKeyAccount(id, input.use) : undefined;
      const pending = waiting ? await vault.get(waiting.key_account) : legacy ? await vault.get(legacy) : undefined;
      if (!id || pending === undefined) throw new IdentityError('identity-invalid', `No ${input.use} key on this workstation waits for a certificate of ${id ?? 'this subject'}; create the request here first.`);
      await install(input.use, fromBase64(pending), certificate, chain);
      if (!waiting && legacy) await vault.delete(legacy);
      return status();
    },

    async applyCrl(der) {
      const info = await crlIssuedHere(der);
      if (!info) return 'invalid';
      const held = db.prepare<[], { rowid: number; der: Uint8Array }>("select rowid, der from trust_items where kind = 'crl'").all()
        .map((r) => ({ rowid: r.rowid, der: new Uint8Array(r.der), info: readCrl(new Uint8Array(r.der)) }))
        .filter((r) => r.info.issuer === info.issuer);
      if (held.some((h) => Buffer.from(h.der).equals(der))) return 'held';
      if (held.some((h) => !isNewerCrl(info, h.info))) return 'older';
      db.transaction(() => {
        const remove = db.prepare('delete from trust_items where rowid = ?');
        for (const h of held) remove.run(h.rowid);
        db.prepare("insert into trust_items (kind, der, added_at) values ('crl', ?, ?)").run(der, Date.now());
      })();
      // The next message is judged with the new CRL.
      currentTrust = undefined;
      return 'applied';
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
      const held = await signingInUse(new Date(), true);
      const privateKey = await loadKey(held.keyAccount, 'signing', held.certificate);
      if (!privateKey) throw new IdentityError('identity-missing', `The signing private key of ${held.practitionerId} is not in the OS keychain; import the certificate again.`);
      const chain = (JSON.parse(held.chain) as string[]).map(fromBase64);
      return { certificate: held.certificate, privateKey, ...(chain.length > 0 && { chain }) };
    },
    async recipients() {
      const { key: privateKey, certificate } = await key('encryption');
      const earlier: CmsRecipientIdentity[] = [];
      for (const row of retiredRows('encryption')) {
        const der = new Uint8Array(row.certificate);
        // A key missing from the keychain leaves only what was sent to it unreadable, not everything else.
        const retiredKey = await loadKey(row.key_account, 'encryption', der);
        if (retiredKey) earlier.push({ certificate: der, privateKey: retiredKey });
      }
      return [{ certificate, privateKey }, ...earlier];
    },
  };
}
