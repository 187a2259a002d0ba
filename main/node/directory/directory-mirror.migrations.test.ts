import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildExpertEntry, buildOrganization, type DirectoryResource } from '../../../shared/protocol/fhir/index.ts';
import {
  migrateTo,
  schemaVersion,
  scratchDatabase,
  storeContents,
  type SqliteDatabase,
} from '../../../transport/index.ts';
import { MIGRATIONS, openDirectoryMirror } from './directory-mirror.ts';
import { identityKey } from './mirror-terms.ts';

const LAST = MIGRATIONS.at(-1)!.version;

let db: SqliteDatabase;
let dispose: () => void;
beforeEach(() => {
  ({ db, dispose } = scratchDatabase());
});
afterEach(() => dispose());

const expert = (id: string, family: string, given: string) =>
  buildExpertEntry({
    practitionerId: id,
    family,
    given: [given],
    languages: ['en'],
    specialties: [{ text: 'Cardiology' }],
    organizationId: 'clinic-a.riverside',
    endpoints: ['clinic-a'],
    signingCertificate: 'AA==',
    encryptionCertificate: 'AA==',
  });
const riverside = buildOrganization({ id: 'clinic-a.riverside', name: 'Riverside Hospital', city: 'Bergen' });

/** Stored resources as every version has written them (the entries table is unchanged since version 1). */
function entriesV1(resources: readonly DirectoryResource[]): void {
  const insert = db.prepare(
    'insert into mirror_entries (url, resource_type, entry_id, resource, organization) values (?, ?, ?, ?, ?)',
  );
  for (const r of resources) {
    const organization = r.resourceType === 'PractitionerRole' ? (r.organization?.reference ?? null) : null;
    insert.run(`${r.resourceType}/${r.id ?? ''}`, r.resourceType, r.id ?? '', JSON.stringify(r), organization);
  }
}

/** A practitioner's search row as versions before 5 wrote it (the FTS row shares the rowid of its row). */
function searchRowV1(rowid: number, practitionerId: string, name: string, organization: string): void {
  db.prepare('insert into mirror_search_rows (rowid, practitioner_id) values (?, ?)').run(rowid, practitionerId);
  db.prepare(
    'insert into mirror_search (rowid, practitioner_id, name, specialties, organization, city, languages) values (?, ?, ?, ?, ?, ?, ?)',
  ).run(rowid, practitionerId, name, 'Cardiology', organization, 'Bergen', 'en');
}

describe('directory migrations', () => {
  it('1: creates the one state row whose version later writes update', () => {
    migrateTo(db, 'directory', MIGRATIONS, 1);
    expect(db.prepare('select * from mirror_state').all()).toEqual([{ id: 1, version: null }]);

    const mirror = openDirectoryMirror(db);
    expect(mirror.version()).toBeUndefined();
    mirror.applySnapshotBatch({
      batchId: 'b1',
      index: 1,
      count: 1,
      version: 3,
      resources: [riverside, ...expert('clinic-a.dr-ahmed', 'Ahmed', 'Layla')],
    });
    expect(mirror.version()).toBe(3);
  });

  it('2: keeps the version a mirror of version 1 held, with no time of change yet', () => {
    migrateTo(db, 'directory', MIGRATIONS, 1);
    db.prepare('update mirror_state set version = 9').run();

    const mirror = openDirectoryMirror(db);
    expect([mirror.version(), mirror.appliedAt()]).toEqual([9, undefined]);
    expect(mirror.applyUpdate({ baseVersion: 9, version: 10, changes: [] })).toBe('applied');
    expect(mirror.appliedAt()).toBeGreaterThan(0);
  });

  it('3: moves every search row to the prefix index under the rowid its practitioner row names', () => {
    migrateTo(db, 'directory', MIGRATIONS, 2);
    db.prepare('update mirror_state set version = 5').run();
    entriesV1([
      riverside,
      ...expert('clinic-a.dr-ahmed', 'Ahmed', 'Layla'),
      ...expert('clinic-a.dr-berg', 'Berg', 'Nora'),
    ]);
    searchRowV1(7, 'clinic-a.dr-ahmed', 'Layla Ahmed', 'Riverside Hospital');
    searchRowV1(8, 'clinic-a.dr-berg', 'Nora Berg', 'Riverside Hospital');

    const mirror = openDirectoryMirror(db);
    const sql = db.prepare<[], { sql: string }>("select sql from sqlite_master where name = 'mirror_search'").get()!
      .sql;
    expect(sql).toContain("prefix = '1 2 3'");
    expect(mirror.search({ text: 'la' }).experts.map((e) => e.practitionerId)).toEqual(['clinic-a.dr-ahmed']);
    // A change replaces the row by that rowid: had the rows been renumbered, the old name would still be found.
    const [practitioner] = expert('clinic-a.dr-ahmed', 'Haddad', 'Layla');
    expect(mirror.applyUpdate({ baseVersion: 5, version: 6, changes: [{ upsert: practitioner }] })).toBe('applied');
    expect(mirror.search({ text: 'ahmed' }).experts).toEqual([]);
    expect(mirror.search({ text: 'haddad' }).experts.map((e) => e.practitionerId)).toEqual(['clinic-a.dr-ahmed']);
    expect(mirror.search({ text: 'nora' }).experts.map((e) => e.practitionerId)).toEqual(['clinic-a.dr-berg']);
  });

  it('4: counts the experts of an older mirror by the roles index', () => {
    migrateTo(db, 'directory', MIGRATIONS, 3);
    entriesV1([
      riverside,
      ...expert('clinic-a.dr-ahmed', 'Ahmed', 'Layla'),
      ...expert('clinic-a.dr-berg', 'Berg', 'Nora'),
    ]);

    const mirror = openDirectoryMirror(db);
    expect(mirror.count()).toBe(2);
    const plan = db
      .prepare<[], { detail: string }>(
        "explain query plan select count(*) as n from mirror_entries where resource_type = 'PractitionerRole'",
      )
      .all();
    expect(plan.map((p) => p.detail).join('\n')).toContain('mirror_entries_roles');
  });

  it('5: marks the look-alikes among the rows of an older mirror when it is opened', () => {
    migrateTo(db, 'directory', MIGRATIONS, 4);
    searchRowV1(1, 'clinic-a.dr-ahmed', 'Layla Ahmed', 'Riverside Hospital');
    searchRowV1(2, 'clinic-x.dr-ahmed', 'Ahmed Layla', 'Riverside hospital');
    searchRowV1(3, 'clinic-a.dr-berg', 'Nora Berg', 'Riverside Hospital');
    // A retired practitioner keeps its row (and rowid) but has no search entry.
    db.prepare("insert into mirror_search_rows (rowid, practitioner_id) values (4, 'clinic-a.dr-gone')").run();

    const mirror = openDirectoryMirror(db);
    expect(db.prepare('select practitioner_id, identity_key from mirror_search_rows order by rowid').all()).toEqual([
      { practitioner_id: 'clinic-a.dr-ahmed', identity_key: identityKey('Layla Ahmed', 'Riverside Hospital') },
      { practitioner_id: 'clinic-x.dr-ahmed', identity_key: identityKey('Layla Ahmed', 'Riverside Hospital') },
      { practitioner_id: 'clinic-a.dr-berg', identity_key: identityKey('Nora Berg', 'Riverside Hospital') },
      { practitioner_id: 'clinic-a.dr-gone', identity_key: null },
    ]);
    expect(mirror.lookAlikes('clinic-a.dr-ahmed')).toEqual(['clinic-x.dr-ahmed']);
    expect(mirror.lookAlikes('clinic-a.dr-berg')).toEqual([]);
    expect(schemaVersion(db, 'directory')).toBe(LAST);
  });

  it("6: works out the filters' choices of an older mirror once, when it is opened", () => {
    migrateTo(db, 'directory', MIGRATIONS, 5);
    entriesV1([
      riverside,
      ...expert('clinic-a.dr-ahmed', 'Ahmed', 'Layla'),
      ...expert('clinic-a.dr-berg', 'Berg', 'Nora'),
    ]);
    searchRowV1(1, 'clinic-a.dr-ahmed', 'Layla Ahmed', 'Riverside Hospital');
    searchRowV1(2, 'clinic-a.dr-berg', 'Nora Berg', 'Riverside Hospital');
    // Retired: its row stays, with no search entry, and counts for nothing.
    db.prepare("insert into mirror_search_rows (rowid, practitioner_id) values (3, 'clinic-a.dr-gone')").run();

    const mirror = openDirectoryMirror(db);
    expect(mirror.facets()).toEqual({
      specialties: [{ value: 'Cardiology', experts: 2 }],
      languages: [{ value: 'en', experts: 2 }],
      hospitals: [{ id: 'clinic-a.riverside', name: 'Riverside Hospital', experts: 2 }],
      regions: [{ name: 'Bergen', kind: 'city', experts: 2 }],
    });
    expect(mirror.search({ organization: 'clinic-a.riverside', region: 'Bergen' }).experts).toHaveLength(2);
    expect(db.prepare('select facets_built from mirror_state').get()).toEqual({ facets_built: 1 });
    expect(schemaVersion(db, 'directory')).toBe(LAST);
  });

  it('7: indexes the rows of an older mirror as terms across scripts when it is opened, showing them as before', () => {
    migrateTo(db, 'directory', MIGRATIONS, 6);
    db.prepare('update mirror_state set version = 5, facets_built = 1').run();
    const zhang = buildExpertEntry({
      practitionerId: 'clinic-a.zhang',
      family: '张',
      given: ['伟明'],
      languages: ['zh'],
      specialties: [{ text: '心内科' }],
      organizationId: 'clinic-a.zhengzhou',
      endpoints: ['clinic-a'],
      signingCertificate: 'AA==',
      encryptionCertificate: 'AA==',
    });
    entriesV1([riverside, ...expert('clinic-a.dr-aasen', 'Åsen', 'Bjørn'), ...zhang]);
    searchRowV1(1, 'clinic-a.dr-aasen', 'Bjørn Åsen', 'Riverside Hospital');
    db.prepare('insert into mirror_search_rows (rowid, practitioner_id) values (2, ?)').run('clinic-a.zhang');
    db.prepare(
      "insert into mirror_search (rowid, practitioner_id, name, specialties, organization, city, languages, facets) values (2, 'clinic-a.zhang', '伟明 张', '心内科', '郑州市第一人民医院', '郑州', 'zh', '')",
    ).run();
    // Before: a run of Han characters is one word, and å is folded to a.
    const before = (text: string) =>
      db
        .prepare<[string], { practitioner_id: string }>(
          'select practitioner_id from mirror_search where mirror_search match ?',
        )
        .all(`"${text}"*`)
        .map((r) => r.practitioner_id);
    expect(before('人民医院')).toEqual([]);
    expect(before('asen')).toEqual(['clinic-a.dr-aasen']);

    const mirror = openDirectoryMirror(db);
    const found = (text: string) => mirror.search({ text }).experts.map((e) => e.practitionerId);
    expect(found('人民医院')).toEqual(['clinic-a.zhang']);
    expect(found('伟')).toEqual(['clinic-a.zhang']);
    expect(found('张伟明')).toEqual(['clinic-a.zhang']);
    expect(found('åsen')).toEqual(['clinic-a.dr-aasen']);
    expect(found('asen')).toEqual([]);
    expect(mirror.search({ specialty: '心内科' }).experts).toMatchObject([
      { practitionerId: 'clinic-a.zhang', name: '伟明 张', organization: '郑州市第一人民医院', city: '郑州' },
    ]);
    expect(db.prepare('select terms_built from mirror_state').get()).toEqual({ terms_built: 1 });
    const sql = db.prepare<[], { sql: string }>("select sql from sqlite_master where name = 'mirror_search'").get()!
      .sql;
    expect(sql).toContain('remove_diacritics 0');
    // A change later indexes the row as any other.
    const [practitioner] = expert('clinic-a.dr-aasen', 'Ås', 'Bjørn');
    expect(mirror.applyUpdate({ baseVersion: 5, version: 6, changes: [{ upsert: practitioner }] })).toBe('applied');
    expect(found('åsen')).toEqual([]);
    expect(found('ås bjørn')).toEqual(['clinic-a.dr-aasen']);
    expect(schemaVersion(db, 'directory')).toBe(LAST);
  });

  it('8: leaves the experts of an older mirror unchecked, for the background check to judge under a known trust', () => {
    migrateTo(db, 'directory', MIGRATIONS, 7);
    entriesV1([riverside, ...expert('clinic-a.dr-ahmed', 'Ahmed', 'Layla')]);
    db.prepare('update mirror_state set version = 4, facets_built = 1, terms_built = 0 where id = 1').run();
    searchRowV1(1, 'clinic-a.dr-ahmed', 'Layla Ahmed', 'Riverside Hospital');
    db.prepare("update mirror_search_rows set identity_key = 'k' where rowid = 1").run();

    const mirror = openDirectoryMirror(db);
    expect(mirror.search({}).experts).toMatchObject([
      { practitionerId: 'clinic-a.dr-ahmed', certificates: 'unchecked' },
    ]);
    expect(mirror.uncheckedCount()).toBe(1);
    const [listed] = mirror.uncheckedCertificates('trust-1', 10);
    expect(listed).toEqual({ practitionerId: 'clinic-a.dr-ahmed', signing: ['AA=='], encryption: ['AA=='] });
    expect(
      mirror.recordCertificateChecks('trust-1', [{ ...listed!, problem: 'signing certificate: unreadable' }]),
    ).toBe(1);
    expect(mirror.search({}).experts).toMatchObject([
      { certificates: 'failed', certificateProblem: 'signing certificate: unreadable' },
    ]);
    // A verdict of another trust is not kept.
    expect(mirror.recordCertificateChecks('trust-0', [{ ...listed!, problem: undefined }])).toBe(0);
    expect(schemaVersion(db, 'directory')).toBe(LAST);
  });

  it('runs each migration once: migrating again changes nothing', () => {
    openDirectoryMirror(db).applySnapshotBatch({
      batchId: 'b1',
      index: 1,
      count: 1,
      version: 3,
      resources: [riverside, ...expert('clinic-a.dr-ahmed', 'Ahmed', 'Layla')],
    });
    const before = storeContents(db);
    openDirectoryMirror(db);
    expect(storeContents(db)).toEqual(before);
    expect(schemaVersion(db, 'directory')).toBe(LAST);
  });
});
