import specs from '@asyncapi/specs';
import { Ajv } from 'ajv';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { asyncApiDocument } from './asyncapi-document.ts';

const published = parse(readFileSync(join(import.meta.dirname, '..', '..', 'docs', 'asyncapi.yaml'), 'utf8')) as Record<
  string,
  unknown
>;

describe('AsyncAPI document', () => {
  it('is up to date with the code (node scripts/generate-protocol-docs.ts)', () => {
    expect(published).toEqual(asyncApiDocument());
  });

  it('is valid AsyncAPI 3.0 by the official JSON Schema', () => {
    // The AsyncAPI schema embeds the draft-07 meta-schema itself, so ajv must not add its own copy.
    const ajv = new Ajv({ strict: false, allErrors: true, validateSchema: false, meta: false });
    const validate = ajv.compile(specs.schemas['3.0.0'] as object);
    expect(validate(published), JSON.stringify(validate.errors?.slice(0, 5), null, 1)).toBe(true);
    expect(validate({ ...published, operations: { broken: { action: 'shout' } } })).toBe(false);
  });

  it('names a payload schema that exists for every message', () => {
    const messages = (published.components as { messages: Record<string, { 'x-rts-payload-schema': string }> })
      .messages;
    for (const message of Object.values(messages)) {
      expect(() =>
        readFileSync(join(import.meta.dirname, '..', '..', 'docs', message['x-rts-payload-schema'])),
      ).not.toThrow();
    }
  });
});
