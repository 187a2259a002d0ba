import { Ajv2020 } from 'ajv/dist/2020.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { protocolExamples } from './examples.ts';
import { SCHEMA_BASE_URI, publishedSchemas } from './json-schemas.ts';

const docs = join(import.meta.dirname, '..', '..', 'docs', 'schemas');
const readPublished = (file: string) => JSON.parse(readFileSync(join(docs, file), 'utf8')) as Record<string, unknown>;

// An independent validator reading the checked-in files: what a Python or Java implementer would do.
const ajv = new Ajv2020({ allErrors: true });
ajv.addKeyword('x-rts-protocol-version');
const validateProperties = ajv.compile(readPublished('application-properties.schema.json'));
const payloadValidator = (type: string) => {
  const id = `${SCHEMA_BASE_URI}:payload:${type}`;
  return ajv.getSchema(id) ?? ajv.compile(readPublished(`payloads/${type}.schema.json`));
};
const examples = protocolExamples({ signing: btoa('signing'), encryption: btoa('encryption') });

describe('published JSON Schemas', () => {
  it('are up to date with the code (node scripts/generate-protocol-docs.ts)', () => {
    for (const { file, schema } of publishedSchemas()) expect(readPublished(file), file).toEqual(schema);
  });

  it.each(examples.map((e) => [e.title, e] as const))('accept the example: %s', (_title, e) => {
    expect(validateProperties(e.applicationProperties), JSON.stringify(validateProperties.errors)).toBe(true);
    const validatePayload = payloadValidator(e.type);
    expect(validatePayload(e.payload), JSON.stringify(validatePayload.errors?.slice(0, 3))).toBe(true);
  });

  it('reject what the TypeScript validators reject', () => {
    const request = examples.find((e) => e.type === 'consult.request')!;
    expect(validateProperties({ ...request.applicationProperties, rtsSequence: 0 })).toBe(false);
    expect(validateProperties({ ...request.applicationProperties, rtsType: 'consult.gossip' })).toBe(false);
    const validatePayload = payloadValidator('consult.request');
    const withoutPatient = structuredClone(request.payload);
    withoutPatient.entry!.splice(3, 1);
    expect(validatePayload(withoutPatient)).toBe(false);
  });
});
