import { describe, expect, it } from 'vitest';
import { requestContentSchema } from '../../../shared/api/index.ts';
import { requestContentOf } from './request-content.ts';

const effective = '2026-12-01T10:00:00.000Z';

describe('a request read back for the compose form', () => {
  it('carries what the form can send again, and leaves out what it cannot', () => {
    const content = requestContentOf(
      {
        kind: 'request',
        patient: {
          family: 'Nordmann',
          given: ['Kari', 'Anne'],
          gender: 'female',
          birthDate: '1957', // a peer's partial date: the form asks for it again
          identifiers: [{ system: 'urn:oid:2.16.578.1.12.4.1.4.1', value: '01035712345' }],
        },
        reason: 'Chest pain',
        question: '  Thrombolysis?  ',
        vitals: [
          { code: '8867-4', display: 'Heart rate', value: 112, unit: '/min', effective },
          { code: '0000-0', display: 'Unknown to the form', value: 1, unit: '', effective },
          { code: '8310-5', display: 'Body temperature', value: Number.NaN, unit: 'Cel', effective },
        ],
        bloodPressure: [{ systolic: 150, diastolic: 95, effective }],
        waveforms: [
          { kind: 'ecg', effective, periodMs: 4, series: [{ lead: 'II', samples: [0.1, 0.2] }] },
          { kind: 'pleth', effective, periodMs: 10, series: [{ samples: [1, null, 3] }] },
        ],
        attachments: [{ title: 'letter.pdf', contentType: 'application/pdf', base64: 'JVBERg==', size: 4 }],
      },
      'stat',
    );
    expect(content).toEqual({
      patient: {
        family: 'Nordmann',
        given: ['Kari', 'Anne'],
        gender: 'female',
        identifiers: [{ system: 'urn:oid:2.16.578.1.12.4.1.4.1', value: '01035712345' }],
      },
      priority: 'stat',
      reason: 'Chest pain',
      question: 'Thrombolysis?',
      vitals: [{ sign: 'heartRate', value: 112, effective }],
      bloodPressure: [{ systolic: 150, diastolic: 95, effective }],
      waveforms: [{ kind: 'ecg', effective, periodMs: 4, series: [{ lead: 'II', samples: [0.1, 0.2] }] }],
      attachments: [{ title: 'letter.pdf', contentType: 'application/pdf', base64: 'JVBERg==', size: 4 }],
    });
    expect(requestContentSchema.safeParse(content).success).toBe(true);
  });

  it("takes as much of a peer's longer request as a request carries, never failing on it", () => {
    const file = { title: 'scan.png', contentType: 'image/png', base64: 'iVBO', size: 3 };
    const content = requestContentOf(
      {
        kind: 'request',
        patient: { family: 'Nordmann', given: ['Kari'], gender: 'female', birthDate: '1957-03-01' },
        reason: 'r'.repeat(2_500),
        question: 'q'.repeat(10_001),
        vitals: [],
        bloodPressure: [],
        waveforms: [],
        attachments: Array.from({ length: 21 }, () => file),
      },
      'routine',
    );
    expect(content.attachments).toHaveLength(20);
    expect(content.question).toHaveLength(10_000);
    expect(content.reason).toHaveLength(2_000);
    expect(requestContentSchema.safeParse(content).success).toBe(true);
  });

  it('takes a case without a priority as routine, and leaves out empty lists', () => {
    const content = requestContentOf(
      {
        kind: 'request',
        patient: { family: '', given: [], gender: 'unknown', birthDate: '' },
        reason: 'x',
        vitals: [],
        bloodPressure: [],
        waveforms: [],
        attachments: [],
      },
      undefined,
    );
    expect(content).toEqual({ patient: { gender: 'unknown' }, priority: 'routine', reason: 'x' });
  });
});
