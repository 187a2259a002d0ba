import { describe, expect, it } from 'vitest';
import { chunkDirectoryRows, publisherOf, resourceRows, type DirectoryRow } from './directory-chunks.ts';

const expert = (n: number): DirectoryRow[] => {
  const id = `clinic-a.dr-${String(n).padStart(6, '0')}`;
  return [
    { url: `PractitionerRole/${id}`, entryId: id, resourceType: 'PractitionerRole' },
    { url: `Practitioner/${id}`, entryId: id, resourceType: 'Practitioner' },
  ];
};

describe('chunkDirectoryRows', () => {
  it('keeps at most 1,000 roles per batch, hospitals first, each practitioner before its role', () => {
    const rows = [
      ...Array.from({ length: 2500 }, (_, i) => expert(i)).flat(),
      { url: 'Organization/clinic-a.h1', entryId: 'clinic-a.h1', resourceType: 'Organization' as const },
    ];
    const chunks = chunkDirectoryRows(rows);
    expect(chunks.map((c) => c.filter((r) => r.resourceType === 'PractitionerRole').length)).toEqual([1000, 1000, 500]);
    expect(chunks[0]![0]!.resourceType).toBe('Organization');
    expect(chunks[0]![1]!.url).toBe('Practitioner/clinic-a.dr-000000');
    expect(chunks[0]![2]!.url).toBe('PractitionerRole/clinic-a.dr-000000');
    expect(chunks.flat()).toHaveLength(rows.length);
  });

  it('gives one empty batch for an empty directory', () => {
    expect(chunkDirectoryRows([])).toEqual([[]]);
  });

  it('names the publisher of a directory id', () => {
    expect(publisherOf('clinic-b.dr-okafor')).toBe('clinic-b');
  });

  it("reads a role's endpoints and gives equal resources equal digests", () => {
    const role = {
      resourceType: 'PractitionerRole',
      id: 'clinic-a.dr-x',
      endpoint: [{ identifier: { system: 'urn:rts:endpoint', value: 'ws-1' } }, { identifier: { value: 'clinic-a' } }],
    };
    const [first, organization] = resourceRows([role, { resourceType: 'Organization', id: 'clinic-a.h' }]);
    expect(first).toMatchObject({
      url: 'PractitionerRole/clinic-a.dr-x',
      entryId: 'clinic-a.dr-x',
      endpoints: ['ws-1', 'clinic-a'],
    });
    expect(organization!.endpoints).toBeUndefined();
    expect(resourceRows([structuredClone(role)])[0]!.digest).toBe(first!.digest);
    expect(resourceRows([{ ...role, active: false }])[0]!.digest).not.toBe(first!.digest);
  });
});
