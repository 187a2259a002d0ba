import { describe, expect, it } from 'vitest';
import { composeConsultSchema } from '../shared/api/index.ts';
import { toBase64 } from '../shared/pki/index.ts';
import { buildConsultRequest } from '../shared/protocol/fhir/index.ts';
import { readConsultResources, type ConsultInput } from './consult-input.ts';

/** The connector's reader of a consult request sent as FHIR resources (issue 18). */
const effective = '2024-05-01T10:00:00.000Z';
const file = new TextEncoder().encode('%PDF-1.7 a small report');

const consult: ConsultInput = {
  patient: {
    family: 'Hansen',
    given: ['Kari', 'Ann'],
    gender: 'female',
    birthDate: '1957-03-02',
    identifiers: [{ system: 'urn:oid:2.16.578.1.12.4.1.4.1', value: '02035712345' }],
  },
  priority: 'urgent',
  reason: 'Chest pain since this morning',
  question: 'STEMI? Transfer now?',
  vitals: [
    { sign: 'heartRate', value: 112, effective },
    { sign: 'bodyTemperature', value: 38.2, effective },
    { sign: 'oxygenSaturation', value: 94, effective },
  ],
  bloodPressure: [{ systolic: 150, diastolic: 95, effective }],
  waveforms: [
    {
      kind: 'ecg',
      effective,
      periodMs: 2,
      series: [
        { lead: 'I', samples: [0.1, -0.25, 0.35] },
        { lead: 'V1', samples: [0, 1.5, -2] },
      ],
    },
    { kind: 'pleth', effective, periodMs: 8, series: [{ samples: [1, 2, 3.5] }] },
  ],
  attachments: [
    { title: 'Referral letter', contentType: 'application/pdf', base64: toBase64(file), size: file.length },
  ],
};

/** The resources a consult.request carries about the case, as buildConsultRequest writes them. */
function requestResources(input: ConsultInput): Record<string, unknown>[] {
  const date = <T extends { effective: string }>(x: T) => ({ ...x, effective: new Date(x.effective) });
  const bundle = buildConsultRequest(
    { messageId: crypto.randomUUID(), timestamp: new Date(effective), sender: 'clinic-x' },
    {
      caseId: crypto.randomUUID(),
      from: 'clinic-x.dr-a',
      to: 'clinic-y.dr-b',
      sequence: 1,
      patient: input.patient,
      priority: input.priority,
      reason: input.reason,
      ...(input.question && { question: input.question }),
      ...(input.vitals && { vitals: input.vitals.map(date) }),
      ...(input.bloodPressure && { bloodPressure: input.bloodPressure.map(date) }),
      ...(input.waveforms && { waveforms: input.waveforms.map(date) }),
      ...(input.attachments && { attachments: input.attachments }),
    },
  );
  // The MessageHeader and the Task are the connector's to write; a clinic system sends the case.
  return (bundle.entry ?? [])
    .map((e) => e.resource as unknown as Record<string, unknown>)
    .filter((r) =>
      ['Patient', 'ServiceRequest', 'Observation', 'DocumentReference'].includes(r.resourceType as string),
    );
}

const problemsOf = (input: unknown) => {
  const result = readConsultResources(input);
  return result.ok ? [] : result.problems;
};

describe('consult resources', () => {
  it('read back what buildConsultRequest wrote, field for field', () => {
    const resources = requestResources(consult);
    expect(resources.map((r) => r.resourceType)).toEqual([
      'ServiceRequest',
      'Patient',
      ...Array(6).fill('Observation'),
      'DocumentReference',
    ]);
    const result = readConsultResources({ resources });
    expect(result).toEqual({ ok: true, value: consult });
    expect(
      composeConsultSchema.safeParse({ ...(result as { value: ConsultInput }).value, expertId: 'clinic-y.dr-b' })
        .success,
    ).toBe(true);
  });

  it('reads a minimal request: routine by default, unknown gender, the reason from a coding, the priority beside the resources', () => {
    const minimal: ConsultInput = {
      patient: { family: 'Ny', given: ['Ola'], gender: 'unknown', birthDate: '2001-01-01' },
      priority: 'routine',
      reason: 'Rash',
    };
    const [service, patient] = requestResources(minimal);
    const { priority: _, ...unprioritised } = service!;
    const { gender: __, ...ungendered } = patient!;
    expect(readConsultResources({ resources: [unprioritised, ungendered] })).toEqual({ ok: true, value: minimal });
    const coded = {
      ...unprioritised,
      reasonCode: [{ coding: [{ system: 'http://snomed.info/sct', code: '271807003', display: 'Eruption of skin' }] }],
    };
    expect(readConsultResources({ priority: 'stat', resources: [coded, patient] })).toEqual({
      ok: true,
      value: { ...minimal, priority: 'stat', reason: 'Eruption of skin' },
    });
  });

  it('reports each bad resource by pointer, without quoting the patient', () => {
    const [service, patient, heartRate, temperature, , bloodPressure, ecg, , document] = requestResources(
      consult,
    ) as Record<string, any>[];
    const resources = [
      {
        ...patient,
        name: [{ text: 'Kari Hansen' }],
        birthDate: '1957',
        gender: 'f',
        identifier: [{ value: '02035712345' }],
      }, //  0
      { ...service, reasonCode: [], priority: 'soon' }, //                                                                           1
      { ...heartRate, effectiveDateTime: undefined, valueQuantity: { ...heartRate!.valueQuantity, value: 'fast' } }, //              2
      {
        ...temperature,
        valueQuantity: { value: 100.4, unit: '[degF]', code: '[degF]' },
        effectiveDateTime: '2024-05-01T10:00',
      }, // 3
      { ...bloodPressure, component: [bloodPressure!.component[0]] }, //                                                             4
      {
        ...ecg,
        component: [
          //                                                                                                      5
          { ...ecg!.component[0], valueSampledData: { ...ecg!.component[0].valueSampledData, data: '0.1 E 0.3' } },
          {
            ...ecg!.component[1],
            code: { coding: [{ system: 'urn:oid:2.16.840.1.113883.6.24', code: '999' }] },
            valueSampledData: { ...ecg!.component[1].valueSampledData, period: 4 },
          },
        ],
      },
      { ...heartRate, code: { coding: [{ system: 'http://loinc.org', code: '1234-5' }] } }, //                                       6
      { resourceType: 'DocumentReference', status: 'current', content: [{ attachment: { url: 'http://x/y.pdf' } }] }, //             7
      { ...document, description: undefined, content: [{ attachment: { contentType: 'pdf', data: 'AAAA', size: 7 } }] }, //           8
      { resourceType: 'Task', status: 'requested' }, //                                                                              9
      { ...service }, //                                                                                                             10
    ];
    const problems = problemsOf({ priority: 'routine', resources });
    const at = (pointer: string) => problems.filter((p) => p.pointer === pointer).map((p) => p.detail);
    expect(at('/resources/0/name/0')[0]).toMatch(/family and given names are required/);
    expect(at('/resources/0/birthDate')).toEqual(['a full birth date (YYYY-MM-DD) is required']);
    expect(at('/resources/0/gender')).toHaveLength(1);
    expect(at('/resources/0/identifier/0/system')).toEqual(['required']);
    expect(at('/resources/1/reasonCode')[0]).toMatch(/reason for the consult is required/);
    expect(at('/priority')[0]).toMatch(/differs from \/resources\/1\/priority/);
    expect(at('/resources/2/effectiveDateTime')).toEqual(['the time of the measurement is required']);
    expect(at('/resources/2/valueQuantity/value')).toHaveLength(1);
    expect(at('/resources/3/valueQuantity/code')).toEqual(['the unit must be Cel (UCUM)']);
    expect(at('/resources/3/effectiveDateTime')).toHaveLength(1);
    expect(at('/resources/4/component')[0]).toMatch(/diastolic component \(LOINC 8462-4\) is required/);
    expect(at('/resources/5/component/0/valueSampledData/data')[0]).toMatch(/every sample must be a number/);
    expect(at('/resources/5/component/1/code')[0]).toMatch(/ECG lead/);
    expect(at('/resources/5/component/1/valueSampledData/period')[0]).toMatch(/same period/);
    expect(at('/resources/6/code')[0]).toMatch(/not a measurement this connector forwards/);
    expect(at('/resources/7/content/0/attachment/data')[0]).toMatch(/base64 data \(a url alone is not read\)/);
    expect(at('/resources/8/content/0/attachment/size')).toEqual(['differs from the 3 bytes of data']);
    expect(at('/resources/8/content/0/attachment/contentType')).toHaveLength(1);
    expect(at('/resources/8/content/0/attachment/title')).toHaveLength(1);
    expect(at('/resources/9/resourceType')[0]).toMatch(/^Task is not read here/);
    expect(at('/resources/10')).toEqual(['only one ServiceRequest']);
    const text = JSON.stringify(problems);
    for (const secret of ['Hansen', '02035712345', '1957', 'fast', '100.4']) expect(text).not.toContain(secret);
  });

  it('refuses a second name, reason, note or file instead of dropping it unread', () => {
    const minimal: ConsultInput = {
      patient: { family: 'Ny', given: ['Ola'], gender: 'female', birthDate: '2001-01-01' },
      priority: 'routine',
      reason: 'Rash',
      question: 'Which?',
    };
    const [service, patient] = requestResources(minimal) as Record<string, any>[];
    const twice = (list: unknown) => [...(list as unknown[]), ...(list as unknown[])];
    const result = readConsultResources({
      resources: [
        { ...service, reasonCode: twice(service!.reasonCode), note: twice(service!.note) },
        { ...patient, name: twice(patient!.name) },
        {
          resourceType: 'DocumentReference',
          status: 'current',
          content: twice([{ attachment: { contentType: 'text/plain', data: 'aGk=', title: 'a.txt' } }]),
        },
      ],
    });
    expect(result.ok).toBe(false);
    expect(!result.ok && result.problems.map((p) => p.pointer)).toEqual(
      expect.arrayContaining([
        '/resources/0/reasonCode/1',
        '/resources/0/note/1',
        '/resources/1/name/1',
        '/resources/2/content/1',
      ]),
    );
  });

  it('needs a Patient and a ServiceRequest in an object with resources', () => {
    expect(problemsOf({ resources: [] })).toEqual([
      { pointer: '/resources', detail: 'a Patient is required' },
      { pointer: '/resources', detail: 'a ServiceRequest is required' },
    ]);
    expect(problemsOf([])).toEqual([{ pointer: '', detail: 'expected { priority?, resources: [FHIR resources] }' }]);
    expect(problemsOf({ resources: {} })).toEqual([
      { pointer: '/resources', detail: 'expected { priority?, resources: [FHIR resources] }' },
    ]);
  });
});
