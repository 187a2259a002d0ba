import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { importDecryptionKey, importSigningKey } from '../cms/index.ts';
import { createCrl, createRootCertificate, generateKeyPair, pemToDer } from '../pki/index.ts';
import { protocolExamples } from './examples.ts';
import { openMessage, sealMessage } from './message-envelope.ts';
import { failureClass } from './reason-codes.ts';
import { loadFhirDefinitions } from '../../shared-node/index.ts';

// The conformance PKI doubles as a fixture: real certificates from the regional CA.
const pki = join(import.meta.dirname, '..', '..', 'docs', 'conformance', 'pki');
const der = (file: string) => pemToDer(readFileSync(join(pki, file), 'utf8'));
const trust = { anchors: [der('ca.pem')], crls: [der('ca.crl.pem')] };
const request = protocolExamples({ signing: btoa('s'), encryption: btoa('e') }).find(
  (e) => e.type === 'consult.request',
)!;
const now = new Date(request.amqp.creation_time);

async function sealedRequest() {
  const certificate = der('clinic-a.dr-rahman.signing.cert.pem');
  return sealMessage({
    messageId: request.amqp.message_id,
    creationTime: now,
    userId: request.amqp.user_id,
    properties: request.applicationProperties,
    payload: request.payload,
    signer: { certificate, privateKey: await importSigningKey(der('clinic-a.dr-rahman.signing.key.pem'), certificate) },
    recipientCertificates: [
      der('clinic-b.dr-okafor.encryption.cert.pem'),
      der('clinic-a.dr-rahman.encryption.cert.pem'),
    ],
  });
}

async function expertIdentity() {
  const certificate = der('clinic-b.dr-okafor.encryption.cert.pem');
  return {
    certificate,
    privateKey: await importDecryptionKey(der('clinic-b.dr-okafor.encryption.key.pem'), certificate),
  };
}

beforeAll(() => loadFhirDefinitions(), 30_000);

describe('sealMessage and openMessage', () => {
  it('round-trips a consult request, naming the signer', async () => {
    const identity = await expertIdentity();
    const result = await openMessage(await sealedRequest(), {
      trust,
      now,
      recipientFor: () => identity,
      expectedSigners: () => [der('clinic-a.dr-rahman.signing.cert.pem')],
    });
    expect(result.ok ? result.value.signer.subject : result.error).toContain('CN=clinic-a.dr-rahman');
  });

  it('rejects a message when this endpoint holds no identity for its recipient', async () => {
    const result = await openMessage(await sealedRequest(), {
      trust,
      now,
      recipientFor: () => undefined,
      expectedSigners: () => [],
    });
    expect(result).toMatchObject({
      ok: false,
      error: { code: 'not-addressed-to-me', metadata: { messageId: request.amqp.message_id } },
    });
  });

  it('rejects a validly signed message whose sender is unknown here', async () => {
    const identity = await expertIdentity();
    const result = await openMessage(await sealedRequest(), {
      trust,
      now,
      recipientFor: () => identity,
      expectedSigners: () => undefined,
    });
    // Encrypted: the receipt says only decrypt-failed (§3 step 2); the receiver keeps the reason.
    expect(result).toMatchObject({
      ok: false,
      error: { code: 'decrypt-failed', withheld: { code: 'signer-mismatch' } },
    });
  });

  describe('signing time against arrival and creation_time (§2.3)', () => {
    const DAY = 24 * 3600_000;
    /** The reason, as the receiver records it (an encrypted message's receipt may say less: §3 step 2). */
    const reasonOf = (result: Awaited<ReturnType<typeof openMessage>>) =>
      result.ok
        ? 'accepted'
        : ((result.error as { withheld?: { code: string; detail: string } }).withheld ?? result.error);
    /** Signed at `signingTime` by `name`, sent with `creationTime` and judged at `now`. */
    async function openSigned(name: string, signingTime: Date, creationTime: Date) {
      const certificate = der(`${name}.cert.pem`);
      const fields = await sealMessage({
        messageId: request.amqp.message_id,
        creationTime: signingTime,
        userId: request.amqp.user_id,
        properties: request.applicationProperties,
        payload: { ...request.payload, timestamp: creationTime.toISOString() },
        signer: { certificate, privateKey: await importSigningKey(der(`${name}.key.pem`), certificate) },
        recipientCertificates: [der('clinic-b.dr-okafor.encryption.cert.pem')],
      });
      const identity = await expertIdentity();
      return openMessage(
        { ...fields, creation_time: creationTime },
        { trust, now, recipientFor: () => identity, expectedSigners: () => [certificate] },
      );
    }

    it('refuses a new message from an expired certificate whose signature is back-dated into its validity', async () => {
      // Expired on 2025-01-31; signed "on 2025-01-15", sent now.
      const result = await openSigned('clinic-a.dr-expired.signing', new Date('2025-01-15T00:00:00Z'), now);
      expect(reasonOf(result)).toMatchObject({
        code: 'signing-time-invalid',
        detail: expect.stringContaining('more than 30 days before the message arrived'),
      });
      // Judged before the certificates are judged at that time: even before the CA existed it is the signing time that is wrong.
      const beforeTheCa = await openSigned('clinic-a.dr-rahman.signing', new Date('2023-06-01T00:00:00Z'), now);
      expect(reasonOf(beforeTheCa)).toMatchObject({ code: 'signing-time-invalid' });
    });

    it('refuses a signing time more than 5 minutes from creation_time, and one more than 30 days before arrival', async () => {
      const tenDaysBack = await openSigned('clinic-a.dr-rahman.signing', new Date(now.getTime() - 10 * DAY), now);
      expect(reasonOf(tenDaysBack)).toMatchObject({
        code: 'signing-time-invalid',
        detail: expect.stringContaining('more than 5 minutes from creation_time'),
      });
      const ahead = await openSigned(
        'clinic-a.dr-rahman.signing',
        new Date(now.getTime() - 60_000),
        new Date(now.getTime() - 7 * 60_000),
      );
      expect(reasonOf(ahead)).toMatchObject({ code: 'signing-time-invalid' });
      const tooOld = await openSigned(
        'clinic-a.dr-rahman.signing',
        new Date(now.getTime() - 31 * DAY),
        new Date(now.getTime() - 29 * DAY),
      );
      expect(reasonOf(tooOld)).toMatchObject({
        code: 'signing-time-invalid',
        detail: expect.stringContaining('more than 30 days before the message arrived'),
      });
    });

    it('accepts a message written offline 29 days ago (R6), and signing time within the skew of creation_time', async () => {
      const offline = new Date(now.getTime() - 29 * DAY);
      expect(reasonOf(await openSigned('clinic-a.dr-rahman.signing', offline, offline))).toBe('accepted');
      expect((await openSigned('clinic-a.dr-rahman.signing', new Date(now.getTime() - 4 * 60_000), now)).ok).toBe(true);
    });
  });

  it('does not open anything while its own CRL is missing or stale: internal-error (transient), saying what to load', async () => {
    const identity = await expertIdentity();
    const open = (trustHere: { anchors: Uint8Array[]; crls?: Uint8Array[] }, at: Date) =>
      sealedRequest().then((fields) =>
        openMessage(fields, {
          trust: trustHere,
          now: at,
          recipientFor: () => identity,
          expectedSigners: () => [der('clinic-a.dr-rahman.signing.cert.pem')],
        }),
      );
    const missing = await open({ anchors: trust.anchors }, now);
    expect(missing).toMatchObject({
      ok: false,
      error: { code: 'internal-error', detail: expect.stringContaining("load the region's current CRL") },
    });
    // A CA whose CRL's nextUpdate passed 90 days ago (the message is judged before its own CA matters).
    const keyPair = await generateKeyPair();
    const ca = {
      certificate: (await createRootCertificate({ keyPair, subject: { commonName: 'Stale Region CA' } })).der,
      privateKey: keyPair.privateKey,
    };
    const staleCrl = await createCrl(ca, {
      thisUpdate: new Date(now.getTime() - 120 * 24 * 3600_000),
      validityDays: 30,
    });
    const stale = await open({ anchors: [ca.certificate], crls: [staleCrl] }, now);
    expect(stale).toMatchObject({
      ok: false,
      error: { code: 'internal-error', detail: expect.stringContaining('out of date') },
    });
    expect(failureClass('internal-error')).toBe('transient');
  });

  it('refuses to seal a patient-data message without recipients', async () => {
    const certificate = der('clinic-a.dr-rahman.signing.cert.pem');
    await expect(
      sealMessage({
        messageId: request.amqp.message_id,
        creationTime: now,
        userId: request.amqp.user_id,
        properties: request.applicationProperties,
        payload: request.payload,
        signer: {
          certificate,
          privateKey: await importSigningKey(der('clinic-a.dr-rahman.signing.key.pem'), certificate),
        },
      }),
    ).rejects.toThrow(/recipient certificates/);
  });
});
