import { specialtiesOf } from '../../../shared/protocol/fhir/index.ts';
import type { SqliteDatabase } from '../../../transport/index.ts';
import { indexTextOf, nameTextOf, phraseOf } from './search-terms.ts';

// The words the directory mirror (directory-mirror.ts) indexes and matches: look-alike keys, the specialty column,
// and queries and filters turned into FTS5 expressions that what a user types can never break out of.

/** Words of a name, without case, diacritics or order: "Dr. Layla Ahmed" reads as "Ahmed, Layla (Dr)". */
function normalizedWords(text: string): string {
  const words =
    text
      .normalize('NFKD')
      .replace(/\p{M}+/gu, '')
      .toLowerCase()
      .match(/[\p{L}\p{N}]+/gu) ?? [];
  return words.sort().join(' ');
}

/** Name and hospital name as a look-alike would copy them. */
export function identityKey(name: string, organization: string): string {
  return `${normalizedWords(name)}\u001f${normalizedWords(organization)}`;
}

/**
 * The name a look-alike key is made of: every name's prefix, given, family and text, as keys were made before the
 * shared entry reader (keys of rows written then and now must meet, or a look-alike would go unmarked).
 */
export function identityNameOf(practitioner: Record<string, unknown>): string {
  const names = (practitioner.name as { prefix?: string[]; given?: string[]; family?: string; text?: string }[]) ?? [];
  return names
    .flatMap((n) => [...(n.prefix ?? []), ...(n.given ?? []), n.family, n.text])
    .filter(Boolean)
    .join(' ');
}

/** What the specialty filter and search match: each specialty as shown, and its codings' displays (a clinic may
 * publish Norwegian text with an English display; both find the expert). */
export function specialtyWordsOf(role: Record<string, unknown>): string[] {
  const specialties = (role.specialty as { coding?: { display?: string }[] }[] | undefined) ?? [];
  const shown = specialtiesOf(role);
  const displays = specialties.flatMap((s) => (s.coding ?? []).map((c) => c.display ?? ''));
  return [...new Set([...shown, ...displays].filter(Boolean))];
}

/** What an expert's row shows, as the search index keeps it beside the terms it is found by. */
export interface ShownColumns {
  readonly name: string;
  readonly specialties: string;
  readonly organization: string;
  readonly city: string;
  readonly languages: string;
}

/**
 * Terms of the columns many experts share (hospital, place, specialties, languages), worked out once each: a snapshot
 * of 100,000 experts names some hundreds of hospitals. With foldText's ASCII path, the terms of 100,000 rows take
 * some 0.2 s instead of 3.7 s (measured on this machine while other tests ran).
 */
const shared = new Map<string, string>();
function sharedTextOf(text: string): string {
  let terms = shared.get(text);
  if (terms === undefined) {
    if (shared.size >= 10_000) shared.clear();
    terms = indexTextOf(text);
    shared.set(text, terms);
  }
  return terms;
}

/** The indexed FTS columns of what an expert's row shows (search-terms.ts), in the order of TERM_COLUMNS. */
export const termColumnsOf = (shown: ShownColumns): string[] => [
  nameTextOf(shown.name),
  sharedTextOf(shown.specialties),
  sharedTextOf(shown.organization),
  sharedTextOf(shown.city),
  sharedTextOf(shown.languages),
];
export const TERM_COLUMNS = ['name_terms', 'specialty_terms', 'organization_terms', 'city_terms', 'language_terms'];

/** The FTS columns of what an expert's row shows, which the words typed are matched against. */
export const SHOWN_COLUMNS = `{${TERM_COLUMNS.join(' ')}}`;

/**
 * Terms of a mirror made before they were indexed (migration 7 keeps what its rows show): worked out once, when it
 * is opened.
 */
export function buildTerms(db: SqliteDatabase): void {
  const state = db.prepare('select terms_built from mirror_state where id = 1').get() as { terms_built: number };
  if (state.terms_built === 1) return;
  db.transaction(() => {
    const rows = db
      .prepare<[], ShownColumns & { rowid: number }>(
        'select rowid, name, specialties, organization, city, languages from mirror_search',
      )
      .all();
    const setTerms = db.prepare(
      `update mirror_search set ${TERM_COLUMNS.map((c) => `${c} = ?`).join(', ')} where rowid = ?`,
    );
    for (const row of rows) setTerms.run(...termColumnsOf(row), row.rowid);
    db.prepare('update mirror_state set terms_built = 1 where id = 1').run();
  })();
}

/**
 * A hospital (its Organization id) or a region (a place its address names) as one word of the `facets` column: the
 * value in hex behind a letter saying which, so that the filter matches exactly that value and what the user types
 * (matched in SHOWN_COLUMNS only) never meets it.
 */
export const facetToken = (kind: 'organization' | 'region', value: string) =>
  `${kind === 'organization' ? 'o' : 'r'}${Buffer.from(value.normalize('NFC'), 'utf8').toString('hex')}`;

/**
 * The chosen filters as an FTS5 expression, each a quoted phrase in its own column ('' when none is chosen), or
 * undefined when a filter names no word at all (nobody can have it).
 */
export function filterOf(query: {
  readonly specialty?: string;
  readonly language?: string;
  readonly organization?: string;
  readonly region?: string;
}): string | undefined {
  const parts: string[] = [];
  for (const [column, value] of [
    ['specialty_terms', query.specialty],
    ['language_terms', query.language],
  ] as const) {
    if (!value?.trim()) continue;
    const phrase = phraseOf(value);
    if (phrase === undefined) return undefined;
    parts.push(`${column} : ${phrase}`);
  }
  for (const kind of ['organization', 'region'] as const) {
    const value = query[kind]?.trim();
    if (value) parts.push(`facets : "${facetToken(kind, value)}"`);
  }
  return parts.join(' AND ');
}

/**
 * What is typed (queryTermsOf) as the three matches whose rows a page lists in turn: experts whose name begins with it
 * (张伟 before 李张伟, Layla Ahmed before Nora Layla-Berg for "layla"), then those whose name has it further on, then the
 * others; each within the chosen filters (filterOf, '' when none). Words are matched in the columns people read,
 * never in the facet tokens. Unranked reads in index order that SQLite stops at the page's end instead of ranking:
 * bm25 scores every match, which for the first letters typed is most of the directory (measured 20-240 ms against 2 ms).
 */
export function rankedMatchesOf(terms: readonly string[], filters: string): [string, string, string] {
  const all = terms.join(' AND ');
  const inName = `name_terms : (${all})`;
  const startsName = `name_terms : (^ ${all})`;
  const also = filters ? ` AND ${filters}` : '';
  return [
    `${startsName}${also}`,
    `(${inName}${also}) NOT ${startsName}`,
    `((${SHOWN_COLUMNS} : (${all}))${also}) NOT ${inName}`,
  ];
}
