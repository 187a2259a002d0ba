import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildOrganization, type DirectoryResource } from '../../../shared/protocol/fhir/index.ts';
import { openDatabase, type SqliteDatabase } from '../../../transport/index.ts';
import { openDirectoryMirror, type DirectoryMirror } from './directory-mirror.ts';
import { expertEntry } from './mirror-test-entries.ts';

// The hospital and region filters and the choices the directory screen offers (issue #21 item 6), on a real store.
let dir: string;
let db: SqliteDatabase;
let mirror: DirectoryMirror;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'rts-facets-'));
  db = openDatabase(join(dir, 'store.db'), 'k'.repeat(40));
  mirror = openDirectoryMirror(db);
});
afterEach(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('hospital and region filters, and the choices the filters offer', () => {
  /** 120 experts: 60 at Riverside (Bergen, Vestland), 40 at Fjord Clinic (Førde, Vestland), 20 at Hillview (Tromsø, Troms). */
  function loadHospitals(): void {
    const resources: DirectoryResource[] = [
      buildOrganization({ id: 'clinic-a.riverside', name: 'Riverside Hospital', city: 'Bergen', state: 'Vestland' }),
      buildOrganization({
        id: 'clinic-a.fjord',
        name: 'Fjord Clinic',
        city: 'Førde',
        district: 'Sunnfjord',
        state: 'Vestland',
      }),
      buildOrganization({ id: 'clinic-b.hillview', name: 'Hillview Clinic', city: 'Tromsø', state: 'Troms' }),
    ];
    for (let i = 0; i < 120; i++) {
      const n = String(i).padStart(3, '0');
      const organization = i < 60 ? 'clinic-a.riverside' : i < 100 ? 'clinic-a.fjord' : 'clinic-b.hillview';
      const specialty = i % 2 === 0 ? 'Cardiology' : 'Neurology';
      resources.push(
        ...expertEntry(
          `clinic-a.dr-${n}`,
          `Lund${n}`,
          `Eva${n}`,
          specialty,
          organization,
          i % 3 === 0 ? ['en', 'nb'] : ['en'],
        ),
      );
    }
    expect(mirror.applySnapshotBatch({ batchId: 'h', index: 1, count: 1, version: 1, resources }).complete).toBe(true);
  }
  const numbers = (experts: { practitionerId: string }[]) => experts.map((e) => Number(e.practitionerId.slice(-3)));

  it('keeps the experts of one hospital or one place, combined with text, specialty, language and paging', () => {
    loadHospitals();
    expect(numbers(mirror.search({ organization: 'clinic-b.hillview', limit: 500 }).experts)).toEqual(
      Array.from({ length: 20 }, (_, i) => 100 + i),
    );
    // A region is any place the hospital's address names: its county, district or city.
    expect(mirror.search({ region: 'Vestland', limit: 500 }).experts).toHaveLength(100);
    expect(mirror.search({ region: 'Sunnfjord', limit: 500 }).experts).toHaveLength(40);
    expect(mirror.search({ region: 'Bergen', limit: 500 }).experts).toHaveLength(60);
    // Exact: a place is not a word of another one, nor a hospital's name a place.
    expect(mirror.search({ region: 'Vest' }).experts).toEqual([]);
    expect(mirror.search({ organization: 'clinic-a' }).experts).toEqual([]);
    // With words (both reads, name matches first), a specialty and a language; paging counts after every filter.
    const cardiologists = { text: 'eva', region: 'Vestland', organization: 'clinic-a.fjord', specialty: 'Cardiology' };
    const pages = [0, 7, 14].map((offset) => mirror.search({ ...cardiologists, limit: 7, offset }));
    expect(pages.map((p) => p.more)).toEqual([true, true, false]);
    const found = pages.flatMap((p) => numbers(p.experts));
    expect(found).toEqual(Array.from({ length: 20 }, (_, i) => 60 + 2 * i));
    expect(
      numbers(mirror.search({ text: 'lund', organization: 'clinic-a.fjord', language: 'nb', limit: 500 }).experts),
    ).toEqual(Array.from({ length: 40 }, (_, i) => 60 + i).filter((n) => n % 3 === 0));
    // Filters that exclude each other find nobody.
    expect(mirror.search({ organization: 'clinic-b.hillview', region: 'Bergen' })).toEqual({
      experts: [],
      more: false,
    });
  });

  it('never matches the words typed against the hospital and region tokens', () => {
    loadHospitals();
    // Hillview's token is "o" and its id in hex ("636c696e6963..."); Troms is "r54726f6d73".
    expect(mirror.search({ text: 'o636c' }).experts).toEqual([]);
    expect(mirror.search({ text: 'r5472' }).experts).toEqual([]);
    expect(mirror.search({ text: 'tromsø', limit: 500 }).experts).toHaveLength(20);
  });

  it('offers the specialties, languages, hospitals and places the directory holds, counted, and counts again after a change', () => {
    loadHospitals();
    expect(mirror.facets()).toEqual({
      specialties: [
        { value: 'Cardiology', experts: 60 },
        { value: 'Neurology', experts: 60 },
      ],
      languages: [
        { value: 'en', experts: 120 },
        { value: 'nb', experts: 40 },
      ],
      hospitals: [
        { id: 'clinic-a.fjord', name: 'Fjord Clinic', experts: 40 },
        { id: 'clinic-b.hillview', name: 'Hillview Clinic', experts: 20 },
        { id: 'clinic-a.riverside', name: 'Riverside Hospital', experts: 60 },
      ],
      regions: [
        { name: 'Troms', kind: 'state', experts: 20 },
        { name: 'Vestland', kind: 'state', experts: 100 },
        { name: 'Sunnfjord', kind: 'district', experts: 40 },
        { name: 'Bergen', kind: 'city', experts: 60 },
        { name: 'Førde', kind: 'city', experts: 40 },
        { name: 'Tromsø', kind: 'city', experts: 20 },
      ],
    });
    // Hillview moves to Alta and its experts leave but one; a new specialty arrives with a hospital not (yet) listed.
    const retire = Array.from({ length: 19 }, (_, i) => `clinic-a.dr-${100 + i}`).flatMap((id) => [
      { retire: `PractitionerRole/${id}` },
      { retire: `Practitioner/${id}` },
    ]);
    const changes = [
      {
        upsert: buildOrganization({
          id: 'clinic-b.hillview',
          name: 'Hillview Clinic',
          city: 'Alta',
          state: 'Finnmark',
        }),
      },
      ...retire,
      ...expertEntry('clinic-c.dr-new', 'Nyberg', 'Ola', 'Urology', 'clinic-c.unlisted', ['se']).map((upsert) => ({
        upsert,
      })),
    ];
    expect(mirror.applyUpdate({ baseVersion: 1, version: 2, changes })).toBe('applied');
    const facets = mirror.facets();
    expect(facets.specialties).toContainEqual({ value: 'Urology', experts: 1 });
    expect(facets.languages).toContainEqual({ value: 'se', experts: 1 });
    expect(facets.hospitals).toContainEqual({ id: 'clinic-b.hillview', name: 'Hillview Clinic', experts: 1 });
    expect(facets.hospitals).toContainEqual({ id: 'clinic-c.unlisted', experts: 1 });
    expect(facets.regions.filter((r) => r.kind === 'state')).toEqual([
      { name: 'Finnmark', kind: 'state', experts: 1 },
      { name: 'Vestland', kind: 'state', experts: 100 },
    ]);
    expect(numbers(mirror.search({ region: 'Alta' }).experts)).toEqual([119]);
    expect(mirror.search({ region: 'Tromsø' }).experts).toEqual([]);
  });
});
