import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Bundle } from '@medplum/fhirtypes';
import rhea, { type Message } from 'rhea';
import { COMMANDS, type CommandChannel } from '../../shared/api/index.ts';
import { createPkcs12, derToPem, exportPrivateKeyPkcs8, PEM_LABELS } from '../../shared/pki/index.ts';
import { sealMessage, PROTOCOL_VERSION, type ApplicationProperties } from '../../shared/protocol/index.ts';
import {
  buildDirectoryPublish,
  buildEndpointRegister,
  type DirectoryChange,
  type DirectoryResource,
} from '../../shared/protocol/fhir/index.ts';
import { freeLoopbackPort, createTestDatabase, loadPostgresEnv } from '../../scripts/test-env/index.ts';
import { loadHubConfig, startHub, type HubService } from '../../hub/index.ts';
import { startHubProcess, type HubProcess } from './hub-process.ts';
import {
  loadBrokerUnderTest,
  writeTestHubConfig,
  connectEndpointTo,
  createTestRegion,
  expertEntry,
  hospital,
  type TestEndpoint,
  type TestIdentity,
  type TestPractitioner,
  type TestRegion,
  type BrokerUnderTest,
} from '../../testkit/index.ts';
import {
  createKeychainVault,
  type SecretVault,
  type WorkstationCore,
  type WorkstationCoreOptions,
} from '../../main/node/index.ts';

/**
 * A small region for tests of whole workstations: the broker under test (testkit/broker-under-test.ts), a hub on its embedded database, two clinic
 * systems (bare endpoints, so tests can also send what no real endpoint would) that publish an expert (dr-ahmed,
 * Nordby Hospital, at ws-expert-1) and an applicant (dr-berg, Sørvik Health Centre, at ws-applicant-1).
 */
export type ClinicId = 'clinic-a' | 'clinic-b';
export const PROTOCOL_V = PROTOCOL_VERSION;
const P12_PASSWORD = 'p12-secret';

export interface RegionHarness {
  readonly broker: BrokerUnderTest;
  readonly dir: string;
  readonly region: TestRegion;
  /** The hub in this process; throws once moveHubToOwnProcess moved it out. */
  readonly hub: HubService;
  /** The hub's configuration file and the environment with its secrets, for `rts hub … --config` (operator API on with `operatorApi`). */
  readonly hubConfig: { readonly file: string; readonly env: Record<string, string> };
  readonly clinics: Record<ClinicId, TestEndpoint>;
  readonly clinicIdentities: Record<ClinicId, TestIdentity>;
  readonly expert: TestPractitioner;
  readonly applicant: TestPractitioner;
  /** Reconnects the clinics' bare endpoints (they do not reconnect on their own, e.g. after a broker restart). */
  connectClinics(): Promise<void>;
  publishFull(clinic: ClinicId, resources: DirectoryResource[]): Promise<string>;
  publishDelta(clinic: ClinicId, changes: DirectoryChange[]): Promise<string>;
  /**
   * Seals a consult message as a clinic system sends it for one of its practitioners, optionally damaged on the way
   * (`damage` edits the body in place), and sends it; resolves with its message id once the broker accepted it.
   */
  sendAsClinic(
    clinic: ClinicId,
    message: {
      properties: ApplicationProperties;
      payload: (messageId: string, timestamp: Date) => Bundle;
      signer: TestPractitioner;
      recipients: Uint8Array[];
      damage?: (body: Uint8Array) => void;
    },
  ): Promise<string>;
  /** Core options for an endpoint: its data directory and keychain service, the same on every call (restarts). */
  coreOptions(endpointId: string): WorkstationCoreOptions;
  /** The keychain service of an endpoint's core options, for a core started on them in another process. */
  keychainService(endpointId: string): string;
  /** What a user does on first run: the region's trust, the two certificates (.p12), the connection profile. */
  setUpWorkstation(core: WorkstationCore, endpointId: string, practitioner: TestPractitioner): Promise<void>;
  /**
   * Stops the hub in this process and runs it on the same configuration and database as a region does, in a process of
   * its own (hub-process.ts; the benchmarks, where one event loop carrying the hub and the workstations is not the
   * topology being measured). `stop` stops it.
   */
  moveHubToOwnProcess(): Promise<HubProcess>;
  stop(): Promise<void>;
}

/**
 * `database`: the hub's embedded PGlite (the default), or a fresh database on the private PostgreSQL of
 * scripts/with-test-env.sh, as a region with several hub instances runs it. `operatorApi`: the hub also serves its
 * operator API on a free loopback port, so that a test can act as the region's operator with `rts hub`.
 */
export async function startRegionHarness(
  options: { database?: 'embedded' | 'postgres'; operatorApi?: boolean } = {},
): Promise<RegionHarness> {
  const broker = loadBrokerUnderTest();
  await broker.purge();
  const dir = mkdtempSync(join(tmpdir(), 'rts-region-'));
  const region = await createTestRegion(join(dir, 'pki'));
  const postgres = options.database === 'postgres' ? loadPostgresEnv() : undefined;
  if (options.database === 'postgres' && !postgres)
    throw new Error('a hub on PostgreSQL needs the private PostgreSQL (run through scripts/with-test-env.sh)');
  const database = postgres
    ? { kind: 'postgres' as const, url: await createTestDatabase(postgres, 'region') }
    : { kind: 'embedded' as const, path: join(dir, 'hub-db') };
  const config = writeTestHubConfig({
    dir,
    name: 'hub-region',
    region,
    broker,
    database,
    ...(options.operatorApi && { operatorPort: await freeLoopbackPort() }),
  });
  // Snapshots at most every 2 s, not the production minute: a test that makes a directory gap waits for the snapshot.
  let hubProcess: HubProcess | undefined;
  const hub = await startHub({
    config: loadHubConfig(config.file, config.env),
    version: 'test',
    snapshotIntervalMs: 2_000,
    log: (e) => {
      if (process.env.RTS_HUB_TEST_LOG) console.error(JSON.stringify(e));
    },
  });
  const expert = await region.practitioner('clinic-a.dr-ahmed');
  const applicant = await region.practitioner('clinic-b.dr-berg');
  const clinicIdentities: Record<ClinicId, TestIdentity> = {
    'clinic-a': await region.clinic('clinic-a'),
    'clinic-b': await region.clinic('clinic-b'),
  };
  const clinics = {} as Record<ClinicId, TestEndpoint>;
  const vaults = new Map<string, { service: string; vault: SecretVault }>();
  const vaultOf = (endpointId: string) => {
    let kept = vaults.get(endpointId);
    if (!kept) {
      const service = `rts-test-${randomUUID()}`;
      vaults.set(endpointId, (kept = { service, vault: createKeychainVault(service, { keytarItems: 'none' }) }));
    }
    return kept;
  };

  const connectClinics = async () => {
    for (const id of ['clinic-a', 'clinic-b'] as const) {
      clinics[id]?.close();
      clinics[id] = await connectEndpointTo(broker, id);
    }
  };
  const publish = (
    clinic: ClinicId,
    mode: 'full' | 'delta',
    content: { full: DirectoryResource[] } | { delta: DirectoryChange[] },
  ) =>
    clinics[clinic].send(
      {
        rtsType: 'directory.publish',
        rtsVersion: PROTOCOL_V,
        rtsSender: clinic,
        rtsDirectoryMode: mode,
        rtsBatchId: randomUUID(),
        rtsBatchIndex: 1,
        rtsBatchCount: 1,
      },
      (messageId, timestamp) => buildDirectoryPublish({ messageId, timestamp, sender: clinic }, content),
      clinicIdentities[clinic],
    );

  await connectClinics();
  for (const id of ['clinic-a', 'clinic-b'] as const) {
    await clinics[id].send(
      { rtsType: 'endpoint.register', rtsVersion: PROTOCOL_V, rtsSender: id },
      (messageId, timestamp) =>
        buildEndpointRegister(
          { messageId, timestamp, sender: id },
          { kind: 'clinic-system', name: id, organization: id },
        ),
      clinicIdentities[id],
    );
    await clinics[id].waitFor((m) => m.properties.rtsNotice === 'registration-accepted', 'clinic registration');
  }
  await publish('clinic-a', 'full', {
    full: [
      hospital('clinic-a.nordby', 'Nordby Hospital'),
      ...expertEntry(expert, {
        organizationId: 'clinic-a.nordby',
        endpoints: ['ws-expert-1'],
        family: 'Ahmed',
        specialty: 'Cardiology',
      }),
    ],
  });
  await publish('clinic-b', 'full', {
    full: [
      hospital('clinic-b.sorvik', 'Sørvik Health Centre'),
      ...expertEntry(applicant, {
        organizationId: 'clinic-b.sorvik',
        endpoints: ['ws-applicant-1'],
        family: 'Berg',
        specialty: 'General practice',
      }),
    ],
  });
  await clinics['clinic-b'].waitForCount(
    (m) => m.properties.rtsType === 'directory.update',
    2,
    'both publishes applied',
  );

  const call = async (core: WorkstationCore, command: CommandChannel, input: unknown) => {
    const result = await core.dispatch(command, input);
    if (!result.ok) throw new Error(`${command}: ${result.error.code}: ${result.error.message}`);
  };

  return {
    broker,
    dir,
    region,
    get hub() {
      if (hubProcess) throw new Error('the hub runs in its own process (moveHubToOwnProcess)');
      return hub;
    },
    hubConfig: config,
    clinics,
    clinicIdentities,
    expert,
    applicant,
    connectClinics,
    publishFull: (clinic, resources) => publish(clinic, 'full', { full: resources }),
    publishDelta: (clinic, changes) => publish(clinic, 'delta', { delta: changes }),
    async sendAsClinic(clinic, message) {
      const messageId = randomUUID();
      const creationTime = new Date();
      const fields = await sealMessage({
        messageId,
        creationTime,
        userId: clinic,
        properties: message.properties,
        payload: message.payload(messageId, creationTime),
        signer: message.signer.signing,
        recipientCertificates: message.recipients,
      });
      const body = new Uint8Array(fields.body);
      message.damage?.(body);
      const outcome = await clinics[clinic].sendRaw({
        ...fields,
        user_id: Buffer.from(clinic),
        body: rhea.message.data_section(Buffer.from(body)) as unknown,
      } as unknown as Message);
      if (outcome !== 'accepted') throw new Error(`the broker ${outcome} ${message.properties.rtsType} from ${clinic}`);
      return messageId;
    },
    coreOptions(endpointId) {
      return {
        productName: 'RTS Workstation',
        version: 'test',
        vault: vaultOf(endpointId).vault,
        dataDir: join(dir, endpointId),
        reconnectDelayMs: { initial: 200, max: 1_000 },
      };
    },
    keychainService: (endpointId) => vaultOf(endpointId).service,
    async setUpWorkstation(core, endpointId, practitioner) {
      await call(core, COMMANDS.setTrust, {
        anchorsPem: derToPem(region.ca.certificate, PEM_LABELS.certificate),
        crlsPem: readFileSync(region.files.crl, 'utf8'),
        hubCertificatePem: derToPem(region.hub.certificate, PEM_LABELS.certificate),
      });
      for (const use of ['signing', 'encryption'] as const) {
        const identity = practitioner[use];
        const pkcs12 = await createPkcs12({
          privateKeyPkcs8: await exportPrivateKeyPkcs8(identity.privateKey),
          certificate: identity.certificate,
          chain: [region.ca.certificate],
          password: P12_PASSWORD,
        });
        await call(core, COMMANDS.importPkcs12, {
          use,
          pkcs12Base64: Buffer.from(pkcs12).toString('base64'),
          password: P12_PASSWORD,
        });
      }
      await call(core, COMMANDS.setProfile, {
        profile: {
          hosts: broker.hosts,
          vhost: broker.vhost,
          brokerKind: broker.kind,
          endpointId,
        },
        brokerPassword: broker.endpoint(endpointId).password,
      });
    },
    async moveHubToOwnProcess() {
      if (hubProcess) return hubProcess;
      await hub.stop();
      hubProcess = await startHubProcess(config);
      return hubProcess;
    },
    async stop() {
      for (const c of Object.values(clinics)) c.close();
      if (hubProcess) await hubProcess.stop();
      else await hub.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export { P12_PASSWORD };
