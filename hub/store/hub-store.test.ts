import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HUB_MIGRATIONS, migrateHubSchema } from './hub-schema.ts';
import * as store from './hub-store.ts';
import { openPglite, type SqlClient } from './sql-client.ts';

/** The hub's queries on the embedded engine (PGlite: the same PostgreSQL SQL, in process). */
describe('hub store', () => {
  let dir: string;
  let sql: SqlClient;
  const at = new Date();

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rts-hub-store-'));
    sql = await openPglite(join(dir, 'db'));
    await migrateHubSchema(sql);
  }, 60_000);

  afterAll(async () => {
    await sql.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps the CRLs it distributed with their DER, once per digest, and names the newest of each issuer', async () => {
    const row = (digest: string, issuer: string, crlNumber: number | null, thisUpdate: Date) => ({
      digest,
      issuer,
      crlNumber,
      thisUpdate,
      crl: Buffer.from(`der of ${digest}`),
      endpoints: 2,
      by: 'hub-one',
      at,
    });
    expect(await store.newestDistributedCrls(sql)).toEqual([]);
    expect(await store.recordCrlDistribution(sql, row('d1', 'CN=Region CA', 1, at))).toBe(true);
    expect(await store.isCrlDistributed(sql, 'd1')).toBe(true);
    expect(await store.isCrlDistributed(sql, 'd2')).toBe(false);
    // The same CRL recorded again (another instance, or a restart) is not sent again.
    expect(await store.recordCrlDistribution(sql, { ...row('d1', 'CN=Region CA', 1, at), by: 'hub-two' })).toBe(false);
    expect(await sql.query('select distributed_by from crl_distributions where digest = $1', ['d1'])).toEqual([
      { distributed_by: 'hub-one' },
    ]);
    // Newest by number, then by thisUpdate; one per issuer.
    await store.recordCrlDistribution(sql, row('d3', 'CN=Region CA', 3, new Date(at.getTime() - 60_000)));
    await store.recordCrlDistribution(sql, row('d2', 'CN=Region CA', 2, new Date(at.getTime() + 60_000)));
    await store.recordCrlDistribution(sql, row('d3b', 'CN=Region CA', 3, at));
    await store.recordCrlDistribution(sql, row('o1', 'CN=Other CA', null, at));
    const newest = (await store.newestDistributedCrls(sql)).map((der) => Buffer.from(der).toString());
    expect(newest.sort()).toEqual(['der of d3b', 'der of o1']);
  });

  it('migration 4 keeps the CRLs recorded before it, and fills in their DER when they are offered again', async () => {
    const old = await openPglite(join(dir, 'db-v3'));
    try {
      // A database as a hub of migration 3 left it.
      await old.exec('create table schema_versions (component text primary key, version int not null)');
      for (const migration of HUB_MIGRATIONS.filter((m) => m.version <= 3)) await old.exec(migration.sql);
      await old.query("insert into schema_versions values ('hub', 3)");
      await old.query(
        "insert into crl_distributions (digest, issuer, crl_number, endpoints, distributed_at, distributed_by) values ('d1', 'CN=Region CA', 1, 4, now(), 'hub-old')",
      );

      await migrateHubSchema(old);
      expect(await old.query("select version from schema_versions where component = 'hub'")).toEqual([
        { version: HUB_MIGRATIONS.at(-1)!.version },
      ]);
      expect(await old.query('select digest, endpoints, crl from crl_distributions')).toEqual([
        { digest: 'd1', endpoints: 4, crl: null },
      ]);
      // Sent before: not sent again, but now kept, so that later registrations and restarts can use it.
      expect(await store.isCrlDistributed(old, 'd1')).toBe(false);
      expect(await store.newestDistributedCrls(old)).toEqual([]);
      expect(
        await store.recordCrlDistribution(old, {
          digest: 'd1',
          issuer: 'CN=Region CA',
          crlNumber: 1,
          thisUpdate: at,
          crl: Buffer.from('der'),
          endpoints: 9,
          by: 'hub-new',
          at,
        }),
      ).toBe(false);
      expect(await store.isCrlDistributed(old, 'd1')).toBe(true);
      expect((await store.newestDistributedCrls(old)).map((der) => Buffer.from(der).toString())).toEqual(['der']);
      expect(await old.query('select endpoints, distributed_by from crl_distributions')).toEqual([
        { endpoints: 4, distributed_by: 'hub-old' },
      ]);
    } finally {
      await old.close();
    }
  }, 60_000);

  it("counts a refused batch of the publisher's own set, and nothing of another publisher's batch under its id", async () => {
    const batchId = 'b0a3f0c2-8a3e-4c69-9d8e-5f1f8f2b0c01';
    const refusal = { batchId, batchCount: 3, messageId: 'm9', reason: 'not-authorized', at };
    await store.createPublishSet(sql, { batchId, publisher: 'clinic-a', batchCount: 3, at });
    expect(
      await store.addPublishBatch(sql, { batchId, index: 1, messageId: 'm1', listedJson: '["Organization/a"]' }),
    ).toBe(1);

    expect(await store.rejectPublishBatch(sql, { ...refusal, publisher: 'clinic-b', index: 2 })).toBeUndefined();
    expect(await store.rejectPublishBatch(sql, { ...refusal, publisher: 'clinic-a', index: 4 })).toBeUndefined();
    expect(
      await store.rejectPublishBatch(sql, { ...refusal, publisher: 'clinic-a', batchCount: 2, index: 2 }),
    ).toBeUndefined();
    expect(await store.getPublishSet(sql, batchId)).toMatchObject({ publisher: 'clinic-a', state: 'collecting' });

    expect(await store.rejectPublishBatch(sql, { ...refusal, publisher: 'clinic-a', index: 2 })).toBe(2);
    expect(await store.publishBatch(sql, batchId, 2)).toEqual({ entries: '[]', rejectedReason: 'not-authorized' });
    expect(await store.publishBatch(sql, batchId, 1)).toEqual({ entries: '["Organization/a"]', rejectedReason: null });
    expect(await store.addPublishBatch(sql, { batchId, index: 3, messageId: 'm3', listedJson: '[]' })).toBe(3);

    // A closed set keeps its row and loses its batches.
    await store.closePublishSet(sql, batchId, 'applied', 'batch 2 was refused');
    expect(await store.getPublishSet(sql, batchId)).toMatchObject({ state: 'applied', reason: 'batch 2 was refused' });
    expect((await sql.query('select 1 from publish_batches where batch_id = $1', [batchId])).length).toBe(0);
  });

  it('closes lists whose last batch never came once they are old, retiring nothing, and keeps newer ones', async () => {
    const old = { batchId: 'c1a3f0c2-8a3e-4c69-9d8e-5f1f8f2b0c11', publisher: 'clinic-a', batchCount: 3, at };
    const recent = { ...old, batchId: 'c1a3f0c2-8a3e-4c69-9d8e-5f1f8f2b0c12', at: new Date(at.getTime() + 60_000) };
    for (const set of [old, recent]) {
      await store.createPublishSet(sql, set);
      await store.addPublishBatch(sql, {
        batchId: set.batchId,
        index: 1,
        messageId: `m-${set.batchId}`,
        listedJson: '[]',
      });
    }
    expect(await store.closeStalePublishSets(sql, new Date(at.getTime() + 1))).toBe(1);
    expect(await store.getPublishSet(sql, old.batchId)).toMatchObject({
      state: 'applied',
      reason: 'incomplete: 1 of 3 batches came; nothing retired',
    });
    expect(await store.publishBatch(sql, old.batchId, 1)).toBeUndefined();
    expect(await store.getPublishSet(sql, recent.batchId)).toMatchObject({ state: 'collecting' });
    expect(await store.publishBatch(sql, recent.batchId, 1)).toBeDefined();
  });

  it('knows which endpoints a message was routed to, and from whom', async () => {
    await store.recordRoutes(
      sql,
      [{ messageId: 'c1', sender: 'clinic-b', recipients: ['clinic-a', 'ws-expert-1'] }],
      at,
    );
    expect(await store.wasRouted(sql, { messageId: 'c1', sender: 'clinic-b', recipient: 'ws-expert-1' })).toBe(true);
    expect(await store.wasRouted(sql, { messageId: 'c1', sender: 'clinic-b', recipient: 'clinic-c' })).toBe(false);
    expect(await store.wasRouted(sql, { messageId: 'c1', sender: 'clinic-c', recipient: 'clinic-a' })).toBe(false);
    expect(await store.pruneRouted(sql, new Date(at.getTime() + 1))).toBe(2);
    expect(await store.wasRouted(sql, { messageId: 'c1', sender: 'clinic-b', recipient: 'clinic-a' })).toBe(false);
  });

  it('keeps one waiting snapshot request per endpoint, due once its interval is over', async () => {
    await sql.transaction(async (tx) => {
      expect(await store.lockSnapshotState(tx, 'ws-1')).toEqual({ sentAt: null, version: null, pending: false });
      await store.snapshotSent(tx, 'ws-1', 7, at);
      await store.deferSnapshot(tx, 'ws-1');
      await store.deferSnapshot(tx, 'ws-1');
    });
    expect(await sql.transaction((tx) => store.dueSnapshots(tx, new Date(at.getTime() - 1), 10))).toEqual([]);
    expect(await sql.transaction((tx) => store.dueSnapshots(tx, at, 10))).toEqual(['ws-1']);
    await sql.transaction((tx) => store.snapshotSent(tx, 'ws-1', 8, at));
    expect(await sql.transaction((tx) => store.dueSnapshots(tx, at, 10))).toEqual([]);
  });

  it('keeps outbox and dead-letter bodies byte for byte, bound in binary and read back as hex', async () => {
    const every = Uint8Array.from({ length: 256 }, (_, i) => i);
    const large = new Uint8Array(randomBytes(2 * 1024 * 1024));
    const bodies = [every, large, new Uint8Array(0), every.subarray(200, 210)];
    const same = (a: Uint8Array | undefined, b: Uint8Array) => a !== undefined && Buffer.from(a).equals(Buffer.from(b));
    const ids = await store.insertBodies(sql, bodies);
    const loaded = await store.loadBodies(sql, ids);
    expect(bodies.map((body, i) => same(loaded.get(ids[i]!), body))).toEqual([true, true, true, true]);
    // Stored as the bytes themselves, not as their text: what PostgreSQL holds is what was given.
    const [row] = await sql.query<{ n: number; head: string }>(
      "select octet_length(body) as n, encode(substring(body from 1 for 4), 'hex') as head from outbox_bodies where id = $1",
      [ids[0]!],
    );
    expect(row).toEqual({ n: 256, head: '00010203' });
    const id = await store.addDeadLetter(sql, {
      messageId: 'm-dead',
      source: 'uplink',
      sender: 'clinic-a',
      type: 'consult.request',
      reason: 'schema-invalid',
      detail: 'test',
      message: {
        properties: {
          message_id: 'm-dead',
          user_id: 'clinic-a',
          creation_time: at.getTime(),
          content_type: 'application/pkcs7-mime',
          application_properties: {},
        },
        body: large,
      },
      at,
    });
    const letter = await sql.transaction((tx) => store.getDeadLetter(tx, id));
    expect(letter?.bodyBytes).toBe(large.byteLength);
    expect(same(letter?.body, large)).toBe(true);
  });
});
