import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMMANDS, type CaseSummary, type CaseView } from '../shared/api/index.ts';
import { freeLoopbackPort } from '../scripts/test-env/index.ts';
import { until, type TestPractitioner } from '../testkit/index.ts';
import { createWorkstationCore, type WorkstationCore } from '../main/node/index.ts';
import { runConnector, verifyWebhookSignature, type RunningConnector } from '../connector/index.ts';
import {
  connectorClient,
  harnessRegion,
  writeConnectorFiles,
  type ConnectorFiles,
} from './testing/connector-harness.ts';
import { startRegionHarness, type RegionHarness } from './testing/region-harness.ts';
import { callCore } from './testing/core-calls.ts';

/**
 * Issue 18's test on real parts (private RabbitMQ, a real hub, real workstation cores, the connector with its HTTP
 * API): clinic-c joins through the connector, publishes its experts from CSV (a full list, then a delta); a
 * workstation finds them; a consult from the workstation is answered by the clinic system through HTTP alone — by a
 * client in Python 3 using only its standard library — and the reverse: the clinic system asks, a workstation answers.
 */
const PYTHON_CLIENT = join(import.meta.dirname, 'connector_client.py');
const CLINIC = 'clinic-c';

describe('a clinic system joins through the connector', () => {
  let harness: RegionHarness;
  let connector: RunningConnector;
  let files: ConnectorFiles;
  let api: ReturnType<typeof connectorClient>;
  let applicantCore: WorkstationCore;
  let expertCore: WorkstationCore;
  let cole: TestPractitioner;
  /** What the clinic system's webhook receiver got: raw bodies and their signature headers. */
  const deliveries: { body: string; signature: string }[] = [];
  let receiver: Server;
  let dahl: TestPractitioner;
  let eng: TestPractitioner;

  const publicationDone = (id: string) =>
    until(async () => {
      const { body } = await api<{ state: string; reason?: string; detail?: string }>(
        'GET',
        `/v1/directory/publications/${id}`,
      );
      return ['accepted', 'rejected', 'failed'].includes(body.state) && body;
    }, `publication ${id}`);

  beforeAll(async () => {
    harness = await startRegionHarness();
    cole = await harness.region.practitioner(`${CLINIC}.dr-cole`);
    dahl = await harness.region.practitioner(`${CLINIC}.dr-dahl`);
    eng = await harness.region.practitioner(`${CLINIC}.dr-eng`);
    receiver = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        deliveries.push({ body, signature: String(request.headers['x-rts-signature'] ?? '') });
        response.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    files = await writeConnectorFiles({
      ...harnessRegion(harness, CLINIC),
      endpointId: CLINIC,
      clinic: await harness.region.clinic(CLINIC),
      practitioners: [cole, dahl],
      apiPort: await freeLoopbackPort(),
      webhookUrl: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/rts-events`,
    });
    connector = await runConnector({
      configFile: files.configFile,
      env: { ...process.env, ...files.env },
      reconnectDelayMs: { initial: 200, max: 1_000 },
    });
    api = connectorClient(connector.url, files.token);
    applicantCore = createWorkstationCore(harness.coreOptions('ws-applicant-1'));
    expertCore = createWorkstationCore(harness.coreOptions('ws-expert-1'));
    await applicantCore.start();
    await expertCore.start();
    await harness.setUpWorkstation(applicantCore, 'ws-applicant-1', harness.applicant);
    await harness.setUpWorkstation(expertCore, 'ws-expert-1', harness.expert);
  }, 120_000);

  afterAll(async () => {
    await applicantCore?.stop();
    await expertCore?.stop();
    await connector?.stop();
    await harness?.stop();
    await new Promise((resolve) => receiver?.close(resolve));
  });

  it('registers, and refuses a request without the token or with a bad body, naming the field', async () => {
    await until(
      async () =>
        (await api<{ registration: { state: string } }>('GET', '/v1/state')).body.registration.state === 'accepted',
      'registration',
      60_000,
    );
    const anonymous = await fetch(`${connector.url}/v1/state`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('content-type')).toContain('application/problem+json');
    const bad = await api<{ code: string; errors: { pointer: string }[] }>('POST', '/v1/consults', {
      from: `${CLINIC}.dr-dahl`,
      to: 'not an id',
      resources: [],
    });
    expect(bad.status).toBe(422);
    expect(bad.body.errors.map((e) => e.pointer)).toEqual(expect.arrayContaining(['/to', '/resources']));
    const document = await (await fetch(`${connector.url}/openapi.yaml`)).text();
    expect(document).toContain('operationId: publishDirectory');
  }, 90_000);

  it('publishes a full list from CSV, then a delta; a workstation finds the experts', async () => {
    const csv = [
      'local_id,prefix,given,family,specialties,languages,organization_id,organization_name,city,country',
      'dr-cole,Dr.,Ruth,Cole,Cardiology;Internal medicine,en;nb,vestby,Vestby Hospital,Vestby,NO',
      'dr-dahl,Dr.,Per,Dahl,General practice,nb,vestby,Vestby Hospital,Vestby,NO',
    ].join('\n');
    const bad = await api<{ errors: { line: number }[] }>('POST', '/v1/directory/publications', {
      mode: 'full',
      csv: `${csv}\ndr-x,,,NoGiven,Cardiology,en,vestby,Vestby Hospital,Vestby,NO`,
    });
    expect(bad.status).toBe(422);
    expect(bad.body.errors[0]!.line).toBe(4);

    const full = await api<{ publicationId: string; state: string }>('POST', '/v1/directory/publications', {
      mode: 'full',
      csv,
    });
    expect(full.status).toBe(202);
    expect(await publicationDone(full.body.publicationId)).toMatchObject({ state: 'accepted' });

    // The delta adds an expert whose keys the connector does not hold: her workstation made them, the CSV carries the certificates.
    const delta = [
      'local_id,given,family,specialties,languages,organization_id,organization_name,endpoints,signing_certificate,encryption_certificate',
      `dr-eng,Liv,Eng,Dermatology,nb,vestby,Vestby Hospital,ws-vestby-1,${Buffer.from(eng.signing.certificate).toString('base64')},${Buffer.from(eng.encryption.certificate).toString('base64')}`,
    ].join('\n');
    const added = await api<{ publicationId: string }>('POST', '/v1/directory/publications', {
      mode: 'delta',
      csv: delta,
    });
    expect(added.status).toBe(202);
    expect(await publicationDone(added.body.publicationId)).toMatchObject({ state: 'accepted' });

    const found = await until(async () => {
      const hits = (await callCore(applicantCore, COMMANDS.searchDirectory, { text: 'Vestby' })).experts;
      return hits.length === 3 && hits;
    }, 'the three clinic-c experts at the workstation');
    expect(found.map((e) => e.practitionerId).sort()).toEqual([
      `${CLINIC}.dr-cole`,
      `${CLINIC}.dr-dahl`,
      `${CLINIC}.dr-eng`,
    ]);
    // And the connector's own mirror (the same version sequence as every endpoint).
    const search = await until(async () => {
      const { body } = await api<{ practitionerId: string }[]>('GET', '/v1/directory/experts?text=Cole');
      return body.length > 0 && body;
    }, "dr-cole in the connector's mirror");
    expect(search[0]!.practitionerId).toBe(`${CLINIC}.dr-cole`);
    // The workstation's filters: a specialty among several, a language among several.
    const filtered = await api<{ practitionerId: string }[]>(
      'GET',
      '/v1/directory/experts?specialty=Internal%20medicine&language=nb',
    );
    expect(filtered.body.map((e) => e.practitionerId)).toEqual([`${CLINIC}.dr-cole`]);
    expect((await api<unknown[]>('GET', '/v1/directory/experts?specialty=Cardiology&language=sv')).body).toEqual([]);
  });

  it("answers a workstation's consult through HTTP alone: a Python client (standard library only) reads, accepts and reports", async () => {
    const { last } = (await api<{ events: { last: number } }>('GET', '/v1/state')).body.events;
    const answered = new Promise<{ status: number; stdout: string; stderr: string }>((resolve) => {
      execFile(
        'python3',
        [
          PYTHON_CLIENT,
          'answer-one',
          '--url',
          connector.url,
          '--token-file',
          files.tokenFile,
          '--after',
          String(last),
          '--timeout',
          '60',
        ],
        { encoding: 'utf8' },
        (error, stdout, stderr) => {
          resolve({ status: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
        },
      );
    });
    const sent = await callCore(applicantCore, COMMANDS.createConsult, {
      expertId: `${CLINIC}.dr-cole`,
      patient: { family: 'Hansen', given: ['Ola'], gender: 'male', birthDate: '1950-02-03' },
      priority: 'urgent',
      reason: 'Palpitations and dizziness on exertion',
      question: 'Atrial fibrillation?',
      vitals: [{ sign: 'heartRate', value: 131, effective: new Date().toISOString() }],
    });
    const python = await answered;
    expect(python.stderr).toBe('');
    expect(python.status).toBe(0);
    expect(JSON.parse(python.stdout)).toMatchObject({
      answered: sent.caseId,
      from: harness.applicant.id,
      expert: `${CLINIC}.dr-cole`,
      signedBy: harness.applicant.id,
      status: 'completed',
    });

    const view: CaseView = await until(async () => {
      const c = await callCore(applicantCore, COMMANDS.openCase, { caseId: sent.caseId });
      return c.report && c;
    }, 'the report at the workstation');
    expect(view.status).toBe('completed');
    expect(view.report).toMatchObject({
      verified: true,
      signer: { practitionerId: `${CLINIC}.dr-cole` },
      findings: 'Irregularly irregular rhythm at 131/min in the data sent.',
      diagnoses: [{ code: 'I48.0', text: 'Paroxysmal atrial fibrillation' }],
      prescriptions: [{ medication: 'Metoprolol', dose: 50, unit: 'mg', route: 'oral' }],
    });
    // The receipts the connector sent about the request were signed by dr-cole, so the workstation took them.
    expect(view.messages.find((m) => m.type === 'consult.request')?.state).toBe('processed');
  });

  it("asks a workstation's expert for a consult from plain FHIR resources, and reads her verified report", async () => {
    const { last } = (await api<{ events: { last: number } }>('GET', '/v1/state')).body.events;
    const resources = [
      {
        resourceType: 'Patient',
        name: [{ family: 'Berg', given: ['Anne'] }],
        gender: 'female',
        birthDate: '1972-11-30',
      },
      {
        resourceType: 'ServiceRequest',
        status: 'active',
        intent: 'order',
        priority: 'routine',
        reasonCode: [{ text: 'Rash on both forearms' }],
        note: [{ text: 'Eczema or psoriasis?' }],
      },
    ];
    const request = { from: `${CLINIC}.dr-dahl`, to: harness.expert.id, resources };
    const created = await api<CaseSummary & { replayed: boolean }>('POST', '/v1/consults', request, {
      'Idempotency-Key': 'referral-1',
    });
    expect(created.status).toBe(202);
    const again = await api<CaseSummary & { replayed: boolean }>('POST', '/v1/consults', request, {
      'Idempotency-Key': 'referral-1',
    });
    expect(again.body).toMatchObject({ caseId: created.body.caseId, replayed: true });

    const incoming = await until(
      async () => (await callCore(expertCore, COMMANDS.listCases, {})).find((c) => c.caseId === created.body.caseId),
      'the consult at the expert',
    );
    expect(incoming.applicantId).toBe(`${CLINIC}.dr-dahl`);
    const opened = await callCore(expertCore, COMMANDS.openCase, { caseId: created.body.caseId });
    expect(opened).toMatchObject({
      reason: 'Rash on both forearms',
      question: 'Eczema or psoriasis?',
      patient: { family: 'Berg' },
    });
    await callCore(expertCore, COMMANDS.actOnCase, { caseId: created.body.caseId, action: 'accept' });
    await callCore(expertCore, COMMANDS.sendReport, {
      caseId: created.body.caseId,
      conclusion: 'Atopic eczema; emollients and a mild steroid.',
    });

    // The event feed announces the report once, with ids only.
    const events = await until(async () => {
      const { body } = await api<{ events: { type: string; caseId?: string; messageType?: string }[] }>(
        'GET',
        `/v1/events?after=${last}&wait=5`,
      );
      return (
        body.events.some((e) => e.caseId === created.body.caseId && e.messageType === 'consult.report') && body.events
      );
    }, 'the report on the event feed');
    expect(events.filter((e) => e.caseId === created.body.caseId && e.messageType === 'consult.report')).toHaveLength(
      1,
    );
    expect(JSON.stringify(events)).not.toContain('Berg');

    const { body: view } = await api<CaseView>('GET', `/v1/consults/${created.body.caseId}`);
    expect(view.status).toBe('completed');
    expect(view.report).toMatchObject({
      conclusion: 'Atopic eczema; emollients and a mild steroid.',
      verified: true,
      signer: { practitionerId: harness.expert.id },
    });
    const { body: outbox } = await api<{ failed: unknown[] }>('GET', '/v1/outbox');
    expect(outbox.failed).toEqual([]);

    // The report as the FHIR document it travelled as, for a system that takes FHIR as it is.
    const reportMessage = view.messages.find((m) => m.type === 'consult.report')!;
    const { status, body: fhir } = await api<{
      signer: { practitionerId: string };
      bundle: {
        resourceType: string;
        type: string;
        entry: { resource: { resourceType: string; conclusion?: string } }[];
      };
    }>('GET', `/v1/consults/${created.body.caseId}/messages/${reportMessage.messageId}`);
    expect(status).toBe(200);
    expect(fhir.signer.practitionerId).toBe(harness.expert.id);
    expect(fhir.bundle).toMatchObject({ resourceType: 'Bundle', type: 'message' });
    expect(fhir.bundle.entry.find((e) => e.resource.resourceType === 'DiagnosticReport')?.resource.conclusion).toBe(
      'Atopic eczema; emollients and a mild steroid.',
    );

    // The webhook got the same event, signed, with ids only.
    await until(
      async () => deliveries.some((d) => d.body.includes(created.body.caseId) && d.body.includes('consult.report')),
      'the report at the webhook',
    );
    for (const delivery of deliveries) {
      expect(verifyWebhookSignature(files.env.RTS_CONNECTOR_WEBHOOK_SECRET!, delivery.signature, delivery.body)).toBe(
        true,
      );
      expect(delivery.body).not.toMatch(/Berg|Rash|Hansen|Palpitations/);
    }
    expect(
      verifyWebhookSignature('another secret of enough length', deliveries[0]!.signature, deliveries[0]!.body),
    ).toBe(false);
  });
});
