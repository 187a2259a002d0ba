import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { importDecryptionKey } from '../../../shared/cms/index.ts';
import { exportPrivateKeyPkcs8, pemToDerAll, PEM_LABELS } from '../../../shared/pki/index.ts';
import { PROTOCOL_VERSION, type ApplicationProperties, type OpenedMessage } from '../../../shared/protocol/index.ts';
import { buildConsultRequest, buildConsultStatus } from '../../../shared/protocol/fhir/index.ts';
import { createNativeCertificateValidator } from '../../../shared-node/index.ts';
import {
  openDatabase,
  createSqliteTransportStore,
  type SqliteDatabase,
  type StoredMessage,
  type TransportStore,
} from '../../../transport/index.ts';
import {
  createTestRegion,
  expertEntry,
  hospital,
  type TestPractitioner,
  type TestRegion,
} from '../../../testkit/index.ts';
import { auditSealFromVault, openAuditLog, type AuditLog } from '../audit/audit-log.ts';
import { openDirectoryMirror } from '../directory/directory-mirror.ts';
import { sealForOutbox } from '../messaging/seal-for-outbox.ts';
import { createMemoryVault } from '../vault/memory-vault.ts';
import { openCaseStore } from './case-store.ts';
import { createConsultService, type ConsultService } from './consult-service.ts';

/**
 * The consult service on a real store (SQLite in a temporary directory) with a region's real keys, no broker: what it
 * signs and queues for the local practitioners, and how it judges the steps that arrive (docs/protocol.md §5.2).
 */
const ENDPOINT = 'clinic-c';

describe('the consult service', () => {
  let region: TestRegion;
  let dir: string;
  let db: SqliteDatabase;
  let consult: ConsultService;
  let audit: AuditLog;
  let queued: StoredMessage[];
  let transport: TransportStore;
  let cole: TestPractitioner;
  let dahl: TestPractitioner;
  let ahmed: TestPractitioner;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rts-consult-service-'));
    region = await createTestRegion(join(dir, 'pki'));
    [cole, dahl, ahmed] = await Promise.all([
      region.practitioner('clinic-c.dr-cole'),
      region.practitioner('clinic-c.dr-dahl'),
      region.practitioner('clinic-a.dr-ahmed'),
    ]);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  beforeEach(async () => {
    db = openDatabase(join(dir, `${randomUUID()}.db`), undefined);
    const cases = openCaseStore(db);
    const mirror = openDirectoryMirror(db);
    transport = createSqliteTransportStore(db, { heldBodies: { read: (id) => cases.body(id) } });
    audit = openAuditLog(db, await auditSealFromVault(createMemoryVault()));
    mirror.applySnapshotBatch({
      batchId: 'b',
      index: 1,
      count: 1,
      version: 1,
      resources: [
        hospital('clinic-a.nordby', 'Nordby Hospital'),
        ...expertEntry(ahmed, { organizationId: 'clinic-a.nordby', endpoints: ['ws-expert-1'] }),
        hospital('clinic-c.vestby', 'Vestby Hospital'),
        ...expertEntry(cole, { organizationId: 'clinic-c.vestby', endpoints: [ENDPOINT] }),
        ...expertEntry(dahl, { organizationId: 'clinic-c.vestby', endpoints: [ENDPOINT] }),
      ],
    });
    const trust = {
      anchors: [region.ca.certificate],
      crls: pemToDerAll(readFileSync(region.files.crl, 'utf8'), PEM_LABELS.crl),
    };
    const local = new Map([
      [cole.id, cole],
      [dahl.id, dahl],
    ]);
    // The test region's keys are made for signing; a decryption key is imported for its use, as a .p12 import does.
    const decryption = new Map(
      await Promise.all(
        [cole, dahl].map(
          async (p) =>
            [
              p.id,
              await importDecryptionKey(await exportPrivateKeyPkcs8(p.encryption.privateKey), p.encryption.certificate),
            ] as const,
        ),
      ),
    );
    queued = [];
    consult = createConsultService({
      db,
      cases,
      mirror,
      audit,
      trust: () => trust,
      validator: () => createNativeCertificateValidator(trust),
      local: {
        endpointId: () => ENDPOINT,
        has: (id) => local.has(id),
        recipients: async (id) => [
          { certificate: local.get(id)!.encryption.certificate, privateKey: decryption.get(id)! },
        ],
      },
      seal: (input) => sealForOutbox(ENDPOINT, local.get(input.signAs)!.signing, input),
      enqueue: (message, orderKey, options) => {
        queued.push(message);
        const { message_id: messageId } = message.properties;
        transport.outbox.enqueue({ messageId, orderKey, address: 'uplink', message, bodyHeld: options?.bodyHeld });
      },
      onCaseChanged: () => undefined,
    });
  });

  const patient = { family: 'Ny', given: ['Ola'], gender: 'male' as const, birthDate: '1950-01-01' };

  it('signs a new case as the practitioner it is from, encrypted to the expert and to them, queued with its record', async () => {
    const summary = await consult.compose(
      { expertId: ahmed.id, patient, priority: 'urgent', reason: 'Chest pain' },
      dahl.id,
    );
    expect(summary).toMatchObject({
      role: 'applicant',
      status: 'requested',
      applicantId: dahl.id,
      expertId: ahmed.id,
      priority: 'urgent',
    });
    expect(queued).toHaveLength(1);
    expect(queued[0]!.properties.application_properties).toMatchObject({
      rtsType: 'consult.request',
      rtsFromPractitioner: dahl.id,
      rtsToPractitioner: ahmed.id,
      rtsSender: ENDPOINT,
      rtsSequence: 1,
    });
    // Its envelope is written once, into the case; the outbox sends it from there.
    const messageId = queued[0]!.properties.message_id;
    expect(db.prepare('select body_held from outbox where message_id = ?').get(messageId)).toEqual({ body_held: 1 });
    expect(existsSync(`${db.name}.bodies`)).toBe(false);
    expect(transport.outbox.load(messageId)!.body).toEqual(queued[0]!.body);
    // The case opens again here with dahl's key: the envelope was encrypted to the sender too.
    const view = await consult.openCase(summary.caseId, 'clinic-c');
    expect(view).toMatchObject({ reason: 'Chest pain', patient: { family: 'Ny' } });
    expect(view.messages[0]).toMatchObject({ direction: 'out', signer: { practitionerId: dahl.id } });
    expect(audit.list({ limit: 10 }).map((e) => `${e.actor} ${e.action}`)).toEqual(
      expect.arrayContaining([`${dahl.id} signed`, 'clinic-c case-opened']),
    );
  });

  it('refuses a case from someone it does not act for, or to oneself', async () => {
    await expect(
      consult.compose({ expertId: ahmed.id, patient, priority: 'routine', reason: 'x' }, 'clinic-c.dr-nobody'),
    ).rejects.toMatchObject({ code: 'not-found' });
    await expect(
      consult.compose({ expertId: dahl.id, patient, priority: 'routine', reason: 'x' }, dahl.id),
    ).rejects.toMatchObject({ code: 'not-allowed' });
    expect(queued).toEqual([]);
  });

  it("saves a file of a case where the dialog points: the stored message's exact bytes, audited by the file's place", async () => {
    const bytes = Uint8Array.from({ length: 300 }, (_, i) => (i * 37) % 256);
    const attachment = {
      title: '../Ola Ny: photo',
      contentType: 'image/png',
      base64: Buffer.from(bytes).toString('base64'),
      size: bytes.length,
    };
    const { caseId } = await consult.compose(
      { expertId: ahmed.id, patient, priority: 'routine', reason: 'Rash', attachments: [attachment] },
      dahl.id,
    );
    const folder = realpathSync(mkdtempSync(join(dir, 'saved-')));
    const offered: string[] = [];
    const dialog = {
      choosePath: async (fileName: string) => {
        offered.push(fileName);
        return join(folder, fileName);
      },
    };
    expect(await consult.saveAttachment(caseId, { index: 0 }, dialog, dahl.id)).toEqual({
      saved: true,
      folder,
      fileName: '_Ola Ny_ photo.png',
    });
    expect(offered).toEqual(['_Ola Ny_ photo.png']);
    expect(new Uint8Array(readFileSync(join(folder, '_Ola Ny_ photo.png')))).toEqual(bytes);
    const exports = () => audit.list({ limit: 20 }).filter((e) => e.action === 'exported');
    expect(exports().map((e) => [e.actor, e.subject, e.detail])).toEqual([
      [dahl.id, `case:${caseId}`, 'file 1 of the request'],
    ]);

    // Cancelled: nothing written, nothing audited.
    expect(await consult.saveAttachment(caseId, { index: 0 }, { choosePath: async () => undefined }, dahl.id)).toEqual({
      saved: false,
    });
    expect(readdirSync(folder)).toEqual(['_Ola Ny_ photo.png']);
    expect(exports()).toHaveLength(1);
    // A file the case does not have is refused before any dialog opens.
    for (const file of [{ index: 1 }, { index: 0, messageId: randomUUID() }]) {
      await expect(consult.saveAttachment(caseId, file, dialog, dahl.id)).rejects.toMatchObject({ code: 'not-found' });
    }
    await expect(consult.saveAttachment(randomUUID(), { index: 0 }, dialog, dahl.id)).rejects.toMatchObject({
      code: 'not-found',
    });
    expect(offered).toHaveLength(1);
  });

  /** A message from ahmed as the downlink handler hands it over after verifying it. */
  function fromAhmed(
    properties: Omit<ApplicationProperties, 'rtsVersion' | 'rtsSender' | 'rtsFromPractitioner'>,
    payload: (context: { messageId: string; timestamp: Date; sender: string }) => unknown,
  ): OpenedMessage {
    const messageId = randomUUID();
    return {
      metadata: {
        messageId,
        creationTime: new Date(),
        userId: 'ws-expert-1',
        contentType: 'application/pkcs7-mime',
        properties: {
          ...properties,
          rtsVersion: PROTOCOL_VERSION,
          rtsSender: 'ws-expert-1',
          rtsFromPractitioner: ahmed.id,
        } as ApplicationProperties,
      },
      payload: payload({ messageId, timestamp: new Date(), sender: 'ws-expert-1' }) as Record<string, unknown>,
      signer: {
        subject: `CN=${ahmed.id}`,
        signingTime: new Date(),
        certificate: ahmed.signing.certificate,
      } as OpenedMessage['signer'],
    };
  }

  /** A step from ahmed (the expert) about `caseId`. */
  const fromExpert = (
    caseId: string,
    status: 'accepted' | 'declined' | 'more-information-needed',
    sequence: number,
    to = dahl.id,
  ) =>
    fromAhmed(
      {
        rtsType: 'consult.status',
        rtsCase: caseId,
        rtsToPractitioner: to,
        rtsSequence: sequence,
        rtsStatus: status,
      } as Omit<ApplicationProperties, 'rtsVersion' | 'rtsSender' | 'rtsFromPractitioner'>,
      (context) => buildConsultStatus(context, { caseId, from: ahmed.id, to, sequence, status }),
    );

  it('saves a file sent with a later step, named by its message', async () => {
    const { caseId } = await consult.compose(
      { expertId: ahmed.id, patient, priority: 'routine', reason: 'Rash' },
      dahl.id,
    );
    for (const [status, sequence] of [
      ['accepted', 1],
      ['more-information-needed', 2],
    ] as const) {
      const step = await consult.incoming(fromExpert(caseId, status, sequence), new Uint8Array([1]));
      if (!step.ok) throw new Error(`${status}: ${step.reason}`);
      db.transaction(step.effect)();
    }
    const photo = Uint8Array.from({ length: 64 }, (_, i) => 255 - i);
    const base64 = Buffer.from(photo).toString('base64');
    await consult.act({
      caseId,
      action: 'provide-information',
      note: 'Photo attached',
      attachments: [
        { title: 'notes.txt', contentType: 'text/plain', base64: btoa('x'), size: 1 },
        { title: 'rash.jpg', contentType: 'image/jpeg', base64, size: photo.length },
      ],
    });
    const sent = (await consult.openCase(caseId, dahl.id)).messages.find((m) => m.attachments);
    const folder = realpathSync(mkdtempSync(join(dir, 'saved-')));
    const dialog = { choosePath: async (fileName: string) => join(folder, fileName) };
    expect(await consult.saveAttachment(caseId, { messageId: sent!.messageId, index: 1 }, dialog, dahl.id)).toEqual({
      saved: true,
      folder,
      fileName: 'rash.jpg',
    });
    expect(new Uint8Array(readFileSync(join(folder, 'rash.jpg')))).toEqual(photo);
    expect(audit.list({ limit: 1 })[0]).toMatchObject({
      action: 'exported',
      subject: `case:${caseId}`,
      detail: `file 2 of message:${sent!.messageId}`,
    });
    // The request has no files; a message of another case is not this case's.
    await expect(consult.saveAttachment(caseId, { index: 0 }, dialog, dahl.id)).rejects.toMatchObject({
      code: 'not-found',
    });
    const other = await consult.compose({ expertId: ahmed.id, patient, priority: 'routine', reason: 'x' }, dahl.id);
    await expect(
      consult.saveAttachment(other.caseId, { messageId: sent!.messageId, index: 1 }, dialog, dahl.id),
    ).rejects.toMatchObject({ code: 'not-found' });
  });

  it("takes the expert's steps in order and refuses what does not follow, naming the reason", async () => {
    const { caseId } = await consult.compose(
      { expertId: ahmed.id, patient, priority: 'routine', reason: 'Rash' },
      dahl.id,
    );
    const accepted = await consult.incoming(fromExpert(caseId, 'accepted', 1), new Uint8Array([1]));
    expect(accepted.ok).toBe(true);
    if (accepted.ok) db.transaction(accepted.effect)();
    expect(consult.summaryOf(caseId).status).toBe('accepted');
    // The same sequence again, a step the state does not allow, and a step addressed to the other local practitioner.
    expect(await consult.incoming(fromExpert(caseId, 'declined', 1), new Uint8Array([1]))).toMatchObject({
      ok: false,
      reason: 'out-of-order',
    });
    expect(await consult.incoming(fromExpert(caseId, 'declined', 2), new Uint8Array([1]))).toMatchObject({
      ok: false,
      reason: 'out-of-order',
    });
    expect(await consult.incoming(fromExpert(caseId, 'accepted', 3, cole.id), new Uint8Array([1]))).toMatchObject({
      ok: false,
      reason: 'not-addressed-to-me',
    });
    expect(
      await consult.incoming(fromExpert(caseId, 'accepted', 3, 'clinic-x.dr-elsewhere'), new Uint8Array([1])),
    ).toMatchObject({ ok: false, reason: 'not-addressed-to-me' });
    // The applicant cannot accept its own case.
    await expect(consult.act({ caseId, action: 'accept' })).rejects.toMatchObject({ code: 'not-allowed' });
  });

  it('keeps what the inbox shows of a case: patient, reason and the other party by name and hospital, read again for an older case', async () => {
    const { caseId } = await consult.compose(
      { expertId: ahmed.id, patient, priority: 'stat', reason: 'Chest pain\nsince 04:00, ST elevation' },
      dahl.id,
    );
    const rowOf = (id: string) => consult.inbox({}).find((r) => r.caseId === id);
    const expected = {
      patient: { name: 'Ola Ny', birthDate: '1950-01-01', gender: 'male' },
      reason: 'Chest pain',
      otherParty: { practitionerId: ahmed.id, hospital: 'Nordby Hospital' },
      waitingOn: 'them',
      escalated: false,
    };
    expect(rowOf(caseId)).toMatchObject(expected);
    expect(rowOf(caseId)?.otherParty.name).toBeTruthy();

    // A case kept before the store held this: read once from its envelope.
    db.prepare('update cases set patient_name = null, reason = null, described = 0').run();
    expect(rowOf(caseId)?.patient).toBeUndefined();
    expect(await consult.describeOlderCases(10)).toBe(1);
    expect(rowOf(caseId)).toMatchObject(expected);
    expect(await consult.describeOlderCases(10)).toBe(0);

    // A request that arrives is described as it is stored.
    const incomingId = randomUUID();
    const opened = fromAhmed(
      {
        rtsType: 'consult.request',
        rtsCase: incomingId,
        rtsToPractitioner: cole.id,
        rtsSequence: 1,
      } as Omit<ApplicationProperties, 'rtsVersion' | 'rtsSender' | 'rtsFromPractitioner'>,
      (context) =>
        buildConsultRequest(context, {
          caseId: incomingId,
          from: ahmed.id,
          to: cole.id,
          sequence: 1,
          patient: { family: 'Nordmann', given: ['Kari'], gender: 'female', birthDate: '1957-03-01' },
          priority: 'urgent',
          reason: 'Syncope',
        }),
    );
    const outcome = await consult.incoming(opened, new Uint8Array([1]));
    if (!outcome.ok) throw new Error(outcome.detail);
    db.transaction(outcome.effect)();
    expect(rowOf(incomingId)).toMatchObject({
      patient: { name: 'Kari Nordmann' },
      reason: 'Syncope',
      otherParty: { practitionerId: ahmed.id, hospital: 'Nordby Hospital' },
      waitingOn: 'me',
      priority: 'urgent',
    });
    expect(consult.inbox({ query: 'nordmann syn' }).map((r) => r.caseId)).toEqual([incomingId]);
  });
});
