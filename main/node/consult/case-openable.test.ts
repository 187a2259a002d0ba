import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMMANDS, commandContract } from '../../../shared/api/index.ts';
import { validatePayload, ECG_LEADS, LOINC, MDC, VITAL_SIGNS, WAVEFORMS } from '../../../shared/protocol/fhir/index.ts';
import { createDownlinkBench, type DownlinkBench } from '../messaging/downlink-bench.ts';

/**
 * Issue #16 item 7: a consult that arrives valid under the protocol's profile (and so is stored and answered
 * `processed`) must open. The renderer's contract (`caseViewSchema`) used to be stricter than the profile, so such a
 * case failed to open forever. Payloads are generated in the forms the profile allows, sealed by the applicant and
 * received through the real downlink path, whose checks (RTS profile, base FHIR R4) decide which are profile-valid;
 * each of those must yield a case whose view parses under the command contract.
 */
let bench: DownlinkBench;
beforeAll(async () => {
  bench = await createDownlinkBench();
}, 30_000);
afterAll(async () => bench.close());

const openCaseOutput = commandContract[COMMANDS.openCase].output;

/** Receives a request edited by `edit` and says how it ended: processed, or the reason it was refused. */
async function receive(edit: (bundle: Record<string, unknown>) => void): Promise<{ caseId: string; refused?: string }> {
  const message = await bench.request({ payload: edit });
  const [settled] = await bench.deliver([message]);
  expect(settled?.outcome).toBe('accepted');
  const refusal = bench.transport.deadLetters
    .list({ limit: 100_000 })
    .find((l) => l.messageId === String(message.message_id));
  return { caseId: message.caseId, ...(refusal && { refused: `${refusal.reason}: ${refusal.detail}` }) };
}

async function openAsTheUiDoes(caseId: string) {
  const view = await bench.consult.openCase(caseId);
  const parsed = openCaseOutput.safeParse(view);
  return { view, issues: parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`) };
}

type Bundle = { entry: { fullUrl: string; resource: Record<string, unknown> }[] };
const patientOf = (bundle: Record<string, unknown>) => (bundle as Bundle).entry[3]!.resource;

describe('every profile-valid consult opens', () => {
  it('opens a case whose patient was born in "1957" (a FHIR date of year only), showing the year as sent', async () => {
    const { caseId, refused } = await receive((bundle) => {
      patientOf(bundle).birthDate = '1957';
    });
    expect(refused).toBeUndefined();
    const { view, issues } = await openAsTheUiDoes(caseId);
    expect(issues).toEqual([]);
    expect(view.patient?.birthDate).toBe('1957');
  });

  it('opens a case whose patient is named only in name.text, with an identifier without a system', async () => {
    const { caseId, refused } = await receive((bundle) => {
      Object.assign(patientOf(bundle), { name: [{ text: 'Kari Nilsen' }], identifier: [{ value: 'H-2231' }] });
    });
    expect(refused).toBeUndefined();
    const { view, issues } = await openAsTheUiDoes(caseId);
    expect(issues).toEqual([]);
    expect(view.patient).toMatchObject({
      family: '',
      given: [],
      text: 'Kari Nilsen',
      identifiers: [{ value: 'H-2231' }],
    });
  });

  it('opens every generated profile-valid request (property)', async () => {
    let valid = 0;
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(requestParts, async (parts) => {
        runs += 1;
        const { caseId, refused } = await receive((bundle) => applyParts(bundle as Bundle, parts));
        // Refused at arrival (not profile-valid): answered with a rejected receipt, nothing stored, nothing to open.
        if (refused) {
          expect(refused).toMatch(/^(schema-invalid|fhir-invalid):/);
          return;
        }
        valid += 1;
        const { view, issues } = await openAsTheUiDoes(caseId);
        expect(issues).toEqual([]);
        expect(view.patient).toBeDefined();
        expect(view.messages.map((m) => m.state)).toEqual(['verified']);
      }),
      { numRuns: 120 },
    );
    // The generator must mostly make payloads the profile accepts, or the property says little.
    expect(valid).toBeGreaterThan(runs / 2);
  }, 120_000);
});

describe('every profile-valid consult can be answered', () => {
  it("sends a report the applicant's receiver accepts for a patient named only in name.text, with an identifier without a system", async () => {
    const message = await bench.request({
      payload: (bundle) => {
        Object.assign(patientOf(bundle), {
          name: [{ text: 'Kari Nilsen' }],
          identifier: [{ value: 'H-2231' }],
          birthDate: '1957',
        });
      },
    });
    await bench.deliver([message]);
    await bench.consult.act({ caseId: message.caseId, action: 'accept' });
    await bench.consult.sendReport({ caseId: message.caseId, conclusion: 'Sinus rhythm, no ischaemia.' });
    const report = bench.sealed.find(
      (m) => m.metadata.properties.rtsType === 'consult.report' && m.metadata.properties.rtsCase === message.caseId,
    );
    expect(report).toBeDefined();
    const validated = validatePayload(report!.payload, report!.metadata);
    expect(validated.ok ? 'valid' : `${validated.error.code}: ${validated.error.detail}`).toBe('valid');
    const patient = ((validated.ok ? validated.value : {}) as Bundle).entry.find(
      (e) => e.resource.resourceType === 'Patient',
    )?.resource;
    // The applicant's own words for the patient come back unchanged.
    expect(patient).toMatchObject({
      name: [{ text: 'Kari Nilsen' }],
      identifier: [{ value: 'H-2231' }],
      birthDate: '1957',
    });
  });
});

// --- generators: the forms the RTS profile and FHIR R4 allow for a consult.request ------------------------------------

const word = fc
  .stringMatching(/^[A-Za-zÀ-ÿ0-9][A-Za-zÀ-ÿ0-9 .,'()/-]{0,15}$/)
  .map((s) => s.trim())
  .filter((s) => s.length > 0);
const uri = fc.constantFrom(
  'urn:oid:2.16.578.1.12.4.1.4.1',
  'http://hospital.example/mrn',
  'urn:uuid:7d0c7a4e-1c57-4a43-9d43-1d5a1c1f3a10',
);
const pad = (n: number, width = 2) => String(n).padStart(width, '0');
const fhirDate = fc
  .tuple(
    fc.integer({ min: 1900, max: 2025 }),
    fc.integer({ min: 1, max: 12 }),
    fc.integer({ min: 1, max: 28 }),
    fc.integer({ min: 0, max: 2 }),
  )
  .map(([y, m, d, precision]) => [String(y), `${y}-${pad(m)}`, `${y}-${pad(m)}-${pad(d)}`][precision]!);
const fhirDateTime = fc.oneof(
  fhirDate,
  fc
    .tuple(
      fhirDate.filter((d) => d.length === 10),
      fc.integer({ min: 0, max: 23 }),
      fc.integer({ min: 0, max: 59 }),
      fc.constantFrom('Z', '+01:00', '-05:30'),
    )
    .map(([d, h, min, zone]) => `${d}T${pad(h)}:${pad(min)}:00${zone}`),
);
const amount = fc
  .double({ min: -1e6, max: 1e6, noNaN: true, noDefaultInfinity: true })
  .map((v) => (Object.is(v, -0) ? 0 : v));
const positive = fc.double({ min: 0.001, max: 1e5, noNaN: true, noDefaultInfinity: true });
const codeableConcept = fc.oneof(
  fc.record({ text: word }),
  fc.record(
    {
      coding: fc.array(fc.record({ system: uri, code: word, display: word }, { requiredKeys: [] }), {
        minLength: 1,
        maxLength: 2,
      }),
      text: word,
    },
    { requiredKeys: ['coding'] },
  ),
);

const patient = fc.record(
  {
    name: fc.array(
      fc.record(
        { family: word, given: fc.array(word, { minLength: 1, maxLength: 7 }), text: word },
        { requiredKeys: [] },
      ),
      { minLength: 1, maxLength: 2 },
    ),
    gender: fc.constantFrom('male', 'female', 'other', 'unknown'),
    birthDate: fhirDate,
    identifier: fc.array(fc.record({ system: uri, value: word }, { requiredKeys: [] }), { minLength: 1, maxLength: 7 }),
  },
  { requiredKeys: ['name', 'gender', 'birthDate'] },
);

const quantity = fc.record({ value: amount, unit: word, code: word }, { requiredKeys: ['value'] });
const samplePoint = fc.oneof(
  fc.integer({ min: -5000, max: 5000 }).map(String),
  fc.tuple(fc.integer({ min: -50, max: 50 }), fc.nat(999)).map(([i, f]) => `${i}.${f}`),
  fc.constantFrom('E', 'U', 'L'),
);
const sampledData = fc.record(
  {
    origin: fc.record({ value: amount }),
    period: positive,
    dimensions: fc.constant(1),
    factor: amount,
    data: fc.array(samplePoint, { minLength: 1, maxLength: 40 }).map((points) => points.join(' ')),
  },
  { requiredKeys: ['origin', 'period', 'dimensions', 'data'] },
);
const componentCode = fc
  .constantFrom(...Object.values(ECG_LEADS), WAVEFORMS.pleth.code, '8480-6')
  .map((code) => ({ coding: [{ system: MDC, code }] }));

/** An Observation without its subject (added when the entry is placed). */
const observation = fc
  .oneof(
    // A vital sign (or another LOINC measure).
    fc.record({
      code: fc
        .constantFrom(...Object.values(VITAL_SIGNS).map((v) => v.code), '12345-6')
        .map((code) => ({ coding: [{ system: LOINC, code }] })),
      effectiveDateTime: fhirDateTime,
      valueQuantity: quantity,
    }),
    // A panel of two measures, read as blood pressure.
    fc.record({
      code: fc.constant({ text: 'Blood pressure' }),
      effectiveDateTime: fhirDateTime,
      component: fc.tuple(
        fc.record({ code: componentCode, valueQuantity: quantity }),
        fc.record({ code: componentCode, valueQuantity: quantity }),
      ),
    }),
    // A waveform: components with sampled data, some perhaps with a plain value.
    fc.record({
      code: fc.constantFrom('ECG', 'Plethysmogram').map((text) => ({ text })),
      effectiveDateTime: fhirDateTime,
      component: fc
        .array(
          fc.oneof(
            fc.record({ code: componentCode, valueSampledData: sampledData }),
            fc.record({ code: componentCode, valueQuantity: quantity }),
          ),
          { minLength: 1, maxLength: 14 },
        )
        .filter((components) => components.some((c) => 'valueSampledData' in c)),
    }),
    fc.record({ code: codeableConcept, effectiveDateTime: fhirDateTime, valueString: word }),
  )
  .map((o) => ({ resourceType: 'Observation', status: 'final', ...o }));

const document = fc
  .record(
    {
      description: word,
      attachment: fc.record(
        {
          contentType: fc.constantFrom('image/png', 'text/plain; charset=utf-8', 'application/dicom', 'x-unknown'),
          data: fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes).toString('base64')),
          title: word,
          size: fc.nat(64 * 1024 * 1024),
        },
        { requiredKeys: ['contentType', 'data'] },
      ),
    },
    { requiredKeys: ['attachment'] },
  )
  .map(({ attachment, ...rest }) => ({
    resourceType: 'DocumentReference',
    status: 'current',
    ...rest,
    content: [{ attachment }],
  }));

const requestParts = fc.record({
  patient,
  reason: codeableConcept,
  question: fc.option(word, { nil: undefined }),
  rest: fc.array(fc.tuple(fc.oneof(observation, document), fc.uuid({ version: 4 })), { maxLength: 6 }),
});
type RequestParts = typeof requestParts extends fc.Arbitrary<infer T> ? T : never;

function applyParts(bundle: Bundle, parts: RequestParts): void {
  const patientEntry = bundle.entry[3]!;
  patientEntry.resource = { resourceType: 'Patient', ...parts.patient };
  const service = bundle.entry[1]!.resource;
  service.reasonCode = [parts.reason];
  if (parts.question) service.note = [{ text: parts.question }];
  for (const [resource, id] of parts.rest)
    bundle.entry.push({
      fullUrl: `urn:uuid:${id}`,
      resource: { ...resource, subject: { reference: patientEntry.fullUrl } },
    });
}
