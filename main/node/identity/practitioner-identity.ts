import {
  checkTrustRevocation,
  createCertificateValidator,
  CRL_GRACE_MS,
  isCmsError,
  type CmsRecipientIdentity,
  type CmsSigner,
  type CryptoKey,
} from '../../../shared/cms/index.ts';
import {
  bytesEqual,
  describeCertificate,
  type CrlInfo,
  isNewerCrl,
  pemToDerAll,
  PEM_LABELS,
  readCrl,
  verifyCrl,
} from '../../../shared/pki/index.ts';
import { migrate, type SqliteDatabase } from '../../../transport/index.ts';
import type { SecretVault } from '../vault/secret-vault.ts';
import { createIdentityContext, fromBase64 } from './identity-context.ts';
import { createRequest, importCertificate, importPkcs12 } from './identity-enrolment.ts';
import {
  CERTIFICATE_USES,
  IdentityError,
  type CertificateStatus,
  type CertificateUse,
  type CrlState,
  type IdentityStatus,
  type PractitionerIdentity,
  type PractitionerIdentityOptions,
} from './identity-types.ts';
import { signingInUse } from './signing-in-use.ts';

/**
 * The practitioner identity's composition root: its tables and their migrations, its status, the region's trust and
 * CRLs, and the keys it signs and reads with. Importing certificates (PKCS#12, requests and the certificates issued for
 * them) is in identity-enrolment.ts, the choice of the signing certificate during a renewal in signing-in-use.ts, what
 * they share in identity-context.ts, the types in identity-types.ts (exported from here too, where callers take them).
 */
export {
  CERTIFICATE_USES,
  IdentityError,
  type CertificateState,
  type CertificateStatus,
  type CertificateUse,
  type CrlOutcome,
  type CrlState,
  type IdentityStatus,
  type PractitionerIdentity,
  type PractitionerIdentityOptions,
} from './identity-types.ts';
export { keyAccountFor } from './identity-enrolment.ts';

export const MIGRATIONS = [
  {
    version: 1,
    sql: `
    create table identity_certificates (use text primary key, practitioner_id text not null, certificate blob not null, chain text not null);
    create table trust_items (kind text not null check (kind in ('anchor', 'crl', 'hub')), der blob not null, added_at integer not null);
  `,
  },
  {
    // Renewal: each certificate names the keychain account of its key. Keys installed before stay where they are, under
    // the one name per use they had; new keys are named by fingerprint, so none overwrites another.
    version: 2,
    sql: `
    alter table identity_certificates add column key_account text;
    update identity_certificates set key_account = 'private-key:' || use || ':' || practitioner_id;
    create table retired_certificates (certificate blob not null, use text not null, practitioner_id text not null, key_account text not null, retired_at integer not null);
    create table pending_requests (key_account text primary key, use text not null, practitioner_id text not null, created_at integer not null);
  `,
  },
  {
    // A replaced signing certificate is retired too (it signs until the directory lists its successor): with its chain.
    version: 3,
    sql: `alter table retired_certificates add column chain text not null default '[]';`,
  },
];

/** A CRL is reported as expiring this long before its nextUpdate. */
export const CRL_EXPIRING_HOURS = 72;

export function openPractitionerIdentity(
  db: SqliteDatabase,
  vault: SecretVault,
  options: PractitionerIdentityOptions = {},
): PractitionerIdentity {
  migrate(db, 'identity', MIGRATIONS);
  const ctx = createIdentityContext(db, vault, options);
  let lastSigner: { readonly signer: CmsSigner; readonly chain: string } | undefined;

  async function status(now = new Date()): Promise<IdentityStatus> {
    const certificates: CertificateStatus[] = [];
    for (const use of CERTIFICATE_USES) {
      const row = ctx.certificateRow(use);
      if (row) certificates.push(await ctx.judge(new Uint8Array(row.certificate), use, now));
    }
    const crls = ctx.trustItems('crl').map((der) => readCrl(der));
    const hub = ctx.trustItems('hub')[0];
    const ids = new Set(CERTIFICATE_USES.map((u) => ctx.certificateRow(u)?.practitioner_id).filter(Boolean));
    const keys = await Promise.all(
      CERTIFICATE_USES.map(async (u) => {
        const account = ctx.certificateRow(u)?.key_account;
        // A key already loaded came from the keychain: it is not read again for each setup state.
        return account !== undefined && (ctx.loaded.has(account) || (await ctx.vault.get(account)) !== undefined);
      }),
    );
    const anchors = ctx.trustItems('anchor');
    // Each CA's newest CRL counts (as the CMS checks judge it), and the first of them to run out; one without
    // nextUpdate is never current.
    const newest = new Map<string, CrlInfo>();
    for (const crl of crls)
      if ((newest.get(crl.issuer)?.thisUpdate.getTime() ?? -1) < crl.thisUpdate.getTime()) newest.set(crl.issuer, crl);
    const nextUpdate = [...newest.values()]
      .map((c) => c.nextUpdate ?? new Date(0))
      .sort((a, b) => a.getTime() - b.getTime())[0];
    const pending = ctx.db
      .prepare<[], { use: CertificateUse }>('select distinct use from pending_requests order by use')
      .all()
      .map((r) => r.use);
    const signing = ctx.certificateRow('signing') ? await signingInUse(ctx, now) : undefined;
    const inUse = signing?.retired ? describeCertificate(signing.certificate) : undefined;
    return {
      ...(ids.size === 1 && { practitionerId: [...ids][0]! }),
      certificates,
      earlierEncryptionCertificates: ctx.retiredRows('encryption').length,
      pendingRequests: CERTIFICATE_USES.filter((u) => pending.includes(u)),
      ...(inUse && { signingInUse: { serialNumber: inUse.serialNumber, notAfter: inUse.notAfter } }),
      trust: {
        anchors: await Promise.all(anchors.map((der) => ctx.judge(der, 'anchor', now))),
        ...(hub && { hub: await ctx.judge(hub, 'hub', now) }),
        ...(nextUpdate && nextUpdate.getTime() > 0 && { crlNextUpdate: nextUpdate.toISOString() }),
        ...(anchors.length > 0 && { crlState: crlState(nextUpdate, now) }),
      },
      ready:
        ids.size === 1 &&
        certificates.length === 2 &&
        keys.every(Boolean) &&
        hub !== undefined &&
        ctx.trustItems('anchor').length > 0,
    };
  }

  async function key(use: CertificateUse): Promise<{ key: CryptoKey; certificate: Uint8Array; chain: Uint8Array[] }> {
    const row = ctx.certificateRow(use);
    if (!row)
      throw new IdentityError(
        'identity-missing',
        'certificate-not-installed',
        `No ${use} certificate is installed; import the practitioner's certificates first.`,
        { use },
      );
    const certificate = new Uint8Array(row.certificate);
    const privateKey = await ctx.loadKey(row.key_account, use, certificate);
    if (!privateKey)
      throw new IdentityError(
        'identity-missing',
        'private-key-missing',
        `The ${use} private key of ${row.practitioner_id} is not in the OS keychain; import the certificate again.`,
        { use },
      );
    return { key: privateKey, certificate, chain: (JSON.parse(row.chain) as string[]).map(fromBase64) };
  }

  function crlState(nextUpdate: Date | undefined, now: Date): CrlState {
    if (!nextUpdate || nextUpdate.getTime() + CRL_GRACE_MS < now.getTime()) return 'stale';
    return nextUpdate.getTime() - now.getTime() < CRL_EXPIRING_HOURS * 3600_000 ? 'expiring' : 'current';
  }

  /** The anchor that signed `der`, with what the CRL says; undefined if none did or it cannot be read. */
  async function crlIssuedHere(der: Uint8Array): Promise<CrlInfo | undefined> {
    for (const anchor of ctx.trustItems('anchor')) {
      try {
        return await verifyCrl(der, anchor);
      } catch {
        // Not this anchor's (or not a CRL at all): the next anchor, then 'invalid'. Bytes from the network must never
        // make the caller throw.
      }
    }
    return undefined;
  }

  return {
    async setTrust(input) {
      const anchors = pemToDerAll(input.anchorsPem, PEM_LABELS.certificate);
      const hub = pemToDerAll(input.hubCertificatePem, PEM_LABELS.certificate);
      const crls = input.crlsPem ? pemToDerAll(input.crlsPem, PEM_LABELS.crl) : [];
      if (anchors.length === 0)
        throw new IdentityError('identity-invalid', 'ca-file-empty', 'The CA file holds no certificate.');
      if (hub.length !== 1)
        throw new IdentityError(
          'identity-invalid',
          'hub-file-not-one-certificate',
          'The hub certificate file must hold exactly one certificate.',
        );
      for (const crl of crls) {
        const issuers = await Promise.all(
          anchors.map((a) =>
            verifyCrl(crl, a).then(
              () => true,
              () => false,
            ),
          ),
        );
        if (!issuers.some(Boolean))
          throw new IdentityError(
            'identity-invalid',
            'crl-not-signed-by-ca',
            'A CRL is not signed by any of the CA certificates.',
          );
      }
      // Revocation is checked on every certificate: without a current CRL of each CA none could be relied on.
      try {
        await checkTrustRevocation({ anchors, crls }, new Date());
      } catch (error) {
        if (!isCmsError(error)) throw error;
        throw new IdentityError(
          'identity-invalid',
          'crl-not-current',
          `${error.message} (the CRL file from the region's administrator).`,
        );
      }
      try {
        await createCertificateValidator({ anchors, crls })(hub[0]!, 'signing', new Date());
      } catch (error) {
        if (!isCmsError(error)) throw error;
        throw new IdentityError(
          'identity-invalid',
          'hub-certificate-invalid',
          `The hub certificate is not valid under this CA: ${error.message}`,
        );
      }
      const now = Date.now();
      ctx.db.transaction(() => {
        ctx.db.prepare('delete from trust_items').run();
        const add = ctx.db.prepare('insert into trust_items (kind, der, added_at) values (?, ?, ?)');
        for (const der of anchors) add.run('anchor', der, now);
        for (const der of crls) add.run('crl', der, now);
        add.run('hub', hub[0]!, now);
      })();
      ctx.trustChanged();
      return status();
    },

    async importPkcs12(input) {
      await importPkcs12(ctx, input);
      return status();
    },

    createRequest: (input) => createRequest(ctx, input),

    async importCertificate(input) {
      await importCertificate(ctx, input);
      return status();
    },

    async applyCrl(der) {
      const info = await crlIssuedHere(der);
      if (!info) return 'invalid';
      const held = ctx.db
        .prepare<[], { rowid: number; der: Uint8Array }>("select rowid, der from trust_items where kind = 'crl'")
        .all()
        .map((r) => ({ rowid: r.rowid, der: new Uint8Array(r.der), info: readCrl(new Uint8Array(r.der)) }))
        .filter((r) => r.info.issuer === info.issuer);
      if (held.some((h) => Buffer.from(h.der).equals(der))) return 'held';
      if (held.some((h) => !isNewerCrl(info, h.info))) return 'older';
      ctx.db.transaction(() => {
        const remove = ctx.db.prepare('delete from trust_items where rowid = ?');
        for (const h of held) remove.run(h.rowid);
        ctx.db.prepare("insert into trust_items (kind, der, added_at) values ('crl', ?, ?)").run(der, Date.now());
      })();
      // The next message is judged with the new CRL.
      ctx.trustChanged();
      return 'applied';
    },

    status,
    checkCertificate: (der, use) => ctx.judge(der, use, new Date()),
    practitionerId: () => ctx.practitionerId(),
    trust: () => ctx.trust(),
    hubCertificate: () => ctx.trustItems('hub')[0],
    certificate: (use) => {
      const row = ctx.certificateRow(use);
      return row ? new Uint8Array(row.certificate) : undefined;
    },
    async signer() {
      const held = await signingInUse(ctx, new Date(), true);
      const privateKey = await ctx.loadKey(held.keyAccount, 'signing', held.certificate);
      if (!privateKey)
        throw new IdentityError(
          'identity-missing',
          'private-key-missing',
          `The signing private key of ${held.practitionerId} is not in the OS keychain; import the certificate again.`,
          { use: 'signing' },
        );
      // The same object while the certificate, key and chain are: shared/cms prepares a signer once per object, and
      // parsing the certificate again for every message cost P2 about 6 ms of each consult.
      const last = lastSigner;
      if (
        last?.signer.privateKey === privateKey &&
        last.chain === held.chain &&
        bytesEqual(last.signer.certificate, held.certificate)
      )
        return last.signer;
      const chain = (JSON.parse(held.chain) as string[]).map(fromBase64);
      const signer: CmsSigner = { certificate: held.certificate, privateKey, ...(chain.length > 0 && { chain }) };
      lastSigner = { signer, chain: held.chain };
      return signer;
    },
    async recipients() {
      const { key: privateKey, certificate } = await key('encryption');
      const earlier: CmsRecipientIdentity[] = [];
      for (const row of ctx.retiredRows('encryption')) {
        const der = new Uint8Array(row.certificate);
        // A key missing from the keychain leaves only what was sent to it unreadable, not everything else.
        const retiredKey = await ctx.loadKey(row.key_account, 'encryption', der);
        if (retiredKey) earlier.push({ certificate: der, privateKey: retiredKey });
      }
      return [{ certificate, privateKey }, ...earlier];
    },
  };
}
