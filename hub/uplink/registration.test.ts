import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProvisioningError } from '../broker/endpoint-provisioner.ts';
import * as store from '../store/hub-store.ts';
import {
  createUplinkFixture,
  describeSent,
  expertEntry,
  hospital,
  type UplinkFixture,
  type TestIdentity,
} from '../../testkit/index.ts';

/** `endpoint.register` (registration.ts) through the processor, on PGlite, with a fake provisioner. */
describe('uplink registration', () => {
  let hub: UplinkFixture;
  let clinicA: TestIdentity;
  let clinicB: TestIdentity;

  beforeAll(async () => {
    hub = await createUplinkFixture();
    clinicA = await hub.region.clinic('clinic-a');
    clinicB = await hub.region.clinic('clinic-b');
  }, 60_000);

  afterAll(async () => {
    await hub.close();
  });

  it('registers a clinic system on its own certificate: provisioned, recorded, welcomed, sent the CRL, a receipt and a snapshot', async () => {
    const message = await hub.registration('clinic-a', 'clinic-system', clinicA);
    const { outcome, sent } = await hub.process(message);
    expect(outcome).toEqual({ outcome: 'processed' });
    expect(hub.provisioner.provisioned).toEqual(['clinic-a']);
    expect(await store.getEndpoint(hub.sql, 'clinic-a')).toMatchObject({
      kind: 'clinic-system',
      operator: 'clinic-a',
      name: 'clinic-a system',
      organization: 'clinic-a Health',
    });
    expect(Buffer.from((await store.getEndpoint(hub.sql, 'clinic-a'))!.certificate!).equals(clinicA.certificate)).toBe(
      true,
    );
    expect(describeSent(sent)).toEqual([
      'clinic-a hub.notice:registration-accepted',
      'clinic-a hub.notice:crl-updated',
      'clinic-a receipt:processed',
      'clinic-a directory.snapshot',
    ]);
    // Everything the hub sends goes as its broker user, correlated receipts naming the registration.
    expect(sent.every((row) => row.properties.user_id === hub.identity.brokerUser)).toBe(true);
    expect(sent[2]!.properties.correlation_id).toBe(message.stored.properties.message_id);
  });

  it("refuses a clinic system signed with another clinic's certificate (signer-mismatch), provisioning and recording nothing", async () => {
    const message = await hub.registration('clinic-b', 'clinic-system', clinicA);
    const { outcome, sent } = await hub.process(message);
    expect(outcome).toMatchObject({ outcome: 'rejected', reason: 'signer-mismatch' });
    expect((await hub.deadLetterOf(message.stored.properties.message_id))?.detail).toMatch(/this one names clinic-a/);
    expect(hub.provisioner.provisioned).toEqual(['clinic-a']);
    expect(await store.getEndpoint(hub.sql, 'clinic-b')).toBeUndefined();
    // Not registered: no downlink to answer on.
    expect(sent).toEqual([]);
  });

  it("refuses the hub's own name (not-authorized)", async () => {
    const hubCertificate = await hub.region.issue('clinic-system', 'hub');
    const { outcome } = await hub.process(await hub.registration('hub', 'clinic-system', hubCertificate));
    expect(outcome).toMatchObject({
      outcome: 'rejected',
      reason: 'not-authorized',
      detail: expect.stringContaining("the hub's own name"),
    });
    expect(await store.getEndpoint(hub.sql, 'hub')).toBeUndefined();
  });

  it('refuses when the broker refuses for good (not-authorized), and leaves a transient failure to be retried', async () => {
    hub.provisioner.fail = new ProvisioningError('no broker user clinic-b', true);
    const refused = await hub.process(await hub.registration('clinic-b', 'clinic-system', clinicB));
    expect(refused.outcome).toMatchObject({
      outcome: 'rejected',
      reason: 'not-authorized',
      detail: 'no broker user clinic-b',
    });

    hub.provisioner.fail = new ProvisioningError('management API unreachable', false, true);
    const retried = await hub.registration('clinic-b', 'clinic-system', clinicB);
    await expect(hub.process(retried)).rejects.toThrow('management API unreachable');
    // Rolled back whole: the message id is not spent, so the redelivery is processed.
    hub.provisioner.fail = undefined;
    expect((await hub.process(retried)).outcome).toEqual({ outcome: 'processed' });
    expect(await store.getEndpoint(hub.sql, 'clinic-b')).toMatchObject({ kind: 'clinic-system', operator: 'clinic-b' });
  });

  it('registers a workstation for the clinic whose practitioner signs, and refuses one whose role does not list it', async () => {
    const listed = await hub.region.practitioner('clinic-a.dr-field');
    const elsewhere = await hub.region.practitioner('clinic-a.dr-berg');
    const published = await hub.process(
      await hub.publish(
        'clinic-a',
        {
          delta: [
            hospital('clinic-a.riverside', 'Riverside'),
            ...expertEntry(listed, { organizationId: 'clinic-a.riverside', endpoints: ['ws-1'] }),
            ...expertEntry(elsewhere, { organizationId: 'clinic-a.riverside', endpoints: ['clinic-a'] }),
          ].map((upsert) => ({ upsert })),
        },
        clinicA,
      ),
    );
    expect(published.outcome).toEqual({ outcome: 'processed' });

    const refused = await hub.process(await hub.registration('ws-1', 'workstation', elsewhere.signing));
    expect(refused.outcome).toMatchObject({
      outcome: 'rejected',
      reason: 'signer-mismatch',
      detail: expect.stringContaining('does not list ws-1'),
    });
    expect(await store.getEndpoint(hub.sql, 'ws-1')).toBeUndefined();

    const accepted = await hub.process(await hub.registration('ws-1', 'workstation', listed.signing));
    expect(accepted.outcome).toEqual({ outcome: 'processed' });
    expect(await store.getEndpoint(hub.sql, 'ws-1')).toMatchObject({
      kind: 'workstation',
      operator: 'clinic-a',
      certificate: null,
    });
    expect(hub.provisioner.provisioned).toContain('ws-1');
  });

  it('refuses to hand an endpoint over to another operator (not-authorized)', async () => {
    // clinic-b is a registered clinic system with this certificate, but ws-1 is clinic-a's.
    const { outcome } = await hub.process(await hub.registration('ws-1', 'workstation', clinicB));
    expect(outcome).toMatchObject({
      outcome: 'rejected',
      reason: 'not-authorized',
      detail: 'ws-1 is operated by clinic-a',
    });
    expect((await store.getEndpoint(hub.sql, 'ws-1'))?.operator).toBe('clinic-a');
  });
});
