import { specialtiesOf } from '../../../shared/protocol/fhir/index.ts';

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

/** The words of a query, as the index splits them: what the user types can never be read as FTS5 syntax. */
export const wordsOf = (value: string | undefined) => (value ?? '').normalize('NFKC').match(/[\p{L}\p{N}]+/gu) ?? [];

/** The FTS columns of what an expert's row shows, which the words typed are matched against. */
export const SHOWN_COLUMNS = '{name specialties organization city languages}';

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
    ['specialties', query.specialty],
    ['languages', query.language],
  ] as const) {
    if (!value?.trim()) continue;
    const words = wordsOf(value);
    if (words.length === 0) return undefined;
    parts.push(`${column} : "${words.join(' ')}"`);
  }
  for (const kind of ['organization', 'region'] as const) {
    const value = query[kind]?.trim();
    if (value) parts.push(`facets : "${facetToken(kind, value)}"`);
  }
  return parts.join(' AND ');
}
