import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Bundle } from '@medplum/fhirtypes';
import rhea, { type Message } from 'rhea';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  endpointCredentials,
  loadBrokerEnv,
  freeLoopbackPort,
  createTestDatabase,
  loadPostgresEnv,
} from '../scripts/test-env/index.ts';
import {
  createCrl,
  derToPem,
  describeCertificate,
  PEM_LABELS,
  pemToDerAll,
  type RevokedSerial,
} from '../shared/pki/index.ts';
import { buildDirectoryPublish, readHubNotice, type DirectoryChange } from '../shared/protocol/fhir/index.ts';
import { CONTENT_TYPES, openMessage, PROTOCOL_VERSION } from '../shared/protocol/index.ts';
import { loadHubConfig } from './hub-config.ts';
import { startHub, type HubService } from './hub-service.ts';
import * as store from './store/hub-store.ts';
import {
  purgeTestQueues,
  writeTestHubConfig,
  connectTestEndpoint,
  registerClinicSystem,
  requestSnapshotAs,
  createTestRegion,
  expertEntry,
  hospital,
  type ReceivedMessage,
  type TestEndpoint,
  type TestIdentity,
  type TestPractitioner,
  type TestRegion,
} from '../testkit/index.ts';

/**
 * Issue #17 at the hub, on the real broker and PostgreSQL (PGlite without one): revocation that takes effect without
 * a restart and reaches every endpoint, the CRL's nextUpdate watched, a rejected receipt for every permanent failure
 * of the AMQP properties that can be answered, and `rts hub directory list|show`.
 */
const broker = loadBrokerEnv();
const postgres = loadPostgresEnv();
const port = broker.nodes[0]!.amqpPort;
const V = PROTOCOL_VERSION;
const CLI = join(import.meta.dirname, '..', 'cli', 'rts.ts');
const DAY = 86_400_000;

describe('hub: revocation, property receipts, directory view', () => {
  let dir: string;
  let region: TestRegion;
  let hub: HubService;
  let configFile: string;
  let cliEnv: NodeJS.ProcessEnv;
  const logged: { event: string; [key: string]: unknown }[] = [];
  const clinics: Record<string, TestIdentity> = {};
  const endpoints: Record<string, TestEndpoint> = {};
  const experts: Record<string, TestPractitioner> = {};
  /** Serial numbers on the CRL the hub holds, and its number. */
  let revoked: RevokedSerial[] = [];
  let crlNumber = 1;

  const rts = (...args: string[]) =>
    new Promise<{ status: number; stdout: string; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        [CLI, 'hub', ...args, '--config', configFile],
        { encoding: 'utf8', env: cliEnv },
        (error, stdout, stderr) => {
          resolve({ status: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
        },
      );
    });
  const rtsJson = async <T>(...args: string[]) => {
    const result = await rts(...args, '--json');
    return { ...result, value: (result.stdout ? JSON.parse(result.stdout) : undefined) as T };
  };

  const isNotice = (notice: string) => (m: ReceivedMessage) =>
    m.properties.rtsType === 'hub.notice' && m.properties.rtsNotice === notice;
  const receiptFor = (messageId: string, outcome?: string) => (m: ReceivedMessage) =>
    m.properties.rtsType === 'receipt' &&
    m.correlationId === messageId &&
    (outcome === undefined || m.properties.rtsReceipt === outcome);

  /** Writes the region's next CRL into the file the hub reads (trust.crlFiles). */
  async function publishCrl(
    options: { add?: Uint8Array; number?: number; thisUpdate?: Date; validityDays?: number } = {},
  ): Promise<Uint8Array> {
    if (options.add)
      revoked = [
        ...revoked,
        { serialNumber: describeCertificate(options.add).serialNumber, revocationDate: new Date() },
      ];
    crlNumber = options.number ?? crlNumber + 1;
    const crl = await createCrl(region.ca, {
      crlNumber,
      revoked,
      ...(options.thisUpdate && { thisUpdate: options.thisUpdate }),
      ...(options.validityDays !== undefined && { validityDays: options.validityDays }),
    });
    writeFileSync(region.files.crl, derToPem(crl, PEM_LABELS.crl));
    return crl;
  }

  /** Opens a hub message as an endpoint would, under the CRL the test holds now: signature, chain, the hub as signer, payload. */
  async function openFromHub(m: ReceivedMessage, crls: Uint8Array[]): Promise<Bundle> {
    const opened = await openMessage(m.raw, {
      trust: { anchors: [region.ca.certificate], crls },
      recipientFor: () => undefined,
      expectedSigners: () => [region.hub.certificate],
    });
    if (!opened.ok) throw new Error(`hub message did not open: ${opened.error.code}: ${opened.error.detail}`);
    return opened.value.payload as unknown as Bundle;
  }

  function raw(
    from: string,
    properties: Record<string, unknown>,
    extra: Record<string, unknown> = {},
  ): Message & { message_id: string } {
    return {
      message_id: randomUUID(),
      user_id: Buffer.from(from),
      creation_time: new Date(),
      durable: true,
      content_type: CONTENT_TYPES.signed,
      application_properties: { rtsVersion: V, rtsSender: from, ...properties },
      body: rhea.message.data_section(randomBytes(64)),
      ...extra,
    } as unknown as Message & { message_id: string };
  }

  const deadLetterOf = async (messageId: string) =>
    (await store.listDeadLetters(hub.sql, { limit: 10_000 })).find((l) => l.messageId === messageId);

  const register = (id: string) => registerClinicSystem(endpoints[id]!, clinics[id]!);
  const requestSnapshot = (id: string) => requestSnapshotAs(endpoints[id]!, clinics[id]!);

  const publishDelta = (clinic: string, changes: DirectoryChange[]) =>
    endpoints[clinic]!.send(
      {
        rtsType: 'directory.publish',
        rtsVersion: V,
        rtsSender: clinic,
        rtsDirectoryMode: 'delta',
        rtsBatchId: randomUUID(),
        rtsBatchIndex: 1,
        rtsBatchCount: 1,
      },
      (messageId, timestamp) => buildDirectoryPublish({ messageId, timestamp, sender: clinic }, { delta: changes }),
      clinics[clinic]!,
    );

  beforeAll(async () => {
    await purgeTestQueues(broker);
    dir = mkdtempSync(join(tmpdir(), 'rts-hub-revocation-'));
    region = await createTestRegion(join(dir, 'pki'));
    revoked = [
      { serialNumber: describeCertificate(region.revoked.certificate).serialNumber, revocationDate: new Date() },
    ];
    for (const id of ['clinic-a', 'clinic-b']) clinics[id] = await region.clinic(id);
    for (const id of ['clinic-a.dr-ahmed', 'clinic-a.dr-berg']) experts[id] = await region.practitioner(id);
    const database = postgres
      ? { kind: 'postgres' as const, url: await createTestDatabase(postgres, 'hub_revocation') }
      : { kind: 'embedded' as const, path: join(dir, 'hub-db') };
    // Read again every 2 s here (60 s by default); most steps ask for a reload through the operator API anyway.
    const config = writeTestHubConfig({
      dir,
      name: 'hub-revocation',
      region,
      broker,
      database,
      operatorPort: await freeLoopbackPort(),
      crlReloadSeconds: 2,
    });
    configFile = config.file;
    cliEnv = { ...process.env, ...config.env };
    hub = await startHub({
      config: loadHubConfig(config.file, config.env),
      version: 'test',
      log: (e) => logged.push(e),
    });
    for (const id of ['clinic-a', 'clinic-b', 'ws-applicant-1'])
      endpoints[id] = await connectTestEndpoint({ port, vhost: broker.vhost, ...endpointCredentials(broker, id), id });
  }, 90_000);

  afterAll(async () => {
    for (const e of Object.values(endpoints)) e.close();
    await hub?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('sends a newly registered endpoint the CRL in use right after registration-accepted', async () => {
    const startCrl = pemToDerAll(readFileSync(region.files.crl, 'utf8'), PEM_LABELS.crl);
    for (const id of ['clinic-a', 'clinic-b']) {
      const registered = await register(id);
      await endpoints[id]!.waitFor(receiptFor(registered, 'processed'), 'registration receipt');
      const notices = endpoints[id]!.received.filter((m) => m.properties.rtsType === 'hub.notice');
      expect(notices.map((m) => m.properties.rtsNotice).slice(0, 2)).toEqual(['registration-accepted', 'crl-updated']);
      expect(notices[1]!.properties.rtsToEndpoint).toBe(id);
      const notice = readHubNotice(await openFromHub(notices[1]!, startCrl));
      expect(notice.crl).toEqual(startCrl[0]);
      expect(notice.text).toMatch(
        /number 1, .*apply it if it verifies against your trust anchors and is newer than yours/,
      );
    }
    const status = await rtsJson<{
      healthy: boolean;
      trust: { state: string; crls: { crlNumber: number; revoked: number; state: string }[] };
    }>('status');
    expect(status.value).toMatchObject({
      healthy: true,
      trust: { state: 'current', crls: [{ crlNumber: 1, revoked: 1, state: 'current' }] },
    });
    expect((await rts('status')).stdout).toMatch(
      /CRL of .*Test Region Root CA.*: current, number 1, 1 revoked, next update /,
    );
  });

  describe('a rejected receipt for each permanent failure of the AMQP properties', () => {
    it.each<[string, Record<string, unknown>, Record<string, unknown>, string]>([
      ['unknown type', { rtsType: 'consult.gossip' }, {}, 'unknown-type'],
      [
        'unsupported version (another major)',
        { rtsType: 'directory.snapshot-request', rtsVersion: '3.0' },
        {},
        'unsupported-version',
      ],
      ['malformed version', { rtsType: 'directory.snapshot-request', rtsVersion: 'abc' }, {}, 'malformed-properties'],
      [
        'malformed version (four parts)',
        { rtsType: 'directory.snapshot-request', rtsVersion: '2.0.0.1' },
        {},
        'malformed-properties',
      ],
      ['missing property (no rtsType)', {}, {}, 'missing-property'],
      [
        'missing property (a consult without rtsCase)',
        {
          rtsType: 'consult.request',
          rtsFromPractitioner: 'clinic-b.dr-x',
          rtsToPractitioner: 'clinic-a.dr-y',
          rtsSequence: 1,
        },
        { content_type: CONTENT_TYPES.authEnveloped },
        'missing-property',
      ],
      [
        'replay (31 days old)',
        { rtsType: 'directory.snapshot-request' },
        { creation_time: new Date(Date.now() - 31 * DAY) },
        'replay',
      ],
      [
        'replay (an hour ahead)',
        { rtsType: 'directory.snapshot-request' },
        { creation_time: new Date(Date.now() + 3_600_000) },
        'replay',
      ],
    ])('%s', async (_what, properties, extra, reason) => {
      const message = raw('clinic-b', properties, extra);
      await endpoints['clinic-b']!.sendRaw(message);
      const receipt = await endpoints['clinic-b']!.waitFor(
        receiptFor(message.message_id, 'rejected'),
        `rejected receipt (${reason})`,
      );
      expect(receipt.properties).toMatchObject({ rtsReason: reason, rtsToEndpoint: 'clinic-b', rtsSender: 'hub' });
      expect(receipt.userId).toBe(broker.users.hub.name);
      expect(await deadLetterOf(message.message_id)).toMatchObject({ reason, sender: 'clinic-b' });
    });

    it('answers a forged sender at the broker-verified user, never at the endpoint it claims to be', async () => {
      const message = raw('clinic-b', { rtsType: 'directory.snapshot-request', rtsSender: 'clinic-a' });
      await endpoints['clinic-b']!.sendRaw(message);
      expect(
        (await endpoints['clinic-b']!.waitFor(receiptFor(message.message_id, 'rejected'), 'forged-sender receipt'))
          .properties.rtsReason,
      ).toBe('forged-sender');
      expect(endpoints['clinic-a']!.received.some((m) => m.correlationId === message.message_id)).toBe(false);
    });

    it('only dead-letters what it cannot answer: a receipt, a message_id that is no UUID, an endpoint that is not registered', async () => {
      const badReceipt = raw(
        'clinic-b',
        { rtsType: 'receipt', rtsVersion: 'abc', rtsReceipt: 'processed', rtsToEndpoint: 'clinic-a' },
        { correlation_id: randomUUID() },
      );
      const notUuid = raw('clinic-b', { rtsType: 'consult.gossip' }, { message_id: `not-a-uuid-${randomUUID()}` });
      const unregistered = raw('ws-applicant-1', { rtsType: 'consult.gossip' });
      await endpoints['clinic-b']!.sendRaw(badReceipt);
      await endpoints['clinic-b']!.sendRaw(notUuid);
      await endpoints['ws-applicant-1']!.sendRaw(unregistered);
      // Answered after them on the same queue: by the time its receipt is here, theirs would be too.
      const sentinel = raw('clinic-b', { rtsType: 'consult.gossip' });
      await endpoints['clinic-b']!.sendRaw(sentinel);
      await endpoints['clinic-b']!.waitFor(receiptFor(sentinel.message_id, 'rejected'), 'the sentinel receipt');
      expect(await deadLetterOf(badReceipt.message_id)).toMatchObject({
        reason: 'malformed-properties',
        type: 'receipt',
      });
      expect(await deadLetterOf(notUuid.message_id)).toMatchObject({
        reason: 'malformed-properties',
        detail: expect.stringContaining('message_id'),
      });
      await expect
        .poll(() => deadLetterOf(unregistered.message_id))
        .toMatchObject({ reason: 'unknown-type', sender: 'ws-applicant-1' });
      const answered = new Set(
        endpoints['clinic-b']!.received.filter((m) => m.properties.rtsType === 'receipt').map((m) => m.correlationId),
      );
      expect(answered.has(badReceipt.message_id)).toBe(false);
      // A receipt names its message by correlation_id, a UUID: nothing can name this one, and nothing tried.
      expect(
        endpoints['clinic-b']!.received.filter((m) => m.properties.rtsType === 'receipt' && !m.correlationId),
      ).toEqual([]);
      expect(endpoints['ws-applicant-1']!.received).toEqual([]);
    });
  });

  it('lists and shows the directory entries it holds (rts hub directory list|show)', async () => {
    const published = await publishDelta('clinic-a', [
      { upsert: hospital('clinic-a.riverside', 'Riverside Hospital') },
      ...expertEntry(experts['clinic-a.dr-ahmed']!, {
        organizationId: 'clinic-a.riverside',
        endpoints: ['clinic-a'],
        family: 'Ahmed',
      }).map((upsert) => ({ upsert })),
      ...expertEntry(experts['clinic-a.dr-berg']!, {
        organizationId: 'clinic-a.riverside',
        endpoints: ['clinic-a'],
        family: 'Berg',
      }).map((upsert) => ({ upsert })),
    ]);
    await endpoints['clinic-a']!.waitFor(receiptFor(published, 'processed'), 'publish receipt');
    const retired = await publishDelta('clinic-a', [
      { retire: 'Practitioner/clinic-a.dr-berg' },
      { retire: 'PractitionerRole/clinic-a.dr-berg' },
    ]);
    await endpoints['clinic-a']!.waitFor(receiptFor(retired, 'processed'), 'retirement receipt');

    type Page = {
      entries: { id: string; clinic: string; name: string | null; organizationName: string | null; state: string }[];
      next?: string;
    };
    const all = await rtsJson<Page>('directory', 'list');
    expect(all.stderr).toBe('');
    expect(all.value.entries).toEqual([
      expect.objectContaining({
        id: 'clinic-a.dr-ahmed',
        clinic: 'clinic-a',
        name: 'Test Ahmed',
        organizationName: 'Riverside Hospital',
        state: 'live',
      }),
      expect.objectContaining({ id: 'clinic-a.dr-berg', clinic: 'clinic-a', name: null, state: 'retired' }),
    ]);
    expect(all.value.next).toBeUndefined();
    const first = await rtsJson<Page>('directory', 'list', '--limit', '1');
    expect(first.value).toMatchObject({ entries: [{ id: 'clinic-a.dr-ahmed' }], next: 'clinic-a.dr-ahmed' });
    expect(
      (await rtsJson<Page>('directory', 'list', '--limit', '1', '--after', first.value.next!)).value.entries.map(
        (e) => e.id,
      ),
    ).toEqual(['clinic-a.dr-berg']);
    expect((await rtsJson<Page>('directory', 'list', '--clinic', 'clinic-b')).value.entries).toEqual([]);
    expect((await rts('directory', 'list')).stdout).toMatch(
      /^clinic-a\.dr-ahmed {2}live {2}Test Ahmed {2}clinic-a {2}Riverside Hospital {2}version \d+$/m,
    );

    const signing = describeCertificate(experts['clinic-a.dr-ahmed']!.signing.certificate);
    const shown = await rtsJson<{
      certificates: { use: string; subject: string; serialNumber: string; notAfter: string }[];
      endpoints: string[];
    }>('directory', 'show', 'clinic-a.dr-ahmed');
    expect(shown.value.endpoints).toEqual(['clinic-a']);
    expect(shown.value.certificates).toEqual([
      { use: 'signing', subject: signing.subject, serialNumber: signing.serialNumber, notAfter: signing.notAfter },
      expect.objectContaining({ use: 'encryption', subject: expect.stringContaining('CN=clinic-a.dr-ahmed') }),
    ]);
    expect((await rts('directory', 'show', 'clinic-a.dr-ahmed')).stdout).toContain(
      `certificate (signing): ${signing.subject}, serial ${signing.serialNumber}, valid until ${signing.notAfter}`,
    );
    const missing = await rts('directory', 'show', 'clinic-a.dr-nobody');
    expect(missing.status).toBe(1);
    expect(missing.stderr).toBe('rts: hub-error: no directory entry clinic-a.dr-nobody\n');
    expect((await rtsJson<{ live: Record<string, number> }>('directory')).value.live).toEqual({
      Organization: 1,
      Practitioner: 1,
      PractitionerRole: 1,
    });
  });

  it('refuses a certificate revoked while it runs, from the next message on, and sends the new CRL to every endpoint', async () => {
    const before = await requestSnapshot('clinic-b');
    await endpoints['clinic-b']!.waitFor(receiptFor(before, 'processed'), 'snapshot request before the revocation');

    const crl = await publishCrl({ add: clinics['clinic-b']!.certificate });
    const reload = await rtsJson<{
      taken: { crlNumber: number }[];
      trust: { crls: { crlNumber: number; revoked: number }[] };
    }>('reload-trust');
    expect(reload.status).toBe(0);
    // The 2-second timer may have taken it first: either way it is the CRL in use now.
    expect(reload.value.trust.crls).toMatchObject([{ crlNumber: 2, revoked: 2 }]);

    const after = await requestSnapshot('clinic-b');
    const refused = await endpoints['clinic-b']!.waitFor(
      receiptFor(after, 'rejected'),
      'rejected receipt after the revocation',
    );
    expect(refused.properties.rtsReason).toBe('certificate-revoked');
    expect(await deadLetterOf(after)).toMatchObject({ reason: 'certificate-revoked' });

    for (const id of ['clinic-a', 'clinic-b']) {
      const notice = await endpoints[id]!.waitFor(
        (m) => isNotice('crl-updated')(m) && m.properties.rtsToEndpoint === undefined,
        `crl-updated to every endpoint (${id})`,
      );
      const content = readHubNotice(await openFromHub(notice, [crl]));
      expect(content).toMatchObject({ notice: 'crl-updated', crl });
      expect(content.text).toContain('number 2');
    }
    // Once, however many reloads saw it (the other row is CRL 1, recorded at start with no endpoint registered yet).
    expect(await hub.sql.query('select crl_number, endpoints from crl_distributions order by crl_number')).toEqual([
      { crl_number: 1, endpoints: 0 },
      { crl_number: 2, endpoints: 2 },
    ]);
    expect(logged.filter((e) => e.event === 'crl-taken')).toMatchObject([{ crlNumber: 2 }]);
  });

  it('keeps the CRL in use against an older or foreign CRL file, and reports it', async () => {
    const inUse = await publishCrl({ number: 3 });
    await expect.poll(() => hub.trustStatus().crls[0]?.crlNumber, { timeout: 15_000 }).toBe(3);
    writeFileSync(region.files.crl, derToPem(await createCrl(region.ca, { crlNumber: 2, revoked }), PEM_LABELS.crl));
    const older = await rtsJson<{
      taken: unknown[];
      refused: { detail: string }[];
      trust: { crls: { crlNumber: number }[] };
    }>('reload-trust');
    expect(older.status).toBe(1);
    expect(older.value).toMatchObject({
      taken: [],
      refused: [{ detail: expect.stringMatching(/^older than the CRL in use \(number 2, .*in use: number 3/) }],
      trust: { crls: [{ crlNumber: 3 }] },
    });
    expect((await rts('reload-trust')).stdout).toMatch(
      /^no newer CRL: the CRL in use stays\nrefused .*ca\.crl\.pem: older than the CRL in use/,
    );

    const stranger = await createTestRegion(join(dir, 'stranger'), 'Stranger Region');
    writeFileSync(region.files.crl, derToPem(await createCrl(stranger.ca, { crlNumber: 99 }), PEM_LABELS.crl));
    const foreign = await rtsJson<{ refused: { detail: string }[]; trust: { crls: { crlNumber: number }[] } }>(
      'reload-trust',
    );
    expect(foreign.value).toMatchObject({
      refused: [
        { detail: expect.stringMatching(/Stranger Region Root CA.* that none of this hub's trust anchors signed/) },
      ],
      trust: { crls: [{ crlNumber: 3 }] },
    });
    expect(logged.filter((e) => e.event === 'crl-refused').map((e) => e.detail)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^older than/),
        expect.stringMatching(/none of this hub's trust anchors/),
      ]),
    );
    expect(hub.trustStatus().lastReload?.refused).toHaveLength(1);
    writeFileSync(region.files.crl, derToPem(inUse, PEM_LABELS.crl));
  });

  it('reports a CRL nearing its nextUpdate as expiring and one past it as stale (then unhealthy), and recovers with the next', async () => {
    await publishCrl({ validityDays: 1 });
    await expect.poll(() => hub.trustStatus().state, { timeout: 15_000 }).toBe('expiring');
    const expiring = await rtsJson<{
      healthy: boolean;
      trust: { state: string; crls: { crlNumber: number; nextUpdate: string }[] };
    }>('status');
    expect(expiring.value).toMatchObject({ healthy: true, trust: { state: 'expiring', crls: [{ crlNumber: 4 }] } });
    expect(new Date(expiring.value.trust.crls[0]!.nextUpdate).getTime()).toBeLessThan(Date.now() + 2 * DAY);
    expect(logged.filter((e) => e.event === 'crl-state').at(-1)).toMatchObject({
      state: 'expiring',
      level: 'warning',
      crlNumber: 4,
    });

    // A newer list issued two days ago for one day: past its nextUpdate, so every signed message waits.
    await publishCrl({ thisUpdate: new Date(Date.now() - 2 * DAY), validityDays: 1 });
    await expect.poll(() => hub.trustStatus().state, { timeout: 15_000 }).toBe('stale');
    const health = await rtsJson<{ healthy: boolean; trust: string }>('health');
    expect(health).toMatchObject({ status: 1, value: { healthy: false, trust: 'stale' } });
    expect((await rts('health')).stdout).toMatch(/^unhealthy: the CRL in use is stale/);
    expect(logged.filter((e) => e.event === 'crl-state').at(-1)).toMatchObject({
      state: 'stale',
      level: 'warning',
      crlNumber: 5,
    });
    // Not the message's fault: released to wait (transient), as the hub always did with a stale CRL.
    const waiting = await requestSnapshot('clinic-a');
    await expect
      .poll(() => logged.find((e) => e.event === 'transient-failure' && e.messageId === waiting)?.error, {
        timeout: 15_000,
      })
      .toMatch(/out of date/);

    await publishCrl({ validityDays: 30 });
    await expect.poll(() => hub.trustStatus().state, { timeout: 15_000 }).toBe('current');
    expect((await rtsJson<{ healthy: boolean }>('health')).value.healthy).toBe(true);
    const next = await requestSnapshot('clinic-a');
    await endpoints['clinic-a']!.waitFor(receiptFor(next, 'processed'), 'a request processed once the CRL is current');
    expect(logged.filter((e) => e.event === 'crl-state').map((e) => e.state)).toEqual([
      'current',
      'expiring',
      'stale',
      'current',
    ]);
  });
});
