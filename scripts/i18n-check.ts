// npm run i18n:check — every catalogue complete and consistent, every English message used (scripts/i18n-catalogs.ts).
// Ends with `i18n: locales=N missing=N unused=N`; exits 1 on any finding.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { checkCatalogs, type CatalogFiles } from './i18n-catalogs.ts';

const ROOT = join(import.meta.dirname, '..');
const CATALOGS = join(ROOT, 'shared/i18n/catalogs');
/** Where the product's words are used: the page, the Electron shell (notifications), and shared code naming ids. */
const SOURCE_DIRS = ['renderer', 'main/electron', 'main/node', 'shared'];

const files: CatalogFiles = {};
for (const locale of readdirSync(CATALOGS)) {
  files[locale] = {};
  for (const file of readdirSync(join(CATALOGS, locale)).filter((f) => f.endsWith('.json')))
    files[locale][file.slice(0, -'.json'.length)] = JSON.parse(
      readFileSync(join(CATALOGS, locale, file), 'utf8'),
    ) as Record<string, string>;
}

function sourcesIn(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'catalogs' ? [] : sourcesIn(path);
    return /\.tsx?$/.test(name) && !/\.test\.tsx?$/.test(name) ? [readFileSync(path, 'utf8')] : [];
  });
}

const found = checkCatalogs(
  files,
  SOURCE_DIRS.flatMap((d) => sourcesIn(join(ROOT, d))),
);
for (const line of [...found.missing.map((m) => `missing ${m}`), ...found.unused.map((u) => `unused ${u}`)])
  console.log(line);
for (const line of [...found.extra, ...found.invalid]) console.log(line);
console.log(`i18n: keys=${found.keys} extra=${found.extra.length} invalid=${found.invalid.length}`);
console.log(`i18n: locales=${found.locales} missing=${found.missing.length} unused=${found.unused.length}`);
const failed = found.missing.length + found.unused.length + found.extra.length + found.invalid.length > 0;
process.exit(failed ? 1 : 0);
