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
