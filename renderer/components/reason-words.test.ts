import { describe, expect, it } from 'vitest';
import { CATALOGS, LOCALES } from '../../shared/i18n/index.ts';
import { REASON_CODES } from '../../shared/protocol/index.ts';
import { intlFor } from '../i18n/index.ts';
import { REFUSAL_REASON_MESSAGES, reasonInWords, reasonLabel } from './reason-words.ts';

describe('refusal reasons in words', () => {
  const en = intlFor('en');

  it('says a revoked certificate was revoked by the region, from the side of whoever reads it', () => {
    expect(reasonLabel(en, 'certificate-revoked', 'unreadable')).toBe(
      "certificate-revoked: the sender's certificate was revoked by the region",
    );
    expect(reasonLabel(en, 'certificate-revoked', 'no reason given', 'recipient')).toBe(
      'certificate-revoked: your certificate was revoked by the region',
    );
  });

  it('words every other code too, keeping the code beside the words', () => {
    expect(reasonInWords(en, 'decrypt-failed')).toBe('the message could not be opened');
    expect(reasonLabel(en, 'decrypt-failed', 'unreadable')).toBe('decrypt-failed: the message could not be opened');
    expect(reasonLabel(intlFor('nb'), 'not-a-recipient', 'refused', 'recipient')).toBe(
      'not-a-recipient: meldingen var ikke kryptert for mottakeren',
    );
    expect(reasonLabel(intlFor('zh-Hans'), 'certificate-revoked', 'refused')).toBe(
      'certificate-revoked：发送方的证书已被区域吊销',
    );
  });

  it('keeps a code this version does not know as it is, and falls back without one', () => {
    expect(reasonInWords(en, 'a-newer-code')).toBeUndefined();
    expect(reasonLabel(en, 'a-newer-code', 'unreadable')).toBe('a-newer-code');
    expect(reasonLabel(en, undefined, 'unreadable')).toBe('unreadable');
  });

  it('has words for every reason code of the protocol in every language, from both sides', () => {
    for (const code of Object.values(REASON_CODES)) {
      const id = REFUSAL_REASON_MESSAGES[code];
      expect(id, code).toBeDefined();
      for (const locale of LOCALES) {
        expect(CATALOGS[locale][id], `${locale} ${id}`).toBeTruthy();
        const intl = intlFor(locale);
        for (const side of ['sender', 'recipient'] as const) {
          const words = reasonInWords(intl, code, side);
          expect(words, `${locale} ${code} ${side}`).toMatch(/\S/);
          expect(words).not.toContain('{');
        }
      }
    }
  });
});
