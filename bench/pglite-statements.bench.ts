/**
 * The hub's embedded database (openPglite, whose statements run by name: hub/store/pglite-statements.ts) against
 * PGlite's own `query`, in the same run, on two databases of the same rows: CPU per statement for a primary-key select
 * (in a transaction, and on its own), an insert, and a statement given 1,000 directory resources (1.5 MB) in a `text[]`,
 * which the hub sends in binary (PGlite's `query` as text), three rounds alternating.
 *
 *   node bench/pglite-statements.bench.ts
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { openPglite } from '../hub/index.ts';

const RUNS = 3000;
const dir = mkdtempSync(join(tmpdir(), 'rts-bench-pglite-'));
const pglite = await PGlite.create(join(dir, 'pglite'), { parsers: { 20: (v: string) => Number(v) } });
const hub = await openPglite(join(dir, 'hub'));
const select = 'select id, kind, name, n from endpoints where id = $1';
const insert = 'insert into endpoints (id, kind, name, n) values ($1, $2, $3, $4)';
for (const db of [pglite, hub]) {
  await db.exec('create table endpoints (id text primary key, kind text not null, name text not null, n bigint)');
  for (let i = 0; i < 100; i++) await db.query(insert, [`ep-${i}`, 'ws', `E ${i}`, i]);
}
let inserted = 0;
const insertParams = () => [`new-${inserted++}`, 'ws', 'new', inserted];
const key = (i: number) => [`ep-${i % 100}`];
// As large as a practitioner with its two certificates.
const resources = Array.from({ length: 1000 }, (_, i) =>
  JSON.stringify({
    resourceType: 'Practitioner',
    id: `p-${i}`,
    certificates: [randomBytes(520), randomBytes(520)].map((c) => c.toString('base64')),
  }),
);
const resourceList = 'select count(*)::int as n, sum(length(r))::int as chars from unnest($1::text[]) as r';
const LIST_RUNS = 30;

/** µs of CPU per statement. */
async function cpuPerStatement(run: (i: number) => Promise<unknown>, runs = RUNS): Promise<number> {
  const before = process.cpuUsage();
  for (let i = 0; i < runs; i++) await run(i);
  const used = process.cpuUsage(before);
  return (used.user + used.system) / runs;
}

const results: Record<string, number[]> = {};
const record = (name: string, us: number) => (results[name] ??= []).push(us);
for (let round = 0; round < 3; round++) {
  record('select, query', await cpuPerStatement((i) => pglite.query(select, key(i))));
  record('select, by name', await cpuPerStatement((i) => hub.query(select, key(i))));
  record(
    'select in a transaction, query',
    await pglite.transaction((tx) => cpuPerStatement((i) => tx.query(select, key(i)))),
  );
  record(
    'select in a transaction, by name',
    await hub.transaction((tx) => cpuPerStatement((i) => tx.query(select, key(i)))),
  );
  record('insert, query', await cpuPerStatement(() => pglite.query(insert, insertParams())));
  record('insert, by name', await cpuPerStatement(() => hub.query(insert, insertParams())));
  record(
    'text[] of 1,000 resources, query',
    await cpuPerStatement(() => pglite.query(resourceList, [resources]), LIST_RUNS),
  );
  record(
    'text[] of 1,000 resources, by name',
    await cpuPerStatement(() => hub.query(resourceList, [resources]), LIST_RUNS),
  );
}
const [listed] = await hub.query<{ n: number; chars: number }>(resourceList, [resources]);
if (listed?.n !== resources.length || listed.chars !== resources.reduce((sum, r) => sum + r.length, 0))
  throw new Error(`the hub read the list wrong: ${JSON.stringify(listed)}`);
await pglite.close();
await hub.close();
rmSync(dir, { recursive: true, force: true });

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
console.log(
  `machine: ${cpus().length} x ${cpus()[0]?.model ?? '?'}; node ${process.version}; ${RUNS} statements a run`,
);
for (const [name, values] of Object.entries(results))
  console.log(`  ${name.padEnd(34)} ${values.map((v) => v.toFixed(0)).join(' / ')} µs of CPU per statement`);
for (const kind of ['select', 'select in a transaction', 'insert', 'text[] of 1,000 resources'])
  console.log(
    `pglite-statements: ${kind}: ratio=${(median(results[`${kind}, by name`]!) / median(results[`${kind}, query`]!)).toFixed(2)} (by name ÷ query, CPU, median of 3)`,
  );
