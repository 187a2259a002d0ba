/**
 * The hub's embedded database (openPglite, whose statements run by name: hub/store/pglite-statements.ts) against
 * PGlite's own `query`, in the same run, on two databases of the same rows: CPU per statement for a primary-key select
 * (in a transaction, and on its own) and an insert, three rounds alternating.
 *
 *   node bench/pglite-statements.bench.ts
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
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

/** µs of CPU per statement. */
async function cpuPerStatement(run: (i: number) => Promise<unknown>): Promise<number> {
  const before = process.cpuUsage();
  for (let i = 0; i < RUNS; i++) await run(i);
  const used = process.cpuUsage(before);
  return (used.user + used.system) / RUNS;
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
}
await pglite.close();
await hub.close();
rmSync(dir, { recursive: true, force: true });

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
console.log(
  `machine: ${cpus().length} x ${cpus()[0]?.model ?? '?'}; node ${process.version}; ${RUNS} statements a run`,
);
for (const [name, values] of Object.entries(results))
  console.log(`  ${name.padEnd(34)} ${values.map((v) => v.toFixed(0)).join(' / ')} µs of CPU per statement`);
for (const kind of ['select', 'select in a transaction', 'insert'])
  console.log(
    `pglite-statements: ${kind}: ratio=${(median(results[`${kind}, by name`]!) / median(results[`${kind}, query`]!)).toFixed(2)} (by name ÷ query, CPU, median of 3)`,
  );
