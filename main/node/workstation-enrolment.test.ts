import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { COMMANDS, type SetupState } from '../../shared/api/index.ts';
import {
  certificateFingerprint,
  ENROLMENT_FORMAT,
  ENROLMENT_SIGNER_COMMON_NAME,
  signEnrolment,
  type EndpointKind,
  type Enrolment,
} from '../../shared/enrolment/index.ts';
import {
  createCrl,
  createRootCertificate,
  derToPem,
  generateKeyPair,
  issueCertificate,
  PEM_LABELS,
  type CertificateIssuer,
  type LeafProfileName,
} from '../../shared/pki/index.ts';
import { createMemoryVault } from './vault/memory-vault.ts';
import { brokerPasswordAccount } from './vault/vault-accounts.ts';
import type { SecretVault } from './vault/secret-vault.ts';
import { profileOfEnrolment } from './settings/enrolment-intake.ts';
import { createWorkstationCore, type WorkstationCore } from './workstation-core.ts';

/** A region as `rts region` makes it: a CA, its enrolment signer, a hub, a CRL, and a broker CA of its own. */
async function makeRegion(name: string) {
  const caKeys = await generateKeyPair();
  const ca = await createRootCertificate({ keyPair: caKeys, subject: { commonName: `${name} CA` } });
  const issuer: CertificateIssuer = { certificate: ca.der, privateKey: caKeys.privateKey };
  const issue = async (profile: LeafProfileName, commonName: string) => {
    const keys = await generateKeyPair();
    const issued = await issueCertificate({ profile, publicKey: keys.publicKey, issuer, subject: { commonName } });
    return { certificate: issued.der, privateKey: keys.privateKey };
  };
  const signer = await issue('clinic-system', ENROLMENT_SIGNER_COMMON_NAME);
  const hub = await issue('hub', 'hub');
  const brokerCaKeys = await generateKeyPair();
  const brokerCa = await createRootCertificate({ keyPair: brokerCaKeys, subject: { commonName: `${name} Broker CA` } });
  const crls = new Map<number, Uint8Array>();
  for (const crlNumber of [1, 2]) crls.set(crlNumber, await createCrl(issuer, { crlNumber, validityDays: 7 }));
  const pem = (der: Uint8Array) => derToPem(der, PEM_LABELS.certificate);
  const contents = (id: string, kind: EndpointKind = 'workstation', crlNumber = 1): Enrolment => ({
    format: ENROLMENT_FORMAT,
    region: name,
    endpoint: { id, kind },
    broker: {
      hosts: [{ host: '127.0.0.1', port: 1 }],
      vhost: 'rts',
      username: id,
      tlsCaPem: pem(brokerCa.der),
      tlsServerName: 'broker.region.example',
    },
    caCertificatePem: pem(ca.der),
    crlPem: derToPem(crls.get(crlNumber)!, PEM_LABELS.crl),
    hubCertificatePem: pem(hub.certificate),
    issuedAt: new Date().toISOString(),
  });
  return {
    ca,
    brokerCa,
    signer,
    contents,
    file: async (id: string, kind?: EndpointKind, crlNumber?: number) =>
      Buffer.from(await signEnrolment(contents(id, kind, crlNumber), signer)).toString('base64'),
  };
}

const cores: WorkstationCore[] = [];
afterEach(async () => {
  await Promise.all(cores.splice(0).map((core) => core.stop()));
});

async function started(vault: SecretVault = createMemoryVault()): Promise<WorkstationCore> {
  const core = createWorkstationCore({
    productName: 'RTS',
    version: '1',
    vault,
    dataDir: mkdtempSync(join(tmpdir(), 'rts-core-enrol-')),
    reconnectDelayMs: { initial: 60_000, max: 60_000 },
  });
  cores.push(core);
  await core.start();
  return core;
}

async function setupOf(core: WorkstationCore): Promise<SetupState> {
  const result = await core.dispatch(COMMANDS.getSetupState, undefined);
  if (!result.ok) throw new Error(result.error.message);
  return result.value as SetupState;
}

/** What an enrolment changes: the trust, the profile, the broker password. */
const configured = (setup: SetupState) => ({
  anchors: setup.identity?.trust.anchors.map((a) => a.subject),
  hub: setup.identity?.trust.hub?.subject,
  profile: setup.profile,
  hasBrokerPassword: setup.hasBrokerPassword,
});

describe('joining a region with an enrolment file', () => {
  it('shows the region CA fingerprint, then applies trust, CRL, hub certificate, a TLS profile and the broker password', async () => {
    const vault = createMemoryVault();
    const core = await started(vault);
    const region = await makeRegion('North Region');
    const file = await region.file('ws-north-1');

    const read = await core.dispatch(COMMANDS.readEnrolment, { enrolmentBase64: file });
    expect(read).toMatchObject({
      ok: true,
      value: {
        region: 'North Region',
        endpointId: 'ws-north-1',
        brokerKind: 'rabbitmq',
        brokerHosts: [{ host: '127.0.0.1', port: 1 }],
        vhost: 'rts',
        tls: true,
        tlsServerName: 'broker.region.example',
        caSubject: 'CN=North Region CA',
        caFingerprint: await certificateFingerprint(region.ca.der),
        hubSubject: 'CN=hub',
        replacesTrust: false,
      },
    });
    // Reading changes nothing.
    expect(configured(await setupOf(core))).toEqual({
      anchors: [],
      hub: undefined,
      profile: undefined,
      hasBrokerPassword: false,
    });

    const applied = await core.dispatch(COMMANDS.enrol, { enrolmentBase64: file, brokerPassword: 'broker secret' });
    expect(applied.ok).toBe(true);
    const setup = await setupOf(core);
    expect(configured(setup)).toEqual({
      anchors: ['CN=North Region CA'],
      hub: 'CN=hub',
      hasBrokerPassword: true,
      profile: {
        hosts: [{ host: '127.0.0.1', port: 1 }],
        vhost: 'rts',
        endpointId: 'ws-north-1',
        tls: { caPem: region.contents('ws-north-1').broker.tlsCaPem, servername: 'broker.region.example' },
      },
    });
    expect(setup.identity?.trust.crlNextUpdate).toBeDefined();
    expect(await vault.get(brokerPasswordAccount('ws-north-1'))).toBe('broker secret');
    expect(await core.dispatch(COMMANDS.listAuditLog, {})).toMatchObject({
      ok: true,
      value: { entries: [{ action: 'enrolled', subject: 'endpoint:ws-north-1' }] },
    });
  });

  it('refuses a file with one byte of its signed content changed, and one re-signed by another CA, changing nothing', async () => {
    const core = await started();
    const region = await makeRegion('North Region');
    const bytes = Buffer.from(await region.file('ws-north-1'), 'base64');
    const at = bytes.indexOf('broker.region.example');
    expect(at).toBeGreaterThan(0);
    bytes[at] = 'c'.charCodeAt(0);
    const tampered = await core.dispatch(COMMANDS.enrol, {
      enrolmentBase64: bytes.toString('base64'),
      brokerPassword: 'pw',
    });
    expect(tampered).toEqual({
      ok: false,
      error: {
        code: 'enrolment-refused',
        reason: 'enrolment-signature-refused',
        message: expect.stringMatching(
          /^The enrolment file's signature is refused: .*altered after signing.*\. Nothing was changed\.$/,
        ),
        retryable: false,
      },
    });
    expect(await core.dispatch(COMMANDS.readEnrolment, { enrolmentBase64: bytes.toString('base64') })).toMatchObject({
      ok: false,
      error: { code: 'enrolment-refused' },
    });

    // The region's contents, signed by another region's enrolment signer.
    const other = await makeRegion('Other Region');
    const resigned = Buffer.from(await signEnrolment(region.contents('ws-north-1'), other.signer)).toString('base64');
    expect(await core.dispatch(COMMANDS.enrol, { enrolmentBase64: resigned, brokerPassword: 'pw' })).toMatchObject({
      ok: false,
      error: {
        code: 'enrolment-refused',
        message: expect.stringMatching(/^The enrolment file's signature is refused: .*Nothing was changed\.$/),
      },
    });
    expect(
      await core.dispatch(COMMANDS.enrol, { enrolmentBase64: Buffer.from('not an enrolment file').toString('base64') }),
    ).toMatchObject({
      ok: false,
      error: {
        code: 'enrolment-refused',
        reason: 'enrolment-not-enrolment-file',
        message: 'The file is not an enrolment file (no signed content). Nothing was changed.',
      },
    });
    expect(configured(await setupOf(core))).toEqual({
      anchors: [],
      hub: undefined,
      profile: undefined,
      hasBrokerPassword: false,
    });
  });

  it("refuses a clinic system's file", async () => {
    const core = await started();
    const region = await makeRegion('North Region');
    expect(
      await core.dispatch(COMMANDS.enrol, {
        enrolmentBase64: await region.file('clinic-a', 'clinic-system'),
        brokerPassword: 'pw',
      }),
    ).toEqual({
      ok: false,
      error: {
        code: 'enrolment-refused',
        reason: 'enrolment-not-for-workstation',
        params: { kind: 'clinic-system', endpointId: 'clinic-a' },
        message: 'The enrolment file is for the clinic-system "clinic-a", not for a workstation. Nothing was changed.',
        retryable: false,
      },
    });
    expect(configured(await setupOf(core))).toEqual({
      anchors: [],
      hub: undefined,
      profile: undefined,
      hasBrokerPassword: false,
    });
  });

  it('refuses a file whose connection a workstation cannot keep (11 broker hosts) before applying anything', async () => {
    const core = await started();
    const region = await makeRegion('North Region');
    const contents = region.contents('ws-north-1');
    const hosts = Array.from({ length: 11 }, (_, i) => ({ host: `10.0.0.${i + 1}`, port: 5671 }));
    const file = Buffer.from(
      await signEnrolment({ ...contents, broker: { ...contents.broker, hosts } }, region.signer),
    ).toString('base64');
    expect(await core.dispatch(COMMANDS.enrol, { enrolmentBase64: file, brokerPassword: 'pw' })).toMatchObject({
      ok: false,
      error: {
        code: 'enrolment-refused',
        message: expect.stringMatching(/^The enrolment file was not applied: .*hosts.*\. Nothing was changed\.$/),
      },
    });
    expect(configured(await setupOf(core))).toEqual({
      anchors: [],
      hub: undefined,
      profile: undefined,
      hasBrokerPassword: false,
    });
  });

  it('once a region CA is trusted, takes a newer file of that CA (replacing the trust) and refuses a file of another CA or with an older CRL', async () => {
    const core = await started();
    const region = await makeRegion('North Region');
    expect(
      (await core.dispatch(COMMANDS.enrol, { enrolmentBase64: await region.file('ws-north-1'), brokerPassword: 'pw' }))
        .ok,
    ).toBe(true);
    const before = configured(await setupOf(core));

    const other = await makeRegion('Other Region');
    const foreign = await other.file('ws-north-1');
    const refused = await core.dispatch(COMMANDS.enrol, { enrolmentBase64: foreign, brokerPassword: 'pw2' });
    expect(refused).toEqual({
      ok: false,
      error: {
        code: 'enrolment-refused',
        reason: 'enrolment-other-region',
        message: expect.stringMatching(
          /^The enrolment file is of another region CA \(SHA-256 [0-9A-F:]{95}\) than the one this workstation trusts \([0-9A-F:]{95}\)\. Nothing was changed\.$/,
        ),
        retryable: false,
      },
    });
    expect(await core.dispatch(COMMANDS.readEnrolment, { enrolmentBase64: foreign })).toMatchObject({
      ok: false,
      error: { code: 'enrolment-refused' },
    });
    expect(configured(await setupOf(core))).toEqual(before);

    const newer = await region.file('ws-north-2', 'workstation', 2);
    expect(await core.dispatch(COMMANDS.readEnrolment, { enrolmentBase64: newer })).toMatchObject({
      ok: true,
      value: { endpointId: 'ws-north-2', replacesTrust: true },
    });
    expect((await core.dispatch(COMMANDS.enrol, { enrolmentBase64: newer })).ok).toBe(true);
    const after = await setupOf(core);
    expect(after.profile?.endpointId).toBe('ws-north-2');

    // An older file of the same CA would bring back an older CRL (and the certificates revoked since): refused.
    expect(await core.dispatch(COMMANDS.enrol, { enrolmentBase64: await region.file('ws-north-1') })).toEqual({
      ok: false,
      error: {
        code: 'enrolment-refused',
        reason: 'enrolment-crl-older',
        message:
          "The enrolment file's CRL (number 1) is older than the one this workstation holds (number 2); ask the administrator for a current file (rts region enrolment write). Nothing was changed.",
        retryable: false,
      },
    });
    expect(configured(await setupOf(core))).toEqual(configured(after));
  });
});

describe('the connection profile of an enrolment file', () => {
  const base = async () => (await makeRegion('North Region')).contents('ws-north-1');

  it("checks the broker's certificate against the file's server name, else the first host when it is a DNS name, never an IP address", async () => {
    const enrolment = await base();
    expect(profileOfEnrolment(enrolment).tls?.servername).toBe('broker.region.example');
    const { tlsServerName: _, ...withoutName } = enrolment.broker;
    expect(profileOfEnrolment({ ...enrolment, broker: withoutName }).tls).toEqual({ caPem: enrolment.broker.tlsCaPem });
    const named = {
      ...withoutName,
      hosts: [
        { host: 'broker1.north.example', port: 5671 },
        { host: '10.0.0.2', port: 5671 },
      ],
    };
    expect(profileOfEnrolment({ ...enrolment, broker: named }).tls).toEqual({
      caPem: enrolment.broker.tlsCaPem,
      servername: 'broker1.north.example',
    });
    const { tlsCaPem: _ca, ...plain } = withoutName;
    expect(profileOfEnrolment({ ...enrolment, broker: plain }).tls).toBeUndefined();
  });

  it("names the file's broker kind, and none (RabbitMQ) for a file written before there was a choice", async () => {
    const enrolment = await base();
    expect(profileOfEnrolment(enrolment).brokerKind).toBeUndefined();
    const artemis = { ...enrolment, broker: { ...enrolment.broker, kind: 'artemis' as const } };
    expect(profileOfEnrolment(artemis).brokerKind).toBe('artemis');
  });

  it('tells the user which broker an Artemis file names before it is applied', async () => {
    const region = await makeRegion('North Region');
    const contents = region.contents('ws-north-1');
    const file = await signEnrolment({ ...contents, broker: { ...contents.broker, kind: 'artemis' } }, region.signer);
    const core = await started(createMemoryVault());
    const read = await core.dispatch(COMMANDS.readEnrolment, { enrolmentBase64: Buffer.from(file).toString('base64') });
    expect(read).toMatchObject({ ok: true, value: { brokerKind: 'artemis', endpointId: 'ws-north-1' } });
  });

  it('refuses a file whose broker user is not the endpoint id', async () => {
    const enrolment = await base();
    expect(() =>
      profileOfEnrolment({ ...enrolment, broker: { ...enrolment.broker, username: 'someone-else' } }),
    ).toThrow(
      'the enrolment file names broker user "someone-else" for endpoint "ws-north-1"; a workstation\'s broker user is its endpoint id',
    );
  });
});
