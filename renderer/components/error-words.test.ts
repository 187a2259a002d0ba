import { describe, expect, it } from 'vitest';
import { API_ERROR_CODES, API_ERROR_REASONS, type ApiError } from '../../shared/api/index.ts';
import { CATALOGS, LOCALES } from '../../shared/i18n/index.ts';
import { intlFor } from '../i18n/index.ts';
import { connectionReason, ERROR_CODE_MESSAGES, ERROR_REASON_MESSAGES, errorText } from './error-words.ts';

/** An error as the dispatcher passes a CoreError on (main/node/api/command-dispatcher.test.ts proves that side). */
const wrongPassphrase: ApiError = {
  code: 'not-allowed',
  reason: 'passphrase-wrong',
  params: { left: 2 },
  message: 'That passphrase is not correct. 2 more tries before a wait.',
  retryable: false,
};

describe('errors of the core in words', () => {
  it("says a reason with its params in the user's language, never the English message", () => {
    expect(errorText(intlFor('en'), wrongPassphrase)).toBe(
      'That passphrase is not correct. 2 more tries before a wait.',
    );
    const nb = errorText(intlFor('nb'), wrongPassphrase);
    expect(nb).toBe('Passordfrasen er ikke riktig. 2 forsøk til før du må vente.');
    expect(nb).not.toContain(wrongPassphrase.message);
    expect(errorText(intlFor('en'), { ...wrongPassphrase, params: { left: 1 } })).toBe(
      'That passphrase is not correct. 1 more try before a wait.',
    );
    const wait = { code: 'too-many-attempts', reason: 'passphrase-wait', params: { seconds: 30 } } as const;
    expect(errorText(intlFor('en'), wait)).toBe('Too many wrong passphrases. Try again in 30 seconds.');
    expect(errorText(intlFor('zh-Hans'), wait)).toBe('口令错误次数过多。请在 30 秒后重试。');
    expect(errorText(intlFor('bn'), wait)).toContain('৩০ সেকেন্ড');
  });

  it("falls back to the class code's words for a reason of a newer core, never to the English message", () => {
    const newer = { ...wrongPassphrase, reason: 'a-newer-reason' } as unknown as ApiError;
    expect(errorText(intlFor('en'), newer)).toBe('This step is not possible now.');
    expect(errorText(intlFor('nb'), newer)).toBe('Dette steget er ikke mulig nå.');
    const unknown = { code: 'a-newer-code', reason: 'a-newer-reason' } as unknown as ApiError;
    expect(errorText(intlFor('en'), unknown)).toBe('The workstation could not complete this request. Try again.');
  });

  it('has words for every reason and every class code in every catalogue', () => {
    for (const reason of API_ERROR_REASONS) {
      const id = ERROR_REASON_MESSAGES[reason];
      expect(id, reason).toBeDefined();
      for (const locale of LOCALES) expect(CATALOGS[locale][id], `${locale} ${id}`).toBeTruthy();
    }
    for (const code of Object.values(API_ERROR_CODES)) {
      const id = ERROR_CODE_MESSAGES[code];
      expect(id, code).toBeDefined();
      for (const locale of LOCALES) expect(CATALOGS[locale][id], `${locale} ${id}`).toBeTruthy();
    }
    expect(Object.keys(ERROR_REASON_MESSAGES)).toEqual([...API_ERROR_REASONS]);
  });

  it("words the core's reason for being offline in the user's language, and shows the broker's own words as English", () => {
    const missing = {
      reason: 'No broker password for endpoint ws-1 in the OS keychain.',
      problem: { code: 'not-configured', reason: 'broker-password-missing', params: { endpointId: 'ws-1' } },
    } as const;
    expect(connectionReason(intlFor('en'), missing)).toEqual({ text: missing.reason });
    expect(connectionReason(intlFor('nb'), missing)?.text).toBe(
      'Ingen meldingsmeglerpassord for endepunktet ws-1 i nøkkelringen i operativsystemet.',
    );
    expect(connectionReason(intlFor('zh-Hans'), { reason: 'connect ECONNREFUSED 127.0.0.1:5671' })).toEqual({
      text: 'connect ECONNREFUSED 127.0.0.1:5671',
      lang: 'en',
    });
    expect(connectionReason(intlFor('bn'), {})).toBeUndefined();
  });
});
