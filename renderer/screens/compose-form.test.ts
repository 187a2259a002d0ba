import { describe, expect, it } from 'vitest';
import { composeConsultSchema } from '../../shared/api/index.ts';
import { intlFor } from '../i18n/intl.ts';
import { checkConsult, emptyForm, toLocalInput, type Form, type FormErrors } from './compose-form.ts';

const NOW = Date.parse('2026-06-01T12:00:00Z');
const anHourAgo = toLocalInput(new Date(NOW - 3_600_000));
const tomorrow = toLocalInput(new Date(NOW + 86_400_000));

/** The problems as a screen in `locale` words them (the checks give message ids and values). */
function worded(errors: FormErrors, locale: 'en' | 'nb' = 'en'): Record<string, string> {
  const intl = intlFor(locale);
  return Object.fromEntries(
    Object.entries(errors).map(([field, { id, values }]) => [field, intl.formatMessage({ id }, values)]),
  );
}
/** `checkConsult` with its problems in English, as the form shows them. */
function checkInEnglish(form: Form, now: number) {
  const { consult, errors } = checkConsult(form, now);
  return { ...(consult && { consult }), errors: worded(errors) };
}

const empty: Form = emptyForm(undefined, new Date(NOW - 3_600_000));
const filled: Form = {
  ...empty,
  expertId: 'clinic-a.dr-ahmed',
  family: ' Testperson ',
  given: 'Kari  Anne',
  gender: 'female',
  birthDate: '1961-04-12',
  reason: ' Chest pain ',
};
const ecg = (channels: number) => ({
  key: 7,
  file: 'ecg.csv',
  period: '4',
  time: anHourAgo,
  parsed: {
    kind: 'ecg' as const,
    samples: 2,
    series: Array.from({ length: channels }, () => ({ lead: 'II' as const, samples: [0.1, 0.2] })),
  },
});

describe('the compose form, checked by the create command’s schema', () => {
  it('names each missing field in the form’s words and sends nothing', () => {
    expect(checkInEnglish(empty, NOW)).toEqual({
      errors: {
        expert: 'Choose the expert to ask.',
        family: 'Enter the family name.',
        given: 'Enter at least one given name.',
        gender: 'Choose the sex (or "Unknown").',
        birthDate: 'Enter the birth date (YYYY-MM-DD).',
        reason: 'Say why you ask: the reason is required.',
      },
    });
  });

  it('sends what the schema makes of the form: trimmed, optional parts left out', () => {
    const { consult, errors } = checkInEnglish(
      {
        ...filled,
        nationalId: ' 12345678901 ',
        question: '  ',
        vitals: [{ key: 1, sign: 'heartRate', value: '72', time: anHourAgo }],
      },
      NOW,
    );
    expect(errors).toEqual({});
    expect(consult).toEqual({
      expertId: 'clinic-a.dr-ahmed',
      patient: {
        family: 'Testperson',
        given: ['Kari', 'Anne'],
        gender: 'female',
        birthDate: '1961-04-12',
        identifiers: [{ system: expect.any(String), value: '12345678901' }],
      },
      priority: 'routine',
      reason: 'Chest pain',
      vitals: [{ sign: 'heartRate', value: 72, effective: new Date(anHourAgo).toISOString() }],
    });
    expect(composeConsultSchema.safeParse(consult).success).toBe(true);
  });

  it('says the schema’s own bounds at the field', () => {
    const { errors } = checkInEnglish(
      {
        ...filled,
        family: 'x'.repeat(201),
        given: 'a b c d e f',
        reason: 'r'.repeat(2_001),
        question: 'q'.repeat(10_001),
        nationalId: '1'.repeat(101),
      },
      NOW,
    );
    expect(errors).toEqual({
      family: 'At most 200 characters.',
      given: 'At most 5 given names.',
      reason: 'At most 2,000 characters.',
      question: 'At most 10,000 characters.',
      nationalId: 'At most 100 characters.',
    });
    expect(checkInEnglish({ ...filled, given: `Kari ${'a'.repeat(201)}` }, NOW).errors).toEqual({
      given: 'At most 200 characters in a given name.',
    });
  });

  it('checks besides what the schema cannot know: the calendar, the clock, the id’s characters', () => {
    expect(checkInEnglish({ ...filled, birthDate: '12.04.1961' }, NOW).errors).toEqual({
      birthDate: 'Write the birth date as YYYY-MM-DD, e.g. 1961-04-12.',
    });
    expect(checkInEnglish({ ...filled, birthDate: '1961-02-30' }, NOW).errors).toEqual({
      birthDate: 'This date does not exist.',
    });
    expect(checkInEnglish({ ...filled, birthDate: '2027-01-01' }, NOW).errors).toEqual({
      birthDate: 'The birth date is in the future.',
    });
    expect(checkInEnglish({ ...filled, birthDate: '1899-12-31' }, NOW).errors).toEqual({
      birthDate: 'The birth date is before 1900.',
    });
    expect(checkInEnglish({ ...filled, nationalId: '123 456' }, NOW).errors).toEqual({
      nationalId: 'Only letters, digits and hyphens.',
    });
  });

  it('shows a problem of a vital sign, blood pressure or recording at its own row', () => {
    const vitals = [
      { key: 3, sign: 'heartRate' as const, value: '', time: anHourAgo },
      { key: 4, sign: 'bodyTemperature' as const, value: '37', time: tomorrow },
      { key: 5, sign: 'heartRate' as const, value: 'x', time: 'soon' },
    ];
    expect(checkInEnglish({ ...filled, vitals }, NOW).errors).toEqual({
      'vital-3-value': 'Enter a number.',
      'vital-4-time': 'This time is in the future.',
      'vital-5-value': 'Enter a number.',
      'vital-5-time': 'Enter when it was measured.',
    });
    expect(checkInEnglish({ ...filled, systolic: '0', diastolic: '' }, NOW).errors).toEqual({
      systolic: 'Systolic pressure: a number from 1 to 400.',
      diastolic: 'Diastolic pressure: a number from 1 to 300.',
    });
    expect(checkInEnglish({ ...filled, systolic: '80', diastolic: '120', bpTime: '' }, NOW).errors).toEqual({
      diastolic: 'The diastolic pressure must be below the systolic.',
      bpTime: 'Enter when it was measured.',
    });
    expect(checkInEnglish({ ...filled, waveforms: [{ ...ecg(1), period: '0' }] }, NOW).errors).toEqual({
      'wave-7-period': 'The time between samples in milliseconds (e.g. 4 for 250 Hz).',
    });
    expect(checkInEnglish({ ...filled, waveforms: [ecg(13)] }, NOW).errors).toEqual({
      'wave-7-file': expect.stringContaining('at most 12 channels'),
    });
    expect(checkInEnglish({ ...filled, waveforms: [ecg(2)] }, NOW).consult?.waveforms).toHaveLength(1);
  });

  it('says at Send what no field shows, in words', () => {
    const vitals = Array.from({ length: 1_001 }, (_, i) => ({
      key: 100 + i,
      sign: 'heartRate' as const,
      value: '60',
      time: anHourAgo,
    }));
    expect(checkInEnglish({ ...filled, vitals }, NOW).errors).toEqual({
      form: 'A request carries at most 1,000 vital signs.',
    });
  });

  it('gives message ids and values, which the screen words in the user’s language', () => {
    const { errors } = checkConsult({ ...empty, reason: 'r'.repeat(2_001) }, NOW);
    expect(errors.expert).toEqual({ id: 'compose.problem.chooseExpert' });
    expect(errors.reason).toEqual({ id: 'compose.problem.atMostCharacters', values: { max: 2_000 } });
    const norwegian = worded(errors, 'nb');
    expect(norwegian.expert).toBe('Velg eksperten du vil spørre.');
    // The schema's bound in Norwegian digits (a narrow no-break space groups thousands).
    expect(norwegian.reason).toMatch(/^Høyst 2\s000 tegn\.$/u);
  });
});
