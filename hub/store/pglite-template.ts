import { PGlite } from '@electric-sql/pglite';
import { randomUUID } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The PGlite release a template was made by: another release may lay out its files differently. */
function pgliteVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.resolve('@electric-sql/pglite')));
  while (!existsSync(join(dir, 'package.json'))) dir = dirname(dir);
  return (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string }).version;
}

const isEmpty = (dir: string) => !existsSync(dir) || readdirSync(dir).length === 0;

/** Moves `from` to `to` unless `to` is already there (another process got there first): then `from` goes. */
function moveUnlessThere(from: string, to: string): void {
  try {
    renameSync(from, to);
  } catch (error) {
    rmSync(from, { recursive: true, force: true });
    if (!existsSync(to)) throw error;
  }
}

/**
 * Makes a new embedded database in `dataDir` by copying an empty, cleanly closed one kept in `templates`, made there by
 * this PGlite release on first use. PGlite's initdb takes 3.1 s of CPU here, the copy and first open 0.3 s: a hub made
 * anew at every start (the demo region's) or per test opens tenfold sooner. Nothing is done when `dataDir` already
 * holds a database. Both copies appear whole or not at all (made beside their place, then renamed), so processes
 * starting at once and a crash part-way leave nothing half-made.
 */
export async function seedFromTemplate(dataDir: string, templates: string): Promise<void> {
  if (!isEmpty(dataDir)) return;
  const template = join(templates, `pglite-${pgliteVersion()}`);
  if (!existsSync(join(template, 'PG_VERSION'))) {
    mkdirSync(templates, { recursive: true });
    const making = `${template}.${randomUUID()}`;
    const db = await PGlite.create(making);
    await db.close();
    moveUnlessThere(making, template);
  }
  mkdirSync(dirname(dataDir), { recursive: true });
  const copying = `${dataDir}.${randomUUID()}`;
  cpSync(template, copying, { recursive: true });
  if (existsSync(dataDir)) rmdirSync(dataDir); // empty, as checked; fails if another process has filled it since
  moveUnlessThere(copying, dataDir);
}
