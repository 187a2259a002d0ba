import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import rhea, { type Message } from 'rhea';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { endpointCredentials, loadBrokerEnv } from '../scripts/test-env/broker-env.ts';
import { freeLoopbackPort } from '../scripts/test-env/free-port.ts';
import { createTestDatabase, loadPostgresEnv } from '../scripts/test-env/postgres-env.ts';
import { sign } from '../shared/cms/index.ts';
import { PEM_LABELS, pemToDerAll } from '../shared/pki/index.ts';
import { buildDirectoryPublish, buildEndpointRegister, buildSnapshotRequest, type DirectoryChange, type DirectoryResource } from '../shared/protocol/fhir/message-builders.ts';
import { CONTENT_TYPES } from '../shared/protocol/message-codec.ts';
import { openMessage, sealMessage } from '../shared/protocol/message-envelope.ts';
import { loadHubConfig } from './hub-config.ts';
import { startHub, type HubService } from './hub-service.ts';
import * as store from './store/hub-store.ts';
import { createEndpointUser, purgeTestQueues, writeTestHubConfig } from '../testkit/test-hub-config.ts';
import { connectTestEndpoint, type ReceivedMessage, type TestEndpoint } from '../testkit/test-endpoint.ts';
import { createTestRegion, expertEntry, hospital, type TestIdentity, type TestPractitioner, type TestRegion } from '../testkit/test-region.ts';
import { PROTOCOL_VERSION } from '../shared/protocol/protocol-version.ts';

const broker = loadBrokerEnv();
const postgres = loadPostgresEnv();
const port = broker.nodes[0]!.amqpPort;
const V = PROTOCOL_VERSION;
const CLI = join(import.meta.dirname, '..', 'cli', 'rts.ts');
/** Short, so that a deferred snapshot comes within a test's patience; production uses a minute. */
const SNAPSHOT_INTERVAL_MS = 2_000;

const engines = [{ kind: 'embedded' as const }, ...(postgres ? [{ kind: 'postgres' as const }] : [])];

describe.each(engines)('hub on the real broker, $kind database', ({ kind }) => {
  let dir: string;
  let region: TestRegion;
  let hub: HubService;
  let configFile: string;
  let cliEnv: NodeJS.ProcessEnv;
  /** `rts hub … --json` against this suite's hub (asynchronously: the hub runs in this process). */
  const rtsHub = <T>(...args: string[]) => new Promise<{ status: number | null; value: T; stderr: string }>((resolve) => {
    execFile(process.execPath, [CLI, 'hub', ...args, '--config', configFile, '--json'], { encoding: 'utf8', env: cliEnv }, (error, stdout, stderr) => {
      resolve({ status: error ? (typeof error.code === 'number' ? error.code : 1) : 0, value: (stdout ? JSON.parse(stdout) : undefined) as T, stderr });
    });
  });
  const clinics: Record<string, TestIdentity> = {};
  const endpoints: Record<string, TestEndpoint> = {};
  const experts: Record<string, TestPractitioner> = {};
  const hubCertificate = () => region.hub.certificate;

  const isType = (type: string) => (m: ReceivedMessage) => m.properties.rtsType === type;
  const receiptFor = (messageId: string, outcome?: string) => (m: ReceivedMessage) =>
    m.properties.rtsType === 'receipt' && m.correlationId === messageId && (outcome === undefined || m.properties.rtsReceipt === outcome);

  async function register(id: string, clinic: string, kindOf: 'clinic-system' | 'workstation' = 'clinic-system'): Promise<string> {
    return endpoints[id]!.send(
      { rtsType: 'endpoint.register', rtsVersion: V, rtsSender: id },
      (messageId, timestamp) => buildEndpointRegister({ messageId, timestamp, sender: id }, { kind: kindOf, name: `${id} system`, organization: `${clinic} Health` }),
      clinics[clinic]!,
    );
  }

  /** A workstation's registration signed by someone other than its clinic system, e.g. one of its practitioners. */
  async function registerWorkstation(id: string, signer: TestIdentity): Promise<string> {
    return endpoints[id]!.send(
      { rtsType: 'endpoint.register', rtsVersion: V, rtsSender: id },
      (messageId, timestamp) => buildEndpointRegister({ messageId, timestamp, sender: id }, { kind: 'workstation', name: `${id} workstation`, organization: 'clinic-a Health' }),
      signer,
    );
  }

  async function requestSnapshot(id: string, signer: TestIdentity, knownVersion?: number): Promise<string> {
    return endpoints[id]!.send(
      { rtsType: 'directory.snapshot-request', rtsVersion: V, rtsSender: id },
      (messageId, timestamp) => buildSnapshotRequest({ messageId, timestamp, sender: id }, knownVersion === undefined ? {} : { knownVersion }),
      signer,
    );
  }

  /** Raw AMQP fields from an endpoint (its own user_id unless told), with any body. */
  function rawFrom(id: string, properties: Record<string, unknown>, body: Uint8Array, extra: Record<string, unknown> = {}): Message {
    return {
      message_id: randomUUID(), user_id: Buffer.from(id), creation_time: new Date(), durable: true, content_type: CONTENT_TYPES.signed,
      application_properties: { rtsVersion: V, rtsSender: id, ...properties }, body: rhea.message.data_section(Buffer.from(body)), ...extra,
    } as unknown as Message;
  }

  /** The hub answers no rejection to an endpoint that is not registered: its dead letter tells why. */
  async function deadLetterOf(messageId: string): Promise<{ reason: string; detail: string } | undefined> {
    return (await store.listDeadLetters(hub.sql)).find((l) => l.messageId === messageId);
  }

  async function publishFull(clinic: string, resources: DirectoryResource[], batches: number): Promise<string[]> {
    const batchId = randomUUID();
    const per = Math.ceil(resources.length / batches);
    const ids: string[] = [];
    for (let i = 0; i < batches; i++) {
      const slice = resources.slice(i * per, (i + 1) * per);
      ids.push(await endpoints[clinic]!.send(
        { rtsType: 'directory.publish', rtsVersion: V, rtsSender: clinic, rtsDirectoryMode: 'full', rtsBatchId: batchId, rtsBatchIndex: i + 1, rtsBatchCount: batches },
        (messageId, timestamp) => buildDirectoryPublish({ messageId, timestamp, sender: clinic }, { full: slice }),
        clinics[clinic]!,
      ));
    }
    return ids;
  }

  async function publishDelta(clinic: string, changes: DirectoryChange[], signer: TestIdentity = clinics[clinic]!): Promise<string> {
    return endpoints[clinic]!.send(
      { rtsType: 'directory.publish', rtsVersion: V, rtsSender: clinic, rtsDirectoryMode: 'delta', rtsBatchId: randomUUID(), rtsBatchIndex: 1, rtsBatchCount: 1 },
      (messageId, timestamp) => buildDirectoryPublish({ messageId, timestamp, sender: clinic }, { delta: changes }),
      signer,
    );
  }

  /** Opens a hub message as an endpoint would: signature, chain, the hub as signer, payload profile. */
  async function openFromHub(m: ReceivedMessage): Promise<Record<string, unknown>> {
    const opened = await openMessage(m.raw, { trust: { anchors: [region.ca.certificate], crls: pemToDerAll(readFileSync(region.files.crl, 'utf8'), PEM_LABELS.crl) }, recipientFor: () => undefined, expectedSigners: () => [hubCertificate()] });
    if (!opened.ok) throw new Error(`hub message did not open: ${opened.error.code}: ${opened.error.detail}`);
    return opened.value.payload;
  }

  /** Directory ids in a snapshot or update payload: upserts, and retirements as "-url". */
  function directoryContent(payload: Record<string, unknown>): string[] {
    const inner = (payload.entry as { resource: { entry: { resource?: { resourceType: string; id: string }; request?: { method: string; url: string } }[] } }[])[1]!.resource;
    return inner.entry.map((e) => (e.request?.method === 'DELETE' ? `-${e.request.url}` : `${e.resource!.resourceType}/${e.resource!.id}`)).sort();
  }

  beforeAll(async () => {
    await purgeTestQueues(broker);
    dir = mkdtempSync(join(tmpdir(), 'rts-hub-test-'));
    region = await createTestRegion(join(dir, 'pki'));
    for (const id of ['clinic-a', 'clinic-b', 'clinic-c']) clinics[id] = await region.clinic(id);
    for (const id of ['clinic-a.dr-ahmed', 'clinic-a.dr-berg', 'clinic-a.dr-lund', 'clinic-b.dr-chen']) experts[id] = await region.practitioner(id);
    const database = kind === 'embedded' ? { kind, path: join(dir, 'hub-db') } : { kind, url: await createTestDatabase(postgres!, 'hub') };
    const config = writeTestHubConfig({ dir, name: `hub-${kind}`, region, broker, database, operatorPort: await freeLoopbackPort() });
    configFile = config.file;
    cliEnv = { ...process.env, ...config.env };
    hub = await startHub({ config: loadHubConfig(config.file, config.env), version: 'test', snapshotIntervalMs: SNAPSHOT_INTERVAL_MS, log: (e) => { if (process.env.RTS_HUB_TEST_LOG) console.error(JSON.stringify(e)); } });
    await createEndpointUser(broker, 'clinic-c', 'clinic-c-password');
    for (const id of ['clinic-a', 'clinic-b', 'ws-expert-1', 'ws-applicant-1']) endpoints[id] = await connectTestEndpoint({ port, vhost: broker.vhost, ...endpointCredentials(broker, id), id });
  }, 90_000);

  afterAll(async () => {
    for (const e of Object.values(endpoints)) e.close();
    await hub?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('registers two clinics: downlink provisioned, registration accepted, an empty snapshot at version 0', async () => {
    const a = await register('clinic-a', 'clinic-a');
    const b = await register('clinic-b', 'clinic-b');
    for (const [id, messageId] of [['clinic-a', a], ['clinic-b', b]] as const) {
      const endpoint = endpoints[id]!;
      await endpoint.waitFor(receiptFor(messageId, 'processed'), 'registration receipt');
      const notice = await endpoint.waitFor(isType('hub.notice'), 'registration notice');
      expect(notice.properties.rtsNotice).toBe('registration-accepted');
      expect(notice.userId).toBe(broker.users.hub.name);
      const snapshot = await endpoint.waitFor(isType('directory.snapshot'), 'snapshot');
      expect(snapshot.properties).toMatchObject({ rtsDirectoryVersion: 0, rtsBatchIndex: 1, rtsBatchCount: 1, rtsToEndpoint: id });
      expect(directoryContent(await openFromHub(snapshot))).toEqual([]);
    }
    expect((await store.listEndpoints(hub.sql)).map((e) => `${e.id}:${e.kind}:${e.operator}`)).toEqual(['clinic-a:clinic-system:clinic-a', 'clinic-b:clinic-system:clinic-b']);
  });

  it('applies a full publish in two batches once both arrived, and fans the change out signed by the hub', async () => {
    const resources = [
      hospital('clinic-a.riverside', 'Riverside Hospital'),
      ...expertEntry(experts['clinic-a.dr-ahmed']!, { organizationId: 'clinic-a.riverside', endpoints: ['ws-expert-1'] }),
      ...expertEntry(experts['clinic-a.dr-berg']!, { organizationId: 'clinic-a.riverside', endpoints: ['clinic-a'] }),
      ...expertEntry(experts['clinic-a.dr-lund']!, { organizationId: 'clinic-a.riverside', endpoints: ['clinic-a'] }),
    ];
    const [first, second] = await publishFull('clinic-a', resources, 2);
    await endpoints['clinic-a']!.waitFor(receiptFor(first!, 'processed'), 'first batch receipt');
    await endpoints['clinic-a']!.waitFor(receiptFor(second!, 'processed'), 'second batch receipt');
    for (const id of ['clinic-a', 'clinic-b']) {
      const update = await endpoints[id]!.waitFor(isType('directory.update'), 'directory update');
      expect(update.properties).toMatchObject({ rtsDirectoryBaseVersion: 0, rtsDirectoryVersion: 1, rtsSender: 'hub' });
      expect(directoryContent(await openFromHub(update))).toEqual(resources.map((r) => `${r.resourceType}/${r.id}`).sort());
    }
    expect((await store.directoryStats(hub.sql)).live).toEqual({ Organization: 1, Practitioner: 3, PractitionerRole: 3 });
  });

  it('refuses experts of another clinic, with a rejected receipt and a dead letter, and changes nothing', async () => {
    const [practitioner, role] = expertEntry(experts['clinic-b.dr-chen']!, { organizationId: 'clinic-a.riverside', endpoints: ['clinic-a'] });
    const forged = await publishDelta('clinic-a', [{ upsert: practitioner! }, { upsert: role! }]);
    const receipt = await endpoints['clinic-a']!.waitFor(receiptFor(forged, 'rejected'), 'rejected receipt');
    expect(receipt.properties.rtsReason).toBe('not-authorized');
    const letters = await store.listDeadLetters(hub.sql, { reason: 'not-authorized' });
    expect(letters.map((l) => [l.messageId, l.sender, l.state])).toEqual([[forged, 'clinic-a', 'held']]);
    expect(await store.directoryVersion(hub.sql)).toBe(1);

    // Signed with another clinic's system certificate: the signature does not name the sender.
    const misSigned = await publishDelta('clinic-b', [{ retire: 'PractitionerRole/clinic-b.dr-x' }], clinics['clinic-a']);
    expect((await endpoints['clinic-b']!.waitFor(receiptFor(misSigned, 'rejected'), 'rejected receipt')).properties.rtsReason).toBe('signer-mismatch');
  });

  it("refuses an entry whose certificates name someone else, or whose role reaches into another clinic's namespace", async () => {
    const refusedWith = async (clinic: string, messageId: string, reason: string, detail: RegExp) => {
      const receipt = await endpoints[clinic]!.waitFor(receiptFor(messageId, 'rejected'), 'rejected receipt');
      expect(receipt.properties.rtsReason).toBe(reason);
      const [letter] = (await store.listDeadLetters(hub.sql, { reason })).filter((l) => l.messageId === messageId);
      expect(letter?.detail).toMatch(detail);
    };
    // The impostor: clinic-b lists "its own" dr-ahmed with the real expert's signing certificate and a key it holds.
    const impostor = await region.practitioner('clinic-b.dr-ahmed');
    const [practitioner, role] = expertEntry({ ...impostor, signing: experts['clinic-a.dr-ahmed']!.signing }, { organizationId: 'clinic-b.hillview', endpoints: ['clinic-b'] });
    const copied = await publishDelta('clinic-b', [{ upsert: hospital('clinic-b.hillview', 'Hillview') }, { upsert: practitioner! }, { upsert: role! }]);
    await refusedWith('clinic-b', copied, 'not-authorized', /signing certificate is issued to "clinic-a\.dr-ahmed", not to the directory id clinic-b\.dr-ahmed/);

    // An expert given another practitioner's (valid, CA-issued) encryption certificate.
    const [swapped] = expertEntry({ ...experts['clinic-a.dr-ahmed']!, encryption: experts['clinic-a.dr-berg']!.encryption }, { organizationId: 'clinic-a.riverside', endpoints: ['ws-expert-1'] });
    const swap = await publishDelta('clinic-a', [{ upsert: swapped! }]);
    await refusedWith('clinic-a', swap, 'not-authorized', /encryption certificate is issued to "clinic-a\.dr-berg"/);

    // A role under another clinic's hospital, and a role that names another clinic's practitioner.
    const [chen, chenRole] = expertEntry(experts['clinic-b.dr-chen']!, { organizationId: 'clinic-a.riverside', endpoints: ['clinic-b'] });
    const underForeign = await publishDelta('clinic-b', [{ upsert: chen! }, { upsert: chenRole! }]);
    await refusedWith('clinic-b', underForeign, 'not-authorized', /refers to Organization\/clinic-a\.riverside, which clinic-b did not publish/);
    const [, ownRole] = expertEntry(experts['clinic-b.dr-chen']!, { organizationId: 'clinic-b.hillview', endpoints: ['clinic-b'] });
    const pointing = await publishDelta('clinic-b', [{ upsert: { ...ownRole!, practitioner: { reference: 'Practitioner/clinic-a.dr-ahmed' } } as DirectoryResource }]);
    await refusedWith('clinic-b', pointing, 'not-authorized', /must refer to Practitioner\/clinic-b\.dr-chen/);
    expect(await store.directoryVersion(hub.sql)).toBe(1);
  });

  it('refuses a sender that is not the broker-verified user, and keeps serving the messages behind', async () => {
    const messageId = randomUUID();
    const outcome = await endpoints['clinic-b']!.sendRaw({
      message_id: messageId, user_id: Buffer.from('clinic-b'), creation_time: new Date(), durable: true, content_type: CONTENT_TYPES.signed,
      application_properties: { rtsType: 'directory.snapshot-request', rtsVersion: V, rtsSender: 'clinic-a' },
      body: rhea.message.data_section(randomBytes(64)),
    } as unknown as Message);
    expect(outcome).toBe('accepted');
    const receipt = await endpoints['clinic-b']!.waitFor(receiptFor(messageId, 'rejected'), 'forged-sender receipt');
    expect(receipt.properties.rtsReason).toBe('forged-sender');
    expect(endpoints['clinic-a']!.received.some((m) => m.correlationId === messageId)).toBe(false);
  });

  it('gives a clinic joining later the current snapshot, then the same deltas as everyone', async () => {
    const delta = await publishDelta('clinic-b', [
      { upsert: hospital('clinic-b.hillview', 'Hillview Hospital') },
      ...expertEntry(experts['clinic-b.dr-chen']!, { organizationId: 'clinic-b.hillview', endpoints: ['clinic-b'] }).map((upsert) => ({ upsert })),
    ]);
    await endpoints['clinic-b']!.waitFor(receiptFor(delta, 'processed'), 'delta receipt');
    await endpoints['clinic-a']!.waitFor((m) => m.properties.rtsDirectoryVersion === 2, 'update to version 2');

    endpoints['clinic-c'] = await connectTestEndpoint({ port, vhost: broker.vhost, id: 'clinic-c', password: 'clinic-c-password', receive: false });
    const joined = await register('clinic-c', 'clinic-c');
    // Its downlink exists only now, made by the hub: attach after the receipt would have been routed there.
    endpoints['clinic-c'].close();
    await new Promise((resolve) => setTimeout(resolve, 1000));
    endpoints['clinic-c'] = await connectTestEndpoint({ port, vhost: broker.vhost, id: 'clinic-c', password: 'clinic-c-password' });
    const c = endpoints['clinic-c'];
    await c.waitFor(receiptFor(joined, 'processed'), 'registration receipt');
    const snapshot = await c.waitFor(isType('directory.snapshot'), 'snapshot');
    expect(snapshot.properties.rtsDirectoryVersion).toBe(2);
    expect(directoryContent(await openFromHub(snapshot))).toEqual([
      'Organization/clinic-a.riverside', 'Organization/clinic-b.hillview',
      ...['clinic-a.dr-ahmed', 'clinic-a.dr-berg', 'clinic-a.dr-lund', 'clinic-b.dr-chen'].flatMap((id) => [`Practitioner/${id}`, `PractitionerRole/${id}`]),
    ].sort());

    // clinic-a's next full list drops dr-lund: everyone, the newcomer included, gets version 3 retiring him.
    await publishFull('clinic-a', [
      hospital('clinic-a.riverside', 'Riverside Hospital'),
      ...expertEntry(experts['clinic-a.dr-ahmed']!, { organizationId: 'clinic-a.riverside', endpoints: ['ws-expert-1'] }),
      ...expertEntry(experts['clinic-a.dr-berg']!, { organizationId: 'clinic-a.riverside', endpoints: ['clinic-a'] }),
    ], 1);
    for (const endpoint of [endpoints['clinic-a']!, endpoints['clinic-b']!, c]) {
      const update = await endpoint.waitFor((m) => m.properties.rtsDirectoryVersion === 3, 'update to version 3');
      expect(update.properties.rtsDirectoryBaseVersion).toBe(2);
      expect(directoryContent(await openFromHub(update))).toEqual(['-Practitioner/clinic-a.dr-lund', '-PractitionerRole/clinic-a.dr-lund']);
    }
  });

  it('routes a consult to every registered endpoint of the expert, once, and answers the sender', async () => {
    const send = (to: string, messageId = randomUUID()) => endpoints['clinic-b']!.sendRaw({
      message_id: messageId, user_id: Buffer.from('clinic-b'), creation_time: new Date(), durable: true, content_type: CONTENT_TYPES.authEnveloped,
      application_properties: { rtsType: 'consult.request', rtsVersion: V, rtsSender: 'clinic-b', rtsCase: randomUUID(), rtsFromPractitioner: 'clinic-b.dr-chen', rtsToPractitioner: to, rtsSequence: 1 },
      // The hub never decrypts consults; an opaque body is all it sees anyway.
      body: rhea.message.data_section(randomBytes(1024)),
    } as unknown as Message).then(() => messageId);

    const toBerg = await send('clinic-a.dr-berg');
    await endpoints['clinic-b']!.waitFor(receiptFor(toBerg, 'delivered'), 'delivered receipt');
    const forwarded = await endpoints['clinic-a']!.waitFor((m) => m.messageId === toBerg, 'forwarded consult');
    expect(forwarded.userId).toBe(broker.users.hub.name);
    expect(forwarded.properties.rtsToPractitioner).toBe('clinic-a.dr-berg');

    // The same message again (a re-send after a lost settlement): the first outcome again, no second copy.
    await send('clinic-a.dr-berg', toBerg);
    await endpoints['clinic-b']!.waitForCount(receiptFor(toBerg, 'delivered'), 2, 'repeated receipt');
    expect(endpoints['clinic-a']!.received.filter((m) => m.messageId === toBerg)).toHaveLength(1);

    // dr-ahmed is reached at ws-expert-1, which has not registered: nowhere to deliver.
    const toAhmed = await send('clinic-a.dr-ahmed');
    expect((await endpoints['clinic-b']!.waitFor(receiptFor(toAhmed, 'rejected'), 'rejected receipt')).properties.rtsReason).toBe('unknown-recipient');
    const toLund = await send('clinic-a.dr-lund');
    expect((await endpoints['clinic-b']!.waitFor(receiptFor(toLund, 'rejected'), 'rejected receipt')).properties.rtsReason).toBe('retired-expert');
    const toNobody = await send('clinic-a.dr-nobody');
    expect((await endpoints['clinic-b']!.waitFor(receiptFor(toNobody, 'rejected'), 'rejected receipt')).properties.rtsReason).toBe('unknown-recipient');
  });

  it('registers a workstation on its clinic system certificate; the operator replays what waited for it, and discards the rest', async () => {
    const ws = endpoints['ws-expert-1']!;
    // A workstation cannot vouch for itself: its clinic system signs, or a practitioner its clinic lists there, and
    // dr-berg is reached at clinic-a, not at ws-expert-1.
    const selfSigned = await registerWorkstation('ws-expert-1', experts['clinic-a.dr-berg']!.signing);
    await expect.poll(() => deadLetterOf(selfSigned)).toMatchObject({ reason: 'signer-mismatch', detail: expect.stringContaining('does not list ws-expert-1') });

    const registered = await register('ws-expert-1', 'clinic-a', 'workstation');
    await ws.waitFor(receiptFor(registered, 'processed'), 'registration receipt');
    const snapshot = await ws.waitFor(isType('directory.snapshot'), 'snapshot');
    expect(snapshot.properties.rtsDirectoryVersion).toBe(3);
    expect((await store.getEndpoint(hub.sql, 'ws-expert-1'))?.operator).toBe('clinic-a');

    const status = await rtsHub<{ healthy: boolean; instances: { id: string; running: boolean }[]; directoryVersion: number; endpoints: number }>('status');
    expect(status.stderr).toBe('');
    expect(status.value).toMatchObject({ healthy: true, directoryVersion: 3, endpoints: 4, instances: [{ id: `hub-${kind}`, running: true }] });
    expect((await rtsHub<{ id: string }[]>('endpoints')).value.map((e) => e.id)).toEqual(['clinic-a', 'clinic-b', 'clinic-c', 'ws-expert-1']);
    expect((await rtsHub<{ live: Record<string, number> }>('directory')).value.live).toEqual({ Organization: 2, Practitioner: 3, PractitionerRole: 3 });

    // The consult to dr-ahmed that found no endpoint earlier: now that ws-expert-1 is registered, replay delivers it.
    const letters = (await rtsHub<{ id: number; messageId: string; reason: string; detail: string }[]>('dead-letters', 'list', '--reason', 'unknown-recipient')).value;
    const waiting = letters.find((l) => l.detail.includes('dr-ahmed'))!;
    expect((await rtsHub<{ properties: { application_properties: Record<string, unknown> } }>('dead-letters', 'show', String(waiting.id))).value.properties.application_properties.rtsToPractitioner).toBe('clinic-a.dr-ahmed');
    expect((await rtsHub<{ outcome: string }>('dead-letters', 'replay', String(waiting.id))).value.outcome).toBe('delivered');
    await ws.waitFor((m) => m.messageId === waiting.messageId, 'replayed consult');
    const again = await rtsHub<{ error?: string }>('dead-letters', 'replay', String(waiting.id));
    expect(again.status).toBe(1);
    expect(again.stderr).toMatch(/^rts: hub-error: dead letter \d+ is already replayed/);

    const nobody = letters.find((l) => l.detail.includes('dr-nobody'))!;
    expect((await rtsHub<{ state: string }>('dead-letters', 'discard', String(nobody.id))).value.state).toBe('discarded');
    const held = (await rtsHub<{ id: number }[]>('dead-letters', 'list')).value.map((l) => l.id);
    expect(held).not.toContain(nobody.id);
    expect(held).not.toContain(waiting.id);
  });

  it('registers a workstation on the signing certificate of a practitioner its clinic lists there, who may then ask for snapshots', async () => {
    const ws = endpoints['ws-applicant-1']!;
    for (const id of ['clinic-a.dr-field', 'clinic-a.dr-gone']) experts[id] = await region.practitioner(id);
    const listed = await publishDelta('clinic-a', ['clinic-a.dr-field', 'clinic-a.dr-gone']
      .flatMap((id) => expertEntry(experts[id]!, { organizationId: 'clinic-a.riverside', endpoints: ['ws-applicant-1'] })).map((upsert) => ({ upsert })));
    await endpoints['clinic-a']!.waitFor(receiptFor(listed, 'processed'), 'delta receipt');
    const retired = await publishDelta('clinic-a', [{ retire: 'Practitioner/clinic-a.dr-gone' }, { retire: 'PractitionerRole/clinic-a.dr-gone' }]);
    await endpoints['clinic-a']!.waitFor(receiptFor(retired, 'processed'), 'retirement receipt');

    // A retired role vouches for nothing, though it listed the workstation.
    const byRetired = await registerWorkstation('ws-applicant-1', experts['clinic-a.dr-gone']!.signing);
    await expect.poll(() => deadLetterOf(byRetired)).toMatchObject({ reason: 'signer-mismatch', detail: expect.stringContaining('no live PractitionerRole') });
    expect(await store.getEndpoint(hub.sql, 'ws-applicant-1')).toBeUndefined();

    const registered = await registerWorkstation('ws-applicant-1', experts['clinic-a.dr-field']!.signing);
    await ws.waitFor(receiptFor(registered, 'processed'), 'registration receipt');
    expect((await ws.waitFor(isType('hub.notice'), 'registration notice')).properties.rtsNotice).toBe('registration-accepted');
    const snapshot = await ws.waitFor(isType('directory.snapshot'), 'snapshot');
    expect(snapshot.properties).toMatchObject({ rtsDirectoryVersion: 5, rtsToEndpoint: 'ws-applicant-1' });
    expect(directoryContent(await openFromHub(snapshot))).toContain('PractitionerRole/clinic-a.dr-field');
    expect(await store.getEndpoint(hub.sql, 'ws-applicant-1')).toMatchObject({ kind: 'workstation', operator: 'clinic-a', certificate: null });

    // The same practitioner asks for a snapshot, and so may the operating clinic system; one of its practitioners
    // who is not reached here may not.
    const byPractitioner = await requestSnapshot('ws-applicant-1', experts['clinic-a.dr-field']!.signing);
    await ws.waitFor(receiptFor(byPractitioner, 'processed'), 'snapshot request receipt');
    const byClinic = await requestSnapshot('ws-applicant-1', clinics['clinic-a']!);
    await ws.waitFor(receiptFor(byClinic, 'processed'), 'snapshot request receipt');
    // Both came within the interval after the registration's snapshot: one more snapshot answers them, when it is over.
    const snapshots = await ws.waitForCount(isType('directory.snapshot'), 2, 'snapshots');
    await expect.poll(async () => (await hub.sql.query<{ pending: boolean }>("select pending from snapshot_state where endpoint = 'ws-applicant-1'"))[0]?.pending).toBe(false);
    expect(new Set(ws.received.filter(isType('directory.snapshot')).map((m) => m.properties.rtsBatchId)).size).toBe(2);
    expect(snapshots.map((m) => m.properties.rtsDirectoryVersion)).toEqual([5, 5]);
    const byBerg = await requestSnapshot('ws-applicant-1', experts['clinic-a.dr-berg']!.signing);
    expect((await ws.waitFor(receiptFor(byBerg, 'rejected'), 'rejected receipt')).properties.rtsReason).toBe('signer-mismatch');
    expect((await deadLetterOf(byBerg))?.detail).toContain('does not list ws-applicant-1');
  });

  it('forwards a receipt only about a message it routed from the addressee to the receipt\'s sender, and refuses large ones unread', async () => {
    const consult = randomUUID();
    await endpoints['clinic-b']!.sendRaw(rawFrom('clinic-b', {
      rtsType: 'consult.request', rtsCase: randomUUID(), rtsFromPractitioner: 'clinic-b.dr-chen', rtsToPractitioner: 'clinic-a.dr-berg', rtsSequence: 1,
    }, randomBytes(512), { message_id: consult, content_type: CONTENT_TYPES.authEnveloped }));
    await endpoints['clinic-a']!.waitFor((m) => m.messageId === consult, 'the routed consult');
    const receipt = (from: string, about: string | undefined, body = randomBytes(512)) => rawFrom(from, { rtsType: 'receipt', rtsReceipt: 'processed', rtsToEndpoint: 'clinic-b' }, body, about ? { correlation_id: about } : {});

    // The recipient answers the sender: forwarded.
    const answer = receipt('clinic-a', consult);
    await endpoints['clinic-a']!.sendRaw(answer);
    expect((await endpoints['clinic-b']!.waitFor((m) => m.messageId === answer.message_id, 'the forwarded receipt')).userId).toBe(broker.users.hub.name);

    const refused = {
      'not-authorized: about no message routed between them': receipt('clinic-a', randomUUID()),
      'not-authorized: from an endpoint the message was not routed to': receipt('ws-expert-1', consult),
      'missing-property: about no message at all': receipt('clinic-a', undefined),
      'too-large: 1 MiB, limit 64 KiB for receipts': receipt('clinic-a', consult, randomBytes(1024 * 1024)),
    };
    for (const [what, message] of Object.entries(refused)) {
      await endpoints[Buffer.from(message.user_id as unknown as Uint8Array).toString('utf8')]!.sendRaw(message);
      await expect.poll(() => deadLetterOf(String(message.message_id))).toMatchObject({ reason: what.slice(0, what.indexOf(':')) });
    }
    for (const message of Object.values(refused)) expect(endpoints['clinic-b']!.received.some((m) => m.messageId === message.message_id)).toBe(false);
    // Receipts are never answered by receipts.
    expect(endpoints['clinic-a']!.received.some((m) => Object.values(refused).some((r) => r.message_id === m.correlationId))).toBe(false);
  });

  it('answers a flood of snapshot requests with one snapshot now and one when the interval is over, and an endpoint up to date with a notice', async () => {
    const b = endpoints['clinic-b']!;
    const batches = () => new Set(b.received.filter(isType('directory.snapshot')).map((m) => m.properties.rtsBatchId));
    const before = batches().size;
    const snapshotsBefore = b.received.filter(isType('directory.snapshot')).length;
    const current = await store.directoryVersion(hub.sql);
    const flood = await Promise.all(Array.from({ length: 8 }, () => requestSnapshot('clinic-b', clinics['clinic-b']!, current - 1)));
    for (const id of flood) await b.waitFor(receiptFor(id, 'processed'), 'snapshot request receipt');
    await b.waitForCount(isType('directory.snapshot'), snapshotsBefore + 2, 'two snapshots');
    await expect.poll(async () => (await hub.sql.query<{ pending: boolean }>("select pending from snapshot_state where endpoint = 'clinic-b'"))[0]?.pending).toBe(false);
    expect(batches().size).toBe(before + 2);

    const sentAt = async () => (await hub.sql.query<{ sentAt: Date }>('select sent_at as "sentAt" from snapshot_state where endpoint = $1', ['clinic-b']))[0]!.sentAt;
    const lastSent = await sentAt();
    const upToDate = await requestSnapshot('clinic-b', clinics['clinic-b']!, current);
    await b.waitFor(receiptFor(upToDate, 'processed'), 'snapshot request receipt');
    const notice = await b.waitFor((m) => m.properties.rtsNotice === 'directory-up-to-date', 'up-to-date notice');
    expect(notice.properties.rtsToEndpoint).toBe('clinic-b');
    expect(await sentAt()).toEqual(lastSent);
    expect(batches().size).toBe(before + 2);

    // After a directory change a request is served at once, in its own transaction: the endpoint may have lost an update.
    const change = await publishDelta('clinic-b', [{ upsert: hospital('clinic-b.annex', 'Hillview Annex') }]);
    await b.waitFor(receiptFor(change, 'processed'), 'delta receipt');
    const afterChange = await requestSnapshot('clinic-b', clinics['clinic-b']!, current);
    await b.waitFor(receiptFor(afterChange, 'processed'), 'snapshot request receipt');
    expect((await hub.sql.query('select pending, version from snapshot_state where endpoint = $1', ['clinic-b']))[0]).toEqual({ pending: false, version: current + 1 });
  });

  it('refuses a registration of megabytes before parsing it', async () => {
    const message = rawFrom('clinic-b', { rtsType: 'endpoint.register' }, randomBytes(1024 * 1024));
    await endpoints['clinic-b']!.sendRaw(message);
    const answer = await endpoints['clinic-b']!.waitFor(receiptFor(String(message.message_id), 'rejected'), 'rejected receipt');
    expect(answer.properties.rtsReason).toBe('too-large');
    expect((await deadLetterOf(String(message.message_id)))?.detail).toBe('body: 1048576 bytes, limit 65536 for endpoint.register');
  });

  it('holds nothing of refused publishes it validated ahead once they are done', async () => {
    // Signed with another clinic's certificate: refused on the signer, before the payload verdict is asked for.
    const content = new TextEncoder().encode(JSON.stringify({ padding: 'x'.repeat(2 * 1024 * 1024) }));
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const message = rawFrom('clinic-a', { rtsType: 'directory.publish', rtsDirectoryMode: 'delta', rtsBatchId: randomUUID(), rtsBatchIndex: 1, rtsBatchCount: 1 }, await sign(content, clinics['clinic-b']!));
      ids.push(String(message.message_id));
      await endpoints['clinic-a']!.sendRaw(message);
    }
    for (const id of ids) await expect.poll(() => deadLetterOf(id)).toMatchObject({ reason: 'signer-mismatch' });
    await expect.poll(() => hub.payloadValidation.held()).toEqual({ entries: 0, bytes: 0 });
  });

  it('applies a clinic\'s publish with its own payload when another clinic sent one under its message id first', async () => {
    const messageId = randomUUID();
    const seal = (sender: string, hospitalId: string, name: string) => {
      const creationTime = new Date();
      return sealMessage({
        messageId, creationTime, userId: 'clinic-a', signer: clinics[sender]!,
        properties: { rtsType: 'directory.publish', rtsVersion: V, rtsSender: 'clinic-a', rtsDirectoryMode: 'delta', rtsBatchId: randomUUID(), rtsBatchIndex: 1, rtsBatchCount: 1 },
        payload: buildDirectoryPublish({ messageId, timestamp: creationTime, sender: 'clinic-a' }, { delta: [{ upsert: hospital(hospitalId, name) }] }),
      });
    };
    // clinic-b claims to be clinic-a (refused as forged-sender), carrying an entry in clinic-a's namespace.
    const forged = await seal('clinic-b', 'clinic-a.impostor-hq', 'Impostor HQ');
    await endpoints['clinic-b']!.sendRaw({ ...forged, user_id: Buffer.from('clinic-b'), body: rhea.message.data_section(Buffer.from(forged.body)) } as unknown as Message);
    await expect.poll(() => deadLetterOf(messageId)).toMatchObject({ reason: 'forged-sender' });

    const genuine = await seal('clinic-a', 'clinic-a.genuine-hq', 'Genuine HQ');
    await endpoints['clinic-a']!.sendRaw({ ...genuine, body: rhea.message.data_section(Buffer.from(genuine.body)) } as unknown as Message);
    await endpoints['clinic-a']!.waitFor(receiptFor(messageId, 'processed'), 'the genuine publish processed');
    const [genuineEntry, impostorEntry] = await store.resourcesByUrl(hub.sql, ['Organization/clinic-a.genuine-hq', 'Organization/clinic-a.impostor-hq']);
    expect(genuineEntry).toContain('Genuine HQ');
    expect(impostorEntry).toBeUndefined();
  });
});
