import { createHash } from 'node:crypto';
import { PROTOCOL_LIMITS } from '../../shared/protocol/index.ts';

export type DirectoryResourceType = 'Organization' | 'Practitioner' | 'PractitionerRole';

export interface DirectoryRow {
  /** `ResourceType/<directory id>`. */
  readonly url: string;
  readonly entryId: string;
  readonly resourceType: DirectoryResourceType;
}

const TYPE_ORDER: Readonly<Record<DirectoryResourceType, number>> = {
  Organization: 0,
  Practitioner: 1,
  PractitionerRole: 2,
};

/** Hospitals first (roles refer to them), then each practitioner followed by its role. */
function compareDirectoryRows(a: DirectoryRow, b: DirectoryRow): number {
  const byOrganization = Number(a.resourceType !== 'Organization') - Number(b.resourceType !== 'Organization');
  if (byOrganization !== 0) return byOrganization;
  if (a.entryId !== b.entryId) return a.entryId < b.entryId ? -1 : 1;
  return TYPE_ORDER[a.resourceType] - TYPE_ORDER[b.resourceType];
}

/**
 * Splits directory resources into protocol batches (docs/protocol.md §2.3): at most 1,000 PractitionerRoles each,
 * and at most three resources per role on average, so that a batch stays a few megabytes. Always at least one
 * (possibly empty) chunk, because an empty directory still has a snapshot of one batch.
 */
export function chunkDirectoryRows<T extends DirectoryRow>(
  rows: readonly T[],
  maxRoles: number = PROTOCOL_LIMITS.maxDirectoryEntriesPerBatch,
): T[][] {
  const sorted = [...rows].sort(compareDirectoryRows);
  const chunks: T[][] = [[]];
  let roles = 0;
  for (const row of sorted) {
    let current = chunks[chunks.length - 1]!;
    const isRole = row.resourceType === 'PractitionerRole';
    if ((isRole && roles >= maxRoles) || current.length >= maxRoles * 3) {
      current = [];
      chunks.push(current);
      roles = 0;
    }
    current.push(row);
    if (isRole) roles += 1;
  }
  return chunks;
}

/** The endpoint id a directory id belongs to: the part before the dot (docs/protocol.md §1). */
export function publisherOf(directoryId: string): string {
  return directoryId.slice(0, directoryId.indexOf('.'));
}

/** A directory resource ready to store: its url, JSON text, digest, and a role's endpoint ids. */
export interface ResourceRowData extends DirectoryRow {
  readonly json: string;
  readonly digest: string;
  readonly endpoints?: readonly string[];
}

interface PublishedResource {
  readonly resourceType: DirectoryResourceType;
  readonly id: string;
  readonly endpoint?: readonly { identifier?: { value?: string } }[];
}

/**
 * Equal resources have equal digests as long as the publisher writes them the same way; one that writes keys in
 * another order only causes an unneeded update, never a missed one.
 */
export function resourceRows(resources: readonly Record<string, unknown>[]): ResourceRowData[] {
  return resources.map((resource) => {
    const r = resource as unknown as PublishedResource;
    const json = JSON.stringify(resource);
    return {
      url: `${r.resourceType}/${r.id}`,
      entryId: r.id,
      resourceType: r.resourceType,
      json,
      digest: createHash('sha256').update(json).digest('base64'),
      ...(r.resourceType === 'PractitionerRole' && {
        endpoints: (r.endpoint ?? []).map((e) => e.identifier?.value ?? '').filter(Boolean),
      }),
    };
  });
}
