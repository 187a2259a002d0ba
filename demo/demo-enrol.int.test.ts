import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyEnrolment } from '../shared/enrolment/index.ts';
import { importSigningPrivateKey, parsePkcs12, pemToDer, PEM_LABELS, readCrl } from '../shared/pki/index.ts';
import { PROTOCOL_VERSION } from '../shared/protocol/index.ts';
import { buildDirectoryPublish } from '../shared/protocol/fhir/index.ts';
import {
  connectTestEndpoint,
  registerClinicSystem,
  expertEntry,
  hospital,
  type ReceivedMessage,
  type TestEndpoint,
  type TestIdentity,
  TEST_PGLITE_TEMPLATES,
} from '../testkit/index.ts';
import { startDemoRegion, type DemoRegion } from './demo-region.ts';

/**
 * A new clinic system joins the running demo region with nothing but the rts command and the admin state directory the
 * demo writes: `rts region add-endpoint --practitioner` and `rts region sync-broker` (against the demo broker's
 * management API), then it connects with its broker password, registers with the key of its .p12, and publishes its
 * practitioner, whose certificates came from the same command.
 */
const CLI = join(import.meta.dirname, '..', 'cli', 'rts.ts');

/** Asynchronously: the demo broker's management API that sync-broker calls runs in this process. */
function rts(...args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { encoding: 'utf8' }, (error, stdout, stderr) => {
      resolve({ status: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr });
    });
  });
}

describe('a new endpoint enrols into the running demo region', () => {
  let dir: string;
  let region: DemoRegion;
  let clinic: TestEndpoint | undefined;
  const file = (...path: string[]) => join(region.adminDir, ...path);
  const secrets = () => JSON.parse(readFileSync(file('secrets.json'), 'utf8')) as Record<string, string>;

  /** The key and certificate of one of the endpoint's .p12 files, opened with its password from secrets.json. */
  async function identityOf(p12: string): Promise<TestIdentity> {
    const contents = await parsePkcs12(readFileSync(file('endpoints', 'clinic-x', p12)), secrets()[p12]!);
    return { certificate: contents.certificate, privateKey: await importSigningPrivateKey(contents.privateKeyPkcs8) };
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rts-demo-enrol-'));
    region = await startDemoRegion({ dataDir: dir, expertDelayMs: 200, hubDatabaseTemplates: TEST_PGLITE_TEMPLATES });
  }, 120_000);

  afterAll(async () => {
    clinic?.close();
    await region?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes an admin state whose CRL is the one the hub reads and whose broker is the running demo broker', async () => {
    const listed = await rts('region', 'list', '--dir', region.adminDir, '--json');
    expect(listed.stderr).toBe('');
    const state = JSON.parse(listed.stdout) as { region: string; crl: { crlNumber: number }; endpoints: unknown[] };
    expect(state).toMatchObject({ region: 'Demo Region', endpoints: [] });
    expect(state.crl.crlNumber).toBe(
      readCrl(pemToDer(readFileSync(file('ca.crl.pem'), 'utf8'), PEM_LABELS.crl)).crlNumber,
    );
    const hubConfig = JSON.parse(readFileSync(join(dir, 'region', 'hub-demo.json'), 'utf8')) as {
      trust: { crlFiles: string[] };
      broker: { management: { url: string } };
    };
    expect(hubConfig.trust.crlFiles).toEqual([file('ca.crl.pem')]);
    const regionJson = JSON.parse(readFileSync(file('region.json'), 'utf8')) as {
      broker: { hosts: unknown[]; managementUrl: string };
    };
    expect(regionJson.broker).toMatchObject({
      hosts: [{ host: '127.0.0.1', port: region.amqpPort }],
      managementUrl: region.managementUrl,
    });
  });

  it('adds clinic-x with a practitioner and syncs the broker; clinic-x connects, registers and publishes its practitioner', async () => {
    const added = await rts(
      'region',
      'add-endpoint',
      'clinic-x',
      '--kind',
      'clinic-system',
      '--practitioner',
      'dr-a',
      '--dir',
      region.adminDir,
    );
    expect(added.stderr).toBe('');
    expect(added.status).toBe(0);
    const synced = await rts('region', 'sync-broker', '--dir', region.adminDir);
    expect(synced.stderr).toBe('');
    expect(synced.stdout).toContain('clinic-x: user (password of secrets.json), queue rts.downlink.clinic-x');

    // The enrolment file verifies against the CA and points at the running demo broker.
    const ca = pemToDer(readFileSync(file('ca.pem'), 'utf8'), PEM_LABELS.certificate);
    const enrolment = await verifyEnrolment(readFileSync(file('endpoints', 'clinic-x', 'clinic-x.rtsenrol')), ca);
    expect(enrolment).toMatchObject({
      region: 'Demo Region',
      endpoint: { id: 'clinic-x', kind: 'clinic-system' },
      broker: { hosts: [{ host: '127.0.0.1', port: region.amqpPort }], username: 'clinic-x' },
    });
    expect(enrolment.crlPem).toBe(readFileSync(file('ca.crl.pem'), 'utf8'));

    const { port } = enrolment.broker.hosts[0]!;
    clinic = await connectTestEndpoint({
      port,
      vhost: enrolment.broker.vhost,
      id: 'clinic-x',
      password: secrets()['clinic-x']!,
    });
    const self = await identityOf('clinic-x.p12');
    await registerClinicSystem(clinic, self);
    const notice = await clinic.waitFor((m) => m.properties.rtsType === 'hub.notice', 'registration notice', 30_000);
    expect(notice.properties.rtsNotice).toBe('registration-accepted');

    // Its practitioner's certificates, from the .p12 files add-endpoint made, pass the hub's directory checks.
    const drA = {
      id: 'clinic-x.dr-a',
      signing: await identityOf('clinic-x.dr-a.signing.p12'),
      encryption: await identityOf('clinic-x.dr-a.encryption.p12'),
    };
    const full = [
      hospital('clinic-x.main', 'Clinic X Hospital'),
      ...expertEntry(drA, { organizationId: 'clinic-x.main', endpoints: ['clinic-x'] }),
    ];
    const published = await clinic.send(
      {
        rtsType: 'directory.publish',
        rtsVersion: PROTOCOL_VERSION,
        rtsSender: 'clinic-x',
        rtsDirectoryMode: 'full',
        rtsBatchId: randomUUID(),
        rtsBatchIndex: 1,
        rtsBatchCount: 1,
      },
      (messageId, timestamp) => buildDirectoryPublish({ messageId, timestamp, sender: 'clinic-x' }, { full }),
      self,
    );
    const receipt = await clinic.waitFor(
      (m: ReceivedMessage) => m.properties.rtsType === 'receipt' && m.correlationId === published,
      'publish receipt',
      30_000,
    );
    expect(receipt.properties.rtsReceipt).toBe('processed');
  }, 90_000);

  it('syncs again without taking the registered endpoint its downlink', async () => {
    const synced = await rts('region', 'sync-broker', '--dir', region.adminDir);
    expect(synced.status).toBe(0);
    expect(synced.stdout).toContain('reads rts.downlink.clinic-x');
    // A fresh connection still attaches to its downlink queue (a read permission of '^$' would refuse it).
    const attached = connectTestEndpoint({
      port: region.amqpPort,
      vhost: 'rts',
      id: 'clinic-x',
      password: secrets()['clinic-x']!,
    }).then((endpoint) => {
      endpoint.close();
      return 'attached';
    });
    await expect(attached).resolves.toBe('attached');
  }, 30_000);
});
