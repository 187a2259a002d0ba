import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { attachmentSchema } from './api/consult-schemas.ts';
import { isBase64 } from './base64.ts';
import { attachment } from './protocol/fhir/fhir-elements.ts';

const REGEX = /^[A-Za-z0-9+/]*={0,2}$/;
const NON_EMPTY = /^[A-Za-z0-9+/]+={0,2}$/;

describe('isBase64', () => {
  it('takes what the regular expression it replaces takes, and nothing else', () => {
    const alphabet =
      'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=-_ \n\t\r\f\v\u00a0\u00e9\u{1F600}\u0000';
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...alphabet) }), (text) => {
        expect(isBase64(text)).toBe(REGEX.test(text));
        expect(isBase64(text, { nonEmpty: true })).toBe(NON_EMPTY.test(text));
      }),
      { numRuns: 5_000 },
    );
  });

  it('takes what the regular expression takes in a string of many slices, whatever is wrong where', () => {
    // isBase64 lets atob decode 16 Ki characters at a time: flaws at and around the slices' edges, and in the tail.
    const wrong = ['=', '==', '-', '_', ' ', '\n', '\u00e9', '\u{1F600}', '\u0000', '@'];
    const edges = [0, 1, 2, 3, 4, 16_383, 16_384, 16_385, 32_767, 32_768, 32_769, 40_000];
    fc.assert(
      fc.property(
        fc.integer({ min: 16_380, max: 40_004 }),
        fc.array(fc.tuple(fc.oneof(fc.constantFrom(...edges), fc.nat(40_004)), fc.constantFrom(...wrong)), {
          maxLength: 2,
        }),
        fc.constantFrom('', '=', '=='),
        (length, flaws, padding) => {
          const chars = Buffer.alloc(Math.ceil(length * 0.75) + 3, 0xa7)
            .toString('base64')
            .slice(0, length)
            .split('');
          for (const [at, flaw] of flaws) if (at < chars.length) chars[at] = flaw;
          const text = chars.join('') + padding;
          expect(isBase64(text)).toBe(REGEX.test(text));
          expect(isBase64(text, { nonEmpty: true })).toBe(NON_EMPTY.test(text));
        },
      ),
      { numRuns: 1_500 },
    );
    const valid = Buffer.alloc(30_000, 0x5c).toString('base64');
    expect(isBase64(valid)).toBe(true);
    for (const at of [0, 16_383, 16_384, 32_768, valid.length - 3])
      expect(isBase64(`${valid.slice(0, at)}*${valid.slice(at + 1)}`)).toBe(false);
  });

  it('answers for real base64 and for the cases at its edges', () => {
    expect(isBase64(Buffer.from('a consult').toString('base64'))).toBe(true);
    expect(isBase64('')).toBe(true);
    expect(isBase64('', { nonEmpty: true })).toBe(false);
    expect(isBase64('==', { nonEmpty: true })).toBe(false);
    expect(isBase64('QQ==')).toBe(true);
    expect(isBase64('QQ===')).toBe(false);
    expect(isBase64('Q=Q=')).toBe(false);
    expect(isBase64('QQ-_')).toBe(false);
    expect(isBase64('QQ\u0141=')).toBe(false);
  });

  it("is what an attachment's data is checked with, in the API and in the payload", () => {
    const command = { title: 'ECG', contentType: 'application/pdf', size: 3 };
    expect(attachmentSchema.safeParse({ ...command, base64: 'QUJD' }).success).toBe(true);
    expect(attachmentSchema.safeParse({ ...command, base64: 'not base64!' }).success).toBe(false);
    expect(attachment.safeParse({ contentType: 'application/pdf', data: 'QUJD' }).success).toBe(true);
    expect(attachment.safeParse({ contentType: 'application/pdf', data: 'QUJD=A' }).success).toBe(false);
  });
});
