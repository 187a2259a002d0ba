import { describe, expect, it } from 'vitest';
import { intlFor } from '../i18n/index.ts';
import { certificateProblem } from './certificate-list.tsx';

describe('certificate problems', () => {
  const now = new Date('2026-12-05T12:00:00Z');
  const dates = { notBefore: '2025-01-01T00:00:00Z', notAfter: '2026-12-20T00:00:00Z' };

  it("says from the state and dates what is wrong, in the user's language; nothing for a valid one", () => {
    expect(certificateProblem(intlFor('en'), { ...dates, state: 'expiring' }, now)).toBe(
      'Expires in 15 days; ask the clinic administrator for a new certificate.',
    );
    expect(certificateProblem(intlFor('nb'), { ...dates, state: 'revoked' }, now)).toBe('Sperret av regionen.');
    expect(certificateProblem(intlFor('zh-Hans'), { ...dates, state: 'expired' }, now)).toBe(
      '已于 2026年12月20日 过期。',
    );
    expect(certificateProblem(intlFor('bn'), { ...dates, state: 'expiring' }, now)).toContain('১৫');
    expect(certificateProblem(intlFor('en'), { ...dates, state: 'valid' }, now)).toBeUndefined();
  });
});
