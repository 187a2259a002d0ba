import {
  certificatesOf,
  readDirectoryEntry,
  readOrganization,
  type DirectoryChange,
  type DirectoryResource,
} from '../../../shared/protocol/fhir/index.ts';
import { migrate, preparedStatement, type SqliteDatabase } from '../../../transport/index.ts';
import { openMirrorFacets, type DirectoryFacets } from './mirror-facets.ts';
import { openMirrorMarks, type CertificateVerdict, type ListedCertificates } from './mirror-marks.ts';
import { MIGRATIONS } from './mirror-schema.ts';
import type { ExpertPage, ExpertQuery, ExpertSummary, Person } from './expert-search.ts';
import {
  buildTerms,
  filterOf,
  identityKey,
  identityNameOf,
  rankedMatchesOf,
  specialtyWordsOf,
  TERM_COLUMNS,
  termColumnsOf,
} from './mirror-terms.ts';
import { queryTermsOf } from './search-terms.ts';

/**
 * The workstation's copy of the regional expert directory (docs/protocol.md §5.1), in the encrypted local store:
 * snapshots replace it once all their batches are in, updates apply in version order, and a gap is reported so that
 * the caller asks the hub for a snapshot. Search runs on an FTS5 index of name, specialties, hospital, place and
 * languages. Messages arrive here already opened and bound (directory-sync.ts); each live expert's certificates carry
 * the verdict of the background check (certificate-checks.ts), which a change of the entry forgets.
 */
export { MIGRATIONS } from './mirror-schema.ts';
export type { DirectoryFacets } from './mirror-facets.ts';
export type { CertificateVerdict, ListedCertificates } from './mirror-marks.ts';
export type { ExpertPage, ExpertQuery, ExpertSummary, Person } from './expert-search.ts';

export interface SnapshotProgress {
  readonly version: number;
  readonly received: number;
  readonly count: number;
  /** All batches are in and the mirror now holds this snapshot. */
  readonly complete: boolean;
}

export type UpdateOutcome = 'applied' | 'stale' | 'gap';

export interface DirectoryMirror {
  /** Undefined until the first snapshot is complete. */
  version(): number | undefined;
  /** When a snapshot or update was last applied (ms since the epoch). */
  appliedAt(): number | undefined;
  applySnapshotBatch(batch: {
    batchId: string;
    index: number;
    count: number;
    version: number;
    resources: readonly DirectoryResource[];
  }): SnapshotProgress;
  applyUpdate(update: { baseVersion: number; version: number; changes: readonly DirectoryChange[] }): UpdateOutcome;
  search(query: ExpertQuery): ExpertPage;
  /** Worked out once per change of the mirror. */
  facets(): DirectoryFacets;
  resource(url: string): DirectoryResource | undefined;
  /** A practitioner's certificates of one use as the directory lists them (DER); undefined without a live entry. */
  certificates(practitionerId: string, use: 'signing' | 'encryption'): Uint8Array[] | undefined;
  /** Live entries of other publishers whose name and hospital name read the same as this one's (`ExpertSummary.lookAlikes`). */
  lookAlikes(practitionerId: string): string[];
  /** Name, specialties and hospital of each of these practitioners the directory lists now (a page of a list's people). */
  people(practitionerIds: readonly string[]): Map<string, Person>;
  count(): number;
  /**
   * Up to `limit` live experts whose certificates have no verdict reached under `trust` (a key naming the anchors and
   * CRLs): a new trust forgets every verdict first.
   */
  uncheckedCertificates(trust: string, limit: number): ListedCertificates[];
  /**
   * Keeps the verdicts reached under `trust`, in one transaction; one whose expert's certificates changed meanwhile, or
   * reached under a trust replaced meanwhile, is dropped (that expert stays unchecked). Returns how many were kept.
   */
  recordCertificateChecks(trust: string, verdicts: readonly CertificateVerdict[]): number;
  /** Live experts whose certificates have no verdict yet. */
  uncheckedCount(): number;
}

export function openDirectoryMirror(db: SqliteDatabase): DirectoryMirror {
  migrate(db, 'directory', MIGRATIONS);
  const getEntry = db.prepare<[string], { resource: string }>('select resource from mirror_entries where url = ?');
  const putEntry = db.prepare(
    'insert into mirror_entries (url, resource_type, entry_id, resource, organization) values (?, ?, ?, ?, ?) on conflict(url) do update set resource = excluded.resource, organization = excluded.organization',
  );
  const deleteEntry = db.prepare('delete from mirror_entries where url = ?');
  const searchRow = db.prepare<[string], { rowid: number }>(
    'select rowid from mirror_search_rows where practitioner_id = ?',
  );
  const newSearchRow = db.prepare<[string], { rowid: number }>(
    'insert into mirror_search_rows (practitioner_id) values (?) returning rowid',
  );
  const deleteSearch = db.prepare('delete from mirror_search where rowid = ?');
  const putSearch = db.prepare(
    `insert into mirror_search (rowid, practitioner_id, name, specialties, organization, city, languages, ${TERM_COLUMNS.join(', ')}, facets) values (${Array(13).fill('?').join(', ')})`,
  );
  const rolesOfOrganization = db.prepare<[string], { entry_id: string }>(
    'select entry_id from mirror_entries where organization = ?',
  );
  // A row written again (its entry, role or hospital changed) is checked again: its certificates may have changed.
  const setIdentity = db.prepare(
    'update mirror_search_rows set identity_key = ?, certificate_check = null where rowid = ?',
  );

  const facets = openMirrorFacets(db);
  const marks = openMirrorMarks(db, (practitionerId) => read(`Practitioner/${practitionerId}`));
  const readVersion = () =>
    (db.prepare('select version from mirror_state where id = 1').get() as { version: number | null }).version ??
    undefined;
  const setVersion = db.prepare('update mirror_state set version = ?, applied_at = ? where id = 1');

  const read = (url: string): Record<string, unknown> | undefined => {
    const row = getEntry.get(url);
    return row ? (JSON.parse(row.resource) as Record<string, unknown>) : undefined;
  };

  /**
   * The searchable rows of these practitioners, from their Practitioner, PractitionerRole and the role's Organization.
   * `current` holds what this transaction has read or written, by url (undefined: retired), so that a change of
   * thousands of entries does not read each back and parse it again. The FTS rows are written after every other
   * statement: FTS5 writes what it holds in memory as a new segment of its index whenever another statement opens a
   * savepoint (an insert that may fail does), and a segment per expert, merged again and again, cost a fifth of the
   * mirror's CPU in a directory sync (50,000 experts in 1,000-expert updates: 5.4-5.6 s against 6.8-7.0).
   */
  function indexAll(practitionerIds: Iterable<string>, current: Map<string, Record<string, unknown> | undefined>) {
    const searchWrites: (() => void)[] = [];
    for (const id of practitionerIds) index(id, current, searchWrites);
    for (const write of searchWrites) write();
  }

  function index(
    practitionerId: string,
    current: Map<string, Record<string, unknown> | undefined>,
    searchWrites: (() => void)[],
  ): void {
    const existing = searchRow.get(practitionerId);
    const rowid = (existing ?? newSearchRow.get(practitionerId)!).rowid;
    if (existing) {
      searchWrites.push(() => deleteSearch.run(rowid));
      facets.remove(rowid);
    }
    const live = liveEntry(practitionerId, current);
    if (!live) {
      setIdentity.run(null, rowid);
      return;
    }
    const { practitioner, role, entry, organization } = live;
    const organizationName = organization.name ?? '';
    setIdentity.run(identityKey(identityNameOf(practitioner), organizationName), rowid);
    const shown = {
      name: entry.name ?? '',
      specialties: specialtyWordsOf(role).join(' '),
      organization: organizationName,
      city: organization.place.join(' '),
      languages: entry.languages.join(' '),
    };
    const columns = [rowid, practitionerId, ...Object.values(shown), ...termColumnsOf(shown), facets.tokensOf(live)];
    searchWrites.push(() => putSearch.run(...columns));
    facets.put(rowid, live);
  }

  /** A practitioner's entry and hospital, read from `current` (or the store), if both its resources are active. */
  function liveEntry(practitionerId: string, current: Map<string, Record<string, unknown> | undefined>) {
    const known = (url: string) => {
      if (!current.has(url)) current.set(url, read(url));
      return current.get(url);
    };
    const practitioner = known(`Practitioner/${practitionerId}`);
    const role = known(`PractitionerRole/${practitionerId}`);
    if (!practitioner || !role || practitioner.active === false || role.active === false) return undefined;
    const entry = readDirectoryEntry(practitioner, role);
    const organization = readOrganization(
      entry.organizationId === undefined ? undefined : known(`Organization/${entry.organizationId}`),
    );
    return { practitioner, role, entry, organization };
  }

  /** Stores or removes one resource (noting it in `current`) and returns the practitioners whose search row it touches. */
  function write(change: DirectoryChange, current: Map<string, Record<string, unknown> | undefined>): string[] {
    const url = change.upsert ? `${change.upsert.resourceType}/${change.upsert.id ?? ''}` : change.retire!;
    const [type, id] = [url.slice(0, url.indexOf('/')), url.slice(url.indexOf('/') + 1)];
    const organization =
      change.upsert?.resourceType === 'PractitionerRole' ? (change.upsert.organization?.reference ?? null) : null;
    if (change.upsert) putEntry.run(url, type, id, JSON.stringify(change.upsert), organization);
    else deleteEntry.run(url);
    current.set(url, change.upsert as Record<string, unknown> | undefined);
    return type === 'Organization' ? rolesOfOrganization.all(url).map((r) => r.entry_id) : [id];
  }

  // Rows of a mirror made before look-alikes were marked: worked out once, from what the search index holds.
  const unkeyed = db
    .prepare<[], { rowid: number; name: string | null; organization: string | null }>(
      "select r.rowid as rowid, s.name as name, s.organization as organization from mirror_search_rows r left join mirror_search s on s.rowid = r.rowid where r.identity_key = ''",
    )
    .all();
  if (unkeyed.length > 0) {
    db.transaction(() => {
      for (const row of unkeyed)
        setIdentity.run(row.name === null ? null : identityKey(row.name, row.organization ?? ''), row.rowid);
    })();
  }
  // Facets of a mirror made before they were kept: worked out once, for the rows the search index holds.
  if (
    (db.prepare('select facets_built from mirror_state where id = 1').get() as { facets_built: number })
      .facets_built === 0
  ) {
    db.transaction(() => {
      const rows = db
        .prepare<[], { rowid: number; practitioner_id: string }>('select rowid, practitioner_id from mirror_search')
        .all();
      const setTokens = db.prepare('update mirror_search set facets = ? where rowid = ?');
      for (const row of rows) {
        const live = liveEntry(row.practitioner_id, new Map());
        if (!live) continue;
        facets.put(row.rowid, live);
        setTokens.run(facets.tokensOf(live), row.rowid);
      }
      db.prepare('update mirror_state set facets_built = 1 where id = 1').run();
    })();
  }
  buildTerms(db);

  function people(practitionerIds: readonly string[]): Map<string, Person> {
    const found = new Map<string, Person>();
    const unique = [...new Set(practitionerIds)];
    // 500 at a time: far below SQLite's limit of bound parameters.
    for (let at = 0; at < unique.length; at += 500) {
      const ids = unique.slice(at, at + 500);
      const rows = preparedStatement<
        string[],
        { practitioner_id: string; name: string; specialties: string; organization: string }
      >(
        db,
        `select r.practitioner_id, s.name, s.specialties, s.organization from mirror_search_rows r
          join mirror_search s on s.rowid = r.rowid where r.practitioner_id in (${ids.map(() => '?').join(',')})`,
      ).all(...ids);
      for (const r of rows)
        if (r.name)
          found.set(r.practitioner_id, { name: r.name, specialties: r.specialties, organization: r.organization });
    }
    return found;
  }

  return {
    version: readVersion,
    appliedAt: () =>
      (db.prepare('select applied_at from mirror_state where id = 1').get() as { applied_at: number | null })
        .applied_at ?? undefined,

    applySnapshotBatch: (batch) =>
      db.transaction((): SnapshotProgress => {
        db.prepare('insert or replace into mirror_snapshot_batches values (?, ?, ?, ?, ?)').run(
          batch.batchId,
          batch.index,
          batch.count,
          batch.version,
          JSON.stringify(batch.resources),
        );
        // Batches of an older snapshot can never complete now.
        db.prepare('delete from mirror_snapshot_batches where batch_id <> ?').run(batch.batchId);
        const received = (
          db.prepare('select count(*) as n from mirror_snapshot_batches where batch_id = ?').get(batch.batchId) as {
            n: number;
          }
        ).n;
        if (received < batch.count) return { version: batch.version, received, count: batch.count, complete: false };
        db.exec('delete from mirror_entries; delete from mirror_search; delete from mirror_search_rows;');
        facets.clear();
        const touched = new Set<string>();
        // One batch in memory at a time (a 100,000-expert snapshot is some 200 MB of JSON), so the entries are read back
        // for the index once all are written (an entry's role or organization may come in a later batch).
        const readBatch = db.prepare<[string, number], { resources: string }>(
          'select resources from mirror_snapshot_batches where batch_id = ? and batch_index = ?',
        );
        for (let index = 1; index <= batch.count; index++) {
          for (const resource of JSON.parse(readBatch.get(batch.batchId, index)!.resources) as DirectoryResource[])
            for (const id of write({ upsert: resource }, new Map())) touched.add(id);
        }
        indexAll(touched, new Map());
        db.prepare('delete from mirror_snapshot_batches').run();
        setVersion.run(batch.version, Date.now());
        return { version: batch.version, received, count: batch.count, complete: true };
      })(),

    applyUpdate: (update) =>
      db.transaction((): UpdateOutcome => {
        const current = readVersion();
        if (current !== undefined && update.version <= current) return 'stale';
        if (current !== update.baseVersion) return 'gap';
        const resources = new Map<string, Record<string, unknown> | undefined>();
        const touched = new Set<string>();
        for (const change of update.changes) for (const id of write(change, resources)) touched.add(id);
        indexAll(touched, resources);
        setVersion.run(update.version, Date.now());
        return 'applied';
      })(),

    search(query) {
      const terms = queryTermsOf(query.text);
      const limit = Math.min(Math.max(query.limit ?? 50, 1), 500);
      const offset = Math.max(query.offset ?? 0, 0);
      const filters = filterOf(query);
      if (filters === undefined) return { experts: [], more: false };
      // The index splits "nb-NO" into two words, so the phrase narrows and this keeps the exact code ("no" is not "nb-NO").
      const language = query.language?.trim().toLowerCase();
      const exact = language ? ` and instr(' ' || lower(languages) || ' ', ' ' || ? || ' ') > 0` : '';
      const code = language ? [language] : [];
      const columns = 'practitioner_id as practitionerId, name, specialties, organization, city, languages';
      // One more row than asked for says whether there are more.
      const page = (rows: ExpertSummary[]): ExpertPage => ({
        experts: marks.withMarks(rows.slice(0, limit)),
        more: rows.length > limit,
      });
      if (terms.length === 0) {
        if (!filters)
          return page(
            db
              .prepare<[number, number], ExpertSummary>(
                `select ${columns} from mirror_search order by name, rowid limit ? offset ?`,
              )
              .all(limit + 1, offset),
          );
        return page(
          db
            .prepare<(string | number)[], ExpertSummary>(
              `select ${columns} from mirror_search where mirror_search match ?${exact} order by name, rowid limit ? offset ?`,
            )
            .all(filters, ...code, limit + 1, offset),
        );
      }
      // Three unranked reads, each in index order, that SQLite stops at the page's end (rankedMatchesOf).
      const part = `select ${columns} from mirror_search where mirror_search match ?${exact}`;
      const rows = db
        .prepare<(string | number)[], ExpertSummary>(`${part} union all ${part} union all ${part} limit ? offset ?`)
        .all(...rankedMatchesOf(terms, filters).flatMap((m) => [m, ...code]), limit + 1, offset);
      return page(rows);
    },

    facets: () =>
      facets.count(JSON.stringify(db.prepare('select version, applied_at from mirror_state where id = 1').get())),

    resource: (url) => read(url) as DirectoryResource | undefined,
    certificates(practitionerId, use) {
      const role = read(`PractitionerRole/${practitionerId}`);
      const practitioner = read(`Practitioner/${practitionerId}`);
      if (!role || !practitioner || role.active === false || practitioner.active === false) return undefined;
      return certificatesOf(practitioner)[use].map((b) => new Uint8Array(Buffer.from(b, 'base64')));
    },
    lookAlikes: marks.lookAlikes,
    people,
    count: () =>
      (
        db.prepare("select count(*) as n from mirror_entries where resource_type = 'PractitionerRole'").get() as {
          n: number;
        }
      ).n,

    uncheckedCertificates: marks.unchecked,
    recordCertificateChecks: marks.record,
    uncheckedCount: marks.uncheckedCount,
  };
}
