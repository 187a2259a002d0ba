import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildExpertEntry, buildOrganization, type DirectoryResource } from '../../../shared/protocol/fhir/message-builders.ts';
import { openDatabase, type SqliteDatabase } from '../../../transport/sqlite-database.ts';
import { openDirectoryMirror, type DirectoryMirror } from './directory-mirror.ts';

const KEY = 'k'.repeat(40);
let dir: string;
let db: SqliteDatabase;
let mirror: DirectoryMirror;

const expert = (id: string, family: string, given: string, specialty: string, organizationId: string, languages = ['en']) =>
  buildExpertEntry({
    practitionerId: id, family, given: [given], languages, specialties: [{ text: specialty }], organizationId, endpoints: ['clinic-a'],
    signingCertificate: 'AA==', encryptionCertificate: 'AA==',
  });
const hospital = (id: string, name: string, city: string): DirectoryResource => buildOrganization({ id, name, city, country: 'NO' });
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
    batchId: 'b1', index: 1, count: 2, version: 5,
    resources: [hospital('clinic-a.riverside', 'Riverside Hospital', 'Bergen'), ...expert('clinic-a.dr-ahmed', 'Ahmed', 'Layla', 'Cardiology', 'clinic-a.riverside', ['en', 'ar'])],
  });
  expect(first).toEqual({ version: 5, received: 1, count: 2, complete: false });
  expect(mirror.version()).toBeUndefined();
  expect(mirror.count()).toBe(0);
  const second = mirror.applySnapshotBatch({
    batchId: 'b1', index: 2, count: 2, version: 5,
    resources: [hospital('clinic-b.hillview', 'Hillview Clinic', 'Tromsø'), ...expert('clinic-b.dr-duarte', 'Duarte', 'Tomás', 'Paediatric cardiology', 'clinic-b.hillview', ['pt'])],
  });
  expect(second.complete).toBe(true);
}

describe('directory mirror', () => {
  it('holds a snapshot only once all its batches are in, and finds experts by name, specialty, place and language', async () => {
    await loadSnapshot();
    expect(mirror.version()).toBe(5);
    expect(mirror.count()).toBe(2);
    expect(ids(mirror.search({ text: 'cardio' }))).toEqual(['clinic-a.dr-ahmed', 'clinic-b.dr-duarte']);
    expect(ids(mirror.search({ text: 'tomas' }))).toEqual(['clinic-b.dr-duarte']);
    expect(ids(mirror.search({ text: 'tromsø paed' }))).toEqual(['clinic-b.dr-duarte']);
    expect(ids(mirror.search({ text: 'ar' }))).toEqual(['clinic-a.dr-ahmed']);
    expect(mirror.search({ text: 'Riverside' })[0]).toMatchObject({ name: 'Layla Ahmed', organization: 'Riverside Hospital', city: 'Bergen NO' });
    // What the user types is never FTS5 syntax.
    expect(mirror.search({ text: '"ahmed* OR NEAR(' })).toEqual([]);
    expect(ids(mirror.search({}))).toHaveLength(2);
  });

  it('applies updates in version order, reports gaps and stale ones, and re-indexes what they touch', async () => {
    await loadSnapshot();
    expect(mirror.applyUpdate({ baseVersion: 5, version: 6, changes: [{ retire: 'PractitionerRole/clinic-a.dr-ahmed' }, { retire: 'Practitioner/clinic-a.dr-ahmed' }] })).toBe('applied');
    expect(ids(mirror.search({ text: 'cardio' }))).toEqual(['clinic-b.dr-duarte']);
    expect(mirror.applyUpdate({ baseVersion: 6, version: 7, changes: [{ upsert: hospital('clinic-b.hillview', 'Hillview University Clinic', 'Alta') }] })).toBe('applied');
    expect(mirror.search({ text: 'alta' })[0]).toMatchObject({ practitionerId: 'clinic-b.dr-duarte', organization: 'Hillview University Clinic' });
    expect(mirror.applyUpdate({ baseVersion: 5, version: 6, changes: [] })).toBe('stale');
    expect(mirror.applyUpdate({ baseVersion: 8, version: 9, changes: [] })).toBe('gap');
    expect(mirror.version()).toBe(7);
  });

  it('replaces everything with a newer snapshot', async () => {
    await loadSnapshot();
    expect(mirror.applySnapshotBatch({ batchId: 'b2', index: 1, count: 1, version: 9, resources: expert('clinic-c.dr-lund', 'Lund', 'Eva', 'Neurology', 'clinic-c.x') }).complete).toBe(true);
    expect(mirror.version()).toBe(9);
    expect(ids(mirror.search({}))).toEqual(['clinic-c.dr-lund']);
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
      batchId: 'b', index: 1, count: 1, version: 1,
      resources: [
        hospital('clinic-a.cardiff', 'Cardiff Clinic', 'Oslo'),
        ...expert('clinic-a.dr-berg', 'Berg', 'Jonas', 'Cardiology', 'clinic-a.cardiff'),
        ...expert('clinic-a.dr-cardoso', 'Cardoso', 'Ana', 'Dermatology', 'clinic-a.cardiff'),
        ...expert('clinic-a.dr-lund', 'Lund', 'Eva', 'Neurology', 'clinic-a.cardiff'),
      ],
    });
    const found = mirror.search({ text: 'card' }).map((r) => r.practitionerId);
    expect(found[0]).toBe('clinic-a.dr-cardoso');
    expect([...found].sort()).toEqual(['clinic-a.dr-berg', 'clinic-a.dr-cardoso', 'clinic-a.dr-lund']);
    expect(mirror.search({ text: 'card', limit: 1 }).map((r) => r.practitionerId)).toEqual(['clinic-a.dr-cardoso']);
    expect(mirror.search({ text: 'card neuro' }).map((r) => r.practitionerId)).toEqual(['clinic-a.dr-lund']);
  });
});

describe('look-alikes', () => {
  it("marks entries whose name and hospital read the same as another clinic's, on both sides, until one is retired", () => {
    mirror.applySnapshotBatch({
      batchId: 'b', index: 1, count: 1, version: 1,
      resources: [
        hospital('clinic-a.riverside', 'Riverside Hospital', 'Bergen'),
        hospital('clinic-x.riverside', 'RIVERSIDE  hospital', 'Bergen'),
        ...expert('clinic-a.dr-ahmed', 'Ahmed', 'Layla', 'Cardiology', 'clinic-a.riverside'),
        // The impostor: another clinic's entry, same person and hospital as the directory shows them.
        ...expert('clinic-x.dr-ahmed', 'Ahmed', 'Láyla', 'Cardiology', 'clinic-x.riverside'),
        // The same clinic listing two namesakes is its own business, and a namesake elsewhere is no look-alike.
        ...expert('clinic-a.dr-ahmed-2', 'Ahmed', 'Layla', 'Neurology', 'clinic-a.riverside'),
        ...expert('clinic-b.dr-ahmed', 'Ahmed', 'Layla', 'Cardiology', 'clinic-b.elsewhere'),
      ],
    });
    const flags = Object.fromEntries(mirror.search({ text: 'ahmed' }).map((e) => [e.practitionerId, e.lookAlikes]));
    expect(flags).toEqual({
      'clinic-a.dr-ahmed': ['clinic-x.dr-ahmed'],
      'clinic-a.dr-ahmed-2': ['clinic-x.dr-ahmed'],
      'clinic-x.dr-ahmed': expect.arrayContaining(['clinic-a.dr-ahmed', 'clinic-a.dr-ahmed-2']),
      'clinic-b.dr-ahmed': undefined,
    });
    expect(mirror.lookAlikes('clinic-b.dr-ahmed')).toEqual([]);

    expect(mirror.applyUpdate({ baseVersion: 1, version: 2, changes: [{ retire: 'PractitionerRole/clinic-x.dr-ahmed' }] })).toBe('applied');
    expect(mirror.search({ text: 'ahmed' }).every((e) => e.lookAlikes === undefined)).toBe(true);
  });
});
