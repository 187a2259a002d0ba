import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDatabase, createSqliteTransportStore } from '../../../transport/index.ts';
import { openCaseStore } from './case-store.ts';
import { caseListQuery } from './case-triage.ts';

const caseId = '3b8f0d2e-8f0a-4c1e-a6b1-0c2d3e4f5a6b';
const ids = ['7d0c7a4e-1c57-4a43-9d43-1d5a1c1f3a10', '8e1d8b5f-2d68-4b54-8e54-2e6b2d2f4b21'];

function stores() {
  const db = openDatabase(join(mkdtempSync(join(tmpdir(), 'rts-cases-')), 'store.db'), 'k'.repeat(32));
  const transport = createSqliteTransportStore(db);
  const cases = openCaseStore(db);
  cases.create({
    caseId,
    role: 'applicant',
    status: 'requested',
    applicantId: 'clinic-b.dr-berg',
    expertId: 'clinic-a.dr-ahmed',
    createdAt: 1,
    mySequence: 1,
  });
  for (const [i, messageId] of ids.entries()) {
    cases.addMessage({
      messageId,
      caseId,
      direction: 'out',
      type: 'consult.status',
      status: 'requested',
      sequence: i + 1,
      state: 'queued',
      createdAt: 10 + i,
    });
    transport.outbox.enqueue({
      messageId,
      orderKey: caseId,
      address: '/exchange/rts.uplink/ws-applicant-1',
      message: {
        properties: {
          message_id: messageId,
          user_id: 'ws-applicant-1',
          creation_time: 1,
          content_type: 'application/pkcs7-mime',
          application_properties: {},
        },
        body: new Uint8Array(3),
      },
    });
  }
  return { db, transport, cases };
}

describe('case store', () => {
  it("keeps each message's envelope once, sealed in the case segments beside the store, never in its rows", async () => {
    const { db, cases } = stores();
    const envelope = new TextEncoder().encode('envelope of Begum, Nasrin '.repeat(100));
    const message = (messageId: string) => ({
      messageId,
      caseId,
      direction: 'in' as const,
      type: 'consult.status' as const,
      status: 'requested' as const,
      sequence: 3,
      state: 'verified' as const,
      body: envelope,
      createdAt: 20,
    });
    const segmentBytes = () =>
      readdirSync(`${db.name}.cases`)
        .filter((f) => f.endsWith('.seg'))
        .reduce((sum, f) => sum + statSync(join(`${db.name}.cases`, f)).size, 0);
    // A body is kept (written and fsynced) before the transaction that adds its row.
    expect(() => cases.addMessage(message('m-in'))).toThrow(/not kept first/);
    expect(existsSync(`${db.name}.cases`)).toBe(false);
    cases.addMessage(message('m-in'), await cases.keepBody(envelope));
    const once = segmentBytes();
    expect(once).toBeGreaterThan(envelope.byteLength);
    expect(once).toBeLessThan(envelope.byteLength + 100);
    // The same message again (a redelivery) adds nothing.
    cases.addMessage(message('m-in'));
    expect(segmentBytes()).toBe(once);
    expect(db.prepare("select body, body_bytes from case_messages where message_id = 'm-in'").get()).toEqual({
      body: null,
      body_bytes: envelope.byteLength,
    });
    expect(cases.message('m-in')!.body).toEqual(envelope);
    expect(cases.body('m-in')).toEqual(envelope);
    expect(cases.messages(caseId).find((m) => m.messageId === 'm-in')!.body).toEqual(envelope);
    // A receipt's state change does not read the envelope back.
    expect(cases.setMessageState(ids[0]!, 'delivered', 30)!.body).toBeUndefined();
    for (const f of readdirSync(`${db.name}.cases`)) {
      expect(readFileSync(join(`${db.name}.cases`, f)).includes('Begum')).toBe(false);
    }
    cases.close();
    // After a restart it is read back from the segment.
    const again = openCaseStore(db);
    expect(again.body('m-in')).toEqual(envelope);
    expect(again.body('unknown')).toBeUndefined();
    again.close();
  });

  it('keeps the envelopes of a store in memory in its rows', () => {
    const db = openDatabase(':memory:', undefined);
    createSqliteTransportStore(db);
    const cases = openCaseStore(db);
    cases.create({
      caseId,
      role: 'expert',
      status: 'requested',
      applicantId: 'b.x',
      expertId: 'a.y',
      createdAt: 1,
      mySequence: 0,
    });
    cases.addMessage({
      messageId: 'm1',
      caseId,
      direction: 'in',
      type: 'consult.request',
      status: 'requested',
      sequence: 1,
      state: 'verified',
      body: new Uint8Array([1, 2, 3]),
      createdAt: 1,
    });
    expect(db.prepare('select body from case_messages').get()).toEqual({ body: Buffer.from([1, 2, 3]) });
    expect(cases.body('m1')).toEqual(new Uint8Array([1, 2, 3]));
  });

  it("reads each of our messages' place in the outbox: waiting, sent, or given up with the reason the inbox flags", () => {
    const { transport, cases } = stores();
    expect(cases.messages(caseId).map((m) => m.outbox)).toEqual(['waiting', 'waiting']);
    transport.outbox.confirmMany([ids[0]!]);
    transport.outbox.fail(ids[1]!, 'rejected by the broker: amqp:unauthorized-access');
    expect(cases.messages(caseId).map((m) => [m.outbox, m.outboxFailure])).toEqual([
      ['sent', undefined],
      ['failed', 'rejected by the broker: amqp:unauthorized-access'],
    ]);
    expect(cases.attention([caseId]).get(caseId)).toEqual({ kind: 'not-sent' });
  });

  it('names the case and type of a message without reading its envelope, and nothing for a message it does not hold', () => {
    const { cases } = stores();
    expect(cases.caseOfMessage(ids[1]!)).toEqual({ caseId, type: 'consult.status' });
    expect(cases.caseOfMessage('00000000-0000-4000-8000-000000000000')).toBeUndefined();
  });

  it('moves a message state forward only', () => {
    const { cases } = stores();
    expect(cases.setMessageState(ids[0]!, 'processed', 20)?.state).toBe('processed');
    // A late "delivered" from the hub does not undo the peer's "processed".
    expect(cases.setMessageState(ids[0]!, 'delivered', 21)?.state).toBe('processed');
    expect(cases.setMessageState(ids[0]!, 'rejected', 22, 'decrypt-failed', 'tampered')).toMatchObject({
      state: 'rejected',
      reason: 'decrypt-failed',
    });
    expect(cases.get(caseId)?.updatedAt).toBe(22);
  });

  it('lists a tab a page at a time in the inbox order, and counts every tab', () => {
    const { cases } = stores();
    const add = (
      n: number,
      status: 'requested' | 'accepted' | 'completed',
      role: 'expert' | 'applicant',
      priority: string,
      unread: boolean,
      at: number,
    ) =>
      cases.create({
        caseId: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
        role,
        status,
        priority,
        applicantId: 'b.x',
        expertId: 'a.y',
        createdAt: at,
        mySequence: 0,
        unread,
      });
    add(1, 'requested', 'expert', 'routine', false, 100);
    add(2, 'requested', 'expert', 'stat', false, 50);
    add(3, 'requested', 'expert', 'routine', true, 10);
    add(4, 'requested', 'expert', 'urgent', false, 200);
    add(5, 'accepted', 'expert', 'routine', false, 1);
    add(6, 'completed', 'applicant', 'routine', false, 1);
    expect(cases.counts()).toEqual({ new: 4, progress: 2, waiting: 0, done: 1, escalated: 0 });
    // The stat request (created at 50) and the urgent one (at 200) wait since before 201: both escalated.
    expect(cases.counts(201).escalated).toBe(2);
    expect(cases.counts(100).escalated).toBe(1);
    const ids = (list: { caseId: string }[]) => list.map((c) => Number(c.caseId.slice(-12)));
    // Unread first, then stat, urgent, routine; newest first among equals.
    expect(ids(cases.list({ bucket: 'new' }))).toEqual([3, 2, 4, 1]);
    expect(ids(cases.list({ bucket: 'new', offset: 1, limit: 2 }))).toEqual([2, 4]);
    // The applicant's own request waits in progress (the case store from stores() holds one too).
    expect(ids(cases.list({ bucket: 'progress' }))).toContain(5);
  });

  it('keeps what a case is about, finds it by words of patient, reason, diagnosis and people, and filters and sorts for triage', () => {
    const { cases } = stores();
    const add = (n: number, priority: string, at: number, role: 'expert' | 'applicant' = 'expert') => {
      const id = `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
      cases.create({
        caseId: id,
        role,
        status: 'requested',
        priority,
        applicantId: 'clinic-b.dr-berg',
        expertId: 'clinic-a.dr-ahmed',
        createdAt: at,
        mySequence: 0,
      });
      return id;
    };
    const stemi = add(1, 'stat', 1_000);
    const rash = add(2, 'routine', 2_000);
    const mine = add(3, 'urgent', 3_000, 'applicant');
    cases.describe(stemi, {
      patientName: 'Kari Nordmann',
      patientBirthDate: '1957-03-01',
      patientGender: 'female',
      reason: 'Chest pain, ST elevation in II, III, aVF',
      peerName: 'Dr. Zoë Berg',
    });
    cases.describe(rash, { patientName: 'Ola Sørvik', reason: 'Rash after antibiotics' });
    expect(cases.get(stemi)?.details).toEqual({
      patientName: 'Kari Nordmann',
      patientBirthDate: '1957-03-01',
      patientGender: 'female',
      reason: 'Chest pain, ST elevation in II, III, aVF',
      peerName: 'Dr. Zoë Berg',
    });
    const found = (query: string) => cases.list({ query }).map((c) => c.caseId);
    expect(found('nordm')).toEqual([stemi]);
    // Case and diacritics do not matter (ø is a letter of its own, not o with a mark); every word must match.
    expect(found('sørvik RASH')).toEqual([rash]);
    expect(found('zoe')).toEqual([stemi]);
    expect(found('chest rash')).toEqual([]);
    // A report's diagnosis is found too, and keeps what the request said.
    cases.describe(stemi, { diagnosis: 'Inferior STEMI I21.1' });
    expect(found('I21')).toEqual([stemi]);
    expect(found('kari')).toEqual([stemi]);
    // What the user types is never FTS syntax.
    expect(found('"kari"* ^(')).toEqual([stemi]);
    expect(found('')).toHaveLength(4);
    expect(found(' - ')).toEqual([]);

    expect(cases.list({ priorities: ['stat', 'urgent'] }).map((c) => c.caseId)).toEqual([mine, stemi]);
    expect(cases.list({ waitingOn: 'me' }).map((c) => c.caseId)).toEqual([rash, stemi]);
    expect(cases.list({ waitingOn: 'them' }).map((c) => c.caseId)).toContain(mine);
    expect(cases.list({ bucket: 'new', sort: 'patient' }).map((c) => c.caseId)).toEqual([stemi, rash]);
    expect(cases.list({ bucket: 'new', sort: 'waiting' }).map((c) => c.caseId)).toEqual([stemi, rash]);

    // Escalated: urgent requests to us waiting since before the time given; shown first in the inbox order.
    cases.update(rash, { unread: true, at: 2_500 });
    expect(cases.list({ bucket: 'new' }).map((c) => c.caseId)).toEqual([rash, stemi]);
    const escalated = cases.list({ bucket: 'new', escalateBefore: 1_500 });
    expect(escalated.map((c) => [c.caseId, c.escalated])).toEqual([
      [stemi, true],
      [rash, false],
    ]);
    // Among escalated cases, the one waiting longest leads, before unread and more urgent ones.
    const later = add(4, 'urgent', 1_200);
    cases.update(later, { unread: true, at: 1_200 });
    expect(cases.list({ bucket: 'new', escalateBefore: 1_500 }).map((c) => c.caseId)).toEqual([stemi, later, rash]);
    expect(cases.list({ bucket: 'new', sort: 'urgency', escalateBefore: 1_500 }).map((c) => c.caseId)).toEqual([
      stemi,
      later,
      rash,
    ]);
    expect(cases.escalated(1_500)).toEqual([
      { caseId: stemi, priority: 'stat', statusAt: 1_000 },
      { caseId: later, priority: 'urgent', statusAt: 1_200 },
    ]);
    expect(cases.escalated(999)).toEqual([]);
    // Accepted is no longer waiting to be accepted; its status time moves, a receipt's does not.
    cases.update(stemi, { status: 'accepted', at: 4_000 });
    cases.setMessageState(ids[0]!, 'delivered', 5_000);
    expect(cases.get(stemi)).toMatchObject({ statusAt: 4_000, waitingOn: 'me' });
    expect(cases.escalated(10_000).map((c) => c.caseId)).toEqual([later]);
  });

  it("finds the patients of the user's own cases by words of their name, once each, the newest case first", () => {
    const { cases } = stores();
    const add = (n: number, at: number, patientName: string, birth: string, reason = 'Chest pain') => {
      const id = `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
      cases.create({
        caseId: id,
        role: 'applicant',
        status: 'completed',
        applicantId: 'clinic-b.dr-berg',
        expertId: 'clinic-a.dr-ahmed',
        createdAt: at,
        mySequence: 1,
      });
      cases.describe(id, { patientName, patientBirthDate: birth, patientGender: 'female', reason });
      return id;
    };
    add(1, 1_000, 'Kari Nordmann', '1957-03-01');
    const kariAgain = add(2, 3_000, 'kari NORDMANN', '1957-03-01', 'Follow-up');
    const otherKari = add(3, 2_000, 'Kari Nordmann', '1990-01-01');
    add(4, 4_000, 'Ola Sørvik', '1960-05-05', 'Kari asked about a rash');
    expect(cases.patients('nord kar', 10)).toEqual([
      { caseId: kariAgain, name: 'kari NORDMANN', birthDate: '1957-03-01', gender: 'female', seenAt: 3_000, cases: 2 },
      { caseId: otherKari, name: 'Kari Nordmann', birthDate: '1990-01-01', gender: 'female', seenAt: 2_000, cases: 1 },
    ]);
    // The name only, not the reason; typed text is never FTS syntax; no words, no patients.
    expect(cases.patients('sørvik', 10).map((p) => p.name)).toEqual(['Ola Sørvik']);
    expect(cases.patients('rash', 10)).toEqual([]);
    expect(cases.patients('"kari"* OR', 10)).toEqual([]);
    expect(cases.patients('kari', 1)).toHaveLength(1);
    expect(cases.patients(' - ', 10)).toEqual([]);
  });

  it('offers the cases of an older store to be described once, and not one whose request cannot be read', () => {
    const { cases } = stores();
    expect(cases.undescribed(10)).toEqual([caseId]);
    cases.describe(caseId, { diagnosis: 'only a diagnosis' });
    expect(cases.undescribed(10)).toEqual([caseId]);
    cases.markUndescribable(caseId);
    expect(cases.undescribed(10)).toEqual([]);
  });

  it('reads a page of a tab in its index order, without sorting the whole tab (10,000 cases must open at once)', () => {
    const { db } = stores();
    const plan = (options: Parameters<typeof caseListQuery>[0]) => {
      const { sql, values } = caseListQuery(options);
      return db
        .prepare<(string | number)[], { detail: string }>(`explain query plan ${sql}`)
        .all(...values)
        .map((r) => r.detail)
        .join('; ');
    };
    for (const bucket of ['progress', 'waiting', 'done'] as const) {
      expect(plan({ bucket, escalateBefore: 1_000, limit: 100 })).toContain('cases_by_bucket');
      expect(plan({ bucket, escalateBefore: 1_000, limit: 100 })).not.toContain('TEMP B-TREE');
    }
    // Without escalation (the connector's lists), New too.
    expect(plan({ bucket: 'new', limit: 100 })).not.toContain('TEMP B-TREE');
    // A search over every tab, most recent first, walks the cases newest first and stops at the page.
    expect(plan({ query: 'c', escalateBefore: 1_000, limit: 50 })).toContain('cases_by_update');
    expect(plan({ query: 'c', escalateBefore: 1_000, limit: 50 })).not.toContain('TEMP B-TREE FOR ORDER BY');
    // Each case walked is tested by its search row, found by its case id: the matches are not each mapped to a case id.
    expect(plan({ query: 'c', escalateBefore: 1_000, limit: 50 })).toContain('CORRELATED SCALAR SUBQUERY');
    expect(plan({ query: 'c', escalateBefore: 1_000, limit: 50 })).not.toContain(
      'case_search_rows USING INTEGER PRIMARY KEY',
    );
  });
});
