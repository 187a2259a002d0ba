import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createCrl, createRootCertificate, describeCertificate, generateKeyPair } from '../../../shared/pki/index.ts';
import { createDownlinkBench, type DownlinkBench } from './downlink-bench.ts';

/**
 * Issue #17 items 2b and 3 at the workstation, through the real downlink path (real CMS, the expert's real identity
 * store): a case received before an encryption renewal opens after it, and a CRL the hub distributes in a signed
 * `crl-updated` notice takes effect for the next message — only if it is the region CA's and newer.
 */
let bench: DownlinkBench;
beforeEach(async () => {
  bench = await createDownlinkBench();
}, 30_000);
afterEach(async () => bench.close());

const deadLetter = (messageId: unknown) =>
  bench.transport.deadLetters.list({ limit: 1_000 }).find((l) => l.messageId === String(messageId));

/** Delivers `messages` one after another (each its own batch) and returns how each was settled. */
async function deliverEach(...messages: Parameters<DownlinkBench['deliver']>[0]) {
  const outcomes: string[] = [];
  for (const message of messages) outcomes.push(...(await bench.deliver([message])).map((s) => s.outcome));
  return outcomes;
}

describe('renewal at the workstation', () => {
  it('opens a case received (stored encrypted) before the encryption certificate was renewed', async () => {
    const request = await bench.request();
    expect(await deliverEach(request)).toEqual(['accepted']);
    expect(deadLetter(request.message_id)).toBeUndefined();

    await bench.identity.importPkcs12({
      use: 'encryption',
      pkcs12: await bench.issuePkcs12('encryption', bench.expert.id),
      password: 'bench',
    });
    const [current] = await bench.identity.recipients();
    expect(current.certificate).not.toEqual(bench.expert.encryption.certificate);

    const view = await bench.consult.openCase(request.caseId);
    expect(view.patient).toMatchObject({ family: 'Nilsen' });
    expect(view.messages.map((m) => m.state)).toEqual(['verified']);
  });
});

describe('signing renewal at the workstation', () => {
  it('signs what it sends with the earlier signing certificate until its directory lists the renewed one, then with the renewed one', async () => {
    const earlier = bench.expert.signing.certificate;
    const receiptSigner = async () => {
      const request = await bench.request();
      expect(await deliverEach(request)).toEqual(['accepted']);
      const sent = bench.sealed.at(-1)!;
      expect(sent.metadata).toMatchObject({
        correlationId: String(request.message_id),
        properties: { rtsType: 'receipt', rtsReceipt: 'processed' },
      });
      return sent.signer;
    };
    expect(await receiptSigner()).toEqual(earlier);

    await bench.identity.importPkcs12({
      use: 'signing',
      pkcs12: await bench.issuePkcs12('signing', bench.expert.id),
      password: 'bench',
    });
    const renewed = bench.identity.certificate('signing')!;
    expect(renewed).not.toEqual(earlier);
    // The directory (peers', the hub's and this mirror) still lists the earlier one: a signature by the renewed one
    // would be refused signer-mismatch everywhere.
    expect(await receiptSigner()).toEqual(earlier);
    expect((await bench.identity.status()).signingInUse).toEqual({
      serialNumber: describeCertificate(earlier).serialNumber,
      notAfter: describeCertificate(earlier).notAfter,
    });

    bench.publishExpertSigning(renewed);
    expect(await receiptSigner()).toEqual(renewed);
    expect((await bench.identity.status()).signingInUse).toBeUndefined();
  });
});

describe('crl-updated notices from the hub', () => {
  it('applies a newer CRL of the region, after which a message signed by the now-revoked certificate is refused certificate-revoked', async () => {
    const before = await bench.request();
    expect(await deliverEach(before)).toEqual(['accepted']);

    const revoked = [
      {
        serialNumber: describeCertificate(bench.applicant.signing.certificate).serialNumber,
        revocationDate: new Date(Date.now() - 60_000),
      },
    ];
    const notice = await bench.hubNotice({
      notice: 'crl-updated',
      text: 'The region published a new CRL.',
      crl: await createCrl(bench.issuer, { crlNumber: 2, revoked }),
    });
    const after = await bench.request();
    expect(await deliverEach(notice, after)).toEqual(['accepted', 'accepted']);
    expect(bench.crlOutcomes).toEqual(['applied']);
    expect(deadLetter(notice.message_id)).toBeUndefined();
    expect(deadLetter(after.message_id)).toMatchObject({ reason: 'certificate-revoked' });
    // The sender is told only that it could not be opened (the precise reason stays here, docs/protocol.md §4).
    expect(bench.receipts().find((r) => r.correlationId === String(after.message_id))).toMatchObject({
      outcome: 'rejected',
    });
  });

  it('ignores an older CRL and one signed by another CA, and takes a notice without a CRL harmlessly', async () => {
    const revoking = {
      crlNumber: 0,
      revoked: [
        {
          serialNumber: describeCertificate(bench.applicant.signing.certificate).serialNumber,
          revocationDate: new Date(Date.now() - 60_000),
        },
      ],
    };
    const otherKeys = await generateKeyPair();
    const otherCa = await createRootCertificate({ keyPair: otherKeys, subject: { commonName: 'Another Region CA' } });
    const foreign = await createCrl(
      { certificate: otherCa.der, privateKey: otherKeys.privateKey },
      { ...revoking, crlNumber: 7 },
    );
    const notices = [
      await bench.hubNotice({ notice: 'crl-updated', text: 'older', crl: await createCrl(bench.issuer, revoking) }),
      await bench.hubNotice({ notice: 'crl-updated', text: 'the one held', crl: bench.identity.trust().crls![0]! }),
      await bench.hubNotice({ notice: 'crl-updated', text: 'another CA', crl: foreign }),
      await bench.hubNotice({ notice: 'crl-updated', text: 'no CRL' }),
      await bench.hubNotice({ notice: 'maintenance', text: 'Maintenance tonight.' }),
    ];
    const trustBefore = bench.identity.trust();
    const request = await bench.request();
    expect(await deliverEach(...notices, request)).toEqual([
      'accepted',
      'accepted',
      'accepted',
      'accepted',
      'accepted',
      'accepted',
    ]);
    expect(bench.crlOutcomes).toEqual(['older', 'held', 'invalid', 'invalid']);
    for (const message of [...notices, request]) expect(deadLetter(message.message_id)).toBeUndefined();
    expect(bench.identity.trust()).toBe(trustBefore);
    expect((await bench.consult.openCase(request.caseId)).messages.map((m) => m.state)).toEqual(['verified']);
  });
});

describe('a workstation whose CRL has gone stale', () => {
  const DAY = 24 * 3600_000;
  /** The region's CRL as a laptop holds it after days offline: applied once, now past its nextUpdate. */
  async function goStale() {
    expect(
      await bench.identity.applyCrl(
        await createCrl(bench.issuer, { crlNumber: 5, thisUpdate: new Date(Date.now() - 3 * DAY), validityDays: 1 }),
      ),
    ).toBe('applied');
    expect((await bench.identity.status()).trust.crlState).toBe('stale');
  }

  const parkedIds = () => bench.transport.parked.list('downlink').map((p) => p.messageId);
  const newerCrl = (revoked: { serialNumber: string; revocationDate: Date }[] = []) =>
    createCrl(bench.issuer, { crlNumber: 6, revoked });
  /** No case yet: the message that would open it has not been handled. */
  const noCase = async (caseId: string) => expect(bench.consult.openCase(caseId)).rejects.toThrow();

  it('parks a consult request it cannot judge yet (accepted, no dead letter, no case), and handles it once a crl-updated notice brings a newer CRL', async () => {
    await goStale();
    const waiting = await bench.request();
    expect(await deliverEach(waiting)).toEqual(['accepted']);
    expect(parkedIds()).toEqual([String(waiting.message_id)]);
    expect(bench.transport.parked.counts('downlink')).toMatchObject({ messages: 1, reasons: ['internal-error'] });
    expect(deadLetter(waiting.message_id)).toBeUndefined();
    expect(bench.transport.inbox.find(String(waiting.message_id))).toBeUndefined();
    await noCase(waiting.caseId);
    expect(bench.receipts()).toEqual([]);

    const notice = await bench.hubNotice({
      notice: 'crl-updated',
      text: 'The region published a new CRL.',
      crl: await newerCrl(),
    });
    expect(await deliverEach(notice)).toEqual(['accepted']);
    await bench.idle();
    expect(bench.crlOutcomes).toEqual(['applied']);
    expect((await bench.identity.status()).trust.crlState).toBe('current');
    expect(parkedIds()).toEqual([]);
    expect(deadLetter(notice.message_id)).toBeUndefined();
    expect(deadLetter(waiting.message_id)).toBeUndefined();
    expect((await bench.consult.openCase(waiting.caseId)).messages.map((m) => m.state)).toEqual(['verified']);
    expect(bench.receipts()).toEqual([{ correlationId: String(waiting.message_id), outcome: 'processed' }]);
    // Handled once: a late redelivery of it is a duplicate.
    expect(await deliverEach(waiting)).toEqual(['accepted']);
    expect(bench.receipts()).toHaveLength(1);

    // Bytes that are no CMS under a crl-updated notice's properties: refused by the normal path, nothing else happens.
    const damaged = { ...notice, message_id: randomUUID(), body: Uint8Array.of(0x30, 0x80, 0x06, 0x01) };
    expect(await deliverEach(damaged)).toEqual(['accepted']);
    expect(deadLetter(damaged.message_id)).toMatchObject({ reason: 'cms-malformed' });
    expect(bench.crlOutcomes).toEqual(['applied']);
  });

  it('handles the parked messages in arrival order ahead of what came after the notice in its batch (a status after its request)', async () => {
    await goStale();
    const request = await bench.request();
    const status = await bench.status({
      caseId: request.caseId,
      status: 'cancelled',
      sequence: 2,
      note: 'Sent to the wrong expert.',
    });
    const notice = await bench.hubNotice({
      notice: 'crl-updated',
      text: 'The region published a new CRL.',
      crl: await newerCrl(),
    });
    // The request is handled alone (and parked); the notice and the status arrive together, in the next batch.
    const settled = await bench.deliver([request, notice, status]);
    expect(settled.map((s) => s.outcome)).toEqual(['accepted', 'accepted', 'accepted']);
    await bench.idle();
    expect(parkedIds()).toEqual([]);
    expect(deadLetter(request.message_id)).toBeUndefined();
    expect(deadLetter(status.message_id)).toBeUndefined();
    expect((await bench.consult.openCase(request.caseId)).messages.map((m) => m.state)).toEqual([
      'verified',
      'verified',
    ]);
    expect(bench.receipts().map((r) => r.correlationId)).toEqual([
      String(request.message_id),
      String(status.message_id),
    ]);
  });

  it('refuses a parked message certificate-revoked, with its receipt, when the new CRL revokes its signer', async () => {
    await goStale();
    const waiting = await bench.request();
    expect(await deliverEach(waiting)).toEqual(['accepted']);
    const revoked = [
      {
        serialNumber: describeCertificate(bench.applicant.signing.certificate).serialNumber,
        revocationDate: new Date(Date.now() - 3_600_000),
      },
    ];
    const notice = await bench.hubNotice({
      notice: 'crl-updated',
      text: 'The region revoked a certificate.',
      crl: await newerCrl(revoked),
    });
    expect(await deliverEach(notice)).toEqual(['accepted']);
    await bench.idle();
    expect(parkedIds()).toEqual([]);
    expect(deadLetter(waiting.message_id)).toMatchObject({ reason: 'certificate-revoked' });
    expect(bench.transport.inbox.find(String(waiting.message_id))).toMatchObject({
      outcome: 'rejected',
      reason: 'certificate-revoked',
    });
    expect(bench.receipts()).toEqual([
      { correlationId: String(waiting.message_id), outcome: 'rejected', reason: expect.any(String) },
    ]);
    await noCase(waiting.caseId);
  });

  it('keeps parked messages across a restart while the CRL is stale, and handles them at start once it is current', async () => {
    await goStale();
    const request = await bench.request();
    const status = await bench.status({
      caseId: request.caseId,
      status: 'cancelled',
      sequence: 2,
      note: 'Sent to the wrong expert.',
    });
    expect(await deliverEach(request, status)).toEqual(['accepted', 'accepted']);

    // Judged again at start, still stale: they stay parked, in order.
    await bench.restart();
    await bench.idle();
    expect(parkedIds()).toEqual([String(request.message_id), String(status.message_id)]);

    // A current CRL applied while the downlink is not read (here: straight into the identity), then a restart.
    expect(await bench.identity.applyCrl(await newerCrl())).toBe('applied');
    expect(parkedIds()).toHaveLength(2);
    await bench.restart();
    await bench.idle();
    expect(parkedIds()).toEqual([]);
    expect((await bench.consult.openCase(request.caseId)).messages.map((m) => m.state)).toEqual([
      'verified',
      'verified',
    ]);
    expect(bench.receipts().map((r) => r.correlationId)).toEqual([
      String(request.message_id),
      String(status.message_id),
    ]);
  });

  it("changes nothing for a notice whose CRL is older or another CA's (or unreadable): the stale state stays and messages wait parked", async () => {
    await goStale();
    const trustBefore = bench.identity.trust();
    const otherKeys = await generateKeyPair();
    const otherCa = await createRootCertificate({ keyPair: otherKeys, subject: { commonName: 'Another Region CA' } });
    const older = await bench.hubNotice({
      notice: 'crl-updated',
      text: 'older',
      crl: await createCrl(bench.issuer, { crlNumber: 4 }),
    });
    const foreign = await bench.hubNotice({
      notice: 'crl-updated',
      text: 'another CA',
      crl: await createCrl({ certificate: otherCa.der, privateKey: otherKeys.privateKey }, { crlNumber: 9 }),
    });
    const notCrl = await bench.hubNotice({
      notice: 'crl-updated',
      text: 'not a CRL',
      crl: Uint8Array.of(0x30, 0x03, 0x02, 0x01, 0x00),
    });
    const damaged = { ...older, message_id: randomUUID(), body: Uint8Array.of(0xff, 0x00) };
    const request = await bench.request();
    const all = [older, foreign, notCrl, damaged, request];
    expect(await deliverEach(...all)).toEqual(['accepted', 'accepted', 'accepted', 'accepted', 'accepted']);
    expect(bench.crlOutcomes).toEqual([]);
    expect(bench.identity.trust()).toBe(trustBefore);
    expect((await bench.identity.status()).trust.crlState).toBe('stale');
    for (const message of all) expect(deadLetter(message.message_id)).toBeUndefined();
    expect(parkedIds()).toEqual(all.map((m) => String(m.message_id)));
  });
});
