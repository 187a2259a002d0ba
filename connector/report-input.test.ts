import { describe, expect, it } from 'vitest';
import { buildConsultReport } from '../shared/protocol/fhir/index.ts';
import { readReportResources, type ReportResourcesInput } from './report-input.ts';

/** The resources of a report as buildConsultReport writes them, without the ones the connector writes itself. */
function reportResources(input: ReportResourcesInput): Record<string, unknown>[] {
  const bundle = buildConsultReport(
    {
      messageId: '00000000-0000-4000-8000-000000000001',
      timestamp: new Date('2026-12-04T12:00:00Z'),
      sender: 'clinic-c',
    },
    {
      caseId: '00000000-0000-4000-8000-000000000002',
      from: 'clinic-c.dr-cole',
      to: 'clinic-a.dr-ahmed',
      sequence: 3,
      patient: { family: 'Ny', given: ['Ola'], gender: 'male', birthDate: '1950-01-01' },
      ...input,
    },
  );
  return (bundle.entry ?? [])
    .map((e) => e.resource as unknown as Record<string, unknown>)
    .filter((r) => ['DiagnosticReport', 'Observation', 'MedicationRequest'].includes(String(r.resourceType)));
}

describe('a report sent as FHIR resources', () => {
  it('reads back what buildConsultReport wrote', () => {
    const report: ReportResourcesInput = {
      conclusion: 'Atrial fibrillation; anticoagulate.',
      findings: 'Irregular rhythm at 130/min.',
      diagnoses: [
        { system: 'http://hl7.org/fhir/sid/icd-10', code: 'I48.9', text: 'Atrial fibrillation' },
        { text: 'Hypertension' },
      ],
      prescriptions: [
        {
          medication: 'Apixaban',
          dose: 5,
          unit: 'mg',
          frequency: 2,
          period: 1,
          periodUnit: 'd',
          route: 'oral',
          instructions: 'With food',
        },
      ],
    };
    expect(readReportResources(reportResources(report))).toEqual({ ok: true, value: report });
    expect(readReportResources(reportResources({ conclusion: 'No change.' }))).toEqual({
      ok: true,
      value: { conclusion: 'No change.' },
    });
  });

  it('names each problem by pointer, and refuses what the connector writes itself', () => {
    const [diagnostic, medication] = reportResources({
      conclusion: 'x',
      prescriptions: [{ medication: 'A', dose: 1, unit: 'mg', frequency: 1, period: 1, periodUnit: 'd' }],
    });
    const result = readReportResources([
      { ...diagnostic, conclusion: undefined },
      { ...medication, dosageInstruction: [{ timing: { repeat: { frequency: 1 } } }] },
      { resourceType: 'Patient' },
      { resourceType: 'Observation', valueQuantity: { value: 1 } },
      { resourceType: 'Observation', valueString: 'second' },
    ]);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.problems.map((p) => p.pointer)).toEqual(
      expect.arrayContaining([
        '/resources/0/conclusion',
        '/resources/1/dosageInstruction/0/doseAndRate/0/doseQuantity',
        '/resources/1/dosageInstruction/0/timing/repeat',
        '/resources/2/resourceType',
        '/resources/3/valueString',
        '/resources/4',
      ]),
    );
    expect(readReportResources([{ resourceType: 'Observation', valueString: 'f' }])).toMatchObject({
      ok: false,
      problems: [{ pointer: '/resources' }],
    });
  });
});
