import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import rhea, { type Message } from 'rhea';
import { freeLoopbackPort, createTestDatabase, loadPostgresEnv } from '../scripts/test-env/index.ts';
import { PEM_LABELS, pemToDerAll } from '../shared/pki/index.ts';
import {
  buildDirectoryPublish,
  buildEndpointRegister,
  buildSnapshotRequest,
  type DirectoryChange,
  type DirectoryResource,
} from '../shared/protocol/fhir/index.ts';
import { CONTENT_TYPES, openMessage, PROTOCOL_VERSION } from '../shared/protocol/index.ts';
import { loadHubConfig, startHub, type HubService } from '../hub/index.ts';
import { hubStore as store } from '../hub/index.ts';
import { connectEndpointTo, type ReceivedMessage, type TestEndpoint } from './test-endpoint.ts';
import { loadBrokerUnderTest, type BrokerUnderTest } from './broker-under-test.ts';
import { writeTestHubConfig } from './test-hub-config.ts';
import {
  createTestRegion,
  expertEntry,
  hospital,
  type TestIdentity,
  type TestPractitioner,
  type TestRegion,
} from './test-region.ts';

/**
 * One hub on the private test broker with the endpoints and region of the hub's integration suites
 * (hub/hub-directory.int.test.ts, hub/hub-routing.int.test.ts): clinic systems clinic-a, -b and -c, workstations
 * ws-expert-1 and ws-applicant-1, four practitioners, and the messages those suites send, with the checks they share.
 */
const V = PROTOCOL_VERSION;
const CLI = join(import.meta.dirname, '..', 'cli', 'rts.ts');
/** Short, so that a deferred snapshot comes within a test's patience; production uses a minute. */
const SNAPSHOT_INTERVAL_MS = 2_000;

export type HubEngine = 'embedded' | 'postgres';

/** The database engines a suite runs on: PGlite always, PostgreSQL when the test environment started one. */
export const hubEngines = (): { kind: HubEngine }[] => [
  { kind: 'embedded' },
  ...(loadPostgresEnv() ? [{ kind: 'postgres' as const }] : []),
];

export const isType = (type: string) => (m: ReceivedMessage) => m.properties.rtsType === type;
export const receiptFor = (messageId: string, outcome?: string) => (m: ReceivedMessage) =>
  m.properties.rtsType === 'receipt' &&
  m.correlationId === messageId &&
  (outcome === undefined || m.properties.rtsReceipt === outcome);

/** Directory ids in a snapshot or update payload: upserts, and retirements as "-url". */
export function directoryContent(payload: Record<string, unknown>): string[] {
  const inner = (
    payload.entry as {
      resource: {
        entry: { resource?: { resourceType: string; id: string }; request?: { method: string; url: string } }[];
      };
    }[]
  )[1]!.resource;
  return inner.entry
    .map((e) =>
      e.request?.method === 'DELETE' ? `-${e.request.url}` : `${e.resource!.resourceType}/${e.resource!.id}`,
    )
    .sort();
}

/** A one-batch delta publish from a clinic's test endpoint, signed by `signer`; resolves to its message id. */
export function publishDeltaFrom(
  endpoint: TestEndpoint,
  clinic: string,
  changes: DirectoryChange[],
  signer: TestIdentity,
): Promise<string> {
  return endpoint.send(
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
    signer,
  );
}

export interface HubSuite {
  readonly broker: BrokerUnderTest;
  readonly region: TestRegion;
  readonly hub: HubService;
  readonly clinics: Record<string, TestIdentity>;
  readonly endpoints: Record<string, TestEndpoint>;
  readonly experts: Record<string, TestPractitioner>;
  /** `rts hub … --json` against this suite's hub (asynchronously: the hub runs in this process). */
  rtsHub<T>(...args: string[]): Promise<{ status: number | null; value: T; stderr: string }>;
  /** An endpoint's registration signed by its clinic's system certificate. */
  register(id: string, clinic: string, kind?: 'clinic-system' | 'workstation'): Promise<string>;
  /** A workstation's registration signed by someone other than its clinic system, e.g. one of its practitioners. */
  registerWorkstation(id: string, signer: TestIdentity): Promise<string>;
  requestSnapshot(id: string, signer: TestIdentity, knownVersion?: number): Promise<string>;
  /** Raw AMQP fields from an endpoint (its own user_id unless told), with any body. */
  rawFrom(id: string, properties: Record<string, unknown>, body: Uint8Array, extra?: Record<string, unknown>): Message;
  /** The hub answers no rejection to an endpoint that is not registered: its dead letter tells why. */
  deadLetterOf(messageId: string): Promise<{ reason: string; detail: string } | undefined>;
  publishFull(clinic: string, resources: DirectoryResource[], batches: number): Promise<string[]>;
  publishDelta(clinic: string, changes: DirectoryChange[], signer?: TestIdentity): Promise<string>;
  /** Opens a hub message as an endpoint would: signature, chain, the hub as signer, payload profile. */
  openFromHub(m: ReceivedMessage): Promise<Record<string, unknown>>;
  /** Registers clinic-c, whose downlink the hub makes only then; resolves once its registration receipt arrived. */
  joinClinicC(): Promise<TestEndpoint>;
  /** clinic-a's full list: Riverside Hospital, dr-ahmed (at ws-expert-1), dr-berg and, unless dropped, dr-lund (at clinic-a). */
  clinicAList(options?: { withLund?: boolean }): DirectoryResource[];
  /** clinic-b's delta: Hillview Hospital and dr-chen (at clinic-b). */
  clinicBDelta(): DirectoryChange[];
  close(): Promise<void>;
}

export async function startHubSuite(kind: HubEngine): Promise<HubSuite> {
  const broker = loadBrokerUnderTest();
  const postgres = loadPostgresEnv();
  await broker.purge();
  const dir = mkdtempSync(join(tmpdir(), 'rts-hub-test-'));
  const region = await createTestRegion(join(dir, 'pki'));
  const clinics: Record<string, TestIdentity> = {};
  const endpoints: Record<string, TestEndpoint> = {};
  const experts: Record<string, TestPractitioner> = {};
  for (const id of ['clinic-a', 'clinic-b', 'clinic-c']) clinics[id] = await region.clinic(id);
  for (const id of ['clinic-a.dr-ahmed', 'clinic-a.dr-berg', 'clinic-a.dr-lund', 'clinic-b.dr-chen'])
    experts[id] = await region.practitioner(id);
  const database =
    kind === 'embedded'
      ? { kind, path: join(dir, 'hub-db') }
      : { kind, url: await createTestDatabase(postgres!, 'hub') };
  const config = writeTestHubConfig({
    dir,
    name: `hub-${kind}`,
    region,
    broker,
    database,
    operatorPort: await freeLoopbackPort(),
  });
  const cliEnv = { ...process.env, ...config.env };
  const hub = await startHub({
    config: loadHubConfig(config.file, config.env),
    version: 'test',
    snapshotIntervalMs: SNAPSHOT_INTERVAL_MS,
    log: (e) => {
      if (process.env.RTS_HUB_TEST_LOG) console.error(JSON.stringify(e));
    },
  });
  const connect = (id: string, receive = true) => connectEndpointTo(broker, id, { receive });
  // clinic-c joins late: a user that may only send, as the administrator leaves it before the hub provisions it.
  await broker.resetEndpointUser('clinic-c');
  for (const id of ['clinic-a', 'clinic-b', 'ws-expert-1', 'ws-applicant-1']) endpoints[id] = await connect(id);

  const register = (id: string, clinic: string, kindOf: 'clinic-system' | 'workstation' = 'clinic-system') =>
    endpoints[id]!.send(
      { rtsType: 'endpoint.register', rtsVersion: V, rtsSender: id },
      (messageId, timestamp) =>
        buildEndpointRegister(
          { messageId, timestamp, sender: id },
          { kind: kindOf, name: `${id} system`, organization: `${clinic} Health` },
        ),
      clinics[clinic]!,
    );

  return {
    broker,
    region,
    hub,
    clinics,
    endpoints,
    experts,
    rtsHub: <T>(...args: string[]) =>
      new Promise<{ status: number | null; value: T; stderr: string }>((resolve) => {
        execFile(
          process.execPath,
          [CLI, 'hub', ...args, '--config', config.file, '--json'],
          { encoding: 'utf8', env: cliEnv },
          (error, stdout, stderr) => {
            resolve({
              status: error ? (typeof error.code === 'number' ? error.code : 1) : 0,
              value: (stdout ? JSON.parse(stdout) : undefined) as T,
              stderr,
            });
          },
        );
      }),
    register,
    registerWorkstation: (id, signer) =>
      endpoints[id]!.send(
        { rtsType: 'endpoint.register', rtsVersion: V, rtsSender: id },
        (messageId, timestamp) =>
          buildEndpointRegister(
            { messageId, timestamp, sender: id },
            { kind: 'workstation', name: `${id} workstation`, organization: 'clinic-a Health' },
          ),
        signer,
      ),
    requestSnapshot: (id, signer, knownVersion) =>
      endpoints[id]!.send(
        { rtsType: 'directory.snapshot-request', rtsVersion: V, rtsSender: id },
        (messageId, timestamp) =>
          buildSnapshotRequest(
            { messageId, timestamp, sender: id },
            knownVersion === undefined ? {} : { knownVersion },
          ),
        signer,
      ),
    rawFrom: (id, properties, body, extra = {}) =>
      ({
        message_id: randomUUID(),
        user_id: Buffer.from(id),
        creation_time: new Date(),
        durable: true,
        content_type: CONTENT_TYPES.signed,
        application_properties: { rtsVersion: V, rtsSender: id, ...properties },
        body: rhea.message.data_section(Buffer.from(body)) as unknown,
        ...extra,
      }) as unknown as Message,
    deadLetterOf: async (messageId) => (await store.listDeadLetters(hub.sql)).find((l) => l.messageId === messageId),
    async publishFull(clinic, resources, batches) {
      const batchId = randomUUID();
      const per = Math.ceil(resources.length / batches);
      const ids: string[] = [];
      for (let i = 0; i < batches; i++) {
        const slice = resources.slice(i * per, (i + 1) * per);
        ids.push(
          await endpoints[clinic]!.send(
            {
              rtsType: 'directory.publish',
              rtsVersion: V,
              rtsSender: clinic,
              rtsDirectoryMode: 'full',
              rtsBatchId: batchId,
              rtsBatchIndex: i + 1,
              rtsBatchCount: batches,
            },
            (messageId, timestamp) => buildDirectoryPublish({ messageId, timestamp, sender: clinic }, { full: slice }),
            clinics[clinic]!,
          ),
        );
      }
      return ids;
    },
    publishDelta: (clinic, changes, signer = clinics[clinic]!) =>
      publishDeltaFrom(endpoints[clinic]!, clinic, changes, signer),
    async openFromHub(m) {
      const opened = await openMessage(m.raw, {
        trust: {
          anchors: [region.ca.certificate],
          crls: pemToDerAll(readFileSync(region.files.crl, 'utf8'), PEM_LABELS.crl),
        },
        recipientFor: () => undefined,
        expectedSigners: () => [region.hub.certificate],
      });
      if (!opened.ok) throw new Error(`hub message did not open: ${opened.error.code}: ${opened.error.detail}`);
      return opened.value.payload;
    },
    async joinClinicC() {
      endpoints['clinic-c'] = await connect('clinic-c', false);
      const joined = await register('clinic-c', 'clinic-c');
      // Its downlink exists only now, made by the hub: attach after the receipt would have been routed there.
      endpoints['clinic-c'].close();
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const c = await connect('clinic-c');
      endpoints['clinic-c'] = c;
      await c.waitFor(receiptFor(joined, 'processed'), 'registration receipt');
      return c;
    },
    clinicAList: ({ withLund = true } = {}) => [
      hospital('clinic-a.riverside', 'Riverside Hospital'),
      ...expertEntry(experts['clinic-a.dr-ahmed']!, {
        organizationId: 'clinic-a.riverside',
        endpoints: ['ws-expert-1'],
      }),
      ...expertEntry(experts['clinic-a.dr-berg']!, { organizationId: 'clinic-a.riverside', endpoints: ['clinic-a'] }),
      ...(withLund
        ? expertEntry(experts['clinic-a.dr-lund']!, { organizationId: 'clinic-a.riverside', endpoints: ['clinic-a'] })
        : []),
    ],
    clinicBDelta: () => [
      { upsert: hospital('clinic-b.hillview', 'Hillview Hospital') },
      ...expertEntry(experts['clinic-b.dr-chen']!, {
        organizationId: 'clinic-b.hillview',
        endpoints: ['clinic-b'],
      }).map((upsert) => ({ upsert })),
    ],
    async close() {
      for (const e of Object.values(endpoints)) e.close();
      await hub.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * The region as hub-directory.int.test.ts leaves it after a clinic joined late, reached without its checks: clinics
 * a, b and c registered; directory version 1 clinic-a's full list, 2 clinic-b's delta, 3 clinic-a's list without dr-lund.
 */
export async function seedDirectory(suite: HubSuite): Promise<void> {
  const { endpoints } = suite;
  for (const id of ['clinic-a', 'clinic-b'])
    await endpoints[id]!.waitFor(receiptFor(await suite.register(id, id), 'processed'), 'registration receipt');
  const [full] = await suite.publishFull('clinic-a', suite.clinicAList(), 1);
  await endpoints['clinic-a']!.waitFor(receiptFor(full!, 'processed'), 'full publish receipt');
  await endpoints['clinic-b']!.waitFor(
    receiptFor(await suite.publishDelta('clinic-b', suite.clinicBDelta()), 'processed'),
    'delta receipt',
  );
  await suite.joinClinicC();
  const [withoutLund] = await suite.publishFull('clinic-a', suite.clinicAList({ withLund: false }), 1);
  await endpoints['clinic-a']!.waitFor(receiptFor(withoutLund!, 'processed'), 'full publish receipt');
  await endpoints['clinic-a']!.waitFor((m) => m.properties.rtsDirectoryVersion === 3, 'update to version 3');
}
