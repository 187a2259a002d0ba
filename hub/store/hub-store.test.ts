import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateHubSchema } from './hub-schema.ts';
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

  it('leaves the batches of a publish set alone when another publisher\'s batch under its id is rejected', async () => {
    const batchId = 'b0a3f0c2-8a3e-4c69-9d8e-5f1f8f2b0c01';
    await store.createPublishSet(sql, { batchId, publisher: 'clinic-a', batchCount: 2, at });
    expect(await store.addPublishBatch(sql, { batchId, index: 1, messageId: 'm1', entriesJson: '[]' })).toBe(1);

    await store.rejectPublishSet(sql, { batchId, publisher: 'clinic-b', batchCount: 2, reason: 'not-authorized', at });
    expect(await store.getPublishSet(sql, batchId)).toMatchObject({ publisher: 'clinic-a', state: 'collecting' });
    expect(await store.publishBatchEntries(sql, batchId, 1)).toBe('[]');
    expect(await store.addPublishBatch(sql, { batchId, index: 2, messageId: 'm2', entriesJson: '[]' })).toBe(2);

    // The publisher's own rejection does drop them.
    await store.rejectPublishSet(sql, { batchId, publisher: 'clinic-a', batchCount: 2, reason: 'schema-invalid', at });
    expect(await store.getPublishSet(sql, batchId)).toMatchObject({ state: 'rejected', reason: 'schema-invalid' });
    expect((await sql.query('select 1 from publish_batches where batch_id = $1', [batchId])).length).toBe(0);
  });

  it('knows which endpoints a message was routed to, and from whom', async () => {
    await store.recordRoutes(sql, [{ messageId: 'c1', sender: 'clinic-b', recipients: ['clinic-a', 'ws-expert-1'] }], at);
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
});
