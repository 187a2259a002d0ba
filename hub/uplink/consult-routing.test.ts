import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION, UUID_PATTERN, type ApplicationProperties } from '../../shared/protocol/index.ts';
import * as store from '../store/hub-store.ts';
import {
  createUplinkFixture,
  describeForwards,
  describeSent,
  expertEntry,
  hospital,
  type UplinkFixture,
} from '../../testkit/index.ts';

/**
 * Consult messages and receipts routed by their clear-text properties (consult-routing.ts), through the processor on
 * PGlite: clinic-a publishes dr-berg (reached at clinic-a and ws-berg) and dr-gone (retired), clinic-b dr-chen.
 */
describe('uplink consult routing', () => {
  let hub: UplinkFixture;

  const consult = (to: string, options: { from?: string; sender?: string } = {}) => {
    const sender = options.sender ?? 'clinic-b';
    const properties: ApplicationProperties = {
      rtsType: 'consult.request',
      rtsVersion: PROTOCOL_VERSION,
      rtsSender: sender,
      rtsCase: randomUUID(),
      rtsFromPractitioner: options.from ?? 'clinic-b.dr-chen',
      rtsToPractitioner: to,
      rtsSequence: 1,
    };
    return hub.opaque(sender, properties);
  };
  const receipt = (from: string, about: string | undefined) =>
    hub.opaque(
      from,
      {
        rtsType: 'receipt',
        rtsVersion: PROTOCOL_VERSION,
        rtsSender: from,
        rtsReceipt: 'processed',
        rtsToEndpoint: 'clinic-b',
      },
      about === undefined ? {} : { correlationId: about },
    );

  beforeAll(async () => {
    hub = await createUplinkFixture();
    const clinics = { a: await hub.region.clinic('clinic-a'), b: await hub.region.clinic('clinic-b') };
    const [berg, gone, chen] = await Promise.all(
      ['clinic-a.dr-berg', 'clinic-a.dr-gone', 'clinic-b.dr-chen'].map((id) => hub.region.practitioner(id)),
    );
    for (const [id, signer] of [
      ['clinic-a', clinics.a],
      ['clinic-b', clinics.b],
    ] as const) {
      expect((await hub.process(await hub.registration(id, 'clinic-system', signer))).outcome).toEqual({
        outcome: 'processed',
      });
    }
    const a = await hub.process(
      await hub.publish(
        'clinic-a',
        {
          delta: [
            hospital('clinic-a.riverside', 'Riverside'),
            ...expertEntry(berg!, {
              organizationId: 'clinic-a.riverside',
              endpoints: ['clinic-a', 'ws-berg', 'ws-unregistered'],
            }),
            ...expertEntry(gone!, { organizationId: 'clinic-a.riverside', endpoints: ['clinic-a'] }),
          ].map((upsert) => ({ upsert })),
        },
        clinics.a,
      ),
    );
    const b = await hub.process(
      await hub.publish(
        'clinic-b',
        {
          delta: [
            hospital('clinic-b.hillview', 'Hillview'),
            ...expertEntry(chen!, { organizationId: 'clinic-b.hillview', endpoints: ['clinic-b'] }),
          ].map((upsert) => ({ upsert })),
        },
        clinics.b,
      ),
    );
    const retired = await hub.process(
      await hub.publish(
        'clinic-a',
        { delta: [{ retire: 'Practitioner/clinic-a.dr-gone' }, { retire: 'PractitionerRole/clinic-a.dr-gone' }] },
        clinics.a,
      ),
    );
    expect([a.outcome, b.outcome, retired.outcome]).toEqual(Array(3).fill({ outcome: 'processed' }));
    const workstation = await hub.process(await hub.registration('ws-berg', 'workstation', clinics.a));
    expect(workstation.outcome).toEqual({ outcome: 'processed' });
  }, 90_000);

  afterAll(async () => {
    await hub.close();
  });

  it('forwards a consult by reference to every registered endpoint of the expert, as the hub, records the route and answers delivered', async () => {
    const message = consult('clinic-a.dr-berg');
    const messageId = message.stored.properties.message_id;
    const { outcome, sent, forwards } = await hub.process(message);
    expect(outcome).toEqual({ outcome: 'delivered' });
    // ws-unregistered is listed but has no downlink: left out.
    expect(describeForwards(forwards)).toEqual([
      'clinic-a consult.request',
      'ws-berg consult.request',
      'clinic-b receipt:delivered',
    ]);
    // One copy for both, the same id and body, as the hub; nothing written to the outbox (the receipt goes with it).
    expect(forwards).toHaveLength(2);
    expect(forwards[0]!.message.properties).toEqual({ ...message.stored.properties, user_id: hub.identity.brokerUser });
    expect(forwards[0]!.message.body).toEqual(message.stored.body);
    expect(forwards[1]!.message.properties.correlation_id).toBe(messageId);
    const receiptId = forwards[1]!.message.properties.message_id;
    expect(receiptId).toMatch(UUID_PATTERN);
    expect(sent).toEqual([]);
    expect(await store.wasRouted(hub.sql, { messageId, sender: 'clinic-b', recipient: 'ws-berg' })).toBe(true);
    const stored = await hub.sql.query<{ n: number }>(
      "select count(*)::int as n from outbox_bodies where body = decode($1, 'hex')",
      [Buffer.from(message.stored.body).toString('hex')],
    );
    expect(stored[0]!.n).toBe(0);

    // The same message again: the first outcome's receipt, and no second copy.
    const again = await hub.process(message);
    expect(again.outcome).toEqual({ outcome: 'duplicate' });
    expect(describeForwards(again.forwards)).toEqual(['clinic-b receipt:delivered']);
    // With the same id: the endpoint's inbox absorbs it, as it would a receipt sent again after a crash.
    expect(again.forwards[0]!.message.properties.message_id).toBe(receiptId);
    expect(again.sent).toEqual([]);
  });

  it('refuses a consult to no one in the directory, or to a retired expert, as unknown-recipient and retired-expert', async () => {
    const nobody = await hub.process(consult('clinic-a.dr-nobody'));
    expect(nobody.outcome).toMatchObject({
      outcome: 'rejected',
      reason: 'unknown-recipient',
      detail: 'clinic-a.dr-nobody is not in the directory',
    });
    expect(describeSent(nobody.sent)).toEqual(['clinic-b receipt:rejected:unknown-recipient']);
    const gone = await hub.process(consult('clinic-a.dr-gone'));
    expect(gone.outcome).toMatchObject({ outcome: 'rejected', reason: 'retired-expert' });
    expect(describeSent(gone.sent)).toEqual(['clinic-b receipt:rejected:retired-expert']);
  });

  it('refuses a consult from a practitioner not reached at the sender (not-authorized)', async () => {
    const message = consult('clinic-b.dr-chen', { sender: 'ws-berg', from: 'clinic-b.dr-chen' });
    const { outcome, sent, forwards } = await hub.process(message);
    expect(outcome).toMatchObject({
      outcome: 'rejected',
      reason: 'not-authorized',
      detail: 'clinic-b.dr-chen is not a practitioner reached at ws-berg',
    });
    // Nothing forwarded: only the sender's rejection.
    expect(describeSent(sent)).toEqual(['ws-berg receipt:rejected:not-authorized']);
    expect(forwards).toEqual([]);
    expect((await hub.deadLetterOf(message.stored.properties.message_id))?.reason).toBe('not-authorized');
  });

  it('forwards a receipt only back along a route it made, and refuses others (not-authorized, missing-property)', async () => {
    const routed = consult('clinic-a.dr-berg');
    await hub.process(routed);
    const about = routed.stored.properties.message_id;

    const answer = await hub.process(receipt('ws-berg', about));
    expect(answer.outcome).toEqual({ outcome: 'processed' });
    expect(describeForwards(answer.forwards)).toEqual(['clinic-b receipt:processed']);
    expect(answer.sent).toEqual([]);

    const unrouted = await hub.process(receipt('ws-berg', randomUUID()));
    expect(unrouted.outcome).toMatchObject({
      outcome: 'rejected',
      reason: 'not-authorized',
      detail: expect.stringContaining('no message the hub routed from clinic-b to ws-berg'),
    });
    const aboutNothing = await hub.process(receipt('ws-berg', undefined));
    expect(aboutNothing.outcome).toMatchObject({ outcome: 'rejected', reason: 'missing-property' });
    // Receipts are never answered by receipts, and a refused one is not forwarded.
    expect([...unrouted.sent, ...aboutNothing.sent]).toEqual([]);
    expect([...unrouted.forwards, ...aboutNothing.forwards]).toEqual([]);
  });
});
