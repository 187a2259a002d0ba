import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION, type ApplicationProperties } from '../../shared/protocol/index.ts';
import { createCertificateCache } from '../../shared-node/index.ts';
import * as store from '../store/hub-store.ts';
import { DEFAULT_SNAPSHOT_INTERVAL_MS } from '../uplink-limits.ts';
import { admit, claim, claimAll } from './admission.ts';
import { createProcessContext, type Hub, type UplinkMessage } from './context.ts';
import { createUplinkFixture, describeSent, type UplinkFixture } from '../../testkit/index.ts';

/**
 * Admission (admission.ts): properties and sender, decoded once per message, and de-duplication by message id; on
 * PGlite, by its exported functions and through the processor for what a refusal leaves behind.
 */
describe('uplink admission', () => {
  let fixture: UplinkFixture;
  let hub: Hub;

  const snapshotRequest = (sender: string, options: { userId?: string; routingKey?: string } = {}) => {
    const properties: ApplicationProperties = {
      rtsType: 'directory.snapshot-request',
      rtsVersion: PROTOCOL_VERSION,
      rtsSender: sender,
    };
    const message = fixture.opaque(sender, properties, options.userId === undefined ? {} : { userId: options.userId });
    return options.routingKey === undefined ? message : { ...message, routingKey: options.routingKey };
  };
  const consult = (sender: string): UplinkMessage =>
    fixture.opaque(sender, {
      rtsType: 'consult.request',
      rtsVersion: PROTOCOL_VERSION,
      rtsSender: sender,
      rtsCase: randomUUID(),
      rtsFromPractitioner: `${sender}.dr-x`,
      rtsToPractitioner: 'clinic-a.dr-nobody',
      rtsSequence: 1,
    });
  const inTransaction = <T>(work: (context: ReturnType<typeof createProcessContext>) => Promise<T>) =>
    fixture.sql.transaction((tx) =>
      work(createProcessContext(tx, { by: 'test', until: new Date(Date.now() + 30_000) }, 'uplink')),
    );

  beforeAll(async () => {
    fixture = await createUplinkFixture();
    hub = {
      identity: fixture.identity,
      certificates: createCertificateCache(fixture.trust),
      provisioner: fixture.provisioner,
      snapshotIntervalMs: DEFAULT_SNAPSHOT_INTERVAL_MS,
      now: () => new Date(),
      trust: fixture.trust,
      admissions: new WeakMap(),
    };
    const clinicB = await fixture.region.clinic('clinic-b');
    expect((await fixture.process(await fixture.registration('clinic-b', 'clinic-system', clinicB))).outcome).toEqual({
      outcome: 'processed',
    });
  }, 60_000);

  afterAll(async () => {
    await fixture.close();
  });

  it('admits a message whose sender is the broker-verified user, decoding it once', () => {
    const message = snapshotRequest('clinic-a', { routingKey: 'clinic-a' });
    const admission = admit(hub, message);
    expect(admission).toMatchObject({
      ok: true,
      sender: 'clinic-a',
      type: 'directory.snapshot-request',
      messageId: message.stored.properties.message_id,
    });
    expect(admit(hub, message)).toBe(admission);
  });

  it('refuses a sender that is not the broker-verified user or the uplink routing key (forged-sender)', () => {
    expect(admit(hub, snapshotRequest('clinic-a', { userId: 'clinic-b' }))).toMatchObject({
      ok: false,
      reason: 'forged-sender',
      detail: 'rtsSender clinic-a differs from the broker-verified sender clinic-b',
    });
    expect(admit(hub, snapshotRequest('clinic-a', { routingKey: 'clinic-b' }))).toMatchObject({
      ok: false,
      reason: 'forged-sender',
      detail: 'rtsSender clinic-a differs from the uplink routing key clinic-b',
    });
    // Artemis vouches by the uplink address and delivers any user_id as written.
    const vouchedByAddress = { ...snapshotRequest('clinic-a', { userId: 'clinic-b' }), verifiedSender: 'clinic-a' };
    expect(admit(hub, vouchedByAddress)).toMatchObject({
      ok: false,
      reason: 'forged-sender',
      detail: 'user_id clinic-b differs from the broker-verified sender clinic-a',
    });
  });

  it('refuses a registration of megabytes before anything is parsed (too-large)', () => {
    const message = fixture.opaque(
      'clinic-a',
      { rtsType: 'endpoint.register', rtsVersion: PROTOCOL_VERSION, rtsSender: 'clinic-a' },
      { bytes: 70_000 },
    );
    expect(admit(hub, message)).toMatchObject({
      ok: false,
      reason: 'too-large',
      detail: 'body: 70000 bytes, limit 65536 for endpoint.register',
    });
  });

  it('claims a message id once: a redelivery in a later transaction, or a repeat within a burst, is not claimed again', async () => {
    const first = consult('clinic-b');
    const admission = admit(hub, first);
    if (!admission.ok) throw new Error(admission.detail);
    expect(await inTransaction((context) => claim(hub, context, admission))).toBe(true);
    expect(await inTransaction((context) => claim(hub, context, admission))).toBe(false);
    expect(await store.getProcessed(fixture.sql, admission.messageId)).toEqual({
      outcome: 'delivered',
      reason: null,
      sender: 'clinic-b',
    });

    const fresh = consult('clinic-b');
    const burst = [first, fresh, fresh, snapshotRequest('clinic-a', { userId: 'clinic-b' })];
    const claimed = await inTransaction(async (context) => {
      await claimAll(hub, context, burst);
      const outcomes: boolean[] = [];
      for (const message of burst.slice(0, 3)) {
        const admitted = admit(hub, message);
        if (admitted.ok) outcomes.push(await claim(hub, context, admitted));
      }
      return outcomes;
    });
    expect(claimed).toEqual([false, true, false]);
  });

  it("answers a replayed message id with the first outcome's receipt and nothing else, and dead-letters a forged sender", async () => {
    const message = consult('clinic-b');
    const first = await fixture.process(message);
    expect(first.outcome).toMatchObject({ outcome: 'rejected', reason: 'unknown-recipient' });
    const replayed = await fixture.process(message);
    expect(replayed.outcome).toEqual({ outcome: 'duplicate' });
    expect(describeSent(replayed.sent)).toEqual(['clinic-b receipt:rejected:unknown-recipient']);
    expect(
      (
        await fixture.sql.query('select 1 from dead_letters where message_id = $1', [
          message.stored.properties.message_id,
        ])
      ).length,
    ).toBe(1);

    // The rejection goes to who really sent it (user_id), not to the sender it claims.
    const forged = snapshotRequest('clinic-a', { userId: 'clinic-b' });
    const refused = await fixture.process(forged);
    expect(refused.outcome).toMatchObject({ outcome: 'rejected', reason: 'forged-sender' });
    expect(describeSent(refused.sent)).toEqual(['clinic-b receipt:rejected:forged-sender']);
    expect(await fixture.deadLetterOf(forged.stored.properties.message_id)).toMatchObject({ reason: 'forged-sender' });
  });
});
