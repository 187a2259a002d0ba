import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION, type MessageMetadata, type OpenedMessage } from '../../../shared/protocol/index.ts';
import { buildConsultRequest } from '../../../shared/protocol/fhir/index.ts';
import { openDatabase, type BodyRef, type SqliteDatabase } from '../../../transport/index.ts';
import { auditSealFromVault, openAuditLog } from '../audit/audit-log.ts';
import { openDirectoryMirror } from '../directory/directory-mirror.ts';
import { createMemoryVault } from '../vault/memory-vault.ts';
import { openCaseStore, type CaseStore } from './case-store.ts';
import { createIncomingConsults } from './consult-incoming.ts';

/** keepAhead: a consult's envelope written while its payload is validated, and incoming() taking that write. */
const ME = 'clinic-c.dr-cole';
const PEER = 'clinic-a.dr-ahmed';

describe('incoming consults, their envelopes written ahead', () => {
  let dir: string;
  let db: SqliteDatabase;
  let cases: CaseStore;
  let keeps: Uint8Array[];
  let failNextKeep: Error | undefined;
  let incoming: ReturnType<typeof createIncomingConsults>;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rts-consult-incoming-'));
    db = openDatabase(join(dir, 'store.db'), undefined);
    const store = openCaseStore(db);
    keeps = [];
    failNextKeep = undefined;
    cases = {
      ...store,
      keepBody: (body: Uint8Array): Promise<BodyRef | undefined> => {
        keeps.push(body);
        const failure = failNextKeep;
        failNextKeep = undefined;
        return failure ? Promise.reject(failure) : store.keepBody(body);
      },
    };
    incoming = createIncomingConsults({
      cases,
      mirror: openDirectoryMirror(db),
      audit: openAuditLog(db, await auditSealFromVault(createMemoryVault())),
      isLocal: (id) => id === ME,
      now: () => new Date(),
    });
  });
  afterEach(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function request(caseId: string = randomUUID(), to = ME): OpenedMessage {
    const messageId = randomUUID();
    const metadata: MessageMetadata = {
      messageId,
      creationTime: new Date(),
      userId: 'ws-expert-1',
      contentType: 'application/pkcs7-mime',
      properties: {
        rtsVersion: PROTOCOL_VERSION,
        rtsSender: 'ws-expert-1',
        rtsType: 'consult.request',
        rtsCase: caseId,
        rtsFromPractitioner: PEER,
        rtsToPractitioner: to,
        rtsSequence: 1,
      },
    };
    const payload = buildConsultRequest(
      { messageId, timestamp: new Date(), sender: 'ws-expert-1' },
      {
        caseId,
        from: PEER,
        to,
        sequence: 1,
        patient: { family: 'Nordmann', given: ['Kari'], gender: 'female', birthDate: '1957-03-01' },
        priority: 'urgent',
        reason: 'Syncope',
      },
    );
    return {
      metadata,
      payload: payload as unknown as Record<string, unknown>,
      signer: { subject: `CN=${PEER}`, signingTime: new Date(), certificate: new Uint8Array(1) },
    } as OpenedMessage;
  }

  it('writes the envelope once, ahead, and stores the message with that write', async () => {
    const opened = request();
    const body = new Uint8Array(randomBytes(4096));
    incoming.keepAhead(opened.metadata, body);
    expect(keeps).toEqual([body]);
    const outcome = await incoming.incoming(opened, body);
    if (!outcome.ok) throw new Error(outcome.detail);
    db.transaction(outcome.effect)();
    expect(keeps).toHaveLength(1);
    expect(Buffer.from(cases.body(opened.metadata.messageId)!).equals(body)).toBe(true);
  });

  it('writes nothing ahead for what incoming() would not keep', async () => {
    const caseId = randomUUID();
    const stored = request(caseId);
    const body = new Uint8Array([1, 2, 3]);
    const outcome = await incoming.incoming(stored, body);
    if (!outcome.ok) throw new Error(outcome.detail);
    db.transaction(outcome.effect)();
    keeps = [];

    incoming.keepAhead(stored.metadata, new Uint8Array([4])); // stored already
    incoming.keepAhead(request(caseId).metadata, new Uint8Array([5])); // its case exists
    incoming.keepAhead(request(randomUUID(), 'clinic-c.dr-someone-else').metadata, new Uint8Array([6])); // not ours
    const receipt = { ...stored.metadata, properties: { ...stored.metadata.properties, rtsType: 'receipt' } };
    incoming.keepAhead(receipt as MessageMetadata, new Uint8Array([7])); // not a consult message
    expect(keeps).toEqual([]);
  });

  it("gives incoming() the write's failure", async () => {
    const opened = request();
    const body = new Uint8Array([9]);
    failNextKeep = new Error('disk full');
    incoming.keepAhead(opened.metadata, body);
    await expect(incoming.incoming(opened, body)).rejects.toThrow('disk full');
    expect(keeps).toHaveLength(1);
  });
});
