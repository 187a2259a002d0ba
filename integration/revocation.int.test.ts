import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import rhea, { type Connection, type EventContext, type Message } from 'rhea';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMMANDS, type CommandChannel, type CommandInput, type CommandOutput } from '../shared/api/index.ts';
import {
  addRevokedSerial,
  derToPem,
  describeCertificate,
  PEM_LABELS,
  pemToDerAll,
  readCrl,
} from '../shared/pki/index.ts';
import { buildConsultRequest, buildEndpointRegister, buildSnapshotRequest } from '../shared/protocol/fhir/index.ts';
import { sealMessage } from '../shared/protocol/index.ts';
import { loadPostgresEnv } from '../scripts/test-env/index.ts';
import { connectEndpointTo, until, type ReceivedMessage, type TestEndpoint } from '../testkit/index.ts';
import { createWorkstationCore, type WorkstationCore } from '../main/node/index.ts';
import { PROTOCOL_V as V, startRegionHarness, type RegionHarness } from './testing/region-harness.ts';
import { callCore } from './testing/core-calls.ts';

/**
 * Issue #17's test of revocation in a running region, on real parts (private RabbitMQ, PostgreSQL when the test
 * environment has it, a real hub, a real workstation core): the applicant's signing certificate is revoked by a new
 * CRL that the operator makes the hub take (`rts hub reload-trust`); with no restart, the hub refuses the next
 * message signed with it, the expert's running workstation applies the CRL the hub distributes, and a message signed
 * with it that still reaches that workstation is refused there.
 */
const CLI = join(import.meta.dirname, '..', 'cli', 'rts.ts');
const APPLICANT_ENDPOINT = 'ws-applicant-1';
const EXPERT_ENDPOINT = 'ws-expert-1';

describe('a certificate revoked while the region runs', () => {
  let harness: RegionHarness;
  let expertCore: WorkstationCore;
  /** The applicant's workstation as a bare endpoint: it signs with the applicant's key whatever the CRL says. */
  let applicantEndpoint: TestEndpoint;
  /** The hub's broker user, to put a message into the expert's downlink as the hub's routing would. */
  let hubLink: Connection;

  const call = <C extends CommandChannel>(
    command: C,
    ...input: CommandInput<C> extends undefined ? [] : [CommandInput<C>]
  ): Promise<CommandOutput<C>> => callCore(expertCore, command, ...input);
  const receiptFor = (messageId: string) => (m: ReceivedMessage) =>
    m.properties.rtsType === 'receipt' && m.correlationId === messageId;

  const rtsHub = (...args: string[]) =>
    new Promise<{ status: number; stdout: string; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        [CLI, 'hub', ...args, '--config', harness.hubConfig.file],
        { encoding: 'utf8', env: { ...process.env, ...harness.hubConfig.env } },
        (error, stdout, stderr) => {
          resolve({ status: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
        },
      );
    });

  /** What a workstation signs to the hub when its directory has a gap: the hub verifies the practitioner's signature. */
  const requestSnapshot = () =>
    applicantEndpoint.send(
      { rtsType: 'directory.snapshot-request', rtsVersion: V, rtsSender: APPLICANT_ENDPOINT },
      (messageId, timestamp) => buildSnapshotRequest({ messageId, timestamp, sender: APPLICANT_ENDPOINT }, {}),
      harness.applicant.signing,
    );

  /**
   * A consult request from the applicant, signed with the applicant's key and sealed for the expert, put straight into
   * the expert's downlink as the hub forwards it (same message, the hub's user_id): it does not pass the hub's checks.
   */
  async function deliverAsRouted(): Promise<{ messageId: string; caseId: string }> {
    const messageId = randomUUID();
    const caseId = randomUUID();
    const creationTime = new Date();
    const { applicant, expert } = harness;
    const fields = await sealMessage({
      messageId,
      creationTime,
      userId: APPLICANT_ENDPOINT,
      properties: {
        rtsType: 'consult.request',
        rtsVersion: V,
        rtsSender: APPLICANT_ENDPOINT,
        rtsCase: caseId,
        rtsFromPractitioner: applicant.id,
        rtsToPractitioner: expert.id,
        rtsSequence: 1,
      },
      payload: buildConsultRequest(
        { messageId, timestamp: creationTime, sender: APPLICANT_ENDPOINT },
        {
          caseId,
          from: applicant.id,
          to: expert.id,
          sequence: 1,
          priority: 'routine',
          reason: 'Rash on both forearms',
          patient: { family: 'Nilsen', given: ['Kari'], gender: 'female', birthDate: '1961-04-12' },
        },
      ),
      signer: applicant.signing,
      recipientCertificates: [expert.encryption.certificate, applicant.encryption.certificate],
    });
    const sender = hubLink.open_sender({ target: { address: harness.broker.adapter.downlinkTarget(EXPERT_ENDPOINT) } });
    const outcome = await new Promise<string>((resolve) => {
      sender.once('sendable', () => {
        sender.send({
          ...fields,
          user_id: Buffer.from(harness.broker.hub.name),
          body: rhea.message.data_section(Buffer.from(fields.body)),
        } as unknown as Message);
      });
      for (const settled of ['accepted', 'rejected', 'released', 'modified'])
        sender.once(settled, () => resolve(settled));
    });
    sender.close();
    expect(outcome).toBe('accepted');
    return { messageId, caseId };
  }

  beforeAll(async () => {
    harness = await startRegionHarness({ database: loadPostgresEnv() ? 'postgres' : 'embedded', operatorApi: true });
    expertCore = createWorkstationCore(harness.coreOptions(EXPERT_ENDPOINT));
    await expertCore.start();
    await harness.setUpWorkstation(expertCore, EXPERT_ENDPOINT, harness.expert);
    await until(
      async () => (await call(COMMANDS.getSetupState)).registration.state === 'accepted',
      'the expert workstation registered',
    );
    await until(
      async () => (await call(COMMANDS.getDirectoryState)).experts === 2,
      "the expert workstation's directory",
    );

    applicantEndpoint = await connectEndpointTo(harness.broker, APPLICANT_ENDPOINT);
    const registered = await applicantEndpoint.send(
      { rtsType: 'endpoint.register', rtsVersion: V, rtsSender: APPLICANT_ENDPOINT },
      (messageId, timestamp) =>
        buildEndpointRegister(
          { messageId, timestamp, sender: APPLICANT_ENDPOINT },
          { kind: 'workstation', name: "Dr Berg's workstation", organization: 'Sørvik Health Centre' },
        ),
      harness.applicant.signing,
    );
    expect(
      (await applicantEndpoint.waitFor(receiptFor(registered), "the applicant's registration receipt")).properties
        .rtsReceipt,
    ).toBe('processed');

    hubLink = rhea.create_container({ id: `test-hub-link-${randomUUID().slice(0, 6)}` }).connect({
      host: '127.0.0.1',
      port: harness.broker.hosts[0]!.port,
      hostname: harness.broker.adapter.hostname(harness.broker.vhost),
      username: harness.broker.hub.name,
      password: harness.broker.hub.password,
      reconnect: false,
    });
    hubLink.on('error', () => undefined);
    await new Promise<void>((resolve, reject) => {
      hubLink.once('connection_open', () => resolve());
      hubLink.once('disconnected', (context: EventContext) =>
        reject(new Error(`the hub's broker user cannot connect: ${String(context.error ?? 'disconnected')}`)),
      );
    });
  }, 120_000);

  afterAll(async () => {
    hubLink?.close();
    applicantEndpoint?.close();
    await expertCore?.stop();
    await harness?.stop();
  });

  it('is refused at the hub and at a running workstation within one CRL distribution, with no restart', async () => {
    // Before: the applicant's signature passes at the hub and at the expert's workstation.
    const before = await requestSnapshot();
    expect(
      (await applicantEndpoint.waitFor(receiptFor(before), 'the receipt before the revocation')).properties.rtsReceipt,
    ).toBe('processed');
    const accepted = await deliverAsRouted();
    await until(
      async () => (await call(COMMANDS.listCases, {})).some((c) => c.caseId === accepted.caseId),
      'the request before the revocation at the expert',
    );
    const trustBefore = (await call(COMMANDS.getSetupState)).identity!.trust;
    // The expert's directory lists the applicant, whose certificates its background check has found valid.
    const applicantListed = async () =>
      (await call(COMMANDS.searchDirectory, { text: '', limit: 500 })).experts.find(
        (e) => e.practitionerId === harness.applicant.id,
      );
    await until(async () => {
      const listed = await applicantListed();
      return listed !== undefined && listed.certificates === undefined;
    }, "the applicant's certificates checked in the expert's directory");

    // The region's administrator revokes the applicant's signing certificate and asks the running hub to take the CRL.
    const currentCrl = pemToDerAll(readFileSync(harness.region.files.crl, 'utf8'), PEM_LABELS.crl)[0]!;
    const serial = describeCertificate(harness.applicant.signing.certificate).serialNumber;
    const crl = await addRevokedSerial(currentCrl, serial, harness.region.ca, {
      revocationDate: new Date(Date.now() - 60_000),
      validityDays: 20,
    });
    const { crlNumber, nextUpdate } = readCrl(crl);
    expect(crlNumber).toBe((readCrl(currentCrl).crlNumber ?? 0) + 1);
    writeFileSync(harness.region.files.crl, derToPem(crl, PEM_LABELS.crl));
    const reload = await rtsHub('reload-trust', '--json');
    expect(reload.status, reload.stderr).toBe(0);
    expect(JSON.parse(reload.stdout)).toMatchObject({ taken: [{ crlNumber }], trust: { crls: [{ crlNumber }] } });

    // (a) The hub refuses the next message signed with it and tells the sender why.
    const after = await requestSnapshot();
    const refused = await applicantEndpoint.waitFor(receiptFor(after), 'the receipt after the revocation');
    expect(refused.properties).toMatchObject({
      rtsReceipt: 'rejected',
      rtsReason: 'certificate-revoked',
      rtsToEndpoint: APPLICANT_ENDPOINT,
      rtsSender: 'hub',
    });

    // (b) The expert's running workstation received the CRL in a hub notice and applied it.
    const applied = await until(
      async () => (await call(COMMANDS.listAuditLog, { limit: 200 })).entries.find((e) => e.action === 'crl-applied'),
      "crl-applied in the expert's audit log",
    );
    expect(applied).toMatchObject({ actor: 'hub', subject: 'crl' });
    const trustAfter = (await call(COMMANDS.getSetupState)).identity!.trust;
    expect(trustAfter).toMatchObject({ crlNextUpdate: nextUpdate!.toISOString(), crlState: 'current' });
    expect(trustAfter.crlNextUpdate).not.toBe(trustBefore.crlNextUpdate);

    // (c) A message signed with it that reaches the workstation anyway is refused there, and the case never appears.
    const late = await deliverAsRouted();
    const rejection = await until(
      async () => (await call(COMMANDS.listRejections)).find((r) => r.messageId === late.messageId),
      'the late request refused at the expert',
    );
    expect(rejection).toMatchObject({
      reason: 'certificate-revoked',
      type: 'consult.request',
      sender: APPLICANT_ENDPOINT,
    });
    expect((await call(COMMANDS.listCases, {})).some((c) => c.caseId === late.caseId)).toBe(false);

    // (d) The new CRL made the expert's directory judge every entry again: the applicant is listed, marked as failed.
    const marked = await until(async () => {
      const listed = await applicantListed();
      return listed?.certificates === 'failed' ? listed : undefined;
    }, "the applicant marked in the expert's directory");
    expect(marked.certificateProblem).toMatch(/^signing certificate: .*revoked/i);
    expect(await call(COMMANDS.checkAuditLog)).toMatchObject({ ok: true });
  });
});
