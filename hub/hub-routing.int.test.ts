import { randomBytes, randomUUID } from 'node:crypto';
import rhea, { type Message } from 'rhea';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTENT_TYPES, PROTOCOL_VERSION } from '../shared/protocol/index.ts';
import * as store from './store/hub-store.ts';
import {
  directoryContent,
  hubEngines,
  isType,
  receiptFor,
  seedDirectory,
  startHubSuite,
  expertEntry,
  type HubSuite,
} from '../testkit/index.ts';

/**
 * The hub on the real broker, on each database engine, routing: consults to every registered endpoint of the expert,
 * receipts only back along a route it made, and the workstations they reach registered on their clinic's or a
 * practitioner's certificate, with the operator replaying what waited for them. The directory is that of
 * hub-directory.int.test.ts at version 3 (seedDirectory).
 */
const V = PROTOCOL_VERSION;

describe.each(hubEngines())('hub routing on the real broker, $kind database', ({ kind }) => {
  let suite: HubSuite;

  beforeAll(async () => {
    suite = await startHubSuite(kind);
    await seedDirectory(suite);
  }, 120_000);

  afterAll(async () => {
    await suite?.close();
  });

  it('routes a consult to every registered endpoint of the expert, once, and answers the sender', async () => {
    const send = (to: string, messageId = randomUUID()) =>
      suite.endpoints['clinic-b']!.sendRaw({
        message_id: messageId,
        user_id: Buffer.from('clinic-b'),
        creation_time: new Date(),
        durable: true,
        content_type: CONTENT_TYPES.authEnveloped,
        application_properties: {
          rtsType: 'consult.request',
          rtsVersion: V,
          rtsSender: 'clinic-b',
          rtsCase: randomUUID(),
          rtsFromPractitioner: 'clinic-b.dr-chen',
          rtsToPractitioner: to,
          rtsSequence: 1,
        },
        // The hub never decrypts consults; an opaque body is all it sees anyway.
        body: rhea.message.data_section(randomBytes(1024)),
      } as unknown as Message).then(() => messageId);

    const toBerg = await send('clinic-a.dr-berg');
    await suite.endpoints['clinic-b']!.waitFor(receiptFor(toBerg, 'delivered'), 'delivered receipt');
    const forwarded = await suite.endpoints['clinic-a']!.waitFor((m) => m.messageId === toBerg, 'forwarded consult');
    expect(forwarded.userId).toBe(suite.broker.hub.name);
    expect(forwarded.properties.rtsToPractitioner).toBe('clinic-a.dr-berg');

    // The same message again (a re-send after a lost settlement): the first outcome again, no second copy.
    await send('clinic-a.dr-berg', toBerg);
    await suite.endpoints['clinic-b']!.waitForCount(receiptFor(toBerg, 'delivered'), 2, 'repeated receipt');
    expect(suite.endpoints['clinic-a']!.received.filter((m) => m.messageId === toBerg)).toHaveLength(1);

    // dr-ahmed is reached at ws-expert-1, which has not registered: nowhere to deliver.
    const toAhmed = await send('clinic-a.dr-ahmed');
    expect(
      (await suite.endpoints['clinic-b']!.waitFor(receiptFor(toAhmed, 'rejected'), 'rejected receipt')).properties
        .rtsReason,
    ).toBe('unknown-recipient');
    const toLund = await send('clinic-a.dr-lund');
    expect(
      (await suite.endpoints['clinic-b']!.waitFor(receiptFor(toLund, 'rejected'), 'rejected receipt')).properties
        .rtsReason,
    ).toBe('retired-expert');
    const toNobody = await send('clinic-a.dr-nobody');
    expect(
      (await suite.endpoints['clinic-b']!.waitFor(receiptFor(toNobody, 'rejected'), 'rejected receipt')).properties
        .rtsReason,
    ).toBe('unknown-recipient');
  });

  it('registers a workstation on its clinic system certificate; the operator replays what waited for it, and discards the rest', async () => {
    const ws = suite.endpoints['ws-expert-1']!;
    // A workstation cannot vouch for itself: its clinic system signs, or a practitioner its clinic lists there, and
    // dr-berg is reached at clinic-a, not at ws-expert-1.
    const selfSigned = await suite.registerWorkstation('ws-expert-1', suite.experts['clinic-a.dr-berg']!.signing);
    await expect
      .poll(() => suite.deadLetterOf(selfSigned))
      .toMatchObject({ reason: 'signer-mismatch', detail: expect.stringContaining('does not list ws-expert-1') });

    const registered = await suite.register('ws-expert-1', 'clinic-a', 'workstation');
    await ws.waitFor(receiptFor(registered, 'processed'), 'registration receipt');
    const snapshot = await ws.waitFor(isType('directory.snapshot'), 'snapshot');
    expect(snapshot.properties.rtsDirectoryVersion).toBe(3);
    expect((await store.getEndpoint(suite.hub.sql, 'ws-expert-1'))?.operator).toBe('clinic-a');

    const status = await suite.rtsHub<{
      healthy: boolean;
      instances: { id: string; running: boolean }[];
      directoryVersion: number;
      endpoints: number;
    }>('status');
    expect(status.stderr).toBe('');
    expect(status.value).toMatchObject({
      healthy: true,
      directoryVersion: 3,
      endpoints: 4,
      instances: [{ id: `hub-${kind}`, running: true }],
    });
    expect((await suite.rtsHub<{ id: string }[]>('endpoints')).value.map((e) => e.id)).toEqual([
      'clinic-a',
      'clinic-b',
      'clinic-c',
      'ws-expert-1',
    ]);
    expect((await suite.rtsHub<{ live: Record<string, number> }>('directory')).value.live).toEqual({
      Organization: 2,
      Practitioner: 3,
      PractitionerRole: 3,
    });

    // The consult to dr-ahmed that found no endpoint earlier: now that ws-expert-1 is registered, replay delivers it.
    const letters = (
      await suite.rtsHub<{ id: number; messageId: string; reason: string; detail: string }[]>(
        'dead-letters',
        'list',
        '--reason',
        'unknown-recipient',
      )
    ).value;
    const waiting = letters.find((l) => l.detail.includes('dr-ahmed'))!;
    expect(
      (
        await suite.rtsHub<{ properties: { application_properties: Record<string, unknown> } }>(
          'dead-letters',
          'show',
          String(waiting.id),
        )
      ).value.properties.application_properties.rtsToPractitioner,
    ).toBe('clinic-a.dr-ahmed');
    expect((await suite.rtsHub<{ outcome: string }>('dead-letters', 'replay', String(waiting.id))).value.outcome).toBe(
      'delivered',
    );
    await ws.waitFor((m) => m.messageId === waiting.messageId, 'replayed consult');
    const again = await suite.rtsHub<{ error?: string }>('dead-letters', 'replay', String(waiting.id));
    expect(again.status).toBe(1);
    expect(again.stderr).toMatch(/^rts: hub-error: dead letter \d+ is already replayed/);

    const nobody = letters.find((l) => l.detail.includes('dr-nobody'))!;
    expect((await suite.rtsHub<{ state: string }>('dead-letters', 'discard', String(nobody.id))).value.state).toBe(
      'discarded',
    );
    const held = (await suite.rtsHub<{ id: number }[]>('dead-letters', 'list')).value.map((l) => l.id);
    expect(held).not.toContain(nobody.id);
    expect(held).not.toContain(waiting.id);
  });

  it('registers a workstation on the signing certificate of a practitioner its clinic lists there, who may then ask for snapshots', async () => {
    const ws = suite.endpoints['ws-applicant-1']!;
    for (const id of ['clinic-a.dr-field', 'clinic-a.dr-gone']) suite.experts[id] = await suite.region.practitioner(id);
    const listed = await suite.publishDelta(
      'clinic-a',
      ['clinic-a.dr-field', 'clinic-a.dr-gone']
        .flatMap((id) =>
          expertEntry(suite.experts[id]!, { organizationId: 'clinic-a.riverside', endpoints: ['ws-applicant-1'] }),
        )
        .map((upsert) => ({ upsert })),
    );
    await suite.endpoints['clinic-a']!.waitFor(receiptFor(listed, 'processed'), 'delta receipt');
    const retired = await suite.publishDelta('clinic-a', [
      { retire: 'Practitioner/clinic-a.dr-gone' },
      { retire: 'PractitionerRole/clinic-a.dr-gone' },
    ]);
    await suite.endpoints['clinic-a']!.waitFor(receiptFor(retired, 'processed'), 'retirement receipt');

    // A retired role vouches for nothing, though it listed the workstation.
    const byRetired = await suite.registerWorkstation('ws-applicant-1', suite.experts['clinic-a.dr-gone']!.signing);
    await expect
      .poll(() => suite.deadLetterOf(byRetired))
      .toMatchObject({ reason: 'signer-mismatch', detail: expect.stringContaining('no live PractitionerRole') });
    expect(await store.getEndpoint(suite.hub.sql, 'ws-applicant-1')).toBeUndefined();

    const registered = await suite.registerWorkstation('ws-applicant-1', suite.experts['clinic-a.dr-field']!.signing);
    await ws.waitFor(receiptFor(registered, 'processed'), 'registration receipt');
    expect((await ws.waitFor(isType('hub.notice'), 'registration notice')).properties.rtsNotice).toBe(
      'registration-accepted',
    );
    const snapshot = await ws.waitFor(isType('directory.snapshot'), 'snapshot');
    expect(snapshot.properties).toMatchObject({ rtsDirectoryVersion: 5, rtsToEndpoint: 'ws-applicant-1' });
    expect(directoryContent(await suite.openFromHub(snapshot))).toContain('PractitionerRole/clinic-a.dr-field');
    expect(await store.getEndpoint(suite.hub.sql, 'ws-applicant-1')).toMatchObject({
      kind: 'workstation',
      operator: 'clinic-a',
      certificate: null,
    });

    // The same practitioner asks for a snapshot, and so may the operating clinic system; one of its practitioners
    // who is not reached here may not.
    const byPractitioner = await suite.requestSnapshot('ws-applicant-1', suite.experts['clinic-a.dr-field']!.signing);
    await ws.waitFor(receiptFor(byPractitioner, 'processed'), 'snapshot request receipt');
    const byClinic = await suite.requestSnapshot('ws-applicant-1', suite.clinics['clinic-a']!);
    await ws.waitFor(receiptFor(byClinic, 'processed'), 'snapshot request receipt');
    // Both came within the interval after the registration's snapshot: one more snapshot answers them, when it is over.
    const snapshots = await ws.waitForCount(isType('directory.snapshot'), 2, 'snapshots');
    await expect
      .poll(
        async () =>
          (
            await suite.hub.sql.query<{ pending: boolean }>(
              "select pending from snapshot_state where endpoint = 'ws-applicant-1'",
            )
          )[0]?.pending,
      )
      .toBe(false);
    expect(new Set(ws.received.filter(isType('directory.snapshot')).map((m) => m.properties.rtsBatchId)).size).toBe(2);
    expect(snapshots.map((m) => m.properties.rtsDirectoryVersion)).toEqual([5, 5]);
    const byBerg = await suite.requestSnapshot('ws-applicant-1', suite.experts['clinic-a.dr-berg']!.signing);
    expect((await ws.waitFor(receiptFor(byBerg, 'rejected'), 'rejected receipt')).properties.rtsReason).toBe(
      'signer-mismatch',
    );
    expect((await suite.deadLetterOf(byBerg))?.detail).toContain('does not list ws-applicant-1');
  });

  it("forwards a receipt only about a message it routed from the addressee to the receipt's sender, and refuses large ones unread", async () => {
    const consult = randomUUID();
    await suite.endpoints['clinic-b']!.sendRaw(
      suite.rawFrom(
        'clinic-b',
        {
          rtsType: 'consult.request',
          rtsCase: randomUUID(),
          rtsFromPractitioner: 'clinic-b.dr-chen',
          rtsToPractitioner: 'clinic-a.dr-berg',
          rtsSequence: 1,
        },
        randomBytes(512),
        { message_id: consult, content_type: CONTENT_TYPES.authEnveloped },
      ),
    );
    await suite.endpoints['clinic-a']!.waitFor((m) => m.messageId === consult, 'the routed consult');
    const receipt = (from: string, about: string | undefined, body = randomBytes(512)) =>
      suite.rawFrom(
        from,
        { rtsType: 'receipt', rtsReceipt: 'processed', rtsToEndpoint: 'clinic-b' },
        body,
        about ? { correlation_id: about } : {},
      );

    // The recipient answers the sender: forwarded.
    const answer = receipt('clinic-a', consult);
    await suite.endpoints['clinic-a']!.sendRaw(answer);
    expect(
      (await suite.endpoints['clinic-b']!.waitFor((m) => m.messageId === answer.message_id, 'the forwarded receipt'))
        .userId,
    ).toBe(suite.broker.hub.name);

    const refused = {
      'not-authorized: about no message routed between them': receipt('clinic-a', randomUUID()),
      'not-authorized: from an endpoint the message was not routed to': receipt('ws-expert-1', consult),
      'missing-property: about no message at all': receipt('clinic-a', undefined),
      'too-large: 1 MiB, limit 64 KiB for receipts': receipt('clinic-a', consult, randomBytes(1024 * 1024)),
    };
    for (const [what, message] of Object.entries(refused)) {
      await suite.endpoints[Buffer.from(message.user_id as unknown as Uint8Array).toString('utf8')]!.sendRaw(message);
      await expect
        .poll(() => suite.deadLetterOf(String(message.message_id)))
        .toMatchObject({ reason: what.slice(0, what.indexOf(':')) });
    }
    for (const message of Object.values(refused))
      expect(suite.endpoints['clinic-b']!.received.some((m) => m.messageId === message.message_id)).toBe(false);
    // Receipts are never answered by receipts.
    expect(
      suite.endpoints['clinic-a']!.received.some((m) =>
        Object.values(refused).some((r) => r.message_id === m.correlationId),
      ),
    ).toBe(false);
  });
});
