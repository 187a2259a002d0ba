import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as store from '../store/hub-store.ts';
import {
  createUplinkFixture,
  describeSent,
  expertEntry,
  hospital,
  type UplinkFixture,
  type TestIdentity,
  type TestPractitioner,
} from '../../testkit/index.ts';

/** A clinic system's `directory.publish` (directory-publish.ts) through the processor, on PGlite. */
describe('uplink directory publish', () => {
  let hub: UplinkFixture;
  const clinics: Record<string, TestIdentity> = {};
  const experts: Record<string, TestPractitioner> = {};

  beforeAll(async () => {
    hub = await createUplinkFixture();
    for (const id of ['clinic-a', 'clinic-b']) {
      clinics[id] = await hub.region.clinic(id);
      expect((await hub.process(await hub.registration(id, 'clinic-system', clinics[id]))).outcome).toEqual({
        outcome: 'processed',
      });
    }
    for (const id of ['clinic-a.dr-ahmed', 'clinic-a.dr-berg', 'clinic-b.dr-chen'])
      experts[id] = await hub.region.practitioner(id);
  }, 90_000);

  afterAll(async () => {
    await hub.close();
  });

  it('applies a delta as the next directory version, fans it out to every endpoint signed by the hub, and answers processed', async () => {
    const message = await hub.publish(
      'clinic-a',
      {
        delta: [
          hospital('clinic-a.riverside', 'Riverside'),
          ...expertEntry(experts['clinic-a.dr-ahmed']!, {
            organizationId: 'clinic-a.riverside',
            endpoints: ['clinic-a'],
          }),
        ].map((upsert) => ({ upsert })),
      },
      clinics['clinic-a']!,
    );
    const { outcome, sent } = await hub.process(message);
    expect(outcome).toEqual({ outcome: 'processed' });
    expect(describeSent(sent)).toEqual([
      'clinic-a directory.update',
      'clinic-b directory.update',
      'clinic-a receipt:processed',
    ]);
    expect(sent[0]!.properties.application_properties).toMatchObject({
      rtsSender: 'hub',
      rtsDirectoryBaseVersion: 0,
      rtsDirectoryVersion: 1,
    });
    expect(await store.directoryVersion(hub.sql)).toBe(1);
    expect(await store.findRole(hub.sql, 'clinic-a.dr-ahmed')).toEqual({
      publisher: 'clinic-a',
      retired: false,
      endpoints: ['clinic-a'],
    });

    // The same entries again change nothing: no new version, nothing fanned out.
    const unchanged = await hub.process(
      await hub.publish(
        'clinic-a',
        {
          delta: [
            hospital('clinic-a.riverside', 'Riverside'),
            ...expertEntry(experts['clinic-a.dr-ahmed']!, {
              organizationId: 'clinic-a.riverside',
              endpoints: ['clinic-a'],
            }),
          ].map((upsert) => ({ upsert })),
        },
        clinics['clinic-a']!,
      ),
    );
    expect(describeSent(unchanged.sent)).toEqual(['clinic-a receipt:processed']);
    expect(await store.directoryVersion(hub.sql)).toBe(1);
  });

  it('applies a full list once its last batch arrived, retiring what the clinic no longer lists', async () => {
    const batch = { id: randomUUID(), count: 2 };
    const first = await hub.process(
      await hub.publish('clinic-a', { full: [hospital('clinic-a.riverside', 'Riverside')] }, clinics['clinic-a']!, {
        ...batch,
        index: 1,
      }),
    );
    expect(describeSent(first.sent)).toEqual(['clinic-a receipt:processed']);
    expect(await store.getPublishSet(hub.sql, batch.id)).toMatchObject({ publisher: 'clinic-a', state: 'collecting' });
    expect(await store.directoryVersion(hub.sql)).toBe(1);

    const second = await hub.process(
      await hub.publish(
        'clinic-a',
        {
          full: expertEntry(experts['clinic-a.dr-berg']!, {
            organizationId: 'clinic-a.riverside',
            endpoints: ['clinic-a'],
          }),
        },
        clinics['clinic-a']!,
        { ...batch, index: 2 },
      ),
    );
    expect(second.outcome).toEqual({ outcome: 'processed' });
    expect(await store.getPublishSet(hub.sql, batch.id)).toMatchObject({ state: 'applied' });
    expect(await store.directoryVersion(hub.sql)).toBe(2);
    expect(await store.findRole(hub.sql, 'clinic-a.dr-berg')).toMatchObject({ retired: false });
    expect(await store.findRole(hub.sql, 'clinic-a.dr-ahmed')).toMatchObject({ retired: true });
  });

  it("refuses a batch of another publisher's set (not-authorized), and leaves that set alone", async () => {
    const batch = { id: randomUUID(), count: 2 };
    await hub.process(
      await hub.publish('clinic-a', { full: [hospital('clinic-a.riverside', 'Riverside')] }, clinics['clinic-a']!, {
        ...batch,
        index: 1,
      }),
    );
    const intruder = await hub.publish(
      'clinic-b',
      { full: [hospital('clinic-b.hillview', 'Hillview')] },
      clinics['clinic-b']!,
      { ...batch, index: 2 },
    );
    const { outcome, sent } = await hub.process(intruder);
    expect(outcome).toMatchObject({
      outcome: 'rejected',
      reason: 'not-authorized',
      detail: `batch set ${batch.id} belongs to clinic-a`,
    });
    expect(describeSent(sent)).toEqual(['clinic-b receipt:rejected:not-authorized']);
    expect(await store.getPublishSet(hub.sql, batch.id)).toMatchObject({ publisher: 'clinic-a', state: 'collecting' });
    expect(await store.publishBatchEntries(hub.sql, batch.id, 1)).toContain('clinic-a.riverside');
  });

  it("refuses entries outside the clinic's namespace (not-authorized) and a publish signed by another clinic (signer-mismatch), changing nothing", async () => {
    const before = await store.directoryVersion(hub.sql);
    const foreign = await hub.process(
      await hub.publish(
        'clinic-b',
        {
          delta: expertEntry(experts['clinic-a.dr-berg']!, {
            organizationId: 'clinic-a.riverside',
            endpoints: ['clinic-b'],
          }).map((upsert) => ({ upsert })),
        },
        clinics['clinic-b']!,
      ),
    );
    expect(foreign.outcome).toMatchObject({
      outcome: 'rejected',
      reason: 'not-authorized',
      detail: expect.stringContaining('clinic-b may publish only directory ids starting with "clinic-b."'),
    });

    const misSigned = await hub.process(
      await hub.publish(
        'clinic-b',
        { delta: [{ upsert: hospital('clinic-b.hillview', 'Hillview') }] },
        clinics['clinic-a']!,
      ),
    );
    expect(misSigned.outcome).toMatchObject({ outcome: 'rejected', reason: 'signer-mismatch' });
    expect(describeSent(misSigned.sent)).toEqual(['clinic-b receipt:rejected:signer-mismatch']);
    expect(await store.directoryVersion(hub.sql)).toBe(before);
    expect(await store.resourcesByUrl(hub.sql, ['Organization/clinic-b.hillview'])).toEqual([undefined]);
  });

  it('refuses a publish from a sender that is not a registered clinic system (not-authorized), with no receipt to send', async () => {
    const stranger = await hub.region.clinic('clinic-z');
    const message = await hub.publish('clinic-z', { delta: [{ upsert: hospital('clinic-z.hq', 'HQ') }] }, stranger);
    const { outcome, sent } = await hub.process(message);
    expect(outcome).toMatchObject({
      outcome: 'rejected',
      reason: 'not-authorized',
      detail: 'clinic-z is not a registered clinic system',
    });
    expect(sent).toEqual([]);
    expect(await hub.deadLetterOf(message.stored.properties.message_id)).toMatchObject({ reason: 'not-authorized' });
  });
});
