import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createSqliteTransportStore,
  migrateTo,
  schemaVersion,
  scratchDatabase,
  storeContents,
  type SqliteDatabase,
} from '../../../transport/index.ts';
import { MIGRATIONS, openCaseStore } from './case-store.ts';

const LAST = MIGRATIONS.at(-1)!.version;

let db: SqliteDatabase;
let dispose: () => void;
beforeEach(() => {
  ({ db, dispose } = scratchDatabase());
  // The case store reads each message's place in the transport's outbox.
  createSqliteTransportStore(db);
});
afterEach(() => dispose());

/** A case as version 1 wrote it. */
function caseV1(
  caseId: string,
  role: 'applicant' | 'expert',
  status: string,
  priority: string | null,
  updatedAt: number,
  unread = 0,
): void {
  db.prepare(
    `insert into cases (case_id, role, status, priority, applicant_id, expert_id, created_at, updated_at, unread, my_sequence, peer_sequence)
    values (?, ?, ?, ?, 'clinic-b.dr-berg', 'clinic-a.dr-ahmed', 1, ?, ?, 1, 0)`,
  ).run(caseId, role, status, priority, updatedAt, unread);
}

describe('cases migrations', () => {
  it('2: puts every case of version 1 in its inbox tab with its urgency, and keeps its messages', () => {
    migrateTo(db, 'cases', MIGRATIONS, 1);
    caseV1('new-routine', 'expert', 'requested', 'routine', 10);
    caseV1('new-stat', 'expert', 'requested', 'stat', 5);
    caseV1('new-unread', 'expert', 'requested', null, 1, 1);
    caseV1('sent-asap', 'applicant', 'requested', 'asap', 1);
    caseV1('accepted', 'expert', 'accepted', 'urgent', 1);
    caseV1('provided', 'applicant', 'information-provided', null, 1);
    caseV1('asked', 'applicant', 'more-information-needed', null, 1);
    caseV1('declined', 'expert', 'declined', null, 1);
    caseV1('completed', 'applicant', 'completed', 'stat', 1);
    db.prepare(
      `insert into case_messages (message_id, case_id, direction, type, status, sequence, state, created_at, updated_at)
      values ('m1', 'accepted', 'in', 'consult.request', 'requested', 1, 'verified', 1, 1)`,
    ).run();

    const cases = openCaseStore(db);
    expect(db.prepare('select case_id, bucket, urgency from cases order by case_id').all()).toEqual([
      { case_id: 'accepted', bucket: 'progress', urgency: 2 },
      { case_id: 'asked', bucket: 'waiting', urgency: 3 },
      { case_id: 'completed', bucket: 'done', urgency: 0 },
      { case_id: 'declined', bucket: 'done', urgency: 3 },
      { case_id: 'new-routine', bucket: 'new', urgency: 3 },
      { case_id: 'new-stat', bucket: 'new', urgency: 0 },
      { case_id: 'new-unread', bucket: 'new', urgency: 3 },
      { case_id: 'provided', bucket: 'progress', urgency: 3 },
      { case_id: 'sent-asap', bucket: 'progress', urgency: 1 },
    ]);
    expect(cases.counts()).toEqual({ new: 3, progress: 3, waiting: 1, done: 2, escalated: 0 });
    // The inbox order the new index serves: unread, then most urgent, then newest.
    expect(cases.list({ bucket: 'new' }).map((c) => c.caseId)).toEqual(['new-unread', 'new-stat', 'new-routine']);
    expect(cases.messages('accepted')).toMatchObject([{ messageId: 'm1', state: 'verified', outbox: 'sent' }]);
    expect(schemaVersion(db, 'cases')).toBe(LAST);
  });

  it('3: a case of version 2 waits in its status since its last change, on whom its status says, and is to be described', () => {
    migrateTo(db, 'cases', MIGRATIONS, 2);
    caseV1('new-stat', 'expert', 'requested', 'stat', 500);
    caseV1('asked', 'applicant', 'more-information-needed', null, 700);
    caseV1('sent', 'applicant', 'requested', null, 800);
    caseV1('done', 'expert', 'completed', null, 900);

    const cases = openCaseStore(db);
    expect(cases.list({ sort: 'waiting' }).map((c) => [c.caseId, c.statusAt, c.waitingOn, c.details])).toEqual([
      ['new-stat', 500, 'me', {}],
      ['asked', 700, 'me', {}],
      ['sent', 800, 'them', {}],
      ['done', 900, 'nobody', {}],
    ]);
    expect(cases.undescribed(10).sort()).toEqual(['asked', 'done', 'new-stat', 'sent']);
    expect(cases.escalated(600)).toEqual([{ caseId: 'new-stat', priority: 'stat', statusAt: 500 }]);
    expect(cases.list({ query: 'anything' })).toEqual([]);
    expect(schemaVersion(db, 'cases')).toBe(LAST);
  });

  it('4: writes the search rows of a version 3 store again as terms across scripts, keeping each diagnosis', () => {
    migrateTo(db, 'cases', MIGRATIONS, 3);
    caseV1('zhang', 'expert', 'requested', 'stat', 500);
    caseV1('aase', 'applicant', 'requested', null, 600);
    caseV1('bare', 'applicant', 'requested', null, 700);
    db.prepare(
      "update cases set patient_name = '伟明 张', reason = '急性胸痛', peer_hospital = '郑州市第一人民医院', described = 1 where case_id = 'zhang'",
    ).run();
    db.prepare(
      "update cases set patient_name = 'Åse Ås', reason = 'Brystsmerter', described = 1 where case_id = 'aase'",
    ).run();
    // As version 3 wrote them: the text as given, each case's row under its own rowid.
    const row = db.prepare('insert into case_search_rows (rowid, case_id) values (?, ?)');
    const search = db.prepare(
      'insert into case_search (rowid, patient, reason, diagnosis, people) values (?, ?, ?, ?, ?)',
    );
    row.run(4, 'zhang');
    search.run(4, '伟明 张', '急性胸痛', '急性心肌梗死 I21.1', '郑州市第一人民医院 clinic-b.dr-berg clinic-a.dr-ahmed');
    row.run(9, 'aase');
    search.run(9, 'Åse Ås', 'Brystsmerter', '', 'clinic-b.dr-berg clinic-a.dr-ahmed');
    expect(db.prepare('select rowid from case_search where case_search match \'"as"\'').all()).toEqual([{ rowid: 9 }]);

    const cases = openCaseStore(db);
    const found = (query: string) => cases.list({ query }).map((c) => c.caseId);
    expect(found('伟明')).toEqual(['zhang']);
    expect(found('人民医院')).toEqual(['zhang']);
    expect(found('心肌梗死')).toEqual(['zhang']);
    expect(found('I21')).toEqual(['zhang']);
    expect(found('ås')).toEqual(['aase']);
    expect(found('as')).toEqual([]);
    expect(db.prepare('select rowid, diagnosis_text from case_search order by rowid').all()).toEqual([
      { rowid: 4, diagnosis_text: '急性心肌梗死 I21.1' },
      { rowid: 9, diagnosis_text: '' },
    ]);
    // A later change of what the case is about keeps the diagnosis, which only the index holds.
    cases.describe('zhang', { peerName: 'Dr. Ola Berg' });
    expect(found('心肌 ola')).toEqual(['zhang']);
    expect(db.prepare('select built from case_search_terms').get()).toEqual({ built: 1 });
    expect(schemaVersion(db, 'cases')).toBe(LAST);
  });

  it('5: a message kept by version 4 is read from its row; one kept after, from the case segments', async () => {
    migrateTo(db, 'cases', MIGRATIONS, 4);
    caseV1('c1', 'expert', 'requested', null, 1);
    db.prepare(
      `insert into case_messages (message_id, case_id, direction, type, status, sequence, state, body, created_at, updated_at)
      values ('m1', 'c1', 'in', 'consult.request', 'requested', 1, 'verified', ?, 1, 1)`,
    ).run(new Uint8Array([1, 2, 3]));

    const cases = openCaseStore(db);
    expect(cases.message('m1')!.body).toEqual(new Uint8Array([1, 2, 3]));
    expect(cases.body('m1')).toEqual(new Uint8Array([1, 2, 3]));
    const body = new Uint8Array([4, 5]);
    cases.addMessage(
      {
        messageId: 'm2',
        caseId: 'c1',
        direction: 'in',
        type: 'consult.status',
        status: 'accepted',
        sequence: 2,
        state: 'verified',
        body,
        createdAt: 2,
      },
      await cases.keepBody(body),
    );
    expect(
      db.prepare('select message_id, body, body_segment, body_bytes from case_messages order by message_id').all(),
    ).toEqual([
      { message_id: 'm1', body: Buffer.from([1, 2, 3]), body_segment: null, body_bytes: null },
      { message_id: 'm2', body: null, body_segment: 1, body_bytes: 2 },
    ]);
    expect(cases.messages('c1').map((m) => m.body)).toEqual([new Uint8Array([1, 2, 3]), new Uint8Array([4, 5])]);
    cases.close();
  });

  it('runs each migration once: migrating again changes nothing', () => {
    const cases = openCaseStore(db);
    cases.create({
      caseId: 'c1',
      role: 'expert',
      status: 'requested',
      priority: 'asap',
      applicantId: 'b.x',
      expertId: 'a.y',
      createdAt: 1,
      mySequence: 0,
    });
    const before = storeContents(db);
    openCaseStore(db);
    expect(storeContents(db)).toEqual(before);
    expect(schemaVersion(db, 'cases')).toBe(LAST);
  });
});
