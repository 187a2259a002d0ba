import { describe, expect, it } from 'vitest';
import type { DirectoryResource } from '../shared/protocol/fhir/index.ts';
import { fullListBatches } from './directory-batches.ts';

const organization = (id: string) => ({ resourceType: 'Organization', id, name: id }) as DirectoryResource;
const expert = (id: string, hospital: string) =>
  [
    { resourceType: 'Practitioner', id },
    { resourceType: 'PractitionerRole', id, organization: { reference: `Organization/${hospital}` } },
  ] as DirectoryResource[];
const urls = (batch: DirectoryResource[]) => batch.map((r) => `${r.resourceType}/${r.id}`);

describe('a full list in batches', () => {
  it('keeps each Practitioner beside its role and gives each batch the hospitals its roles name', () => {
    const batches = fullListBatches(
      [
        organization('c.north'),
        organization('c.south'),
        organization('c.closed'),
        ...expert('c.dr-a', 'c.north'),
        ...expert('c.dr-b', 'c.south'),
        ...expert('c.dr-c', 'c.south'),
      ],
      2,
    );
    expect(batches.map(urls)).toEqual([
      [
        'Organization/c.north',
        'Organization/c.south',
        'Organization/c.closed',
        'Practitioner/c.dr-a',
        'PractitionerRole/c.dr-a',
        'Practitioner/c.dr-b',
        'PractitionerRole/c.dr-b',
      ],
      // Batch 2 names c.south again: were batch 1 refused, dr-c's hospital would still come.
      ['Organization/c.south', 'Practitioner/c.dr-c', 'PractitionerRole/c.dr-c'],
    ]);
  });

  it('makes one batch of a list with hospitals and no experts', () => {
    expect(fullListBatches([organization('c.north')], 1_000).map(urls)).toEqual([['Organization/c.north']]);
  });
});
