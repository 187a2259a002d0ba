import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMMANDS, type CaseSummary } from '../shared/api/index.ts';
import { freeLoopbackPort } from '../scripts/test-env/index.ts';
import { until, type TestPractitioner } from '../testkit/index.ts';
import { createWorkstationCore, type WorkstationCore } from '../main/node/index.ts';
import {
  connectorClient,
  harnessRegion,
  writeConnectorFiles,
  type ConnectorFiles,
} from './testing/connector-harness.ts';
import { startRegionHarness, type RegionHarness } from './testing/region-harness.ts';
import { callCore } from './testing/core-calls.ts';

/**
 * Issue 18's crash safety: the connector process killed (-9) between accepting an API request and sending it, and
 * between receiving a consult and the clinic system reading it. After a restart nothing is lost, and a client that
 * resumes from its cursor (and repeats its request with the same Idempotency-Key) sees nothing twice.
 */
const MAIN = join(import.meta.dirname, '..', 'connector', 'main.ts');
const CLINIC = 'clinic-c';

interface Feed {
  events: { cursor: number; type: string; caseId?: string; messageType?: string }[];
  next: number;
}

describe('the connector killed -9', () => {
  let harness: RegionHarness;
  let files: ConnectorFiles;
  let port: number;
  let child: ChildProcess | undefined;
  let api: ReturnType<typeof connectorClient>;
  let applicantCore: WorkstationCore;
  let expertCore: WorkstationCore;
  let cole: TestPractitioner;
  let dahl: TestPractitioner;

  /** Starts `npm run connector` as its own process; resolves once its API answers. */
  async function startProcess(brokerPassword?: string): Promise<void> {
    const env = {
      ...process.env,
      ...files.env,
      ...(brokerPassword && { RTS_CONNECTOR_BROKER_PASSWORD: brokerPassword }),
    };
    child = spawn(process.execPath, [MAIN, '--config', files.configFile], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await until(
      async () => output.includes('connector: listening'),
      `the connector to listen (output: ${output})`,
      60_000,
    );
  }
  function kill9(): Promise<void> {
    const current = child!;
    child = undefined;
    return new Promise((resolve) => {
      current.once('exit', () => resolve());
      current.kill('SIGKILL');
    });
  }

  beforeAll(async () => {
    harness = await startRegionHarness();
    cole = await harness.region.practitioner(`${CLINIC}.dr-cole`);
    dahl = await harness.region.practitioner(`${CLINIC}.dr-dahl`);
    port = await freeLoopbackPort();
    files = await writeConnectorFiles({
      ...harnessRegion(harness, CLINIC),
      endpointId: CLINIC,
      clinic: await harness.region.clinic(CLINIC),
      practitioners: [cole, dahl],
      apiPort: port,
    });
    api = connectorClient(`http://127.0.0.1:${port}`, files.token);
    applicantCore = createWorkstationCore(harness.coreOptions('ws-applicant-1'));
    expertCore = createWorkstationCore(harness.coreOptions('ws-expert-1'));
    await applicantCore.start();
    await expertCore.start();
    await harness.setUpWorkstation(applicantCore, 'ws-applicant-1', harness.applicant);
    await harness.setUpWorkstation(expertCore, 'ws-expert-1', harness.expert);

    await startProcess();
    await until(
      async () =>
        (await api<{ registration: { state: string } }>('GET', '/v1/state')).body.registration.state === 'accepted',
      'registration',
      60_000,
    );
    const csv =
      'local_id,given,family,specialties,organization_id,organization_name\ndr-cole,Ruth,Cole,Cardiology,vestby,Vestby Hospital\ndr-dahl,Per,Dahl,General practice,vestby,Vestby Hospital\n';
    const published = await api<{ publicationId: string }>('POST', '/v1/directory/publications', { mode: 'full', csv });
    await until(
      async () =>
        (await api<{ state: string }>('GET', `/v1/directory/publications/${published.body.publicationId}`)).body
          .state === 'accepted',
      'the list accepted',
    );
    await until(
      async () => (await callCore(applicantCore, COMMANDS.searchDirectory, { text: 'Vestby' })).experts.length === 2,
      'the experts at the workstations',
    );
    await until(
      async () => (await callCore(expertCore, COMMANDS.searchDirectory, { text: 'Vestby' })).experts.length === 2,
      'the experts at the workstations',
    );
  }, 180_000);

  afterAll(async () => {
    if (child) await kill9();
    await applicantCore?.stop();
    await expertCore?.stop();
    await harness?.stop();
  });

  it('between accepting a consult through the API and sending it: sent once after the restart; the repeated request is answered with the same case', async () => {
    await kill9();
    // Offline (the broker refuses this password): what the API accepts can only wait in the outbox.
    await startProcess('not-the-password');
    const request = {
      from: `${CLINIC}.dr-dahl`,
      to: harness.expert.id,
      resources: [
        { resourceType: 'Patient', name: [{ family: 'Lie', given: ['Jon'] }], gender: 'male', birthDate: '1948-05-06' },
        {
          resourceType: 'ServiceRequest',
          status: 'active',
          intent: 'order',
          reasonCode: [{ text: 'Dyspnoea on exertion' }],
        },
      ],
    };
    const accepted = await api<CaseSummary>('POST', '/v1/consults', request, { 'Idempotency-Key': 'crash-a' });
    expect(accepted.status).toBe(202);
    const { body: outbox } = await api<{ counts: { pending: number } }>('GET', '/v1/outbox');
    expect(outbox.counts.pending).toBeGreaterThanOrEqual(1);
    await kill9();

    await startProcess();
    // The client did not see the first answer (the process died): it repeats the request with the same key.
    const repeated = await api<CaseSummary & { replayed: boolean }>('POST', '/v1/consults', request, {
      'Idempotency-Key': 'crash-a',
    });
    expect(repeated.status).toBe(202);
    expect(repeated.body).toMatchObject({ caseId: accepted.body.caseId, replayed: true });
    await until(
      async () => (await callCore(expertCore, COMMANDS.listCases, {})).some((c) => c.caseId === accepted.body.caseId),
      'the consult at the expert',
      60_000,
    );
    // Give a duplicate time to arrive, then count.
    await new Promise((r) => setTimeout(r, 2_000));
    const atExpert = (await callCore(expertCore, COMMANDS.listCases, {})).filter(
      (c) => c.applicantId === `${CLINIC}.dr-dahl`,
    );
    expect(atExpert.map((c) => c.caseId)).toEqual([accepted.body.caseId]);
    const { body: mine } = await api<CaseSummary[]>('GET', `/v1/consults?practitioner=${CLINIC}.dr-dahl`);
    expect(mine.map((c) => c.caseId)).toEqual([accepted.body.caseId]);
  });

  it('between receiving a consult and the clinic system reading it: the resumed feed has it once', async () => {
    const cursor = (await api<{ events: { last: number } }>('GET', '/v1/state')).body.events.last;
    const sent = await callCore(applicantCore, COMMANDS.createConsult, {
      expertId: `${CLINIC}.dr-cole`,
      patient: { family: 'Moe', given: ['Siri'], gender: 'female', birthDate: '1966-07-08' },
      priority: 'urgent',
      reason: 'Syncope',
    });
    // Killed as soon as the consult is committed, before any client read it.
    await until(
      async () =>
        (await api<{ events: { last: number } }>('GET', '/v1/state')).body.events.last > cursor &&
        (await api<Feed>('GET', `/v1/events?after=${cursor}`)).body.events.some((e) => e.caseId === sent.caseId),
      'the consult at the connector',
    );
    await kill9();
    await startProcess();

    const received = (feed: Feed) =>
      feed.events.filter((e) => e.caseId === sent.caseId && e.type === 'consult.received');
    // Give a redelivery (if the kill came before the broker settlement) time to arrive and be absorbed.
    await until(
      async () =>
        (await api<{ connection: { status: string } }>('GET', '/v1/state')).body.connection.status === 'online',
      'online again',
    );
    await new Promise((r) => setTimeout(r, 2_000));
    const first = (await api<Feed>('GET', `/v1/events?after=${cursor}&limit=1000`)).body;
    expect(received(first)).toHaveLength(1);
    // Replayable: the same cursor gives the same event again, once.
    const again = (await api<Feed>('GET', `/v1/events?after=${cursor}&limit=1000`)).body;
    expect(received(again).map((e) => e.cursor)).toEqual(received(first).map((e) => e.cursor));
    // And after it, nothing more about that message.
    const after = (await api<Feed>('GET', `/v1/events?after=${received(first)[0]!.cursor}&limit=1000`)).body;
    expect(received(after)).toEqual([]);
    const { body: cases } = await api<CaseSummary[]>('GET', `/v1/consults?practitioner=${CLINIC}.dr-cole`);
    expect(cases.filter((c) => c.caseId === sent.caseId)).toHaveLength(1);
    // The workstation hears it was processed (the connector's receipt, signed by dr-cole).
    await until(
      async () =>
        (await callCore(applicantCore, COMMANDS.openCase, { caseId: sent.caseId })).messages[0]?.state === 'processed',
      'the processed receipt',
    );
  });
});
