import { describe, expect, it } from 'vitest';
import { caseMessageViewSchema, caseViewSchema } from '../../../shared/api/index.ts';
import { buildConsultReport, buildConsultRequest, buildConsultStatus } from '../../../shared/protocol/fhir/index.ts';
import { readCaseMessage } from './case-payloads.ts';

const context = {
  messageId: '7d0c7a4e-1c57-4a43-9d43-1d5a1c1f3a10',
  timestamp: new Date('2026-11-22T10:00:00Z'),
  sender: 'ws-applicant-1',
};
const patient = {
  family: 'Nilsen',
  given: ['Kari', 'Marie'],
  gender: 'female' as const,
  birthDate: '1961-04-12',
  identifiers: [{ system: 'urn:oid:2.16.578.1.12.4.1.4.1', value: '12046112345' }],
};
const effective = new Date('2026-11-22T09:55:00Z');
const caseId = '3b8f0d2e-8f0a-4c1e-a6b1-0c2d3e4f5a6b';
const asJson = (bundle: unknown) => JSON.parse(JSON.stringify(bundle)) as Record<string, unknown>;

describe('reading consult payloads back', () => {
  it('recovers everything the applicant composed', () => {
    const payload = asJson(
      buildConsultRequest(context, {
        caseId,
        from: 'clinic-b.dr-berg',
        to: 'clinic-a.dr-ahmed',
        sequence: 1,
        patient,
        priority: 'stat',
        reason: 'Chest pain',
        question: 'Lyse?',
        vitals: [
          { sign: 'heartRate', value: 104, effective },
          { sign: 'bodyTemperature', value: 37.9, effective },
        ],
        bloodPressure: [{ systolic: 96, diastolic: 61, effective }],
        waveforms: [
          { kind: 'ecg', effective, periodMs: 4, series: [{ lead: 'II', samples: [0, 0.5, -0.25] }] },
          { kind: 'pleth', effective, periodMs: 10, series: [{ samples: [1, 2, 3] }] },
        ],
        attachments: [{ title: 'x-ray.png', contentType: 'image/png', base64: 'iVBORw0K', size: 6 }],
      }),
    );
    expect(readCaseMessage('consult.request', payload)).toEqual({
      kind: 'request',
      patient,
      reason: 'Chest pain',
      question: 'Lyse?',
      vitals: [
        { code: '8867-4', display: 'Heart rate', value: 104, unit: '/min', effective: effective.toISOString() },
        { code: '8310-5', display: 'Body temperature', value: 37.9, unit: 'Cel', effective: effective.toISOString() },
      ],
      bloodPressure: [{ systolic: 96, diastolic: 61, effective: effective.toISOString() }],
      waveforms: [
        {
          kind: 'ecg',
          effective: effective.toISOString(),
          periodMs: 4,
          series: [{ lead: 'II', samples: [0, 0.5, -0.25] }],
        },
        { kind: 'pleth', effective: effective.toISOString(), periodMs: 10, series: [{ samples: [1, 2, 3] }] },
      ],
      attachments: [{ title: 'x-ray.png', contentType: 'image/png', base64: 'iVBORw0K', size: 6 }],
    });
  });

  it('recovers a redirect and a report with its prescriptions', () => {
    const redirect = asJson(
      buildConsultStatus(context, {
        caseId,
        from: 'a.x',
        to: 'b.y',
        sequence: 2,
        status: 'redirected',
        note: 'Ask a dermatologist',
        suggestedPractitioner: 'clinic-c.dr-hud',
      }),
    );
    expect(readCaseMessage('consult.status', redirect)).toEqual({
      kind: 'status',
      note: 'Ask a dermatologist',
      suggestedPractitioner: 'clinic-c.dr-hud',
      attachments: [],
    });
    const report = asJson(
      buildConsultReport(context, {
        caseId,
        from: 'clinic-a.dr-ahmed',
        to: 'clinic-b.dr-berg',
        sequence: 2,
        patient,
        findings: 'Inferior STEMI',
        conclusion: 'Thrombolysis',
        diagnoses: [{ system: 'http://hl7.org/fhir/sid/icd-10', code: 'I21.1', text: 'Inferior infarction' }],
        prescriptions: [
          {
            medication: 'Metoprolol',
            dose: 25,
            unit: 'mg',
            frequency: 2,
            period: 1,
            periodUnit: 'd',
            route: 'oral',
            instructions: 'with food',
          },
        ],
      }),
    );
    expect(readCaseMessage('consult.report', report)).toEqual({
      kind: 'report',
      report: {
        findings: 'Inferior STEMI',
        conclusion: 'Thrombolysis',
        diagnoses: [{ system: 'http://hl7.org/fhir/sid/icd-10', code: 'I21.1', text: 'Inferior infarction' }],
        prescriptions: [
          {
            medication: 'Metoprolol',
            dose: 25,
            unit: 'mg',
            frequency: 2,
            period: 1,
            periodUnit: 'd',
            route: 'oral',
            instructions: 'with food',
          },
        ],
      },
    });
  });

  it('reads a report and a status written as the profiles allow but this app would not, into views the contract takes (issue #16 item 7)', () => {
    const input = {
      caseId,
      from: 'clinic-a.dr-ahmed',
      to: 'clinic-b.dr-berg',
      sequence: 3,
      patient,
      conclusion: 'ACE inhibitor',
      prescriptions: [
        { medication: 'Ramipril', dose: 2.5, unit: 'mg', frequency: 1, period: 1, periodUnit: 'd' as const },
      ],
    };
    const report = asJson(buildConsultReport(context, input)) as { entry: { resource: Record<string, any> }[] };
    const request = report.entry.find((e) => e.resource.resourceType === 'MedicationRequest')!.resource;
    // Coded without a text, a dose with a UCUM code but no unit, and a schedule beyond what the editor offers.
    request.medicationCodeableConcept = {
      coding: [{ system: 'http://www.whocc.no/atc', code: 'C09AA05', display: 'Ramipril' }],
    };
    request.dosageInstruction[0].doseAndRate[0].doseQuantity = { value: 2.5, code: 'mg' };
    request.dosageInstruction[0].timing.repeat = { frequency: 60, period: 400, periodUnit: 'd' };
    const read = readCaseMessage('consult.report', report);
    if (read.kind !== 'report') throw new Error('not read as a report');
    expect(read.report.prescriptions[0]).toMatchObject({
      medication: 'Ramipril',
      unit: 'mg',
      frequency: 60,
      period: 400,
    });
    const parsed = caseViewSchema.shape.report.safeParse({
      ...read.report,
      signer: { subject: 'CN=clinic-a.dr-ahmed', signedAt: context.timestamp.toISOString() },
      verified: true,
      envelopeSha256: '0'.repeat(64),
    });
    expect(parsed.error?.issues ?? []).toEqual([]);

    const statusInput = {
      caseId,
      from: 'clinic-b.dr-berg',
      to: 'clinic-a.dr-ahmed',
      sequence: 2,
      status: 'information-provided' as const,
      note: 'Attached.',
      attachments: [{ title: 'ecg.txt', contentType: 'text/plain', base64: 'AAEC', size: 3 }],
    };
    const status = asJson(buildConsultStatus(context, statusInput)) as { entry: { resource: Record<string, any> }[] };
    const attachment = status.entry.find((e) => e.resource.resourceType === 'DocumentReference')!.resource.content[0]
      .attachment;
    attachment.contentType = 'text/plain; charset=utf-8';
    delete attachment.size;
    const readStatus = readCaseMessage('consult.status', status);
    if (readStatus.kind !== 'status') throw new Error('not read as a status');
    expect(readStatus.attachments).toEqual([
      { title: 'ecg.txt', contentType: 'text/plain; charset=utf-8', base64: 'AAEC', size: 3 },
    ]);
    expect(caseMessageViewSchema.shape.attachments.safeParse(readStatus.attachments).success).toBe(true);
  });
});
