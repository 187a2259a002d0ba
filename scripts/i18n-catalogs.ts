import { TYPE, parse, type MessageFormatElement } from '@formatjs/icu-messageformat-parser';

/** The catalogues as files hold them: locale → area → id → ICU message. */
export type CatalogFiles = Record<string, Record<string, Record<string, string>>>;

export interface CatalogFindings {
  readonly locales: number;
  readonly keys: number;
  /** English ids a locale lacks, as `locale: id`. */
  readonly missing: string[];
  /** English ids no source file names. */
  readonly unused: string[];
  /** Ids a locale has that English has not, or ids outside their area's file. */
  readonly extra: string[];
  /** Messages that do not parse, or whose arguments differ from English's (a translation must take the same values). */
  readonly invalid: string[];
}

/** `name:kind` of each argument a message takes, nested ones included. */
function argumentsOf(elements: readonly MessageFormatElement[], into = new Set<string>()): Set<string> {
  for (const element of elements) {
    if (element.type === TYPE.literal || element.type === TYPE.pound) continue;
    if (element.type === TYPE.tag) {
      into.add(`${element.value}:tag`);
      argumentsOf(element.children, into);
      continue;
    }
    // A select or plural also names its argument; a plain {x} inside one is the same argument as text.
    const kind = element.type === TYPE.argument ? 'text' : TYPE[element.type];
    into.add(`${element.value}:${kind}`);
    if (element.type === TYPE.plural || element.type === TYPE.select)
      for (const option of Object.values(element.options)) argumentsOf(option.value, into);
  }
  return into;
}

/** An id as source code names it: quoted, whole. */
const QUOTED_ID = /['"`]([a-z][A-Za-z0-9]*\.[A-Za-z0-9.]+)['"`]/g;

/**
 * What `npm run i18n:check` finds: every locale has every English id and no other, each message parses and takes
 * English's arguments, every id lies in its area's file, and every English id is named (quoted, whole) in a source
 * file: an id built at run time from parts is not allowed, so that this check sees every use.
 */
export function checkCatalogs(files: CatalogFiles, sources: readonly string[], base = 'en'): CatalogFindings {
  const missing: string[] = [];
  const extra: string[] = [];
  const invalid: string[] = [];
  const english = new Map<string, Set<string>>();
  for (const [area, messages] of Object.entries(files[base] ?? {}))
    for (const [id, message] of Object.entries(messages)) {
      if (!id.startsWith(`${area}.`)) extra.push(`${base}: ${id} is not in the file of its area`);
      try {
        english.set(id, argumentsOf(parse(message)));
      } catch (error) {
        invalid.push(`${base}: ${id}: ${(error as Error).message}`);
      }
    }
  for (const [locale, areas] of Object.entries(files)) {
    if (locale === base) continue;
    const ids = new Map(Object.values(areas).flatMap((messages) => Object.entries(messages)));
    for (const [area, messages] of Object.entries(areas))
      for (const id of Object.keys(messages))
        if (!id.startsWith(`${area}.`)) extra.push(`${locale}: ${id} is not in the file of its area`);
    for (const id of english.keys()) if (!ids.has(id)) missing.push(`${locale}: ${id}`);
    for (const [id, message] of ids) {
      const wanted = english.get(id);
      if (!wanted) {
        extra.push(`${locale}: ${id} is not in English`);
        continue;
      }
      try {
        const got = argumentsOf(parse(message));
        const same = got.size === wanted.size && [...got].every((a) => wanted.has(a));
        if (!same)
          invalid.push(`${locale}: ${id} takes ${[...got].join(', ')}; English takes ${[...wanted].join(', ')}`);
      } catch (error) {
        invalid.push(`${locale}: ${id}: ${(error as Error).message}`);
      }
    }
  }
  const named = new Set(sources.flatMap((source) => [...source.matchAll(QUOTED_ID)].map((m) => m[1])));
  const unused = [...english.keys()].filter((id) => !named.has(id));
  return { locales: Object.keys(files).length, keys: english.size, missing, unused, extra, invalid };
}
