import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { migrate, openDatabase, type Migration, type SqliteDatabase } from '../sqlite-database.ts';

/*
 * For the store migration tests (`*.migrations.test.ts`): a store is brought to the version an older release left,
 * given rows as that release wrote them, then migrated to the end as a user's store is on upgrade.
 */

/** A plain store in a fresh temporary directory; `dispose` closes and deletes it. */
export function scratchDatabase(): { db: SqliteDatabase; dispose: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'rts-migrations-'));
  const db = openDatabase(join(dir, 'store.db'), undefined);
  return {
    db,
    dispose: () => {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Applies a component's migrations up to and including `version`: the layout a release of that version left. */
export function migrateTo(
  db: SqliteDatabase,
  component: string,
  migrations: readonly Migration[],
  version: number,
): void {
  // A typo in a test's version must not quietly test another layout.
  if (!migrations.some((m) => m.version === version)) throw new Error(`${component} has no migration ${version}`);
  migrate(
    db,
    component,
    migrations.filter((m) => m.version <= version),
  );
}

/** The version schema_versions records for `component`; undefined before its first migration. */
export function schemaVersion(db: SqliteDatabase, component: string): number | undefined {
  return db
    .prepare<[string], { version: number }>('select version from schema_versions where component = ?')
    .get(component)?.version;
}

/** Every table, index, trigger and view with its SQL, and every table's rows: what a second `migrate` must leave as it is. */
export function storeContents(db: SqliteDatabase): { schema: unknown[]; rows: Record<string, unknown[]> } {
  const schema = db
    .prepare<[], { type: string; name: string; sql: string | null }>(
      'select type, name, sql from sqlite_master order by type, name',
    )
    .all();
  const rows = Object.fromEntries(
    schema.filter((s) => s.type === 'table').map((s) => [s.name, db.prepare(`select * from "${s.name}"`).all()]),
  );
  return { schema, rows };
}
