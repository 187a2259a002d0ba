import { describe, expect, it } from 'vitest';
import { intlFor } from '../i18n/intl.ts';
import { checkConsult, emptyForm, toLocalInput, type Form } from './compose-form.ts';
import { fieldsDraftOf, filesDraftOf, formFromDraft, withPatient, withRequest } from './compose-draft.ts';

const NOW = new Date('2026-06-01T12:00:00Z');
const earlier = '2026-06-01T10:00:00.000Z';
let key = 100;
const nextKey = () => ++key;

const filled: Form = {
  ...emptyForm('clinic-a.dr-ahmed', NOW),
  family: 'Nordmann',
  given: 'Kari Anne',
  gender: 'female',
  birthDate: '1957-03-01',
  nationalId: '01035712345',
  priority: 'stat',
  reason: 'Chest pain',
  question: 'Thrombolysis?',
  vitals: [{ key: 1, sign: 'heartRate', value: '112', time: toLocalInput(new Date(earlier)) }],
  systolic: '150',
  diastolic: '95',
  waveforms: [
    {
      key: 2,
      file: 'ecg.csv',
      period: '4',
      time: toLocalInput(new Date(earlier)),
      parsed: { kind: 'ecg', samples: 2, series: [{ lead: 'II', samples: [0.1, 0.2] }] },
    },
  ],
  attachments: [{ title: 'letter.pdf', contentType: 'application/pdf', base64: 'JVBERg==', size: 4 }],
};

/** The form without its row keys, which a restore numbers afresh. */
const unkeyed = (form: Form) => ({
  ...form,
  vitals: form.vitals.map(({ key: _k, ...v }) => v),
  waveforms: form.waveforms.map(({ key: _k, ...w }) => w),
});

describe('the compose form as a draft', () => {
  it('comes back as it was, from its fields and its files kept apart', () => {
    const base = emptyForm(undefined, NOW);
    const restored = formFromDraft(base, fieldsDraftOf(filled), filesDraftOf(filled), nextKey)!;
    expect(unkeyed(restored)).toEqual(unkeyed(filled));
    expect(checkConsult(restored, NOW.getTime()).consult).toEqual(checkConsult(filled, NOW.getTime()).consult);
    // The typed fields alone (the files were never kept): the files stay as the base form had them.
    expect(formFromDraft(base, fieldsDraftOf(filled), undefined, nextKey)).toMatchObject({
      family: 'Nordmann',
      attachments: [],
    });
  });

  it('keeps no row keys and no expert it was not given', () => {
    expect(JSON.parse(fieldsDraftOf({ ...filled, expertId: undefined }))).not.toHaveProperty('expertId');
    expect(JSON.parse(fieldsDraftOf(filled)).vitals).toEqual([
      { sign: 'heartRate', value: '112', time: filled.vitals[0]!.time },
    ]);
    // An expert chosen now (from the directory) stands when the draft names none.
    const base = emptyForm('clinic-c.dr-lie', NOW);
    expect(formFromDraft(base, fieldsDraftOf({ ...filled, expertId: undefined }), undefined, nextKey)?.expertId).toBe(
      'clinic-c.dr-lie',
    );
  });

  it('restores nothing from a draft it would not have written', () => {
    const base = emptyForm(undefined, NOW);
    expect(formFromDraft(base, undefined, undefined, nextKey)).toBeUndefined();
    expect(formFromDraft(base, 'not json', '{"version":1}', nextKey)).toBeUndefined();
    const other = JSON.stringify({ ...JSON.parse(fieldsDraftOf(filled)), version: 2 });
    expect(formFromDraft(base, other, undefined, nextKey)).toBeUndefined();
    const badSign = JSON.stringify({
      ...JSON.parse(fieldsDraftOf(filled)),
      vitals: [{ sign: 'x', value: '', time: '' }],
    });
    expect(formFromDraft(base, badSign, undefined, nextKey)).toBeUndefined();
  });
});

describe('a form begun from an earlier request', () => {
  const content = {
    patient: {
      family: 'Nordmann',
      given: ['Kari', 'Anne'],
      gender: 'female' as const,
      birthDate: '1957-03-01',
      identifiers: [{ system: 'urn:oid:2.16.578.1.12.4.1.4.1', value: '01035712345' }],
    },
    priority: 'stat' as const,
    reason: 'Chest pain',
    question: 'Thrombolysis?',
    vitals: [{ sign: 'heartRate' as const, value: 112, effective: earlier }],
    bloodPressure: [{ systolic: 150, diastolic: 95, effective: earlier }],
    waveforms: [
      { kind: 'ecg' as const, effective: earlier, periodMs: 4, series: [{ lead: 'II' as const, samples: [0.1, 0.2] }] },
    ],
    attachments: [{ title: 'letter.pdf', contentType: 'application/pdf', base64: 'JVBERg==', size: 4 }],
  };

  it('takes only the patient for a new request about the same patient', () => {
    const form = withPatient(emptyForm(undefined, NOW), content.patient);
    expect(form).toMatchObject({
      family: 'Nordmann',
      given: 'Kari Anne',
      gender: 'female',
      birthDate: '1957-03-01',
      nationalId: '01035712345',
      reason: '',
      attachments: [],
    });
    // Another patient picked after: a part their request lacks is empty, never the first patient's.
    const other = withPatient(form, { family: 'Hansen', given: ['Per'] });
    expect(other).toMatchObject({ family: 'Hansen', given: 'Per', gender: '', birthDate: '', nationalId: '' });
  });

  it('takes the whole request for the expert a redirect suggests, and sends what was sent before', () => {
    const intl = intlFor('nb');
    const name = (kind: 'ecg' | 'pleth') => intl.formatMessage({ id: 'compose.earlierRecording' }, { kind });
    const form = withRequest(emptyForm('clinic-c.dr-lie', NOW), content, nextKey, name);
    const sent = checkConsult(form, NOW.getTime()).consult;
    expect(sent).toEqual({ expertId: 'clinic-c.dr-lie', ...content });
    // A recording has no file name: it is named in the user's language.
    expect(form.waveforms.map((w) => w.file)).toEqual(['EKG-opptak fra den tidligere forespørselen']);
  });
});
