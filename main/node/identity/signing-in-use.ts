import { bytesEqual } from '../../../shared/pki/index.ts';
import { describeCertificate } from '../../../shared/pki/index.ts';
import type { IdentityContext } from './identity-context.ts';
import { IdentityError } from './identity-types.ts';

/** A signing certificate held here with the keychain account of its key: the current one or a retired one. */
export interface HeldSigning {
  readonly certificate: Uint8Array;
  readonly keyAccount: string;
  readonly chain: string;
  readonly practitionerId: string;
  readonly retired: boolean;
}

/**
 * The signing certificate to sign with now (docs/operations.md §3, renewal): peers check a signature against their
 * directory and the hub a snapshot request against its own, so a renewed certificate signs only once the directory
 * lists it. Until then the certificate it replaced signs, with its key. With `prune` (when signing, at the real
 * time), retired ones the directory has moved past, and expired ones, leave (certificate and key): a signing key
 * serves nothing but new signatures, and one kept idle is only something to lose.
 */
export async function signingInUse(ctx: IdentityContext, now: Date, prune = false): Promise<HeldSigning> {
  const row = ctx.certificateRow('signing');
  if (!row)
    throw new IdentityError(
      'identity-missing',
      'certificate-not-installed',
      "No signing certificate is installed; import the practitioner's certificates first.",
      { use: 'signing' },
    );
  const current: HeldSigning = {
    certificate: new Uint8Array(row.certificate),
    keyAccount: row.key_account,
    chain: row.chain,
    practitionerId: row.practitioner_id,
    retired: false,
  };
  const retired = ctx.retiredRows('signing').map((r): HeldSigning & { rowid: number } => ({
    rowid: r.rowid,
    certificate: new Uint8Array(r.certificate),
    keyAccount: r.key_account,
    chain: r.chain,
    practitionerId: r.practitioner_id,
    retired: true,
  }));
  if (retired.length === 0) return current;
  const held = [current, ...retired];
  const usable = await Promise.all(
    held.map(async (h) => {
      const { state } = await ctx.judge(h.certificate, 'signing', now);
      return (
        (state === 'valid' || state === 'expiring') &&
        (ctx.loaded.has(h.keyAccount) || (await ctx.vault.get(h.keyAccount)) !== undefined)
      );
    }),
  );
  const listed = ctx.options.directorySigningCertificates?.(current.practitionerId) ?? [];
  const listedIndex = held.findIndex((h, i) => usable[i] && listed.some((l) => bytesEqual(l, h.certificate)));
  const chosenIndex = listedIndex >= 0 ? listedIndex : Math.max(0, usable.indexOf(true));
  if (prune) {
    // Older than the one the directory lists, or expired: nothing will be signed with these again.
    const done = retired.filter(
      (r) =>
        (listedIndex >= 0 && held.indexOf(r) > listedIndex) ||
        Date.parse(describeCertificate(r.certificate).notAfter) < now.getTime(),
    );
    if (done.length > 0) await dropRetiredSigning(ctx, done);
  }
  return held[chosenIndex]!;
}

async function dropRetiredSigning(
  ctx: IdentityContext,
  rows: readonly { rowid: number; keyAccount: string }[],
): Promise<void> {
  ctx.db.transaction(() => {
    for (const r of rows) ctx.db.prepare('delete from retired_certificates where rowid = ?').run(r.rowid);
  })();
  // A renewal may certify the same key again: a key still named by another row stays.
  const stillUsed = new Set([
    ...ctx.db
      .prepare<[], { key_account: string }>('select key_account from identity_certificates')
      .all()
      .map((r) => r.key_account),
    ...ctx.db
      .prepare<[], { key_account: string }>('select key_account from retired_certificates')
      .all()
      .map((r) => r.key_account),
  ]);
  for (const account of new Set(rows.map((r) => r.keyAccount))) {
    if (stillUsed.has(account)) continue;
    await ctx.vault.delete(account);
    ctx.loaded.delete(account);
  }
}
