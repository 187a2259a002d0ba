import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { importDecryptionKey, importSigningKey } from '../../../shared/cms/index.ts';
import { createCrl, createRootCertificate, generateKeyPair, pemToDer } from '../../../shared/pki/index.ts';
import { protocolExamples, sealMessage } from '../../../shared/protocol/index.ts';
import { validateFhirResource } from '../../../shared/protocol/fhir/index.ts';
import { loadFhirDefinitions } from '../../../shared-node/index.ts';
import { createDownlinkHandler, type DownlinkHandlerOptions } from './downlink-handler.ts';

/**
 * Issue #16 item 5: a workstation whose own CRL is missing or stale cannot judge any signer. That is its user's to fix
 * (load the region's current CRL), never the sender's fault: the message is left on the broker (the handler throws, so
 * the inbox releases it) rather than refused with a rejected receipt, and nothing of it is opened.
 */
const pki = join(import.meta.dirname, '..', '..', '..', 'docs', 'conformance', 'pki');
const der = (file: string) => pemToDer(readFileSync(join(pki, file), 'utf8'));
const DAY = 24 * 3600_000;

async function consultRequest(
  change: (payload: { entry: { resource: Record<string, unknown> }[] }) => void = () => {},
) {
  const request = protocolExamples({ signing: btoa('s'), encryption: btoa('e') }).find(
    (e) => e.type === 'consult.request',
  )!;
  const certificate = der('clinic-a.dr-rahman.signing.cert.pem');
  const creationTime = new Date();
  const fields = await sealMessage({
    messageId: request.amqp.message_id,
    creationTime,
    userId: request.amqp.user_id,
    properties: request.applicationProperties,
    payload: (() => {
      const payload = structuredClone({ ...request.payload, timestamp: creationTime.toISOString() });
      change(payload as never);
      return payload;
    })(),
    signer: { certificate, privateKey: await importSigningKey(der('clinic-a.dr-rahman.signing.key.pem'), certificate) },
    recipientCertificates: [der('clinic-b.dr-okafor.encryption.cert.pem')],
  });
  return { messageId: request.amqp.message_id, amqp: fields as never, redelivered: false, batch: { serial: 1 } };
}

describe('downlink handler, own CRL missing or stale', () => {
  it('says the message waits (the inbox parks it) with what to load, and refuses nothing', async () => {
    const keyPair = await generateKeyPair();
    const ca = {
      certificate: (await createRootCertificate({ keyPair, subject: { commonName: 'Workstation Region CA' } })).der,
      privateKey: keyPair.privateKey,
    };
    const staleCrl = await createCrl(ca, { thisUpdate: new Date(Date.now() - 120 * DAY), validityDays: 30 });
    const encryption = der('clinic-b.dr-okafor.encryption.cert.pem');
    const identity = {
      certificate: encryption,
      privateKey: await importDecryptionKey(der('clinic-b.dr-okafor.encryption.key.pem'), encryption),
    };
    const sealed: unknown[] = [];
    const handlerWith = (crls: Uint8Array[]) =>
      createDownlinkHandler({
        local: {
          endpointId: () => 'ws-expert-1',
          has: (id: string) => id === 'clinic-b.dr-okafor',
          recipients: async () => [identity],
        },
        trust: () => ({ anchors: [ca.certificate], crls }),
        hubCertificate: () => undefined,
        seal: async (input: unknown) => {
          sealed.push(input);
          return { properties: { message_id: 'receipt' }, body: new Uint8Array() } as never;
        },
        enqueue: () => undefined,
        afterCommit: () => undefined,
      } as unknown as DownlinkHandlerOptions);

    expect(await handlerWith([staleCrl])(await consultRequest())).toMatchObject({
      outcome: 'waiting',
      reason: 'internal-error',
      detail: expect.stringMatching(/out of date .*: load the region's current CRL/),
    });
    expect(await handlerWith([])(await consultRequest())).toMatchObject({
      outcome: 'waiting',
      reason: 'internal-error',
      detail: expect.stringMatching(/No revocation list \(CRL\) of .*: load the region's current CRL/),
    });
    expect(sealed).toEqual([]);
  });
});

describe('downlink handler, base FHIR validation', () => {
  beforeAll(() => loadFhirDefinitions(), 30_000);

  it('asks the validator it is given (a worker thread), with the envelope written meanwhile, and refuses with its verdict', async () => {
    const encryption = der('clinic-b.dr-okafor.encryption.cert.pem');
    const identity = {
      certificate: encryption,
      privateKey: await importDecryptionKey(der('clinic-b.dr-okafor.encryption.key.pem'), encryption),
    };
    const asked: unknown[] = [];
    const steps: string[] = [];
    const handle = createDownlinkHandler({
      local: {
        endpointId: () => 'ws-expert-1',
        has: (id: string) => id === 'clinic-b.dr-okafor',
        recipients: async () => [identity],
      },
      trust: () => ({ anchors: [der('ca.pem')], crls: [der('ca.crl.pem')] }),
      hubCertificate: () => undefined,
      consult: {
        expectedSigners: () => [der('clinic-a.dr-rahman.signing.cert.pem')],
        recordRefused: () => false,
        keepAhead: (metadata: { messageId: string }, body: Uint8Array) =>
          steps.push(`keep ${metadata.messageId} ${body === (message.amqp as { body: unknown }).body}`),
      },
      baseFhir: {
        validate: async (resource: unknown) => {
          steps.push('validate');
          asked.push(resource);
          return validateFhirResource(resource);
        },
      },
      seal: async () => ({ properties: { message_id: 'receipt' }, body: new Uint8Array() }) as never,
      enqueue: () => undefined,
      afterCommit: () => undefined,
    } as unknown as DownlinkHandlerOptions);

    // An element FHIR R4's Patient does not have: the RTS profile lets it through, base validation does not.
    const message = await consultRequest((payload) => {
      payload.entry[3]!.resource.favouriteColour = 'blue';
    });
    const result = await handle(message);
    expect(result).toMatchObject({ outcome: 'rejected', reason: 'fhir-invalid' });
    expect(asked).toHaveLength(1);
    expect(steps).toEqual([`keep ${message.messageId} true`, 'validate']);
  });
});
