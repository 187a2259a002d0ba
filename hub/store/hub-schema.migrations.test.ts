import { afterEach, describe, expect, it } from 'vitest';
import { HUB_MIGRATIONS, migrateHubSchema } from './hub-schema.ts';
import * as store from './hub-store.ts';
import { openPglite, type SqlClient } from './sql-client.ts';

const LAST = HUB_MIGRATIONS.at(-1)!.version;
const at = new Date('2026-03-01T10:00:00Z');

let sql: SqlClient | undefined;
afterEach(async () => {
  await sql?.close();
  sql = undefined;
});

/** An in-memory database as a hub of `version` left it. */
async function hubAt(version: number): Promise<SqlClient> {
  if (!HUB_MIGRATIONS.some((m) => m.version === version)) throw new Error(`the hub has no migration ${version}`);
  sql = await openPglite('memory://');
  await sql.exec('create table schema_versions (component text primary key, version int not null)');
  for (const migration of HUB_MIGRATIONS.filter((m) => m.version <= version)) await sql.exec(migration.sql);
  await sql.query("insert into schema_versions values ('hub', $1)", [version]);
  return sql;
}

const hubVersion = async (q: SqlClient) =>
  (await q.query<{ version: number }>("select version from schema_versions where component = 'hub'"))[0]?.version;

/** Every column and index of the hub's tables, and every table's rows. */
async function hubContents(q: SqlClient) {
  const columns = await q.query<{ table_name: string }>(
    "select table_name, column_name, data_type, is_nullable, column_default from information_schema.columns where table_schema = 'public' order by table_name, ordinal_position",
  );
  const indexes = await q.query(
    "select indexname, indexdef from pg_indexes where schemaname = 'public' order by indexname",
  );
  const rows: Record<string, unknown[]> = {};
  for (const table of new Set(columns.map((c) => c.table_name)))
    rows[table] = await q.query(`select * from "${table}"`);
  return { columns, indexes, rows };
}

describe('hub migrations', () => {
  it('1: starts the directory at version 0 in the one state row its writes update', async () => {
    const hub = await hubAt(1);
    expect(await hub.query('select * from directory_state')).toEqual([{ id: 1, version: 0 }]);
    await migrateHubSchema(hub);
    expect(await store.directoryVersion(hub)).toBe(0);
    await store.setDirectoryVersion(hub, 5);
    expect(await store.directoryVersion(hub)).toBe(5);
  }, 60_000);

  it('2: keeps the endpoints, directory version and de-duplication of version 1, and adds routes and snapshot state', async () => {
    const hub = await hubAt(1);
    await store.saveEndpoint(
      hub,
      {
        id: 'ws-1',
        kind: 'workstation',
        operator: 'clinic-a',
        name: 'Desk 1',
        organization: 'Riverside Hospital',
        certificate: null,
      },
      at,
    );
    await store.setDirectoryVersion(hub, 4);
    expect(
      await store.claimMessage(hub, {
        messageId: 'm1',
        sender: 'ws-1',
        type: 'consult.request',
        outcome: 'processed',
        at,
      }),
    ).toBe(true);

    await migrateHubSchema(hub);
    expect(await store.getEndpoint(hub, 'ws-1')).toMatchObject({
      id: 'ws-1',
      kind: 'workstation',
      operator: 'clinic-a',
    });
    expect(await store.directoryVersion(hub)).toBe(4);
    expect(await store.getProcessed(hub, 'm1')).toMatchObject({ outcome: 'processed' });
    await store.recordRoutes(hub, [{ messageId: 'm1', sender: 'ws-1', recipients: ['clinic-b'] }], at);
    expect(await store.wasRouted(hub, { messageId: 'm1', sender: 'ws-1', recipient: 'clinic-b' })).toBe(true);
    expect(await hub.transaction((tx) => store.lockSnapshotState(tx, 'ws-1'))).toEqual({
      sentAt: null,
      version: null,
      pending: false,
    });
  }, 60_000);

  it('3: adds the record of distributed CRLs, empty, and keeps the routes of version 2', async () => {
    const hub = await hubAt(2);
    await store.recordRoutes(hub, [{ messageId: 'm1', sender: 'ws-1', recipients: ['clinic-b'] }], at);

    await migrateHubSchema(hub);
    expect(await store.wasRouted(hub, { messageId: 'm1', sender: 'ws-1', recipient: 'clinic-b' })).toBe(true);
    expect(await hub.query('select * from crl_distributions')).toEqual([]);
    const crl = {
      digest: 'd1',
      issuer: 'CN=Region CA',
      crlNumber: 1,
      thisUpdate: at,
      crl: Buffer.from('der'),
      endpoints: 2,
      by: 'hub-one',
      at,
    };
    expect(await store.recordCrlDistribution(hub, crl)).toBe(true);
    // One row per digest: a second instance with the same CRL sends nothing.
    expect(await store.recordCrlDistribution(hub, { ...crl, by: 'hub-two' })).toBe(false);
  }, 60_000);

  it('4: leaves the CRLs recorded before it without DER or date, and keeps the DER and date of new ones exactly', async () => {
    const hub = await hubAt(3);
    await hub.query(
      "insert into crl_distributions (digest, issuer, crl_number, endpoints, distributed_at, distributed_by) values ('d0', 'CN=Region CA', 1, 4, $1, 'hub-old')",
      [at],
    );

    await migrateHubSchema(hub);
    expect(
      await hub.query('select digest, crl_number, endpoints, distributed_by, crl, this_update from crl_distributions'),
    ).toEqual([{ digest: 'd0', crl_number: 1, endpoints: 4, distributed_by: 'hub-old', crl: null, this_update: null }]);
    // Every byte value survives the bytea column (a CRL is binary DER).
    const der = Uint8Array.from({ length: 256 }, (_, i) => i);
    await store.recordCrlDistribution(hub, {
      digest: 'd2',
      issuer: 'CN=Region CA',
      crlNumber: 2,
      thisUpdate: at,
      crl: der,
      endpoints: 1,
      by: 'hub-new',
      at,
    });
    expect(await store.newestDistributedCrls(hub)).toEqual([der]);
    expect(await hub.query("select this_update from crl_distributions where digest = 'd2'")).toEqual([
      { this_update: at },
    ]);
    expect(await hubVersion(hub)).toBe(LAST);
  }, 60_000);

  it('5: keeps the batches a set collected before it as they were, none refused, and records a refused batch', async () => {
    const hub = await hubAt(4);
    const batchId = 'b5a3f0c2-8a3e-4c69-9d8e-5f1f8f2b0c05';
    await store.createPublishSet(hub, { batchId, publisher: 'clinic-a', batchCount: 3, at });
    const resources = JSON.stringify([{ resourceType: 'Organization', id: 'clinic-a.riverside' }]);
    await hub.query('insert into publish_batches (batch_id, batch_index, message_id, entries) values ($1, 1, $2, $3)', [
      batchId,
      'm1',
      resources,
    ]);

    await migrateHubSchema(hub);
    expect(await store.publishBatch(hub, batchId, 1)).toEqual({ entries: resources, rejectedReason: null });
    const refusal = {
      batchId,
      publisher: 'clinic-a',
      batchCount: 3,
      index: 2,
      messageId: 'm2',
      reason: 'schema-invalid',
      at,
    };
    expect(await store.rejectPublishBatch(hub, refusal)).toBe(2);
    expect(await store.publishBatch(hub, batchId, 2)).toEqual({ entries: '[]', rejectedReason: 'schema-invalid' });
    expect(await hubVersion(hub)).toBe(LAST);
  }, 60_000);

  it('6: stores bodies without trying to compress them and entries inline, keeping the rows written before', async () => {
    const hub = await hubAt(5);
    const before = new Uint8Array(5000).fill(7);
    const [kept] = await store.insertBodies(hub, [before]);

    await migrateHubSchema(hub);
    const storage = await hub.query(
      "select attrelid::regclass::text as relation, attstorage as storage from pg_attribute where attname = 'body' and attrelid in ('outbox_bodies'::regclass, 'dead_letters'::regclass) order by 1",
    );
    expect(storage).toEqual([
      { relation: 'dead_letters', storage: 'e' },
      { relation: 'outbox_bodies', storage: 'e' },
    ]);
    expect(await hub.query("select reloptions from pg_class where relname = 'directory_entries'")).toEqual([
      { reloptions: ['toast_tuple_target=8160'] },
    ]);
    const after = new Uint8Array(5000).fill(8);
    const [added] = await store.insertBodies(hub, [after]);
    const bodies = await store.loadBodies(hub, [kept!, added!]);
    expect([bodies.get(kept!), bodies.get(added!)]).toEqual([before, after]);
    // Uncompressed now: 5,000 equal bytes stay 5,000 bytes; the row written before was compressed, and stays so.
    expect(
      await hub.query('select id, pg_column_size(body) < 1000 as compressed from outbox_bodies order by id'),
    ).toEqual([
      { id: kept, compressed: true },
      { id: added, compressed: false },
    ]);
    expect(await hubVersion(hub)).toBe(LAST);
  }, 60_000);

  it('runs each migration once: migrating again changes nothing', async () => {
    const hub = await hubAt(1);
    await migrateHubSchema(hub);
    await store.saveEndpoint(
      hub,
      {
        id: 'ws-1',
        kind: 'workstation',
        operator: 'clinic-a',
        name: 'Desk 1',
        organization: 'Riverside Hospital',
        certificate: null,
      },
      at,
    );
    const before = await hubContents(hub);
    await migrateHubSchema(hub);
    expect(await hubContents(hub)).toEqual(before);
    expect(await hubVersion(hub)).toBe(LAST);
  }, 60_000);
});
