/**
 * The clinic connector's API against the workstation core it is built from, same region, same run.
 *
 *   npm run bench:connector [-- --consults N --reads N]
 *
 * Region: integration/testing/region-harness.ts (the private broker, the hub on its embedded database), the expert's
 * workstation core (ws-expert-1), and the connector of clinic-c (integration/testing/connector-harness.ts) in this
 * process, its API on loopback.
 * throughput  N consults (Patient, ServiceRequest, one heart rate; ~4 KiB sealed) POSTed to /v1/consults one after
 *             another as fast as each 202 comes back, consults/s until the expert's core has committed the last one;
 *             baseline: the same N created by the applicant's workstation core (`consult:create`, no HTTP, no FHIR
 *             reading) to the same expert.
 * read        GET /v1/consults/{id} (decrypt every message, verify, validate, JSON) one at a time; p50/p99; baseline:
 *             the core's openCase of the same case in the same process, no HTTP.
 * Ends with `connector: consults_per_s=X ratio=Y read_p99_ms=Z read_ratio=W`.
 */
import { parseArgs } from 'node:util';
import { COMMANDS } from '../shared/api/index.ts';
import { freeLoopbackPort } from '../scripts/test-env/index.ts';
import { createWorkstationCore } from '../main/node/index.ts';
import { runConnector } from '../connector/index.ts';
import { connectorClient, harnessRegion, writeConnectorFiles } from '../integration/testing/connector-harness.ts';
import { startRegionHarness } from '../integration/testing/region-harness.ts';
import { fixed, positive, printHeader, printLoad, quantile, sleep } from './bench-support.ts';

const { values: opts } = parseArgs({
  options: { consults: { type: 'string', default: '200' }, reads: { type: 'string', default: '300' } },
});
const CONSULTS = positive('consults', opts.consults);
const READS = positive('reads', opts.reads);

await printHeader(
  'connector: consults through the HTTP API, and decrypted reads',
  `--consults ${CONSULTS} --reads ${READS}`,
);
const harness = await startRegionHarness();
const cole = await harness.region.practitioner('clinic-c.dr-cole');
const files = await writeConnectorFiles({
  ...harnessRegion(harness, 'clinic-c'),
  endpointId: 'clinic-c',
  clinic: await harness.region.clinic('clinic-c'),
  practitioners: [cole],
  apiPort: await freeLoopbackPort(),
});
const connector = await runConnector({ configFile: files.configFile, env: { ...process.env, ...files.env } });
const api = connectorClient(connector.url, files.token);
const expert = createWorkstationCore(harness.coreOptions('ws-expert-1'));
const applicant = createWorkstationCore(harness.coreOptions('ws-applicant-1'));
await expert.start();
await applicant.start();
await harness.setUpWorkstation(expert, 'ws-expert-1', harness.expert);
await harness.setUpWorkstation(applicant, 'ws-applicant-1', harness.applicant);

async function until(probe: () => Promise<boolean>, what: string, timeoutMs = 300_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}
const expertCases = async () => {
  const result = await expert.dispatch(COMMANDS.countCases, undefined);
  if (!result.ok) throw new Error(result.error.message);
  return Object.values(result.value as Record<string, number>).reduce((a, b) => a + b, 0);
};

try {
  await until(
    async () =>
      (await api<{ registration: { state: string } }>('GET', '/v1/state')).body.registration.state === 'accepted',
    'registration',
  );
  const published = await api<{ publicationId: string }>('POST', '/v1/directory/publications', {
    mode: 'full',
    csv: 'local_id,given,family,specialties,organization_id,organization_name\ndr-cole,Ruth,Cole,Cardiology,vestby,Vestby Hospital\n',
  });
  await until(
    async () =>
      (await api<{ state: string }>('GET', `/v1/directory/publications/${published.body.publicationId}`)).body.state ===
      'accepted',
    'the list',
  );
  await until(
    async () => (await api<unknown[]>('GET', `/v1/directory/experts?text=Ahmed`)).body.length > 0,
    'the directory at the connector',
  );

  const resources = (n: number) => [
    {
      resourceType: 'Patient',
      name: [{ family: `Bench${n}`, given: ['Test'] }],
      gender: 'female',
      birthDate: '1970-01-01',
    },
    { resourceType: 'ServiceRequest', status: 'active', intent: 'order', reasonCode: [{ text: 'Benchmark consult' }] },
    {
      resourceType: 'Observation',
      status: 'final',
      code: { coding: [{ system: 'http://loinc.org', code: '8867-4', display: 'Heart rate' }] },
      effectiveDateTime: new Date().toISOString(),
      valueQuantity: { value: 72, unit: '/min', system: 'http://unitsofmeasure.org', code: '/min' },
    },
  ];

  // Baseline: the applicant's workstation core.
  let before = await expertCases();
  let started = performance.now();
  for (let i = 0; i < CONSULTS; i++) {
    const result = await applicant.dispatch(COMMANDS.createConsult, {
      expertId: harness.expert.id,
      patient: { family: `Bench${i}`, given: ['Test'], gender: 'female', birthDate: '1970-01-01' },
      priority: 'routine',
      reason: 'Benchmark consult',
      vitals: [{ sign: 'heartRate', value: 72, effective: new Date().toISOString() }],
    });
    if (!result.ok) throw new Error(result.error.message);
  }
  await until(async () => (await expertCases()) >= before + CONSULTS, 'the baseline consults at the expert');
  const coreRate = CONSULTS / ((performance.now() - started) / 1000);

  before = await expertCases();
  started = performance.now();
  let firstCase = '';
  for (let i = 0; i < CONSULTS; i++) {
    const sent = await api<{ caseId: string }>('POST', '/v1/consults', {
      from: cole.id,
      to: harness.expert.id,
      resources: resources(i),
    });
    if (sent.status !== 202) throw new Error(`POST /v1/consults: ${sent.status} ${JSON.stringify(sent.body)}`);
    firstCase ||= sent.body.caseId;
  }
  await until(async () => (await expertCases()) >= before + CONSULTS, "the connector's consults at the expert");
  const apiRate = CONSULTS / ((performance.now() - started) / 1000);

  // Reads of one case with its request, acceptance and report (three envelopes to decrypt and verify).
  await expert.dispatch(COMMANDS.actOnCase, { caseId: firstCase, action: 'accept' });
  await expert.dispatch(COMMANDS.sendReport, { caseId: firstCase, conclusion: 'Benchmark report.' });
  await until(
    async () => (await api<{ status: string }>('GET', `/v1/consults/${firstCase}`)).body.status === 'completed',
    'the report at the connector',
  );
  const apiReads: number[] = [];
  for (let i = 0; i < READS; i++) {
    const t = performance.now();
    const read = await api('GET', `/v1/consults/${firstCase}`);
    if (read.status !== 200) throw new Error(`GET /v1/consults: ${read.status}`);
    apiReads.push(performance.now() - t);
  }
  const coreReads: number[] = [];
  for (let i = 0; i < READS; i++) {
    const t = performance.now();
    await connector.core.openConsult(firstCase);
    coreReads.push(performance.now() - t);
  }
  const p = (values: number[], q: number) => quantile(values, q);
  console.log(
    `throughput  api ${fixed(apiRate, 1)} consults/s   workstation core ${fixed(coreRate, 1)} consults/s   ratio ${fixed(apiRate / coreRate)}`,
  );
  console.log(
    `read        api p50 ${fixed(p(apiReads, 0.5))} ms p99 ${fixed(p(apiReads, 0.99))} ms   core p50 ${fixed(p(coreReads, 0.5))} ms p99 ${fixed(p(coreReads, 0.99))} ms`,
  );
  printLoad();
  console.log(
    `connector: consults_per_s=${fixed(apiRate, 1)} ratio=${fixed(apiRate / coreRate)} read_p99_ms=${fixed(p(apiReads, 0.99))} read_ratio=${fixed(p(apiReads, 0.99) / p(coreReads, 0.99))}`,
  );
} finally {
  await applicant.stop();
  await expert.stop();
  await connector.stop();
  await harness.stop();
}
process.exit(0);
