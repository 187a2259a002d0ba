import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import rhea, { type Message } from 'rhea';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, loadPostgresEnv } from '../scripts/test-env/index.ts';
import { buildDirectoryPublish, buildEndpointRegister } from '../shared/protocol/fhir/index.ts';
import { CONTENT_TYPES, PROTOCOL_VERSION } from '../shared/protocol/index.ts';
import {
  loadBrokerUnderTest,
  writeTestHubConfig,
  connectEndpointTo,
  createTestRegion,
  expertEntry,
  hospital,
  type ReceivedMessage,
  type TestEndpoint,
  type TestRegion,
} from '../testkit/index.ts';

/**
 * Two hub instances on one PostgreSQL database share the uplink. One is killed (SIGKILL) in the middle of a burst:
 * the broker redelivers what it had not accepted, the survivor takes over its claimed outbox rows when their claim
 * lapses, and every consult arrives — each processed once (one delivered receipt per message).
 */
const broker = loadBrokerUnderTest();
const postgres = loadPostgresEnv();
const V = PROTOCOL_VERSION;
const BURST = 2000;

describe.runIf(postgres)('two hub instances on PostgreSQL', () => {
  let dir: string;
  let region: TestRegion;
  let url: string;
  const hubs = new Map<string, ChildProcess>();
  const endpoints: Record<string, TestEndpoint> = {};

  function startHubProcess(name: string): Promise<ChildProcess> {
    const config = writeTestHubConfig({
      dir,
      name,
      region,
      broker,
      database: { kind: 'postgres', url },
      claimMs: 3_000,
    });
    const child = spawn(process.execPath, [join(import.meta.dirname, 'main.ts'), '--config', config.file], {
      env: { ...process.env, ...config.env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    hubs.set(name, child);
    return new Promise((resolve, reject) => {
      let seen = '';
      child.stdout.on('data', (chunk: Buffer) => {
        seen += chunk.toString();
        if (seen.includes('"status":"online"')) resolve(child);
      });
      child.once('exit', (code) => reject(new Error(`${name} exited with ${code}: ${seen.slice(-500)}`)));
    });
  }

  beforeAll(async () => {
    await broker.purge();
    dir = mkdtempSync(join(tmpdir(), 'rts-hub-failover-'));
    region = await createTestRegion(join(dir, 'pki'));
    url = await createTestDatabase(postgres!, 'hub_failover');
    for (const id of ['clinic-a', 'clinic-b']) endpoints[id] = await connectEndpointTo(broker, id);
  }, 60_000);

  afterAll(() => {
    for (const e of Object.values(endpoints)) e.close();
    for (const child of hubs.values()) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('loses nothing and doubles nothing when one instance is killed mid-burst', async () => {
    await Promise.all([startHubProcess('hub-one'), startHubProcess('hub-two')]);
    const clinicA = await region.clinic('clinic-a');
    const clinicB = await region.clinic('clinic-b');
    const expert = await region.practitioner('clinic-a.dr-ahmed');
    const applicant = await region.practitioner('clinic-b.dr-chen');
    for (const [id, signer] of [
      ['clinic-a', clinicA],
      ['clinic-b', clinicB],
    ] as const) {
      const registered = await endpoints[id]!.send(
        { rtsType: 'endpoint.register', rtsVersion: V, rtsSender: id },
        (messageId, timestamp) =>
          buildEndpointRegister(
            { messageId, timestamp, sender: id },
            { kind: 'clinic-system', name: id, organization: id },
          ),
        signer,
      );
      await endpoints[id]!.waitFor((m) => m.correlationId === registered, 'registration receipt');
      const published = await endpoints[id]!.send(
        {
          rtsType: 'directory.publish',
          rtsVersion: V,
          rtsSender: id,
          rtsDirectoryMode: 'full',
          rtsBatchId: randomUUID(),
          rtsBatchIndex: 1,
          rtsBatchCount: 1,
        },
        (messageId, timestamp) =>
          buildDirectoryPublish(
            { messageId, timestamp, sender: id },
            {
              full: [
                hospital(`${id}.main`, `${id} hospital`),
                ...expertEntry(id === 'clinic-a' ? expert : applicant, {
                  organizationId: `${id}.main`,
                  endpoints: [id],
                }),
              ],
            },
          ),
        signer,
      );
      await endpoints[id]!.waitFor(
        (m) => m.correlationId === published && m.properties.rtsReceipt === 'processed',
        'publish receipt',
      );
    }

    const ids = Array.from({ length: BURST }, () => randomUUID());
    const isConsult = (m: ReceivedMessage) => m.properties.rtsType === 'consult.request';
    const sending = Promise.all(
      ids.map((messageId) =>
        endpoints['clinic-b']!.sendRaw({
          message_id: messageId,
          user_id: Buffer.from('clinic-b'),
          creation_time: new Date(),
          durable: true,
          content_type: CONTENT_TYPES.authEnveloped,
          application_properties: {
            rtsType: 'consult.request',
            rtsVersion: V,
            rtsSender: 'clinic-b',
            rtsCase: randomUUID(),
            rtsFromPractitioner: 'clinic-b.dr-chen',
            rtsToPractitioner: 'clinic-a.dr-ahmed',
            rtsSequence: 1,
          },
          body: rhea.message.data_section(randomBytes(1024)),
        } as unknown as Message),
      ),
    );
    await endpoints['clinic-a']!.waitForCount(isConsult, BURST / 4, 'a quarter of the burst', 60_000);
    hubs.get('hub-one')!.kill('SIGKILL');
    expect(await sending).toEqual(ids.map(() => 'accepted'));

    // Counted by distinct id: copies re-sent after the kill arrive too.
    const distinctIds = (endpoint: TestEndpoint, pick: (m: ReceivedMessage) => string | undefined) =>
      new Set(endpoint.received.map(pick).filter(Boolean)).size;
    await expect
      .poll(() => distinctIds(endpoints['clinic-a']!, (m) => (isConsult(m) ? m.messageId : undefined)), {
        timeout: 90_000,
        interval: 250,
      })
      .toBe(BURST);
    await expect
      .poll(
        () =>
          distinctIds(endpoints['clinic-b']!, (m) =>
            m.properties.rtsReceipt === 'delivered' ? m.correlationId : undefined,
          ),
        { timeout: 60_000, interval: 250 },
      )
      .toBe(BURST);
    const arrived = endpoints['clinic-a']!.received.filter(isConsult);
    const distinct = new Set(arrived.map((m) => m.messageId));
    expect([...distinct].sort()).toEqual([...ids].sort());
    // Exactly-once processing: one row per message in the hub's record, one 'delivered' receipt per message id. A group's
    // forwards and receipts leave before its transaction commits (hub-transactions.ts), so the last group's rows may
    // land a moment after its receipts have arrived: the record is polled, not read once.
    const db = new pg.Client({ connectionString: url });
    await db.connect();
    const processed = async () =>
      (
        await db.query<{ n: number; distinct: number }>(
          "select count(*)::int as n, count(distinct message_id)::int as distinct from processed_messages where type = 'consult.request'",
        )
      ).rows[0];
    await expect.poll(processed, { timeout: 30_000, interval: 250 }).toEqual({ n: BURST, distinct: BURST });
    const deadLetters = await db.query<{ source: string; reason: string; detail: string; type: string }>(
      'select source, reason, detail, type from dead_letters where message_id = any($1::text[])',
      [ids],
    );
    await db.end();
    expect(deadLetters.rows).toEqual([]);
    const receipts = endpoints['clinic-b']!.received.filter((m) => m.properties.rtsReceipt === 'delivered').map(
      (m) => m.correlationId,
    );
    // A copy sent again after the kill is the same message (same id): receivers de-duplicate it. Report how many.
    const duplicates = arrived.length - distinct.size;
    console.log(
      `failover: ${BURST} consults, ${distinct.size} distinct arrived, ${duplicates} re-sent copies, ${receipts.length} delivered receipts for ${new Set(receipts).size} ids`,
    );
    expect(new Set(receipts).size).toBe(BURST);
  }, 180_000);
});
