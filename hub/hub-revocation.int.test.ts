import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Bundle } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createCrl,
  derToPem,
  describeCertificate,
  PEM_LABELS,
  pemToDerAll,
  type RevokedSerial,
} from '../shared/pki/index.ts';
import { readHubNotice } from '../shared/protocol/fhir/index.ts';
import { openMessage } from '../shared/protocol/index.ts';
import {
  createTestRegion,
  receiptFor,
  until,
  startRevocationSuite,
  type ReceivedMessage,
  type RevocationSuite,
} from '../testkit/index.ts';

/**
 * Issue #17 at the hub, on the real broker and PostgreSQL (PGlite without one): revocation that takes effect without
 * a restart and reaches every endpoint, and the CRL's nextUpdate watched. The rejected receipts for the AMQP
 * properties and `rts hub directory list|show` are hub-property-receipts.int.test.ts.
 */
const DAY = 86_400_000;

describe('hub: revocation', () => {
  let s: RevocationSuite;
  /** Serial numbers on the CRL the hub holds, and its number. */
  let revoked: RevokedSerial[] = [];
  let crlNumber = 1;

  const isNotice = (notice: string) => (m: ReceivedMessage) =>
    m.properties.rtsType === 'hub.notice' && m.properties.rtsNotice === notice;

  /** Writes the region's next CRL into the file the hub reads (trust.crlFiles). */
  async function publishCrl(
    options: { add?: Uint8Array; number?: number; thisUpdate?: Date; validityDays?: number } = {},
  ): Promise<Uint8Array> {
    if (options.add)
      revoked = [
        ...revoked,
        { serialNumber: describeCertificate(options.add).serialNumber, revocationDate: new Date() },
      ];
    crlNumber = options.number ?? crlNumber + 1;
    const crl = await createCrl(s.region.ca, {
      crlNumber,
      revoked,
      ...(options.thisUpdate && { thisUpdate: options.thisUpdate }),
      ...(options.validityDays !== undefined && { validityDays: options.validityDays }),
    });
    writeFileSync(s.region.files.crl, derToPem(crl, PEM_LABELS.crl));
    return crl;
  }

  /** Opens a hub message as an endpoint would, under the CRL the test holds now: signature, chain, the hub as signer, payload. */
  async function openFromHub(m: ReceivedMessage, crls: Uint8Array[]): Promise<Bundle> {
    const opened = await openMessage(m.raw, {
      trust: { anchors: [s.region.ca.certificate], crls },
      recipientFor: () => undefined,
      expectedSigners: () => [s.region.hub.certificate],
    });
    if (!opened.ok) throw new Error(`hub message did not open: ${opened.error.code}: ${opened.error.detail}`);
    return opened.value.payload as unknown as Bundle;
  }

  beforeAll(async () => {
    s = await startRevocationSuite('hub-revocation');
    revoked = [
      { serialNumber: describeCertificate(s.region.revoked.certificate).serialNumber, revocationDate: new Date() },
    ];
  }, 90_000);

  afterAll(async () => {
    await s?.close();
  });

  it('sends a newly registered endpoint the CRL in use right after registration-accepted', async () => {
    const startCrl = pemToDerAll(readFileSync(s.region.files.crl, 'utf8'), PEM_LABELS.crl);
    for (const id of ['clinic-a', 'clinic-b']) {
      const registered = await s.register(id);
      await s.endpoints[id]!.waitFor(receiptFor(registered, 'processed'), 'registration receipt');
      const notices = s.endpoints[id]!.received.filter((m) => m.properties.rtsType === 'hub.notice');
      expect(notices.map((m) => m.properties.rtsNotice).slice(0, 2)).toEqual(['registration-accepted', 'crl-updated']);
      expect(notices[1]!.properties.rtsToEndpoint).toBe(id);
      const notice = readHubNotice(await openFromHub(notices[1]!, startCrl));
      expect(notice.crl).toEqual(startCrl[0]);
      expect(notice.text).toMatch(
        /number 1, .*apply it if it verifies against your trust anchors and is newer than yours/,
      );
    }
    const status = await s.rtsJson<{
      healthy: boolean;
      trust: { state: string; crls: { crlNumber: number; revoked: number; state: string }[] };
    }>('status');
    expect(status.value).toMatchObject({
      healthy: true,
      trust: { state: 'current', crls: [{ crlNumber: 1, revoked: 1, state: 'current' }] },
    });
    expect((await s.rts('status')).stdout).toMatch(
      /CRL of .*Test Region Root CA.*: current, number 1, 1 revoked, next update /,
    );
  });

  it('refuses a certificate revoked while it runs, from the next message on, and sends the new CRL to every endpoint', async () => {
    const before = await s.requestSnapshot('clinic-b');
    await s.endpoints['clinic-b']!.waitFor(receiptFor(before, 'processed'), 'snapshot request before the revocation');

    const crl = await publishCrl({ add: s.clinics['clinic-b']!.certificate });
    const reload = await s.rtsJson<{
      taken: { crlNumber: number }[];
      trust: { crls: { crlNumber: number; revoked: number }[] };
    }>('reload-trust');
    expect(reload.status).toBe(0);
    // The 2-second timer may have taken it first: either way it is the CRL in use now.
    expect(reload.value.trust.crls).toMatchObject([{ crlNumber: 2, revoked: 2 }]);

    const after = await s.requestSnapshot('clinic-b');
    const refused = await s.endpoints['clinic-b']!.waitFor(
      receiptFor(after, 'rejected'),
      'rejected receipt after the revocation',
    );
    expect(refused.properties.rtsReason).toBe('certificate-revoked');
    expect(await s.deadLetterOf(after)).toMatchObject({ reason: 'certificate-revoked' });

    for (const id of ['clinic-a', 'clinic-b']) {
      const notice = await s.endpoints[id]!.waitFor(
        (m) => isNotice('crl-updated')(m) && m.properties.rtsToEndpoint === undefined,
        `crl-updated to every endpoint (${id})`,
      );
      const content = readHubNotice(await openFromHub(notice, [crl]));
      expect(content).toMatchObject({ notice: 'crl-updated', crl });
      expect(content.text).toContain('number 2');
    }
    // Once, however many reloads saw it (the other row is CRL 1, recorded at start with no endpoint registered yet).
    expect(await s.hub.sql.query('select crl_number, endpoints from crl_distributions order by crl_number')).toEqual([
      { crl_number: 1, endpoints: 0 },
      { crl_number: 2, endpoints: 2 },
    ]);
    expect(s.logged.filter((e) => e.event === 'crl-taken')).toMatchObject([{ crlNumber: 2 }]);
  });

  it('keeps the CRL in use against an older or foreign CRL file, and reports it', async () => {
    const inUse = await publishCrl({ number: 3 });
    await expect.poll(() => s.hub.trustStatus().crls[0]?.crlNumber, { timeout: 15_000 }).toBe(3);
    writeFileSync(
      s.region.files.crl,
      derToPem(await createCrl(s.region.ca, { crlNumber: 2, revoked }), PEM_LABELS.crl),
    );
    const older = await s.rtsJson<{
      taken: unknown[];
      refused: { detail: string }[];
      trust: { crls: { crlNumber: number }[] };
    }>('reload-trust');
    expect(older.status).toBe(1);
    expect(older.value).toMatchObject({
      taken: [],
      refused: [{ detail: expect.stringMatching(/^older than the CRL in use \(number 2, .*in use: number 3/) }],
      trust: { crls: [{ crlNumber: 3 }] },
    });
    expect((await s.rts('reload-trust')).stdout).toMatch(
      /^no newer CRL: the CRL in use stays\nrefused .*ca\.crl\.pem: older than the CRL in use/,
    );

    const stranger = await createTestRegion(join(s.dir, 'stranger'), 'Stranger Region');
    writeFileSync(s.region.files.crl, derToPem(await createCrl(stranger.ca, { crlNumber: 99 }), PEM_LABELS.crl));
    const foreign = await s.rtsJson<{ refused: { detail: string }[]; trust: { crls: { crlNumber: number }[] } }>(
      'reload-trust',
    );
    expect(foreign.value).toMatchObject({
      refused: [
        { detail: expect.stringMatching(/Stranger Region Root CA.* that none of this hub's trust anchors signed/) },
      ],
      trust: { crls: [{ crlNumber: 3 }] },
    });
    expect(s.logged.filter((e) => e.event === 'crl-refused').map((e) => e.detail)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^older than/),
        expect.stringMatching(/none of this hub's trust anchors/),
      ]),
    );
    expect(s.hub.trustStatus().lastReload?.refused).toHaveLength(1);
    writeFileSync(s.region.files.crl, derToPem(inUse, PEM_LABELS.crl));
  });

  it('reports a CRL nearing its nextUpdate as expiring and one past it as stale (then unhealthy), and recovers with the next', async () => {
    await publishCrl({ validityDays: 1 });
    await expect.poll(() => s.hub.trustStatus().state, { timeout: 15_000 }).toBe('expiring');
    const expiring = await s.rtsJson<{
      healthy: boolean;
      trust: { state: string; crls: { crlNumber: number; nextUpdate: string }[] };
    }>('status');
    expect(expiring.value).toMatchObject({ healthy: true, trust: { state: 'expiring', crls: [{ crlNumber: 4 }] } });
    expect(new Date(expiring.value.trust.crls[0]!.nextUpdate).getTime()).toBeLessThan(Date.now() + 2 * DAY);
    expect(s.logged.filter((e) => e.event === 'crl-state').at(-1)).toMatchObject({
      state: 'expiring',
      level: 'warning',
      crlNumber: 4,
    });

    // A newer list issued two days ago for one day: past its nextUpdate, so every signed message waits.
    await publishCrl({ thisUpdate: new Date(Date.now() - 2 * DAY), validityDays: 1 });
    await expect.poll(() => s.hub.trustStatus().state, { timeout: 15_000 }).toBe('stale');
    const health = await s.rtsJson<{ healthy: boolean; trust: string }>('health');
    expect(health).toMatchObject({ status: 1, value: { healthy: false, trust: 'stale' } });
    expect((await s.rts('health')).stdout).toMatch(/^unhealthy: the CRL in use is stale/);
    expect(s.logged.filter((e) => e.event === 'crl-state').at(-1)).toMatchObject({
      state: 'stale',
      level: 'warning',
      crlNumber: 5,
    });
    // Not the message's fault: released to wait (transient), as the hub always did with a stale CRL.
    const waiting = await s.requestSnapshot('clinic-a');
    await expect
      .poll(() => s.logged.find((e) => e.event === 'transient-failure' && e.messageId === waiting)?.error, {
        timeout: 15_000,
      })
      .toMatch(/out of date/);

    await publishCrl({ validityDays: 30 });
    await expect.poll(() => s.hub.trustStatus().state, { timeout: 15_000 }).toBe('current');
    expect((await s.rtsJson<{ healthy: boolean }>('health')).value.healthy).toBe(true);
    const next = await s.requestSnapshot('clinic-a');
    await s.endpoints['clinic-a']!.waitFor(
      receiptFor(next, 'processed'),
      'a request processed once the CRL is current',
    );
    expect(s.logged.filter((e) => e.event === 'crl-state').map((e) => e.state)).toEqual([
      'current',
      'expiring',
      'stale',
      'current',
    ]);
  });
  it("closes an endpoint's broker connections on the operator's word (rts hub disconnect): its links end, the others keep theirs", async () => {
    const applicant = s.endpoints['ws-applicant-1']!;
    expect(applicant.attached()).toBe(true);
    const closed = await s.rtsJson<{ endpointId: string; hadConnections: boolean }>('disconnect', 'ws-applicant-1');
    expect(closed).toMatchObject({ status: 0, value: { endpointId: 'ws-applicant-1', hadConnections: true } });
    await until(async () => !applicant.attached(), 'the broker ends its links', 10_000);
    // The others keep theirs.
    expect(s.endpoints['clinic-a']!.attached()).toBe(true);
    expect((await s.rts('disconnect', 'ws-applicant-1')).stdout).toBe('ws-applicant-1 had no broker connection open\n');
    const refused = await s.rts('disconnect', 'Not An Id');
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toContain('not an endpoint id: Not An Id');
  });
});
