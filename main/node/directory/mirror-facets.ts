import type { readDirectoryEntry, readOrganization } from '../../../shared/protocol/fhir/index.ts';
import type { SqliteDatabase } from '../../../transport/index.ts';
import { facetToken } from './mirror-terms.ts';

/** The places a hospital's address names, widest first: what the region filter offers. */
export const PLACE_KINDS = ['state', 'district', 'city'] as const;
export type PlaceKind = (typeof PLACE_KINDS)[number];

/** How many live experts have each value the filters can choose, so that the choices are what the directory holds. */
export interface DirectoryFacets {
  readonly specialties: { readonly value: string; readonly experts: number }[];
  /** Language codes as the directory lists them. */
  readonly languages: { readonly value: string; readonly experts: number }[];
  /** Hospitals by Organization id; `name` is absent when the directory lacks the Organization (or its name). */
  readonly hospitals: { readonly id: string; readonly name?: string; readonly experts: number }[];
  readonly regions: { readonly name: string; readonly kind: PlaceKind; readonly experts: number }[];
}

/** A live expert as the mirror reads it: the entry and its hospital. */
export interface FacetSource {
  readonly entry: ReturnType<typeof readDirectoryEntry>;
  readonly organization: ReturnType<typeof readOrganization>;
}

/**
 * The `mirror_facets` rows of the directory mirror (one per expert and value a filter can choose, to count the
 * choices) and the hospital and region tokens of its FTS `facets` column (what those two filters match).
 */
export function openMirrorFacets(db: SqliteDatabase) {
  const put = db.prepare('insert or ignore into mirror_facets (kind, value, search_row, label) values (?, ?, ?, ?)');
  const remove = db.prepare('delete from mirror_facets where search_row = ?');
  const placesOf = (organization: FacetSource['organization']) =>
    PLACE_KINDS.map((kind) => [kind, organization[kind]] as const).filter(
      (place): place is readonly [PlaceKind, string] => Boolean(place[1]),
    );
  // Counted again only after a change: the directory screen asks each time it opens and on every sync event.
  let counted: { for: string; value: DirectoryFacets } | undefined;

  function count(): DirectoryFacets {
    const rows = db
      .prepare<[], { kind: string; value: string; label: string | null; experts: number }>(
        'select kind, value, max(label) as label, count(*) as experts from mirror_facets group by kind, value',
      )
      .all();
    const of = (kind: string) => rows.filter((r) => r.kind === kind).sort((a, b) => a.value.localeCompare(b.value));
    return {
      specialties: of('specialty').map(({ value, experts }) => ({ value, experts })),
      languages: of('language').map(({ value, experts }) => ({ value, experts })),
      hospitals: of('organization')
        .map(({ value, label, experts }) => ({ id: value, ...(label !== null && { name: label }), experts }))
        .sort((a, b) => (a.name ?? a.id).localeCompare(b.name ?? b.id) || a.id.localeCompare(b.id)),
      regions: PLACE_KINDS.flatMap((kind) => of(kind).map(({ value, experts }) => ({ name: value, kind, experts }))),
    };
  }

  return {
    /** The hospital and region tokens of an expert's `facets` column. */
    tokensOf: ({ entry, organization }: FacetSource): string =>
      [
        ...(entry.organizationId === undefined ? [] : [facetToken('organization', entry.organizationId)]),
        ...placesOf(organization).map(([, place]) => facetToken('region', place)),
      ].join(' '),
    put(rowid: number, { entry, organization }: FacetSource): void {
      for (const specialty of entry.specialties) put.run('specialty', specialty, rowid, null);
      for (const language of entry.languages) put.run('language', language, rowid, null);
      if (entry.organizationId !== undefined)
        put.run('organization', entry.organizationId, rowid, organization.name ?? null);
      for (const [kind, place] of placesOf(organization)) put.run(kind, place, rowid, null);
    },
    remove: (rowid: number) => remove.run(rowid),
    clear: () => db.prepare('delete from mirror_facets').run(),
    /** The facets as of `changeKey` (the mirror's version and time of change), counted once per key. */
    count(changeKey: string): DirectoryFacets {
      if (counted?.for !== changeKey) counted = { for: changeKey, value: count() };
      return counted.value;
    },
  };
}
