import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../../transport/sqlite-database.ts';
import { createSqliteTransportStore } from '../../../transport/sqlite-transport-store.ts';
import { openCaseStore } from './case-store.ts';

const caseId = '3b8f0d2e-8f0a-4c1e-a6b1-0c2d3e4f5a6b';
const ids = ['7d0c7a4e-1c57-4a43-9d43-1d5a1c1f3a10', '8e1d8b5f-2d68-4b54-8e54-2e6b2d2f4b21'];

function stores() {
  const db = openDatabase(join(mkdtempSync(join(tmpdir(), 'rts-cases-')), 'store.db'), 'k'.repeat(32));
  const transport = createSqliteTransportStore(db);
  const cases = openCaseStore(db);
  cases.create({ caseId, role: 'applicant', status: 'requested', applicantId: 'clinic-b.dr-berg', expertId: 'clinic-a.dr-ahmed', createdAt: 1, mySequence: 1 });
  for (const [i, messageId] of ids.entries()) {
    cases.addMessage({ messageId, caseId, direction: 'out', type: 'consult.status', status: 'requested', sequence: i + 1, state: 'queued', createdAt: 10 + i });
    transport.outbox.enqueue({
      messageId, orderKey: caseId, address: '/exchange/rts.uplink/ws-applicant-1',
      message: { properties: { message_id: messageId, user_id: 'ws-applicant-1', creation_time: 1, content_type: 'application/pkcs7-mime', application_properties: {} }, body: new Uint8Array(3) },
    });
  }
  return { transport, cases };
}

describe('case store', () => {
  it("reads each of our messages' place in the outbox: waiting, sent, or given up with the reason the inbox flags", () => {
    const { transport, cases } = stores();
    expect(cases.messages(caseId).map((m) => m.outbox)).toEqual(['waiting', 'waiting']);
    transport.outbox.confirm(ids[0]!);
    transport.outbox.fail(ids[1]!, 'rejected by the broker: amqp:unauthorized-access');
    expect(cases.messages(caseId).map((m) => [m.outbox, m.outboxFailure])).toEqual([['sent', undefined], ['failed', 'rejected by the broker: amqp:unauthorized-access']]);
    expect(cases.attention([caseId]).get(caseId)).toBe('A message could not be sent');
  });

  it('moves a message state forward only', () => {
    const { cases } = stores();
    expect(cases.setMessageState(ids[0]!, 'processed', 20)?.state).toBe('processed');
    // A late "delivered" from the hub does not undo the peer's "processed".
    expect(cases.setMessageState(ids[0]!, 'delivered', 21)?.state).toBe('processed');
    expect(cases.setMessageState(ids[0]!, 'rejected', 22, 'decrypt-failed', 'tampered')).toMatchObject({ state: 'rejected', reason: 'decrypt-failed' });
    expect(cases.get(caseId)?.updatedAt).toBe(22);
  });
});
