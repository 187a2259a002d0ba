import { randomBytes, randomUUID } from 'node:crypto';
import rhea, { type Message } from 'rhea';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeCertificate } from '../shared/pki/index.ts';
import type { DirectoryChange } from '../shared/protocol/fhir/index.ts';
import { CONTENT_TYPES, PROTOCOL_VERSION } from '../shared/protocol/index.ts';
import {
  expertEntry,
  hospital,
  publishDeltaFrom,
  receiptFor,
  startRevocationSuite,
  type RevocationSuite,
} from '../testkit/index.ts';

/**
 * Issue #17 at the hub, on the real broker and PostgreSQL (PGlite without one): a rejected receipt for every
 * permanent failure of the AMQP properties that can be answered, and `rts hub directory list|show`. Revocation is
 * hub-revocation.int.test.ts; the set-up both share is testkit/revocation-suite.ts.
 */
const V = PROTOCOL_VERSION;
const DAY = 86_400_000;

describe('hub: property receipts, directory view', () => {
  let s: RevocationSuite;

  function raw(
    from: string,
    properties: Record<string, unknown>,
    extra: Record<string, unknown> = {},
  ): Message & { message_id: string } {
    return {
      message_id: randomUUID(),
      user_id: Buffer.from(from),
      creation_time: new Date(),
      durable: true,
      content_type: CONTENT_TYPES.signed,
      application_properties: { rtsVersion: V, rtsSender: from, ...properties },
      body: rhea.message.data_section(randomBytes(64)),
      ...extra,
    } as unknown as Message & { message_id: string };
  }

  const publishDelta = (clinic: string, changes: DirectoryChange[]) =>
    publishDeltaFrom(s.endpoints[clinic]!, clinic, changes, s.clinics[clinic]!);

  beforeAll(async () => {
    s = await startRevocationSuite('hub-property-receipts');
    // Registered, so that the hub answers them (it answers no endpoint it does not know).
    for (const id of ['clinic-a', 'clinic-b']) {
      const registered = await s.register(id);
      await s.endpoints[id]!.waitFor(receiptFor(registered, 'processed'), 'registration receipt');
    }
  }, 90_000);

  afterAll(async () => {
    await s?.close();
  });

  describe('a rejected receipt for each permanent failure of the AMQP properties', () => {
    it.each<[string, Record<string, unknown>, Record<string, unknown>, string]>([
      ['unknown type', { rtsType: 'consult.gossip' }, {}, 'unknown-type'],
      [
        'unsupported version (another major)',
        { rtsType: 'directory.snapshot-request', rtsVersion: '3.0' },
        {},
        'unsupported-version',
      ],
      ['malformed version', { rtsType: 'directory.snapshot-request', rtsVersion: 'abc' }, {}, 'malformed-properties'],
      [
        'malformed version (four parts)',
        { rtsType: 'directory.snapshot-request', rtsVersion: '2.0.0.1' },
        {},
        'malformed-properties',
      ],
      ['missing property (no rtsType)', {}, {}, 'missing-property'],
      [
        'missing property (a consult without rtsCase)',
        {
          rtsType: 'consult.request',
          rtsFromPractitioner: 'clinic-b.dr-x',
          rtsToPractitioner: 'clinic-a.dr-y',
          rtsSequence: 1,
        },
        { content_type: CONTENT_TYPES.authEnveloped },
        'missing-property',
      ],
      [
        'replay (31 days old)',
        { rtsType: 'directory.snapshot-request' },
        { creation_time: new Date(Date.now() - 31 * DAY) },
        'replay',
      ],
      [
        'replay (an hour ahead)',
        { rtsType: 'directory.snapshot-request' },
        { creation_time: new Date(Date.now() + 3_600_000) },
        'replay',
      ],
    ])('%s', async (_what, properties, extra, reason) => {
      const message = raw('clinic-b', properties, extra);
      await s.endpoints['clinic-b']!.sendRaw(message);
      const receipt = await s.endpoints['clinic-b']!.waitFor(
        receiptFor(message.message_id, 'rejected'),
        `rejected receipt (${reason})`,
      );
      expect(receipt.properties).toMatchObject({ rtsReason: reason, rtsToEndpoint: 'clinic-b', rtsSender: 'hub' });
      expect(receipt.userId).toBe(s.broker.hub.name);
      expect(await s.deadLetterOf(message.message_id)).toMatchObject({ reason, sender: 'clinic-b' });
    });

    it('answers a forged sender at the broker-verified user, never at the endpoint it claims to be', async () => {
      const message = raw('clinic-b', { rtsType: 'directory.snapshot-request', rtsSender: 'clinic-a' });
      await s.endpoints['clinic-b']!.sendRaw(message);
      expect(
        (await s.endpoints['clinic-b']!.waitFor(receiptFor(message.message_id, 'rejected'), 'forged-sender receipt'))
          .properties.rtsReason,
      ).toBe('forged-sender');
      expect(s.endpoints['clinic-a']!.received.some((m) => m.correlationId === message.message_id)).toBe(false);
    });

    it('only dead-letters what it cannot answer: a receipt, a message_id that is no UUID, an endpoint that is not registered', async () => {
      const badReceipt = raw(
        'clinic-b',
        { rtsType: 'receipt', rtsVersion: 'abc', rtsReceipt: 'processed', rtsToEndpoint: 'clinic-a' },
        { correlation_id: randomUUID() },
      );
      const notUuid = raw('clinic-b', { rtsType: 'consult.gossip' }, { message_id: `not-a-uuid-${randomUUID()}` });
      const unregistered = raw('ws-applicant-1', { rtsType: 'consult.gossip' });
      await s.endpoints['clinic-b']!.sendRaw(badReceipt);
      await s.endpoints['clinic-b']!.sendRaw(notUuid);
      await s.endpoints['ws-applicant-1']!.sendRaw(unregistered);
      // Answered after them on the same queue: by the time its receipt is here, theirs would be too.
      const sentinel = raw('clinic-b', { rtsType: 'consult.gossip' });
      await s.endpoints['clinic-b']!.sendRaw(sentinel);
      await s.endpoints['clinic-b']!.waitFor(receiptFor(sentinel.message_id, 'rejected'), 'the sentinel receipt');
      expect(await s.deadLetterOf(badReceipt.message_id)).toMatchObject({
        reason: 'malformed-properties',
        type: 'receipt',
      });
      expect(await s.deadLetterOf(notUuid.message_id)).toMatchObject({
        reason: 'malformed-properties',
        detail: expect.stringContaining('message_id'),
      });
      await expect
        .poll(() => s.deadLetterOf(unregistered.message_id))
        .toMatchObject({ reason: 'unknown-type', sender: 'ws-applicant-1' });
      const answered = new Set(
        s.endpoints['clinic-b']!.received.filter((m) => m.properties.rtsType === 'receipt').map((m) => m.correlationId),
      );
      expect(answered.has(badReceipt.message_id)).toBe(false);
      // A receipt names its message by correlation_id, a UUID: nothing can name this one, and nothing tried.
      expect(
        s.endpoints['clinic-b']!.received.filter((m) => m.properties.rtsType === 'receipt' && !m.correlationId),
      ).toEqual([]);
      expect(s.endpoints['ws-applicant-1']!.received).toEqual([]);
    });
  });

  it('lists and shows the directory entries it holds (rts hub directory list|show)', async () => {
    const published = await publishDelta('clinic-a', [
      { upsert: hospital('clinic-a.riverside', 'Riverside Hospital') },
      ...expertEntry(s.experts['clinic-a.dr-ahmed']!, {
        organizationId: 'clinic-a.riverside',
        endpoints: ['clinic-a'],
        family: 'Ahmed',
      }).map((upsert) => ({ upsert })),
      ...expertEntry(s.experts['clinic-a.dr-berg']!, {
        organizationId: 'clinic-a.riverside',
        endpoints: ['clinic-a'],
        family: 'Berg',
      }).map((upsert) => ({ upsert })),
    ]);
    await s.endpoints['clinic-a']!.waitFor(receiptFor(published, 'processed'), 'publish receipt');
    const retired = await publishDelta('clinic-a', [
      { retire: 'Practitioner/clinic-a.dr-berg' },
      { retire: 'PractitionerRole/clinic-a.dr-berg' },
    ]);
    await s.endpoints['clinic-a']!.waitFor(receiptFor(retired, 'processed'), 'retirement receipt');

    type Page = {
      entries: { id: string; clinic: string; name: string | null; organizationName: string | null; state: string }[];
      next?: string;
    };
    const all = await s.rtsJson<Page>('directory', 'list');
    expect(all.stderr).toBe('');
    expect(all.value.entries).toEqual([
      expect.objectContaining({
        id: 'clinic-a.dr-ahmed',
        clinic: 'clinic-a',
        name: 'Test Ahmed',
        organizationName: 'Riverside Hospital',
        state: 'live',
      }),
      expect.objectContaining({ id: 'clinic-a.dr-berg', clinic: 'clinic-a', name: null, state: 'retired' }),
    ]);
    expect(all.value.next).toBeUndefined();
    const first = await s.rtsJson<Page>('directory', 'list', '--limit', '1');
    expect(first.value).toMatchObject({ entries: [{ id: 'clinic-a.dr-ahmed' }], next: 'clinic-a.dr-ahmed' });
    expect(
      (await s.rtsJson<Page>('directory', 'list', '--limit', '1', '--after', first.value.next!)).value.entries.map(
        (e) => e.id,
      ),
    ).toEqual(['clinic-a.dr-berg']);
    expect((await s.rtsJson<Page>('directory', 'list', '--clinic', 'clinic-b')).value.entries).toEqual([]);
    expect((await s.rts('directory', 'list')).stdout).toMatch(
      /^clinic-a\.dr-ahmed {2}live {2}Test Ahmed {2}clinic-a {2}Riverside Hospital {2}version \d+$/m,
    );

    const signing = describeCertificate(s.experts['clinic-a.dr-ahmed']!.signing.certificate);
    const shown = await s.rtsJson<{
      certificates: { use: string; subject: string; serialNumber: string; notAfter: string }[];
      endpoints: string[];
    }>('directory', 'show', 'clinic-a.dr-ahmed');
    expect(shown.value.endpoints).toEqual(['clinic-a']);
    expect(shown.value.certificates).toEqual([
      { use: 'signing', subject: signing.subject, serialNumber: signing.serialNumber, notAfter: signing.notAfter },
      expect.objectContaining({ use: 'encryption', subject: expect.stringContaining('CN=clinic-a.dr-ahmed') }),
    ]);
    expect((await s.rts('directory', 'show', 'clinic-a.dr-ahmed')).stdout).toContain(
      `certificate (signing): ${signing.subject}, serial ${signing.serialNumber}, valid until ${signing.notAfter}`,
    );
    const missing = await s.rts('directory', 'show', 'clinic-a.dr-nobody');
    expect(missing.status).toBe(1);
    expect(missing.stderr).toBe('rts: hub-error: no directory entry clinic-a.dr-nobody\n');
    expect((await s.rtsJson<{ live: Record<string, number> }>('directory')).value.live).toEqual({
      Organization: 1,
      Practitioner: 1,
      PractitionerRole: 1,
    });
  });
});
