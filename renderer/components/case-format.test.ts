import { describe, expect, it } from 'vitest';
import { ageSexText, waitingText } from './case-format.ts';

describe('case words', () => {
  const now = new Date('2026-12-05T12:00:00Z');

  it('says how long a case has waited in minutes, hours and days', () => {
    expect(waitingText('2026-12-05T11:56:30Z', now)).toBe('3 min');
    expect(waitingText('2026-12-05T09:55:00Z', now)).toBe('2 h 05 min');
    expect(waitingText('2026-12-02T08:00:00Z', now)).toBe('3 d 4 h');
    // A clock that runs behind the sender's: not a negative wait.
    expect(waitingText('2026-12-05T12:03:00Z', now)).toBe('0 min');
  });

  it('gives age and sex as a list row shows them, a partial birth date as an approximate age', () => {
    expect(ageSexText('1957-12-06', 'female', now)).toBe('68 y F');
    expect(ageSexText('1957-12-05', 'male', now)).toBe('69 y M');
    expect(ageSexText('1957', 'unknown', now)).toBe('≈69 y');
    expect(ageSexText(undefined, 'other', now)).toBe('other');
    expect(ageSexText('', undefined, now)).toBe('');
  });
});
