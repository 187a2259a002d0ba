import type { DirectoryResourceType, DirectoryRow } from '../directory/directory-chunks.ts';
import type { SqlQueryable } from './sql-client.ts';

/** The region's directory: `directory_state` (its version), `directory_entries` and `directory_changes`. */

/** Locks the region's directory for this transaction (instances apply changes one at a time) and reads its version. */
export async function lockDirectory(q: SqlQueryable): Promise<number> {
  return (await q.query<{ version: number }>('select version from directory_state where id = 1 for update'))[0]!
    .version;
}

export async function directoryVersion(q: SqlQueryable): Promise<number> {
  return (await q.query<{ version: number }>('select version from directory_state where id = 1'))[0]!.version;
}

export async function setDirectoryVersion(q: SqlQueryable, version: number): Promise<void> {
  await q.query('update directory_state set version = $1 where id = 1', [version]);
}

export interface EntryDigest {
  readonly digest: string;
  readonly retired: boolean;
}

export async function entryDigests(q: SqlQueryable, urls: readonly string[]): Promise<Map<string, EntryDigest>> {
  const rows = await q.query<{ url: string; digest: string; retired: boolean }>(
    'select url, digest, retired from directory_entries where url = any($1::text[])',
    [urls],
  );
  return new Map(rows.map((r) => [r.url, { digest: r.digest, retired: r.retired }]));
}

export interface EntryWrite extends DirectoryRow {
  readonly publisher: string;
  /** JSON text of the resource; undefined retires the entry. */
  readonly json?: string;
  /** A PractitionerRole's endpoint ids. */
  readonly endpoints?: readonly string[];
  readonly digest: string;
}

export async function writeEntries(q: SqlQueryable, entries: readonly EntryWrite[], version: number): Promise<void> {
  if (entries.length === 0) return;
  await q.query(
    `insert into directory_entries (url, entry_id, resource_type, publisher, resource, endpoints, digest, version, retired)
     select u, e, t, p, r, n, d, $8, r is null
     from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[]) as x(u, e, t, p, r, n, d)
     on conflict (url) do update set resource = excluded.resource, endpoints = excluded.endpoints, digest = excluded.digest,
       version = excluded.version, retired = excluded.retired, publisher = excluded.publisher`,
    [
      entries.map((e) => e.url),
      entries.map((e) => e.entryId),
      entries.map((e) => e.resourceType),
      entries.map((e) => e.publisher),
      entries.map((e) => e.json ?? null) as unknown as string[],
      entries.map((e) => e.endpoints?.join(' ') ?? null) as unknown as string[],
      entries.map((e) => e.digest),
      version,
    ],
  );
}

export async function recordDirectoryChange(
  q: SqlQueryable,
  change: { version: number; publisher: string; messageId: string; upserts: number; retirements: number; at: Date },
): Promise<void> {
  await q.query(
    'insert into directory_changes (version, publisher, message_id, upserts, retirements, applied_at) values ($1, $2, $3, $4, $5, $6)',
    [change.version, change.publisher, change.messageId, change.upserts, change.retirements, change.at],
  );
}

export async function liveDirectoryRows(q: SqlQueryable): Promise<DirectoryRow[]> {
  return q.query<DirectoryRow>(
    'select url, entry_id as "entryId", resource_type as "resourceType" from directory_entries where not retired',
  );
}

/** Resources as JSON text, in the order asked. */
export async function resourcesByUrl(q: SqlQueryable, urls: readonly string[]): Promise<string[]> {
  const rows = await q.query<{ url: string; json: string }>(
    'select url, resource as json from directory_entries where url = any($1::text[])',
    [urls],
  );
  const byUrl = new Map(rows.map((r) => [r.url, r.json]));
  return urls.map((url) => byUrl.get(url)!);
}

export interface RoleRecord {
  readonly publisher: string;
  readonly retired: boolean;
  /** Endpoint ids the role lists. */
  readonly endpoints: string[];
}

export async function findRole(q: SqlQueryable, directoryId: string): Promise<RoleRecord | undefined> {
  const rows = await q.query<{ publisher: string; retired: boolean; endpoints: string | null }>(
    'select publisher, retired, endpoints from directory_entries where url = $1',
    [`PractitionerRole/${directoryId}`],
  );
  const row = rows[0];
  return (
    row && { publisher: row.publisher, retired: row.retired, endpoints: row.endpoints ? row.endpoints.split(' ') : [] }
  );
}

export interface DirectoryStats {
  readonly version: number;
  readonly live: Readonly<Record<DirectoryResourceType, number>>;
  readonly retired: number;
  readonly publishers: { publisher: string; practitioners: number }[];
  readonly lastChange?: { version: number; publisher: string; at: Date };
  readonly collectingPublishes: number;
}

export async function directoryStats(q: SqlQueryable): Promise<DirectoryStats> {
  const counts = await q.query<{ resourceType: DirectoryResourceType; retired: boolean; n: number }>(
    'select resource_type as "resourceType", retired, count(*)::int as n from directory_entries group by 1, 2',
  );
  const publishers = await q.query<{ publisher: string; practitioners: number }>(
    "select publisher, count(*)::int as practitioners from directory_entries where resource_type = 'PractitionerRole' and not retired group by 1 order by 1",
  );
  const last = (
    await q.query<{ version: number; publisher: string; at: Date }>(
      'select version, publisher, applied_at as at from directory_changes order by version desc limit 1',
    )
  )[0];
  const collecting = (
    await q.query<{ n: number }>("select count(*)::int as n from publish_sets where state = 'collecting'")
  )[0]!.n;
  const live = { Organization: 0, Practitioner: 0, PractitionerRole: 0 };
  let retired = 0;
  for (const c of counts) {
    if (c.retired) retired += c.n;
    else live[c.resourceType] = c.n;
  }
  return {
    version: await directoryVersion(q),
    live,
    retired,
    publishers,
    ...(last && { lastChange: last }),
    collectingPublishes: collecting,
  };
}

export interface DirectoryListingRow {
  readonly id: string;
  readonly publisher: string;
  readonly retired: boolean;
  readonly version: number;
  /** JSON text of the PractitionerRole and the Practitioner of the same id; null once retired. */
  readonly role: string | null;
  readonly practitioner: string | null;
}

/**
 * Practitioner entries (by their PractitionerRole), ordered by directory id, a page at a time (ids after `after`);
 * with `exactId`, that one entry.
 */
export function listDirectoryEntries(
  q: SqlQueryable,
  options: { publisher?: string; after?: string | undefined; exactId?: string; limit: number },
): Promise<DirectoryListingRow[]> {
  return q.query<DirectoryListingRow>(
    `select r.entry_id as id, r.publisher, r.retired, r.version, r.resource as role, p.resource as practitioner
     from directory_entries r left join directory_entries p on p.url = 'Practitioner/' || r.entry_id
     where r.resource_type = 'PractitionerRole' and ($1::text is null or r.publisher = $1) and ($2::text is null or r.entry_id > $2)
       and ($3::text is null or r.url = 'PractitionerRole/' || $3)
     order by r.entry_id limit $4`,
    [options.publisher ?? null, options.after ?? null, options.exactId ?? null, options.limit],
  );
}
