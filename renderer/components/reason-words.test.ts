import { describe, expect, it } from 'vitest';
import { reasonInWords, reasonLabel } from './reason-words.ts';

describe('refusal reasons in words', () => {
  it('says a revoked certificate was revoked by the region, from the side of whoever reads it', () => {
    expect(reasonLabel('certificate-revoked', 'unreadable')).toBe(
      "certificate-revoked: the sender's certificate was revoked by the region",
    );
    expect(reasonLabel('certificate-revoked', 'no reason given', 'recipient')).toBe(
      'certificate-revoked: your certificate was revoked by the region',
    );
  });

  it('keeps other codes as they are and falls back without one', () => {
    expect(reasonInWords('decrypt-failed')).toBeUndefined();
    expect(reasonLabel('decrypt-failed', 'unreadable')).toBe('decrypt-failed');
    expect(reasonLabel(undefined, 'unreadable')).toBe('unreadable');
  });
});
