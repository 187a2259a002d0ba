/**
 * Probe: how fast PGlite moves large bytea values (the hub's outbox bodies), written as a Uint8Array parameter through
 * PGlite's own serializer, as hex text decoded in SQL, or bound in binary (what hub/store does), and read as bytea
 * versus as hex text.
 * Usage: node bench/pglite-bytea-probe.ts [MiB per body, default 2] [bodies, default 8]
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';

const mib = Number(process.argv[2] ?? 2);
const count = Number(process.argv[3] ?? 8);
const dir = mkdtempSync(join(tmpdir(), 'rts-bytea-probe-'));
try {
  const db = await PGlite.create(join(dir, 'db'));
  await db.exec('create table b (id bigserial primary key, body bytea not null)');
  const bodies = Array.from({ length: count }, () => new Uint8Array(randomBytes(mib * 1024 * 1024)));
  const total = (mib * count).toFixed(0);
  const time = async (label: string, work: () => Promise<void>) => {
    const t0 = performance.now();
    await work();
    const s = (performance.now() - t0) / 1000;
    console.log(
      `${label.padEnd(58)} ${s.toFixed(2).padStart(6)} s  ${((mib * count) / s).toFixed(1).padStart(6)} MiB/s`,
    );
  };
  console.log(`PGlite, ${count} bodies of ${mib} MiB (${total} MiB):`);
  const ids: number[] = [];
  await time("insert, bytea parameter (PGlite's serializer)", async () => {
    for (const body of bodies)
      ids.push(
        (await db.query<{ id: number }>('insert into b (body) values ($1::bytea) returning id', [body])).rows[0]!.id,
      );
  });
  await time("insert, hex text parameter + decode($1, 'hex')", async () => {
    for (const body of bodies)
      await db.query("insert into b (body) values (decode($1, 'hex'))", [Buffer.from(body).toString('hex')]);
  });
  await time('insert, bytea parameter bound in binary (as hub/store)', async () => {
    for (const body of bodies)
      await db.query('insert into b (body) values ($1::bytea)', [body], {
        serializers: { 17: (v: unknown) => v as string },
      });
  });
  await time('select, bytea column', async () => {
    for (const id of ids) await db.query('select body from b where id = $1', [id]);
  });
  await time("select encode(body, 'hex') + Buffer.from(hex) (as hub/store loadBodies)", async () => {
    for (const id of ids) {
      const row = (await db.query<{ hex: string }>("select encode(body, 'hex') as hex from b where id = $1", [id]))
        .rows[0]!;
      Buffer.from(row.hex, 'hex');
    }
  });
  await db.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
