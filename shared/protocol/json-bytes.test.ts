import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { jsonBytes } from './json-bytes.ts';

const encode = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
const base64 = fc.uint8Array({ minLength: 0, maxLength: 40 }).map((bytes) => Buffer.from(bytes).toString('base64'));

describe('jsonBytes', () => {
  it('gives the bytes of JSON.stringify for any JSON value, base64 strings among its strings and keys', () => {
    const value = fc.letrec((tie) => ({
      node: fc.oneof(
        { depthSize: 'small' },
        fc.jsonValue({ maxDepth: 1 }),
        base64,
        fc.string({ unit: 'binary' }),
        fc.array(tie('node'), { maxLength: 4 }),
        fc.dictionary(fc.oneof(fc.string(), base64), tie('node'), { maxKeys: 4 }),
      ),
    })).node;
    fc.assert(
      fc.property(value, fc.integer({ min: 0, max: 8 }), (v, spliceFrom) => {
        expect(jsonBytes(v, { spliceFrom })).toEqual(encode(v));
      }),
      { numRuns: 3_000 },
    );
  });

  it('splices an attachment of a megabyte, and leaves alone long strings that need escaping', () => {
    const data = Buffer.from(Array.from({ length: 768 * 1024 }, (_, i) => (i * 7919) % 256)).toString('base64');
    const payload = {
      resourceType: 'Bundle',
      when: new Date('2026-12-06T12:00:00Z'),
      entry: [{ resource: { content: [{ attachment: { data, title: 'scan "1"\n' } }] } }, { data }],
      note: `${'x'.repeat(20_000)}"\u0000\u{1F600}`,
      plain: 'A'.repeat(20_000),
    };
    const bytes = jsonBytes(payload);
    expect(new TextDecoder().decode(bytes)).toBe(JSON.stringify(payload));
    expect(Buffer.from(bytes).equals(encode(payload))).toBe(true);
  });

  it('says so when the value has no JSON form, as JSON.stringify gives nothing', () => {
    expect(() => jsonBytes(undefined)).toThrow(TypeError);
  });
});
