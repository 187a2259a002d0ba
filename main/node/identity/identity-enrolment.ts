import { createHash, createPublicKey, X509Certificate } from 'node:crypto';
import { importDecryptionKey, importSigningKey, isCmsError } from '../../../shared/cms/index.ts';
import { bytesEqual, toBase64 } from '../../../shared/pki/index.ts';
import {
  commonNameOf,
  createCertificationRequest,
  derToPem,
  exportPrivateKeyPkcs8,
  generateKeyPair,
  isPkiError,
  parsePkcs12,
  pemToDerAll,
  PEM_LABELS,
} from '../../../shared/pki/index.ts';
import { legacyPendingKeyAccount, privateKeyAccount } from '../vault/vault-accounts.ts';
import { fromBase64, type IdentityContext } from './identity-context.ts';
import { IdentityError, type CertificateUse } from './identity-types.ts';

/**
 * Getting a practitioner's certificates onto this workstation (practitioner-identity.ts composes it): a PKCS#12 file
 * with its key, or a certificate request whose key waits here for the certificate the CA issues (renewal).
 */

/** SHA-256 (first 16 bytes, hex) of a public key's SubjectPublicKeyInfo as Node re-encodes it: one spelling per key. */
function publicKeyFingerprint(spki: Uint8Array): string {
  const normalized = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' }).export({
    type: 'spki',
    format: 'der',
  });
  return createHash('sha256').update(normalized).digest('hex').slice(0, 32);
}

/** The keychain account of the key that belongs to `certificate` (its public key's fingerprint). */
export function keyAccountFor(practitionerId: string, use: CertificateUse, certificate: Uint8Array): string {
  const spki = new X509Certificate(certificate).publicKey.export({ type: 'spki', format: 'der' });
  return privateKeyAccount(practitionerId, use, publicKeyFingerprint(spki));
}

/**
 * Checks a certificate with its key and stores both: the key in the keychain under its own name, the certificate in
 * the store as the current one of its use. The certificate it replaces is retired with its key: an encryption one to
 * read what was sent to it, a signing one to sign until the directory lists its successor (signingInUse). Once both
 * certificates are installed, only the same practitioner's can follow.
 */
async function install(
  ctx: IdentityContext,
  use: CertificateUse,
  pkcs8: Uint8Array,
  certificate: Uint8Array,
  chain: readonly Uint8Array[],
): Promise<void> {
  const id = commonNameOf(certificate);
  if (!id)
    throw new IdentityError(
      'identity-invalid',
      'certificate-no-practitioner',
      'The certificate names no practitioner (no common name).',
    );
  const current = ctx.practitionerId();
  const otherUse = use === 'signing' ? 'encryption' : 'signing';
  if (current && current !== id && ctx.certificateRow(otherUse)) {
    throw new IdentityError(
      'identity-invalid',
      'certificate-other-practitioner',
      `This certificate belongs to ${id}, but the certificates here belong to ${current}: a renewed certificate must name the same practitioner.`,
      { practitionerId: id, current },
    );
  }
  // Half-way through the first run the one certificate here may be replaced by another practitioner's (a wrong file
  // corrected): it was never this practitioner's, so it is dropped, not kept as an earlier one.
  const correction = current !== undefined && current !== id;
  const verdict = await ctx.judge(certificate, use, new Date());
  if (verdict.state !== 'valid' && verdict.state !== 'expiring')
    throw new IdentityError(
      'identity-invalid',
      'certificate-unusable',
      `The ${use} certificate cannot be used: ${verdict.problem ?? verdict.state}`,
      { use, state: verdict.state },
    );
  // Proves key and certificate belong together, and that the key suits the use, before anything is stored.
  try {
    if (use === 'signing') await importSigningKey(pkcs8, certificate);
    else await importDecryptionKey(pkcs8, certificate);
  } catch (error) {
    if (isCmsError(error))
      throw new IdentityError(
        'identity-invalid',
        'certificate-key-mismatch',
        `The certificate does not belong to this key: ${error.message}`,
      );
    throw error;
  }
  const account = keyAccountFor(id, use, certificate);
  await ctx.vault.set(account, toBase64(pkcs8));
  const previous = ctx.certificateRow(use);
  const replaced = previous && !bytesEqual(new Uint8Array(previous.certificate), certificate) ? previous : undefined;
  try {
    ctx.db.transaction(() => {
      if (replaced && !correction) {
        ctx.db
          .prepare(
            'insert into retired_certificates (certificate, use, practitioner_id, key_account, retired_at, chain) values (?, ?, ?, ?, ?, ?)',
          )
          .run(replaced.certificate, use, replaced.practitioner_id, replaced.key_account, Date.now(), replaced.chain);
      }
      // The same certificate imported again is current, not also earlier.
      ctx.db.prepare('delete from retired_certificates where use = ? and certificate = ?').run(use, certificate);
      ctx.db
        .prepare(
          'insert into identity_certificates (use, practitioner_id, certificate, chain, key_account) values (?, ?, ?, ?, ?) on conflict(use) do update set practitioner_id = excluded.practitioner_id, certificate = excluded.certificate, chain = excluded.chain, key_account = excluded.key_account',
        )
        .run(use, id, certificate, JSON.stringify(chain.map(toBase64)), account);
      ctx.db.prepare('delete from pending_requests where key_account = ?').run(account);
    })();
  } finally {
    ctx.certificatesChanged();
  }
  if (replaced && correction && replaced.key_account !== account) {
    await ctx.vault.delete(replaced.key_account);
    ctx.loaded.delete(replaced.key_account);
  }
}

export async function importPkcs12(
  ctx: IdentityContext,
  input: { use: CertificateUse; pkcs12: Uint8Array; password: string },
): Promise<void> {
  if (ctx.trust().anchors.length === 0)
    throw new IdentityError(
      'trust-missing',
      'trust-missing',
      'Configure the regional CA before importing certificates.',
    );
  let contents;
  try {
    contents = await parsePkcs12(input.pkcs12, input.password);
  } catch (error) {
    if (isPkiError(error))
      throw new IdentityError(
        'identity-invalid',
        'certificate-file-unreadable',
        `The certificate file cannot be read: ${error.message}`,
      );
    throw error;
  }
  await install(ctx, input.use, contents.privateKeyPkcs8, contents.certificate, contents.chain);
}

/** A new key pair for `use`, kept in the keychain under its own name until its certificate comes back; the request (PEM). */
export async function createRequest(
  ctx: IdentityContext,
  input: { use: CertificateUse; practitionerId: string; organization?: string },
): Promise<string> {
  const current = ctx.practitionerId();
  if (current && current !== input.practitionerId) {
    throw new IdentityError(
      'identity-invalid',
      'key-request-other-practitioner',
      `The certificates here belong to ${current}: a new key request must be for the same practitioner.`,
      { current },
    );
  }
  const keyPair = await generateKeyPair();
  const request = await createCertificationRequest({
    keyPair,
    subject: { commonName: input.practitionerId, ...(input.organization && { organization: input.organization }) },
    profile: input.use === 'signing' ? 'practitioner-signing' : 'practitioner-encryption',
  });
  const spki = new Uint8Array(await crypto.subtle.exportKey('spki', keyPair.publicKey));
  const account = privateKeyAccount(input.practitionerId, input.use, publicKeyFingerprint(spki));
  // Its own account: the current key stays in use until the issued certificate is imported.
  await ctx.vault.set(account, toBase64(await exportPrivateKeyPkcs8(keyPair.privateKey)));
  ctx.db
    .prepare(
      'insert into pending_requests (key_account, use, practitioner_id, created_at) values (?, ?, ?, ?) on conflict(key_account) do nothing',
    )
    .run(account, input.use, input.practitionerId, Date.now());
  return derToPem(request, PEM_LABELS.certificationRequest);
}

/** The certificate the CA issued for an earlier request, installed with the key waiting for it. */
export async function importCertificate(
  ctx: IdentityContext,
  input: { use: CertificateUse; certificatePem: string },
): Promise<void> {
  const [certificate, ...chain] = pemToDerAll(input.certificatePem, PEM_LABELS.certificate);
  if (!certificate)
    throw new IdentityError('identity-invalid', 'file-holds-no-certificate', 'The file holds no certificate.');
  const id = commonNameOf(certificate);
  const account = id ? keyAccountFor(id, input.use, certificate) : undefined;
  const waiting =
    account &&
    ctx.db
      .prepare<[string, string], { key_account: string }>(
        'select key_account from pending_requests where key_account = ? and use = ?',
      )
      .get(account, input.use);
  // A request made before keys were named by fingerprint waited under one name per use.
  const legacy = id ? legacyPendingKeyAccount(id, input.use) : undefined;
  const pending = waiting ? await ctx.vault.get(waiting.key_account) : legacy ? await ctx.vault.get(legacy) : undefined;
  if (!id || pending === undefined)
    throw new IdentityError(
      'identity-invalid',
      'no-waiting-key-request',
      `No ${input.use} key on this workstation waits for a certificate of ${id ?? 'this subject'}; create the request here first.`,
      { use: input.use },
    );
  await install(ctx, input.use, fromBase64(pending), certificate, chain);
  if (!waiting && legacy) await ctx.vault.delete(legacy);
}
