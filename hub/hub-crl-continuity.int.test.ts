import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Bundle } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, loadPostgresEnv } from '../scripts/test-env/index.ts';
import { createCrl, derToPem, describeCertificate, PEM_LABELS, type RevokedSerial } from '../shared/pki/index.ts';
import { readHubNotice } from '../shared/protocol/fhir/index.ts';
import { openMessage } from '../shared/protocol/index.ts';
import { loadHubConfig } from './hub-config.ts';
import { startHub, type HubLogEvent, type HubService } from './hub-service.ts';
import {
  loadBrokerUnderTest,
  writeTestHubConfig,
  connectEndpointTo,
  registerClinicSystem,
  requestSnapshotAs,
  createTestRegion,
  type ReceivedMessage,
  type TestEndpoint,
  type TestIdentity,
  type TestRegion,
} from '../testkit/index.ts';
import { DISTRIBUTED_SOURCE } from './trust-reloader.ts';

/**
 * Every CRL the hub holds reaches every endpoint, across restarts and instances (issue #17, revocation that takes
 * effect), on the real broker and PostgreSQL (PGlite without one): a CRL loaded at start is fanned out once however
 * often the hub restarts; a restart on an older file keeps the newer CRL the region distributed; an endpoint that
 * registers through an instance that has not read the new file yet is sent the newest CRL all the same.
 */
const broker = loadBrokerUnderTest();
const postgres = loadPostgresEnv();

describe('hub: CRLs across restarts and instances', () => {
  let dir: string;
  let region: TestRegion;
  let database: { kind: 'embedded'; path: string } | { kind: 'postgres'; url: string };
  const running = new Map<string, HubService>();
  const logs = new Map<string, HubLogEvent[]>();
  const clinics: Record<string, TestIdentity> = {};
  const endpoints: Record<string, TestEndpoint> = {};
  let revoked: RevokedSerial[] = [];
  const crls = new Map<number, Uint8Array>();

  /** Issues the region's CRL of this number (revoking everything revoked so far) and writes it into `file`. */
  async function issueCrl(number: number, file: string, revoke?: Uint8Array): Promise<Uint8Array> {
    if (revoke)
      revoked = [...revoked, { serialNumber: describeCertificate(revoke).serialNumber, revocationDate: new Date() }];
    const crl = crls.get(number) ?? (await createCrl(region.ca, { crlNumber: number, revoked }));
    crls.set(number, crl);
    writeFileSync(file, derToPem(crl, PEM_LABELS.crl));
    return crl;
  }

  async function start(name: string, crlFile = region.files.crl): Promise<HubService> {
    const config = writeTestHubConfig({ dir, name, region, broker, database, crlFile });
    const log: HubLogEvent[] = [];
    logs.set(name, log);
    const hub = await startHub({
      config: loadHubConfig(config.file, config.env),
      version: 'test',
      log: (e) => log.push(e),
    });
    running.set(name, hub);
    return hub;
  }
  async function stop(name: string): Promise<void> {
    await running.get(name)!.stop();
    running.delete(name);
  }

  const isCrlNotice = (m: ReceivedMessage) =>
    m.properties.rtsType === 'hub.notice' && m.properties.rtsNotice === 'crl-updated';
  const toEveryEndpoint = (m: ReceivedMessage) => isCrlNotice(m) && m.properties.rtsToEndpoint === undefined;
  const receiptFor = (messageId: string) => (m: ReceivedMessage) =>
    m.properties.rtsType === 'receipt' && m.correlationId === messageId;
  /** The CRL a notice carries, once the notice opens as an endpoint opens it (signed by the hub, chain under that CRL). */
  async function crlOf(m: ReceivedMessage): Promise<Uint8Array> {
    const opened = await openMessage(m.raw, {
      trust: { anchors: [region.ca.certificate], crls: [...crls.values()] },
      recipientFor: () => undefined,
      expectedSigners: () => [region.hub.certificate],
    });
    if (!opened.ok) throw new Error(`hub notice did not open: ${opened.error.code}: ${opened.error.detail}`);
    return readHubNotice(opened.value.payload as unknown as Bundle).crl!;
  }

  const register = (id: string) => registerClinicSystem(endpoints[id]!, clinics[id]!);
  const requestSnapshot = (id: string) => requestSnapshotAs(endpoints[id]!, clinics[id]!);
  /** Waits for the answer to a message sent now: whatever the hub queued for this endpoint before has arrived by then. */
  async function settled(id: string): Promise<ReceivedMessage> {
    const sent = await requestSnapshot(id);
    return endpoints[id]!.waitFor(receiptFor(sent), `receipt of a snapshot request from ${id}`);
  }

  beforeAll(async () => {
    await broker.purge();
    dir = mkdtempSync(join(tmpdir(), 'rts-hub-crl-continuity-'));
    region = await createTestRegion(join(dir, 'pki'));
    revoked = [
      { serialNumber: describeCertificate(region.revoked.certificate).serialNumber, revocationDate: new Date() },
    ];
    for (const id of ['clinic-a', 'clinic-b']) clinics[id] = await region.clinic(id);
    database = postgres
      ? { kind: 'postgres', url: await createTestDatabase(postgres, 'hub_crl_continuity') }
      : { kind: 'embedded', path: join(dir, 'hub-db') };
    await issueCrl(1, region.files.crl);
    for (const id of ['clinic-a', 'clinic-b']) endpoints[id] = await connectEndpointTo(broker, id);
  }, 90_000);

  afterAll(async () => {
    for (const e of Object.values(endpoints)) e.close();
    for (const hub of running.values()) await hub.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('sends a CRL it loads at start to every endpoint, once, however often it restarts', async () => {
    await start('hub-one');
    const registered = await register('clinic-a');
    await endpoints['clinic-a']!.waitFor(receiptFor(registered), 'registration receipt');
    await stop('hub-one');

    // The operator copies a new CRL and restarts the hub (no reload while it ran).
    const second = await issueCrl(2, region.files.crl);
    await start('hub-one');
    const notice = await endpoints['clinic-a']!.waitFor(
      toEveryEndpoint,
      'crl-updated to every endpoint after the restart',
    );
    expect(await crlOf(notice)).toEqual(second);
    expect(logs.get('hub-one')).toContainEqual({ event: 'crl-distributed', endpoints: 1 });
    await stop('hub-one');

    // The same CRL again: nothing more is sent.
    await start('hub-one');
    await settled('clinic-a');
    expect(logs.get('hub-one')!.filter((e) => e.event === 'crl-distributed')).toEqual([]);
    expect(endpoints['clinic-a']!.received.filter(toEveryEndpoint)).toHaveLength(1);
    await stop('hub-one');
  });

  it('keeps the newer CRL the region distributed when restarted on an older file, and says so', async () => {
    // CRL 3 revokes clinic-a's certificate and goes out; then the file goes back to CRL 2 (a backup restored).
    const third = await issueCrl(3, region.files.crl, clinics['clinic-a']!.certificate);
    const hub = await start('hub-one');
    await endpoints['clinic-a']!.waitForCount(toEveryEndpoint, 2, 'crl-updated of CRL 3');
    expect(await crlOf(endpoints['clinic-a']!.received.filter(toEveryEndpoint)[1]!)).toEqual(third);
    expect(hub.trustStatus().crls).toMatchObject([{ crlNumber: 3 }]);
    await stop('hub-one');

    await issueCrl(2, region.files.crl);
    const restarted = await start('hub-one');
    expect(restarted.trustStatus()).toMatchObject({
      crls: [{ crlNumber: 3, revoked: 2 }],
      lastReload: { taken: [{ file: DISTRIBUTED_SOURCE, crlNumber: 3 }] },
    });
    const refusal = expect.stringMatching(
      /^older than the CRL in use \(number 2, .*; in use: number 3, .*already distributed in the region\)$/,
    );
    expect(restarted.trustStatus().lastReload?.refused).toEqual([{ file: region.files.crl, detail: refusal }]);
    expect(logs.get('hub-one')).toContainEqual({
      event: 'crl-refused',
      level: 'warning',
      file: region.files.crl,
      detail: refusal,
    });
    // Revoked stays revoked: clinic-a's next signed message is refused.
    const receipt = await settled('clinic-a');
    expect(receipt.properties).toMatchObject({ rtsReceipt: 'rejected', rtsReason: 'certificate-revoked' });
    expect(endpoints['clinic-a']!.received.filter(toEveryEndpoint)).toHaveLength(2);
    await stop('hub-one');
  });

  describe.runIf(postgres)('two instances on one PostgreSQL database', () => {
    it('sends a newly registered endpoint the newest CRL another instance fanned out, and the late instance sends it no second time', async () => {
      const fileOne = join(dir, 'hub-one.crl.pem');
      const fileTwo = join(dir, 'hub-two.crl.pem');
      await issueCrl(3, fileOne);
      await issueCrl(3, fileTwo);
      const one = await start('hub-one', fileOne);
      const two = await start('hub-two', fileTwo);

      // Instance one takes CRL 4 and fans it out; instance two has not read its file (still CRL 3) when clinic-b
      // registers through it (one is stopped, so it is two that processes the registration).
      const fourth = await issueCrl(4, fileOne);
      expect((await one.reloadTrust()).taken).toMatchObject([{ crlNumber: 4 }]);
      await endpoints['clinic-a']!.waitForCount(toEveryEndpoint, 3, 'crl-updated of CRL 4');
      await stop('hub-one');
      expect(two.trustStatus().crls).toMatchObject([{ crlNumber: 3 }]);

      const registered = await register('clinic-b');
      await endpoints['clinic-b']!.waitFor(
        (m) => receiptFor(registered)(m) && m.properties.rtsReceipt === 'processed',
        'registration receipt of clinic-b',
      );
      const welcome = endpoints['clinic-b']!.received.filter(
        (m) => isCrlNotice(m) && m.properties.rtsToEndpoint === 'clinic-b',
      );
      expect(welcome).toHaveLength(1);
      expect(await crlOf(welcome[0]!)).toEqual(fourth);

      // Instance two catches up from the region's record, even before its file is replaced, and sends nothing again.
      const reload = await two.reloadTrust();
      expect(reload).toMatchObject({
        taken: [{ file: DISTRIBUTED_SOURCE, crlNumber: 4 }],
        refused: [{ file: fileTwo }],
      });
      await settled('clinic-b');
      await settled('clinic-a');
      expect(endpoints['clinic-a']!.received.filter(toEveryEndpoint)).toHaveLength(3);
      expect(endpoints['clinic-b']!.received.filter(toEveryEndpoint)).toEqual([]);
      expect(logs.get('hub-two')!.filter((e) => e.event === 'crl-distributed')).toEqual([]);
      await stop('hub-two');
    });
  });
});
