import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildOrganization, type DirectoryResource } from '../../../shared/protocol/fhir/index.ts';
import { openDatabase, type SqliteDatabase } from '../../../transport/index.ts';
import { openDirectoryMirror, type DirectoryMirror } from './directory-mirror.ts';
import { expertEntry } from './mirror-test-entries.ts';
import { identityKey } from './mirror-terms.ts';

const KEY = 'k'.repeat(40);
let dir: string;
let db: SqliteDatabase;
let mirror: DirectoryMirror;

const hospital = (id: string, name: string, city: string): DirectoryResource =>
  buildOrganization({ id, name, city, country: 'NO' });
const ids = (results: { practitionerId: string }[]) => results.map((r) => r.practitionerId).sort();

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'rts-mirror-'));
  db = openDatabase(join(dir, 'store.db'), KEY);
  mirror = openDirectoryMirror(db);
});
afterEach(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

async function loadSnapshot(): Promise<void> {
  const first = mirror.applySnapshotBatch({
    batchId: 'b1',
    index: 1,
    count: 2,
    version: 5,
    resources: [
      hospital('clinic-a.riverside', 'Riverside Hospital', 'Bergen'),
      ...expertEntry('clinic-a.dr-ahmed', 'Ahmed', 'Layla', 'Cardiology', 'clinic-a.riverside', ['en', 'ar']),
    ],
  });
  expect(first).toEqual({ version: 5, received: 1, count: 2, complete: false });
  expect(mirror.version()).toBeUndefined();
  expect(mirror.count()).toBe(0);
  const second = mirror.applySnapshotBatch({
    batchId: 'b1',
    index: 2,
    count: 2,
    version: 5,
    resources: [
      hospital('clinic-b.hillview', 'Hillview Clinic', 'Tromsø'),
      ...expertEntry('clinic-b.dr-duarte', 'Duarte', 'Tomás', 'Paediatric cardiology', 'clinic-b.hillview', ['pt']),
    ],
  });
  expect(second.complete).toBe(true);
}

describe('directory mirror', () => {
  it('holds a snapshot only once all its batches are in, and finds experts by name, specialty, place and language', async () => {
    await loadSnapshot();
    expect(mirror.version()).toBe(5);
    expect(mirror.count()).toBe(2);
    expect(ids(mirror.search({ text: 'cardio' }).experts)).toEqual(['clinic-a.dr-ahmed', 'clinic-b.dr-duarte']);
    expect(ids(mirror.search({ text: 'tomas' }).experts)).toEqual(['clinic-b.dr-duarte']);
    expect(ids(mirror.search({ text: 'tromsø paed' }).experts)).toEqual(['clinic-b.dr-duarte']);
    expect(ids(mirror.search({ text: 'ar' }).experts)).toEqual(['clinic-a.dr-ahmed']);
    expect(mirror.search({ text: 'Riverside' }).experts[0]).toMatchObject({
      name: 'Layla Ahmed',
      organization: 'Riverside Hospital',
      city: 'Bergen NO',
    });
    // What the user types is never FTS5 syntax.
    expect(mirror.search({ text: '"ahmed* OR NEAR(' }).experts).toEqual([]);
    expect(ids(mirror.search({}).experts)).toHaveLength(2);
  });

  it('applies updates in version order, reports gaps and stale ones, and re-indexes what they touch', async () => {
    await loadSnapshot();
    expect(
      mirror.applyUpdate({
        baseVersion: 5,
        version: 6,
        changes: [{ retire: 'PractitionerRole/clinic-a.dr-ahmed' }, { retire: 'Practitioner/clinic-a.dr-ahmed' }],
      }),
    ).toBe('applied');
    expect(ids(mirror.search({ text: 'cardio' }).experts)).toEqual(['clinic-b.dr-duarte']);
    expect(
      mirror.applyUpdate({
        baseVersion: 6,
        version: 7,
        changes: [{ upsert: hospital('clinic-b.hillview', 'Hillview University Clinic', 'Alta') }],
      }),
    ).toBe('applied');
    expect(mirror.search({ text: 'alta' }).experts[0]).toMatchObject({
      practitionerId: 'clinic-b.dr-duarte',
      organization: 'Hillview University Clinic',
    });
    expect(mirror.applyUpdate({ baseVersion: 5, version: 6, changes: [] })).toBe('stale');
    expect(mirror.applyUpdate({ baseVersion: 8, version: 9, changes: [] })).toBe('gap');
    expect(mirror.version()).toBe(7);
  });

  it('replaces everything with a newer snapshot', async () => {
    await loadSnapshot();
    expect(
      mirror.applySnapshotBatch({
        batchId: 'b2',
        index: 1,
        count: 1,
        version: 9,
        resources: expertEntry('clinic-c.dr-lund', 'Lund', 'Eva', 'Neurology', 'clinic-c.x'),
      }).complete,
    ).toBe(true);
    expect(mirror.version()).toBe(9);
    expect(ids(mirror.search({}).experts)).toEqual(['clinic-c.dr-lund']);
    expect(mirror.resource('Practitioner/clinic-a.dr-ahmed')).toBeUndefined();
  });

  it('keeps the directory encrypted on disk', async () => {
    await loadSnapshot();
    db.pragma('wal_checkpoint(TRUNCATE)');
    const bytes = readFileSync(join(dir, 'store.db'));
    expect(bytes.includes(Buffer.from('Riverside'))).toBe(false);
    expect(bytes.includes(Buffer.from('SQLite format 3'))).toBe(false);
  });
});

describe('search order', () => {
  it('puts experts whose name matches before those matched elsewhere, and each only once', () => {
    mirror.applySnapshotBatch({
      batchId: 'b',
      index: 1,
      count: 1,
      version: 1,
      resources: [
        hospital('clinic-a.cardiff', 'Cardiff Clinic', 'Oslo'),
        ...expertEntry('clinic-a.dr-berg', 'Berg', 'Jonas', 'Cardiology', 'clinic-a.cardiff'),
        ...expertEntry('clinic-a.dr-cardoso', 'Cardoso', 'Ana', 'Dermatology', 'clinic-a.cardiff'),
        ...expertEntry('clinic-a.dr-lund', 'Lund', 'Eva', 'Neurology', 'clinic-a.cardiff'),
      ],
    });
    const found = mirror.search({ text: 'card' }).experts.map((r) => r.practitionerId);
    expect(found[0]).toBe('clinic-a.dr-cardoso');
    expect([...found].sort()).toEqual(['clinic-a.dr-berg', 'clinic-a.dr-cardoso', 'clinic-a.dr-lund']);
    expect(mirror.search({ text: 'card', limit: 1 }).experts.map((r) => r.practitionerId)).toEqual([
      'clinic-a.dr-cardoso',
    ]);
    expect(mirror.search({ text: 'card neuro' }).experts.map((r) => r.practitionerId)).toEqual(['clinic-a.dr-lund']);
  });
});

describe('filters and paging', () => {
  const SPECIALTIES = ['Cardiology', 'Neurology', 'Urology'];
  /** 330 experts at one hospital: 110 of each specialty, every second one speaking Norwegian, a tenth named Cardell. */
  function loadMixed(): void {
    const resources = [hospital('clinic-a.riverside', 'Riverside Hospital', 'Bergen')];
    for (let i = 0; i < 330; i++) {
      const n = String(i).padStart(3, '0');
      resources.push(
        ...expertEntry(
          `clinic-a.dr-${n}`,
          i % 10 === 0 ? `Cardell${n}` : `Lund${n}`,
          `Eva${n}`,
          SPECIALTIES[i % 3]!,
          'clinic-a.riverside',
          i % 2 === 0 ? ['en', 'nb'] : ['en'],
        ),
      );
    }
    expect(mirror.applySnapshotBatch({ batchId: 'm', index: 1, count: 1, version: 1, resources }).complete).toBe(true);
  }
  /** Every page of a query, `limit` at a time, until the mirror says there are no more. */
  function allPages(query: Parameters<DirectoryMirror['search']>[0], limit: number) {
    const pages: { practitionerId: string; specialties: string; languages: string }[][] = [];
    for (let offset = 0; ; offset += limit) {
      const page = mirror.search({ ...query, limit, offset });
      pages.push(page.experts);
      if (!page.more) return pages;
      expect(page.experts).toHaveLength(limit);
    }
  }

  it('filters by specialty in the index and pages after filtering: page 2 of cardiology is cardiologists 51-100', () => {
    loadMixed();
    const [first, second, third, ...rest] = allPages({ specialty: 'Cardiology' }, 50);
    expect(rest).toEqual([]);
    expect([first!.length, second!.length, third!.length]).toEqual([50, 50, 10]);
    const all = [...first!, ...second!, ...third!];
    expect(all.every((e) => e.specialties === 'Cardiology')).toBe(true);
    expect(new Set(all.map((e) => e.practitionerId)).size).toBe(110);
    // The same 51st to 100th as one read of all of them.
    expect(second).toEqual(mirror.search({ specialty: 'Cardiology', limit: 500 }).experts.slice(50, 100));
  });

  it('combines text, specialty and language, a filter matching its own field by whole words', () => {
    loadMixed();
    const found = allPages({ text: 'riverside', specialty: 'urology', language: 'nb' }, 20).flat();
    // Urology is not Neurology; 55 urologists speak Norwegian.
    expect(found).toHaveLength(55);
    expect(found.every((e) => e.specialties === 'Urology' && e.languages.split(' ').includes('nb'))).toBe(true);
    expect(mirror.search({ specialty: 'Paediatrics' })).toEqual({ experts: [], more: false });
    // A filter without a word in it matches nobody; an empty one is no filter.
    expect(mirror.search({ specialty: '!!!' })).toEqual({ experts: [], more: false });
    expect(mirror.search({ specialty: ' ', limit: 500 }).experts).toHaveLength(330);
    // What is chosen is never FTS5 syntax either.
    expect(mirror.search({ language: 'nb" OR "en' }).experts).toEqual([]);
  });

  it('matches a language by its whole code ("no" is not "nb-NO") and a specialty by its text or a coding\'s display', () => {
    const [practitioner, role] = expertEntry('clinic-a.dr-vik', 'Vik', 'Siri', 'Kardiologi', 'clinic-a.riverside', [
      'nb-NO',
    ]);
    const coded = {
      ...role,
      specialty: [
        {
          text: 'Kardiologi',
          coding: [{ system: 'http://snomed.info/sct', code: '394579002', display: 'Cardiology' }],
        },
      ],
    } as DirectoryResource;
    const resources = [hospital('clinic-a.riverside', 'Riverside Hospital', 'Bergen'), practitioner, coded];
    expect(mirror.applySnapshotBatch({ batchId: 'l', index: 1, count: 1, version: 1, resources }).complete).toBe(true);
    expect(ids(mirror.search({ language: 'nb-NO' }).experts)).toEqual(['clinic-a.dr-vik']);
    expect(ids(mirror.search({ language: 'NB-no' }).experts)).toEqual(['clinic-a.dr-vik']);
    expect(mirror.search({ language: 'no' }).experts).toEqual([]);
    expect(mirror.search({ language: 'nb' }).experts).toEqual([]);
    expect(ids(mirror.search({ specialty: 'Cardiology' }).experts)).toEqual(['clinic-a.dr-vik']);
    expect(ids(mirror.search({ specialty: 'kardiologi' }).experts)).toEqual(['clinic-a.dr-vik']);
  });

  it('pages on from the experts whose name matches to the others without losing or repeating one', () => {
    loadMixed();
    const paged = allPages({ text: 'card' }, 7)
      .flat()
      .map((e) => e.practitionerId);
    const once = mirror.search({ text: 'card', limit: 500 }).experts.map((e) => e.practitionerId);
    // 33 named Cardell, then the other cardiologists.
    expect(once).toHaveLength(33 + 110 - 11);
    expect(once.slice(0, 33).every((id) => Number(id.slice(-3)) % 10 === 0)).toBe(true);
    expect(paged).toEqual(once);
    const neurologists = allPages({ text: 'card', specialty: 'neurology' }, 5).flat();
    expect(neurologists).toHaveLength(11);
  });
});

describe('look-alikes', () => {
  it('keys a name as earlier mirrors did (prefix, given, family and text), so rows written before and after meet', () => {
    const [practitioner, role] = expertEntry('clinic-a.dr-ahmed', 'Ahmed', 'Layla', 'Cardiology', 'clinic-a.riverside');
    const named = {
      ...practitioner,
      name: [{ prefix: ['Dr'], given: ['Layla'], family: 'Ahmed', text: 'Layla Ahmed-Khan' }],
    } as DirectoryResource;
    const resources = [hospital('clinic-a.riverside', 'Riverside Hospital', 'Bergen'), named, role];
    mirror.applySnapshotBatch({ batchId: 'k', index: 1, count: 1, version: 1, resources });
    const row = db
      .prepare<[string], { identity_key: string }>(
        'select identity_key from mirror_search_rows where practitioner_id = ?',
      )
      .get('clinic-a.dr-ahmed');
    expect(row?.identity_key).toBe(identityKey('Dr Layla Ahmed Layla Ahmed-Khan', 'Riverside Hospital'));
  });

  it("marks entries whose name and hospital read the same as another clinic's, on both sides, until one is retired", () => {
    mirror.applySnapshotBatch({
      batchId: 'b',
      index: 1,
      count: 1,
      version: 1,
      resources: [
        hospital('clinic-a.riverside', 'Riverside Hospital', 'Bergen'),
        hospital('clinic-x.riverside', 'RIVERSIDE  hospital', 'Bergen'),
        ...expertEntry('clinic-a.dr-ahmed', 'Ahmed', 'Layla', 'Cardiology', 'clinic-a.riverside'),
        // The impostor: another clinic's entry, same person and hospital as the directory shows them.
        ...expertEntry('clinic-x.dr-ahmed', 'Ahmed', 'Láyla', 'Cardiology', 'clinic-x.riverside'),
        // The same clinic listing two namesakes is its own business, and a namesake elsewhere is no look-alike.
        ...expertEntry('clinic-a.dr-ahmed-2', 'Ahmed', 'Layla', 'Neurology', 'clinic-a.riverside'),
        ...expertEntry('clinic-b.dr-ahmed', 'Ahmed', 'Layla', 'Cardiology', 'clinic-b.elsewhere'),
      ],
    });
    const flags = Object.fromEntries(
      mirror.search({ text: 'ahmed' }).experts.map((e) => [e.practitionerId, e.lookAlikes]),
    );
    expect(flags).toEqual({
      'clinic-a.dr-ahmed': ['clinic-x.dr-ahmed'],
      'clinic-a.dr-ahmed-2': ['clinic-x.dr-ahmed'],
      'clinic-x.dr-ahmed': expect.arrayContaining(['clinic-a.dr-ahmed', 'clinic-a.dr-ahmed-2']),
      'clinic-b.dr-ahmed': undefined,
    });
    expect(mirror.lookAlikes('clinic-b.dr-ahmed')).toEqual([]);

    expect(
      mirror.applyUpdate({ baseVersion: 1, version: 2, changes: [{ retire: 'PractitionerRole/clinic-x.dr-ahmed' }] }),
    ).toBe('applied');
    expect(mirror.search({ text: 'ahmed' }).experts.every((e) => e.lookAlikes === undefined)).toBe(true);
  });
});
