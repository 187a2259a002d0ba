import { caseBucketSchema, type CaseAttention, type CaseBucket } from '../../../shared/api/index.ts';
import type { ConsultStatus, ReasonCode } from '../../../shared/protocol/index.ts';
import type { Logger } from '../../../shared/index.ts';
import { preparedStatement, type BodyRef, type SqliteDatabase } from '../../../transport/index.ts';
import { openCaseBodies } from './case-bodies.ts';
import { toCase, toRecord, type CaseRow, type MessageRow } from './case-rows.ts';
import { MIGRATIONS } from './case-store-migrations.ts';
import {
  caseListQuery,
  describeCase,
  escalatedSql,
  migrateCaseStore,
  seenPatients,
  type SeenPatient,
} from './case-triage.ts';
import { waitingMessages, type WaitingMessage } from './case-waiting.ts';

export { MIGRATIONS };

/**
 * Cases and their messages in the encrypted store. A message is kept as the CMS envelope it travelled in (decrypted
 * again whenever the case is opened), sealed into the case bodies' segments (case-bodies.ts); the clear columns hold
 * only what the inbox needs, never patient data.
 */
export type CaseRole = 'applicant' | 'expert';
export type ConsultMessageType = 'consult.request' | 'consult.status' | 'consult.report';
/** Ours: queued → delivered (hub routed it) → processed (the peer's workstation took it) | rejected | failed. Theirs: verified | rejected. */
export type MessageState = 'queued' | 'delivered' | 'processed' | 'rejected' | 'failed' | 'verified';

export interface CaseRecord {
  readonly caseId: string;
  readonly role: CaseRole;
  readonly status: ConsultStatus;
  readonly priority?: string;
  readonly applicantId: string;
  readonly expertId: string;
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly unread: boolean;
  /** Sequence numbers of this case's steps: the last we sent, and the last we accepted from the peer. */
  readonly mySequence: number;
  readonly peerSequence: number;
  /** Since when the case is in its status. */
  readonly statusAt: number;
  readonly waitingOn: WaitingOn;
  readonly details: Omit<CaseDetails, 'diagnosis'>;
  /** An urgent request not accepted in time (only when `list` was given `escalateBefore`). */
  readonly escalated?: boolean;
}

export interface CaseMessageRecord {
  readonly messageId: string;
  readonly caseId: string;
  readonly direction: 'in' | 'out';
  readonly type: ConsultMessageType;
  readonly status: ConsultStatus;
  readonly sequence: number;
  readonly state: MessageState;
  readonly reason?: ReasonCode;
  readonly detail?: string;
  readonly signerSubject?: string;
  readonly signedAt?: number;
  /** The envelope; absent for a refused message whose body is kept with the dead letter instead. */
  readonly body?: Uint8Array;
  readonly createdAt: number;
  /** Where the outbox has it: waiting (not yet accepted by the broker), given up with a reason, or gone (sent). */
  readonly outbox: 'waiting' | 'failed' | 'sent';
  readonly outboxFailure?: string;
}

/** What a case is about, read from its request (and its report), for the inbox and the search of past cases. */
export interface CaseDetails {
  readonly patientName?: string;
  /** A FHIR date: year, year-month or full date. */
  readonly patientBirthDate?: string;
  readonly patientGender?: string;
  /** The first line of the reason for the request. */
  readonly reason?: string;
  /** The other party's name and hospital when the case began (the directory's current ones are preferred when shown). */
  readonly peerName?: string;
  readonly peerHospital?: string;
  /** The report's conclusion and diagnoses, for search. */
  readonly diagnosis?: string;
}

export type CaseSort = 'inbox' | 'urgency' | 'waiting' | 'newest' | 'patient';
export type WaitingOn = 'me' | 'them' | 'nobody';

/** A case as it begins: its details are kept by `describe`. */
export type NewCase = Omit<
  CaseRecord,
  'updatedAt' | 'unread' | 'peerSequence' | 'statusAt' | 'waitingOn' | 'details' | 'escalated'
> & { unread?: boolean; peerSequence?: number };

export interface CaseListOptions {
  readonly bucket?: CaseBucket;
  readonly role?: CaseRole;
  readonly practitioner?: string;
  readonly priorities?: readonly string[];
  readonly waitingOn?: WaitingOn;
  readonly query?: string;
  readonly sort?: CaseSort;
  readonly escalateBefore?: number;
  readonly offset?: number;
  readonly limit?: number;
}

export interface CaseStore {
  get(caseId: string): CaseRecord | undefined;
  /**
   * A page of cases; `role` and `practitioner` (our side of the case, e.g. one practitioner of a connector) narrow it,
   * as do `priorities`, `waitingOn` and `query` (words matched as prefixes against patient, reason, diagnosis and
   * people). Order (`sort`): newest first without a bucket; within a bucket the inbox's order (`inbox`): escalated,
   * unread, most urgent, newest. `escalateBefore` (ms since the epoch): urgent requests to us waiting since before
   * it are escalated.
   */
  list(options?: CaseListOptions): CaseRecord[];
  /** Cases per tab, and (with `escalateBefore`) how many urgent requests to us are escalated. */
  counts(escalateBefore?: number): Record<CaseBucket, number> & { escalated: number };
  create(record: NewCase): void;
  update(
    caseId: string,
    change: { status?: ConsultStatus; unread?: boolean; mySequence?: number; peerSequence?: number; at: number },
  ): void;
  /**
   * Writes a message's envelope where its row will find it, before the transaction that adds the row: what is given
   * to addMessage as `kept` (undefined for a store in memory, whose rows hold the envelopes). A body kept for a row
   * never committed stays unreferenced.
   */
  keepBody(body: Uint8Array): Promise<BodyRef | undefined>;
  /** `kept`: where keepBody put the message's body (a stored body is always kept first). */
  addMessage(message: Omit<CaseMessageRecord, 'outbox' | 'outboxFailure'>, kept?: BodyRef): void;
  /** A receipt about one of our messages; a later state never goes back to an earlier one. Returned without its envelope. */
  setMessageState(
    messageId: string,
    state: MessageState,
    at: number,
    reason?: ReasonCode,
    detail?: string,
  ): CaseMessageRecord | undefined;
  message(messageId: string): CaseMessageRecord | undefined;
  /** The case and type of one message, without its envelope (the outbox view names them for failures). */
  caseOfMessage(messageId: string): { caseId: string; type: ConsultMessageType } | undefined;
  messages(caseId: string): CaseMessageRecord[];
  /** The first refused message of each case, for the inbox to flag. */
  attention(caseIds: readonly string[]): Map<string, CaseAttention>;
  /** Keeps what a case is about (patient, reason, the other party; later the diagnosis) and indexes it for search. */
  describe(caseId: string, details: CaseDetails): void;
  /** Cases whose details were never read (kept before the store had them; or unreadable, `failed`). */
  undescribed(limit: number): string[];
  /** A case whose request cannot be read: not offered again by `undescribed`. */
  markUndescribable(caseId: string): void;
  /** Urgent requests to us, not accepted and waiting since before `before`: what escalation tells the user of. */
  escalated(before: number): { caseId: string; priority: string; statusAt: number }[];
  /** Our consult messages still queued in the outbox, oldest first (case-waiting.ts). */
  waiting(limit: number, messageId?: string): WaitingMessage[];
  /** Patients of these cases by words of their name, most recently seen first (case-triage.ts). */
  patients(text: string, limit: number): SeenPatient[];
  /** The envelope of one message (what the outbox sends a message of ours from: HeldBodies). */
  body(messageId: string): Uint8Array | undefined;
  /** Closes the body segments (the database is closed by its owner). */
  close(): void;
}

const STATE_RANK: Readonly<Record<MessageState, number>> = {
  queued: 0,
  delivered: 1,
  processed: 2,
  verified: 2,
  rejected: 3,
  failed: 3,
};

/** Made at its first use, then kept. */
const once = <T>(make: () => T): (() => T) => {
  let made: T | undefined;
  return () => (made ??= make());
};

export function openCaseStore(db: SqliteDatabase, options: { logger?: Logger } = {}): CaseStore {
  migrateCaseStore(db);
  const bodies = openCaseBodies(db, options.logger);
  const bodyOf = (r: Pick<MessageRow, 'body' | 'body_segment' | 'body_offset' | 'body_bytes'>) => {
    if (r.body) return new Uint8Array(r.body);
    if (r.body_segment === null || !bodies) return undefined;
    return bodies.read({ segment: r.body_segment, offset: r.body_offset!, length: r.body_bytes! });
  };
  const toMessage = (r: MessageRow) => toRecord(r, bodyOf(r));
  const bodyColumns = db.prepare<[string], Pick<MessageRow, 'body' | 'body_segment' | 'body_offset' | 'body_bytes'>>(
    'select body, body_segment, body_offset, body_bytes from case_messages where message_id = ?',
  );
  const hasMessage = db.prepare<[string], 1>('select 1 from case_messages where message_id = ?').pluck();
  // What each consult step runs, prepared at first use (the outbox's table, which some join, may come later) and kept:
  // better-sqlite3 keeps no statement cache, and preparing these again cost P2 about 2 ms of each consult.
  // The outbox table belongs to the transport; "still queued" is read from it rather than copied.
  const messageColumns = 'm.*, o.state as outbox_state, o.failure_reason as outbox_failure';
  const messageFrom = 'case_messages m left join outbox o on o.message_id = m.message_id';
  const caseById = once(() => db.prepare<[string], CaseRow>('select * from cases where case_id = ?'));
  const insertCase = once(() =>
    db.prepare(
      'insert into cases (case_id, role, status, priority, applicant_id, expert_id, created_at, updated_at, unread, my_sequence, peer_sequence, status_at) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    ),
  );
  const updateCase = once(() =>
    db.prepare(
      `update cases set status_at = case when @status is not null and @status != status then @at else status_at end,
      status = coalesce(@status, status), unread = coalesce(@unread, unread), my_sequence = coalesce(@mySequence, my_sequence),
      peer_sequence = coalesce(@peerSequence, peer_sequence), updated_at = @at where case_id = @caseId`,
    ),
  );
  const insertMessage = once(() =>
    db.prepare(
      `insert into case_messages (message_id, case_id, direction, type, status, sequence, state, reason, detail, signer_subject, signed_at, body, body_segment, body_offset, body_bytes, created_at, updated_at)
      values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) on conflict (message_id) do nothing`,
    ),
  );
  const messageById = once(() =>
    db.prepare<[string], MessageRow>(`select ${messageColumns} from ${messageFrom} where m.message_id = ?`),
  );
  const messagesOfCase = once(() =>
    db.prepare<[string], MessageRow>(
      `select ${messageColumns} from ${messageFrom} where m.case_id = ? order by m.created_at, m.rowid`,
    ),
  );
  const setState = once(() =>
    db.prepare('update case_messages set state = ?, reason = ?, detail = ?, updated_at = ? where message_id = ?'),
  );
  const touchCase = once(() => db.prepare('update cases set updated_at = ? where case_id = ?'));
  const caseOfMessage = once(() =>
    db.prepare<[string], { case_id: string; type: ConsultMessageType }>(
      'select case_id, type from case_messages where message_id = ?',
    ),
  );
  return {
    get: (caseId) => {
      const row = caseById().get(caseId);
      return row && toCase(row);
    },
    list(options = {}) {
      const { sql, values } = caseListQuery(options);
      return db
        .prepare<(string | number)[], CaseRow>(sql)
        .all(...values)
        .map((row) => toCase(options.escalateBefore === undefined ? { ...row, escalated: undefined } : row));
    },
    counts(escalateBefore) {
      const counts = Object.fromEntries(caseBucketSchema.options.map((b) => [b, 0])) as Record<CaseBucket, number>;
      for (const row of db
        .prepare<[], { bucket: CaseBucket; n: number }>('select bucket, count(*) as n from cases group by bucket')
        .all())
        counts[row.bucket] = row.n;
      const escalated =
        escalateBefore === undefined
          ? 0
          : db
              .prepare<[], { n: number }>(
                `select count(*) as n from cases where bucket = 'new' and ${escalatedSql(escalateBefore)}`,
              )
              .get()!.n;
      return { ...counts, escalated };
    },
    create(r) {
      insertCase().run(
        r.caseId,
        r.role,
        r.status,
        r.priority ?? null,
        r.applicantId,
        r.expertId,
        r.createdAt,
        r.createdAt,
        r.unread ? 1 : 0,
        r.mySequence,
        r.peerSequence ?? 0,
        r.createdAt,
      );
    },
    update(caseId, change) {
      updateCase().run({
        status: change.status ?? null,
        unread: change.unread === undefined ? null : change.unread ? 1 : 0,
        mySequence: change.mySequence ?? null,
        peerSequence: change.peerSequence ?? null,
        at: change.at,
        caseId,
      });
    },
    keepBody: async (body) => bodies?.keep(body),
    addMessage(m, kept) {
      // A message stored already gets no second row (its body, if kept again, stays unreferenced).
      if (hasMessage.get(m.messageId) !== undefined) return;
      // Sealed and fsynced before the row: a crash before the commit leaves only an unreferenced record behind.
      if (m.body && bodies && !kept) throw new Error(`the body of ${m.messageId} was not kept first (keepBody)`);
      const ref = m.body && kept;
      insertMessage().run(
        m.messageId,
        m.caseId,
        m.direction,
        m.type,
        m.status,
        m.sequence,
        m.state,
        m.reason ?? null,
        m.detail ?? null,
        m.signerSubject ?? null,
        m.signedAt ?? null,
        ref ? null : (m.body ?? null),
        ref?.segment ?? null,
        ref?.offset ?? null,
        ref?.length ?? null,
        m.createdAt,
        m.createdAt,
      );
    },
    setMessageState(messageId, state, at, reason, detail) {
      const current = messageById().get(messageId);
      if (!current || STATE_RANK[state] <= STATE_RANK[current.state]) return current && toRecord(current, undefined);
      setState().run(state, reason ?? null, detail ?? null, at, messageId);
      touchCase().run(at, current.case_id);
      return toRecord({ ...current, state, reason: reason ?? null, detail: detail ?? null }, undefined);
    },
    message: (messageId) => {
      const row = messageById().get(messageId);
      return row && toMessage(row);
    },
    waiting: (limit, messageId) => waitingMessages(db, limit, messageId),
    caseOfMessage: (messageId) => {
      const row = caseOfMessage().get(messageId);
      return row && { caseId: row.case_id, type: row.type };
    },
    messages: (caseId) => messagesOfCase().all(caseId).map(toMessage),
    attention(caseIds) {
      const result = new Map<string, CaseAttention>();
      if (caseIds.length === 0) return result;
      const rows = preparedStatement<string[], { case_id: string; reason: string | null; direction: string }>(
        db,
        `select m.case_id, m.reason, m.direction from ${messageFrom} where (m.state in ('rejected', 'failed') or o.state = 'failed')
          and m.case_id in (${caseIds.map(() => '?').join(',')}) order by m.created_at`,
      ).all(...caseIds);
      const attentionOf = (r: { reason: string | null; direction: string }): CaseAttention => {
        const reason = r.reason ?? undefined;
        if (r.direction === 'in') return { kind: 'received-refused', ...(reason && { reason }) };
        return reason ? { kind: 'sent-refused', reason } : { kind: 'not-sent' };
      };
      for (const r of rows) if (!result.has(r.case_id)) result.set(r.case_id, attentionOf(r));
      return result;
    },
    describe: (caseId, details) => describeCase(db, caseId, details),
    patients: (text, limit) => seenPatients(db, text, limit),
    body: (messageId) => {
      const row = bodyColumns.get(messageId);
      return row && bodyOf(row);
    },
    close: () => bodies?.close(),
    undescribed: (limit) =>
      db
        .prepare<[number], { case_id: string }>('select case_id from cases where described = 0 limit ?')
        .all(limit)
        .map((r) => r.case_id),
    markUndescribable(caseId) {
      db.prepare('update cases set described = 2 where case_id = ?').run(caseId);
    },
    escalated: (before) =>
      db
        .prepare<[], { case_id: string; priority: string; status_at: number }>(
          `select case_id, priority, status_at from cases where bucket = 'new' and ${escalatedSql(before)} order by status_at`,
        )
        .all()
        .map((r) => ({ caseId: r.case_id, priority: r.priority, statusAt: r.status_at })),
  };
}
