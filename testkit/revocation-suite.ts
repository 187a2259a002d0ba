import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freeLoopbackPort, createTestDatabase, loadPostgresEnv } from '../scripts/test-env/index.ts';
import { hubStore as store, loadHubConfig, startHub, type HubService } from '../hub/index.ts';
import { connectEndpointTo, registerClinicSystem, requestSnapshotAs, type TestEndpoint } from './test-endpoint.ts';
import { loadBrokerUnderTest, type BrokerUnderTest } from './broker-under-test.ts';
import { writeTestHubConfig } from './test-hub-config.ts';
import { createTestRegion, type TestIdentity, type TestPractitioner, type TestRegion } from './test-region.ts';

/**
 * The set-up the hub's revocation and property-receipt suites share (hub/hub-revocation.int.test.ts,
 * hub/hub-property-receipts.int.test.ts): one hub on the private broker and PostgreSQL (PGlite without one), its CRL
 * files read again every 2 s, the operator CLI against it, clinic systems clinic-a and -b and workstation
 * ws-applicant-1 connected (not registered), two of clinic-a's practitioners, and every hub log line kept.
 */
export interface RevocationSuite {
  readonly broker: BrokerUnderTest;
  /** Where the suite writes its files (PKI, configuration, PGlite); removed by close(). */
  readonly dir: string;
  readonly region: TestRegion;
  readonly hub: HubService;
  readonly clinics: Record<string, TestIdentity>;
  readonly endpoints: Record<string, TestEndpoint>;
  readonly experts: Record<string, TestPractitioner>;
  /** The hub's log lines so far, in order. */
  readonly logged: { event: string; [key: string]: unknown }[];
  /** `rts hub ARGS --config …` in a child process (asynchronously: the hub runs in this process). */
  rts(...args: string[]): Promise<{ status: number; stdout: string; stderr: string }>;
  /** The same with `--json`, its output parsed. */
  rtsJson<T>(...args: string[]): Promise<{ status: number; stdout: string; stderr: string; value: T }>;
  /** A clinic system's registration signed by its own certificate; resolves to its message id. */
  register(id: string): Promise<string>;
  requestSnapshot(id: string): Promise<string>;
  /** The hub's dead letter of a message, if it kept one. */
  deadLetterOf(messageId: string): Promise<DeadLetter | undefined>;
  close(): Promise<void>;
}

type DeadLetter = Awaited<ReturnType<typeof store.listDeadLetters>>[number];

const CLI = join(import.meta.dirname, '..', 'cli', 'rts.ts');

/** `name` tells the suite's files, database and hub apart (e.g. hub-revocation). */
export async function startRevocationSuite(name: string): Promise<RevocationSuite> {
  const broker = loadBrokerUnderTest();
  const postgres = loadPostgresEnv();
  await broker.purge();
  const dir = mkdtempSync(join(tmpdir(), `rts-${name}-`));
  const region = await createTestRegion(join(dir, 'pki'));
  const clinics: Record<string, TestIdentity> = {};
  const endpoints: Record<string, TestEndpoint> = {};
  const experts: Record<string, TestPractitioner> = {};
  const logged: { event: string; [key: string]: unknown }[] = [];
  for (const id of ['clinic-a', 'clinic-b']) clinics[id] = await region.clinic(id);
  for (const id of ['clinic-a.dr-ahmed', 'clinic-a.dr-berg']) experts[id] = await region.practitioner(id);
  const database = postgres
    ? { kind: 'postgres' as const, url: await createTestDatabase(postgres, name.replaceAll('-', '_')) }
    : { kind: 'embedded' as const, path: join(dir, 'hub-db') };
  // Read again every 2 s here (60 s by default); most steps ask for a reload through the operator API anyway.
  const config = writeTestHubConfig({
    dir,
    name,
    region,
    broker,
    database,
    operatorPort: await freeLoopbackPort(),
    crlReloadSeconds: 2,
  });
  const cliEnv = { ...process.env, ...config.env };
  const hub = await startHub({
    config: loadHubConfig(config.file, config.env),
    version: 'test',
    log: (e) => logged.push(e),
  });
  for (const id of ['clinic-a', 'clinic-b', 'ws-applicant-1']) endpoints[id] = await connectEndpointTo(broker, id);

  const rts = (...args: string[]) =>
    new Promise<{ status: number; stdout: string; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        [CLI, 'hub', ...args, '--config', config.file],
        { encoding: 'utf8', env: cliEnv },
        (error, stdout, stderr) => {
          resolve({ status: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
        },
      );
    });
  return {
    broker,
    dir,
    region,
    hub,
    clinics,
    endpoints,
    experts,
    logged,
    rts,
    async rtsJson<T>(...args: string[]) {
      const result = await rts(...args, '--json');
      return { ...result, value: (result.stdout ? JSON.parse(result.stdout) : undefined) as T };
    },
    register: (id) => registerClinicSystem(endpoints[id]!, clinics[id]!),
    requestSnapshot: (id) => requestSnapshotAs(endpoints[id]!, clinics[id]!),
    deadLetterOf: async (messageId) =>
      (await store.listDeadLetters(hub.sql, { limit: 10_000 })).find((l) => l.messageId === messageId),
    async close() {
      for (const e of Object.values(endpoints)) e.close();
      await hub.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
