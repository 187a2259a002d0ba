import type { SqlQueryable } from './sql-client.ts';

/** `crl_distributions`: the CRLs the region fanned out to its endpoints, with their DER. */

/** A CRL the hub fans out to every endpoint, as `crl_distributions` records it. */
export interface CrlDistribution {
  readonly digest: string;
  readonly issuer: string;
  readonly crlNumber: number | null;
  readonly thisUpdate: Date;
  /** The CRL's DER: what a registering endpoint, or an instance starting on an older file, is given later. */
  readonly crl: Uint8Array;
  readonly endpoints: number;
  readonly by: string;
  readonly at: Date;
}

/**
 * Records that a CRL is being fanned out; false if an instance already did (the caller then sends nothing). The
 * digest is the primary key, so two instances recording the same CRL at once insert one row between them; a row
 * recorded before the DER was kept (migration 4) gets it now.
 */
export async function recordCrlDistribution(q: SqlQueryable, d: CrlDistribution): Promise<boolean> {
  const rows = await q.query(
    `insert into crl_distributions (digest, issuer, crl_number, this_update, crl, endpoints, distributed_at, distributed_by) values ($1, $2, $3, $4, $5, $6, $7, $8)
     on conflict (digest) do nothing returning digest`,
    [d.digest, d.issuer, d.crlNumber, d.thisUpdate, d.crl, d.endpoints, d.at, d.by],
  );
  if (rows.length === 1) return true;
  await q.query('update crl_distributions set crl = $2, this_update = $3 where digest = $1 and crl is null', [
    d.digest,
    d.crl,
    d.thisUpdate,
  ]);
  return false;
}

/** Whether the CRL with this digest was distributed and its DER kept (nothing left to do for it). */
export async function isCrlDistributed(q: SqlQueryable, digest: string): Promise<boolean> {
  return (
    (await q.query('select 1 from crl_distributions where digest = $1 and crl is not null', [digest])).length === 1
  );
}

/**
 * The newest distributed CRL of each issuer (highest CRL number, then latest thisUpdate), as DER. The caller still
 * verifies each against its trust anchors: the issuer here is a name, not a key.
 */
export async function newestDistributedCrls(q: SqlQueryable): Promise<Uint8Array[]> {
  const rows = await q.query<{ crl: Uint8Array }>(
    `select distinct on (issuer) crl from crl_distributions where crl is not null
     order by issuer, crl_number desc nulls last, this_update desc`,
  );
  return rows.map((r) => new Uint8Array(r.crl));
}
