import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPglite } from './sql-client.ts';

describe('a new embedded database copied from a template', () => {
  let root: string;
  let templates: string;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'rts-pglite-template-'));
    templates = join(root, 'templates');
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  const templateDirs = () => readdirSync(templates);

  it('makes the template on first use, once, even for two databases made at the same time', async () => {
    const opened = await Promise.all(['a', 'b'].map((name) => openPglite(join(root, name), { templates })));
    // At most one template survives, and no half-made copy is left beside it or beside the databases.
    expect(templateDirs()).toHaveLength(1);
    expect(templateDirs()[0]).toMatch(/^pglite-\d+\.\d+\.\d+/);
    expect(readdirSync(root).sort()).toEqual(['a', 'b', 'templates']);
    for (const sql of opened) await sql.close();
  });

  it('gives each database a copy of its own, and leaves the template as it was', async () => {
    const template = join(templates, templateDirs()[0]!);
    const before = statSync(join(template, 'PG_VERSION'));
    const first = await openPglite(join(root, 'first'), { templates });
    await first.exec('create table kept (n int); insert into kept values (1)');
    await first.close();
    mkdirSync(join(root, 'second')); // an empty directory counts as no database
    const second = await openPglite(join(root, 'second'), { templates });
    expect(await second.query("select count(*) as n from pg_tables where tablename = 'kept'")).toEqual([{ n: 0 }]);
    await second.close();
    const after = statSync(join(template, 'PG_VERSION'));
    expect([after.ino, after.mtimeMs]).toEqual([before.ino, before.mtimeMs]);
  });

  it('opens a database that is already there as it is', async () => {
    const again = await openPglite(join(root, 'first'), { templates });
    expect(await again.query('select n from kept')).toEqual([{ n: 1 }]);
    await again.close();
  });
});
