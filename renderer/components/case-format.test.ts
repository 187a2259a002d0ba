import { describe, expect, it } from 'vitest';
import { intlFor } from '../i18n/index.ts';
import { ageSexText, frequencyText, patientDisplayName, waitingText } from './case-format.ts';

describe('case words', () => {
  const now = new Date('2026-12-05T12:00:00Z');
  const en = intlFor('en');

  it('says how long a case has waited in minutes, hours and days', () => {
    expect(waitingText(en, '2026-12-05T11:56:30Z', now)).toBe('3 min');
    expect(waitingText(en, '2026-12-05T09:55:00Z', now)).toBe('2 h 05 min');
    expect(waitingText(en, '2026-12-02T08:00:00Z', now)).toBe('3 d 4 h');
    // A clock that runs behind the sender's: not a negative wait.
    expect(waitingText(en, '2026-12-05T12:03:00Z', now)).toBe('0 min');
  });

  it('gives age and sex as a list row shows them, a partial birth date as an approximate age', () => {
    expect(ageSexText(en, '1957-12-06', 'female', now)).toBe('68 y F');
    expect(ageSexText(en, '1957-12-05', 'male', now)).toBe('69 y M');
    expect(ageSexText(en, '1957', 'unknown', now)).toBe('≈69 y');
    expect(ageSexText(en, undefined, 'other', now)).toBe('other');
    expect(ageSexText(en, '', undefined, now)).toBe('');
  });

  it("says them in the user's language and digits; a Chinese name family first in any language", () => {
    expect(waitingText(intlFor('bn'), '2026-12-05T09:55:00Z', now)).toBe('২ ঘণ্টা ০৫ মিনিট');
    expect(ageSexText(intlFor('zh-Hans'), '1957-12-06', 'female', now)).toBe('68 岁 女');
    expect(frequencyText(intlFor('nb'), 2, 8, 'h')).toBe('to ganger hver 8. time');
    expect(frequencyText(en, 1, 1, 'd')).toBe('once per day');
    const patient = { given: ['伟'], family: '张', text: undefined } as unknown as Parameters<
      typeof patientDisplayName
    >[1];
    expect(patientDisplayName(intlFor('zh-Hans'), patient)).toBe('张伟');
    expect(patientDisplayName(en, patient)).toBe('张伟');
    expect(patientDisplayName(en, { ...patient, given: ['Kari'], family: 'Nordmann' })).toBe('Kari Nordmann');
  });
});
