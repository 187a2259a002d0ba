import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DirectoryResource } from '../../shared/protocol/fhir/index.ts';
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

  it('applies each batch of a full list as it arrives, and retires what the clinic no longer lists after the last', async () => {
    const batch = { id: randomUUID(), count: 2 };
    const berg = expertEntry(experts['clinic-a.dr-berg']!, {
      organizationId: 'clinic-a.riverside',
      endpoints: ['clinic-a'],
    });
    const first = await hub.process(
      await hub.publish(
        'clinic-a',
        { full: [hospital('clinic-a.riverside', 'Riverside'), ...berg] },
        clinics['clinic-a']!,
        {
          ...batch,
          index: 1,
        },
      ),
    );
    // dr-berg is new: fanned out at once. The hospital is unchanged, and dr-ahmed, not listed so far, stays.
    expect(describeSent(first.sent)).toEqual([
      'clinic-a directory.update',
      'clinic-b directory.update',
      'clinic-a receipt:processed',
    ]);
    expect(await store.getPublishSet(hub.sql, batch.id)).toMatchObject({ publisher: 'clinic-a', state: 'collecting' });
    expect(await store.directoryVersion(hub.sql)).toBe(2);
    expect(await store.findRole(hub.sql, 'clinic-a.dr-berg')).toMatchObject({ retired: false });
    expect(await store.findRole(hub.sql, 'clinic-a.dr-ahmed')).toMatchObject({ retired: false });

    const second = await hub.process(
      await hub.publish('clinic-a', { full: [hospital('clinic-a.riverside', 'Riverside')] }, clinics['clinic-a']!, {
        ...batch,
        index: 2,
      }),
    );
    expect(second.outcome).toEqual({ outcome: 'processed' });
    expect(describeSent(second.sent)).toEqual([
      'clinic-a directory.update',
      'clinic-b directory.update',
      'clinic-a receipt:processed',
    ]);
    expect(await store.getPublishSet(hub.sql, batch.id)).toMatchObject({ state: 'applied', reason: null });
    expect(await store.directoryVersion(hub.sql)).toBe(3);
    expect(await store.findRole(hub.sql, 'clinic-a.dr-berg')).toMatchObject({ retired: false });
    expect(await store.findRole(hub.sql, 'clinic-a.dr-ahmed')).toMatchObject({ retired: true });

    // A batch of the applied set under a new message id changes nothing.
    const late = await hub.process(
      await hub.publish('clinic-a', { full: [hospital('clinic-a.riverside', 'Riverside')] }, clinics['clinic-a']!, {
        ...batch,
        index: 1,
      }),
    );
    expect(late.outcome).toMatchObject({ outcome: 'rejected', reason: 'malformed-properties' });
    expect(await store.directoryVersion(hub.sql)).toBe(3);
  });

  it('refuses only the entries of a refused batch; the list completes without retiring anything', async () => {
    const batch = { id: randomUUID(), count: 3 };
    const send = (index: number, full: DirectoryResource[]) =>
      hub.publish('clinic-a', { full }, clinics['clinic-a']!, { ...batch, index }).then((m) => hub.process(m));
    const ahmed = expertEntry(experts['clinic-a.dr-ahmed']!, {
      organizationId: 'clinic-a.riverside',
      endpoints: ['clinic-a'],
    });
    expect((await send(1, [hospital('clinic-a.riverside', 'Riverside'), ...ahmed])).outcome).toEqual({
      outcome: 'processed',
    });
    expect(await store.findRole(hub.sql, 'clinic-a.dr-ahmed')).toMatchObject({ retired: false });
    // A role reaching into clinic-b's organization: this batch is refused, with the reason, and nothing of it applied.
    const reaching = expertEntry(experts['clinic-a.dr-berg']!, {
      organizationId: 'clinic-b.hillview',
      endpoints: ['clinic-a'],
    });
    const refused = await send(2, reaching);
    expect(refused.outcome).toMatchObject({ outcome: 'rejected', reason: 'not-authorized' });
    expect(describeSent(refused.sent)).toEqual(['clinic-a receipt:rejected:not-authorized']);
    const version = await store.directoryVersion(hub.sql);
    expect(await store.getPublishSet(hub.sql, batch.id)).toMatchObject({ state: 'collecting' });
    // Batch 1 again under a new message id, now listing dr-berg too: refused, nothing applied, the set's listing stands.
    const berg = expertEntry(experts['clinic-a.dr-berg']!, {
      organizationId: 'clinic-a.riverside',
      endpoints: ['clinic-a'],
    });
    const repeated = await send(1, [hospital('clinic-a.riverside', 'Riverside'), ...ahmed, ...berg]);
    expect(repeated.outcome).toMatchObject({
      outcome: 'rejected',
      reason: 'malformed-properties',
      detail: expect.stringContaining(`batch 1 of set ${batch.id} came already`),
    });
    expect(await store.directoryVersion(hub.sql)).toBe(version);

    // The last batch lists neither dr-berg nor (its entries refused) anything of batch 2: nobody is retired.
    const last = await send(3, [hospital('clinic-a.riverside', 'Riverside')]);
    expect(describeSent(last.sent)).toEqual(['clinic-a receipt:processed']);
    expect(await store.directoryVersion(hub.sql)).toBe(version);
    expect(await store.findRole(hub.sql, 'clinic-a.dr-berg')).toMatchObject({ retired: false });
    expect(await store.getPublishSet(hub.sql, batch.id)).toMatchObject({
      state: 'applied',
      reason: expect.stringContaining('batch 2 was refused (not-authorized): nothing retired'),
    });
  });

  it('completes a list whose last batch is the refused one, retiring nothing', async () => {
    const batch = { id: randomUUID(), count: 2 };
    const send = (index: number, full: DirectoryResource[]) =>
      hub.publish('clinic-a', { full }, clinics['clinic-a']!, { ...batch, index }).then((m) => hub.process(m));
    // Batch 1 lists only the hospital: had the list completed cleanly, every expert of clinic-a would be retired.
    expect((await send(1, [hospital('clinic-a.riverside', 'Riverside')])).outcome).toEqual({ outcome: 'processed' });
    const reaching = expertEntry(experts['clinic-a.dr-berg']!, {
      organizationId: 'clinic-b.hillview',
      endpoints: ['clinic-a'],
    });
    expect((await send(2, reaching)).outcome).toMatchObject({ outcome: 'rejected', reason: 'not-authorized' });
    expect(await store.getPublishSet(hub.sql, batch.id)).toMatchObject({
      state: 'applied',
      reason: expect.stringContaining('batch 2 was refused'),
    });
    expect(await store.findRole(hub.sql, 'clinic-a.dr-ahmed')).toMatchObject({ retired: false });
    expect(await store.findRole(hub.sql, 'clinic-a.dr-berg')).toMatchObject({ retired: false });
  });

  it('applies the resources of a batch a hub collected before it applied batches as they came, when the set completes', async () => {
    const batch = { id: randomUUID(), count: 2 };
    const berg = expertEntry(experts['clinic-a.dr-berg']!, {
      organizationId: 'clinic-a.riverside',
      endpoints: ['clinic-a'],
    });
    await hub.process(
      await hub.publish(
        'clinic-a',
        { delta: [{ retire: 'PractitionerRole/clinic-a.dr-berg' }, { retire: 'Practitioner/clinic-a.dr-berg' }] },
        clinics['clinic-a']!,
      ),
    );
    expect(await store.findRole(hub.sql, 'clinic-a.dr-berg')).toMatchObject({ retired: true });
    // As a hub of schema 4 left it: batch 1 stored with its resources, not applied.
    await store.createPublishSet(hub.sql, { batchId: batch.id, publisher: 'clinic-a', batchCount: 2, at: new Date() });
    await hub.sql.query(
      'insert into publish_batches (batch_id, batch_index, message_id, entries) values ($1, 1, $2, $3)',
      [batch.id, randomUUID(), JSON.stringify([hospital('clinic-a.riverside', 'Riverside'), ...berg])],
    );
    const before = await store.directoryVersion(hub.sql);
    const ahmed = expertEntry(experts['clinic-a.dr-ahmed']!, {
      organizationId: 'clinic-a.riverside',
      endpoints: ['clinic-a'],
    });
    await hub.process(await hub.publish('clinic-a', { full: ahmed }, clinics['clinic-a']!, { ...batch, index: 2 }));
    expect(await store.getPublishSet(hub.sql, batch.id)).toMatchObject({ state: 'applied', reason: null });
    expect(await store.findRole(hub.sql, 'clinic-a.dr-ahmed')).toMatchObject({ retired: false });
    // The stored batch is applied: dr-berg, retired before, is back.
    expect(await store.findRole(hub.sql, 'clinic-a.dr-berg')).toMatchObject({ retired: false });
    // And what it listed counts as listed: the hospital, live before and named only by that batch, stays.
    expect(
      await hub.sql.query('select retired from directory_entries where url = $1', ['Organization/clinic-a.riverside']),
    ).toEqual([{ retired: false }]);
    expect(await store.directoryVersion(hub.sql)).toBeGreaterThan(before);
  });

  it('writes a hospital that two collected batches both name, changed, once', async () => {
    const batch = { id: randomUUID(), count: 3 };
    await store.createPublishSet(hub.sql, { batchId: batch.id, publisher: 'clinic-a', batchCount: 3, at: new Date() });
    const renamed = hospital('clinic-a.riverside', 'Riverside University Hospital');
    for (const index of [1, 2])
      await hub.sql.query(
        'insert into publish_batches (batch_id, batch_index, message_id, entries) values ($1, $2, $3, $4)',
        [batch.id, index, randomUUID(), JSON.stringify([renamed])],
      );
    const last = await hub.process(
      await hub.publish('clinic-a', { full: [hospital('clinic-a.annex', 'Riverside Annex')] }, clinics['clinic-a']!, {
        ...batch,
        index: 3,
      }),
    );
    expect(last.outcome).toEqual({ outcome: 'processed' });
    expect(await store.getPublishSet(hub.sql, batch.id)).toMatchObject({ state: 'applied' });
    expect(await store.directoryStats(hub.sql)).toMatchObject({ live: { Organization: 2 } });
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
    expect((await store.publishBatch(hub.sql, batch.id, 1))?.entries).toContain('Organization/clinic-a.riverside');
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

  it('answers with the first problem in entry order, though certificates are checked together', async () => {
    const berg = experts['clinic-a.dr-berg']!;
    // Entry 1: an encryption certificate that is a signing one (wrong-key-usage); a later entry is another clinic's.
    const [practitioner] = expertEntry(
      { ...berg, encryption: berg.signing },
      { organizationId: 'clinic-a.riverside', endpoints: ['clinic-a'] },
    );
    const outcome = async (delta: DirectoryResource[]) =>
      (
        await hub.process(
          await hub.publish('clinic-a', { delta: delta.map((upsert) => ({ upsert })) }, clinics['clinic-a']!),
        )
      ).outcome;
    expect(await outcome([practitioner!, hospital('clinic-b.hillview', 'Hillview')])).toMatchObject({
      outcome: 'rejected',
      reason: 'wrong-key-usage',
    });
    expect(await outcome([hospital('clinic-b.hillview', 'Hillview'), practitioner!])).toMatchObject({
      outcome: 'rejected',
      reason: 'not-authorized',
    });
    // Two refused Practitioners: the first one's reason, whichever check ends first.
    const [misnamed] = expertEntry(
      { ...berg, id: 'clinic-a.dr-other' },
      { organizationId: 'clinic-a.riverside', endpoints: ['clinic-a'] },
    );
    expect(await outcome([practitioner!, misnamed!])).toMatchObject({ reason: 'wrong-key-usage' });
    expect(await outcome([misnamed!, practitioner!])).toMatchObject({ reason: 'not-authorized' });
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
