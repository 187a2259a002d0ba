import { caseBucketSchema, type CaseBucket } from '../../../shared/api/index.ts';
import type { ConsultStatus, ReasonCode } from '../../../shared/protocol/index.ts';
import { migrate, type SqliteDatabase } from '../../../transport/index.ts';

/**
 * Cases and their messages in the encrypted store. A message is kept as the CMS envelope it travelled in (decrypted
 * again whenever the case is opened); the clear columns hold only what the inbox needs, never patient data.
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

export const MIGRATIONS = [
  {
    version: 1,
    sql: `
    create table cases (
      case_id text primary key, role text not null check (role in ('applicant', 'expert')), status text not null,
      priority text, applicant_id text not null, expert_id text not null, created_at integer not null, updated_at integer not null,
      unread integer not null default 0, my_sequence integer not null default 0, peer_sequence integer not null default 0
    );
    create index cases_by_update on cases (updated_at desc);
    create table case_messages (
      message_id text primary key, case_id text not null references cases (case_id), direction text not null check (direction in ('in', 'out')),
      type text not null, status text not null, sequence integer not null, state text not null, reason text, detail text,
      signer_subject text, signed_at integer, body blob, created_at integer not null, updated_at integer not null
    );
    create index case_messages_by_case on case_messages (case_id, created_at);
  `,
  },
  {
    version: 2,
    // The inbox's tabs and order, computed by SQLite so that a tab of 10,000 cases is read a page at a time.
    sql: `
    alter table cases add column bucket text generated always as (
      case when status = 'requested' then (case when role = 'expert' then 'new' else 'progress' end)
           when status in ('accepted', 'information-provided') then 'progress'
           when status = 'more-information-needed' then 'waiting'
           else 'done' end) virtual;
    alter table cases add column urgency integer generated always as (
      case priority when 'stat' then 0 when 'asap' then 1 when 'urgent' then 2 else 3 end) virtual;
    create index cases_by_bucket on cases (bucket, unread desc, urgency, updated_at desc);
  `,
  },
];

interface CaseRow {
  case_id: string;
  role: CaseRole;
  status: ConsultStatus;
  priority: string | null;
  applicant_id: string;
  expert_id: string;
  created_at: number;
  updated_at: number;
  unread: number;
  my_sequence: number;
  peer_sequence: number;
}
interface MessageRow {
  message_id: string;
  case_id: string;
  direction: 'in' | 'out';
  type: ConsultMessageType;
  status: ConsultStatus;
  sequence: number;
  state: MessageState;
  reason: string | null;
  detail: string | null;
  signer_subject: string | null;
  signed_at: number | null;
  body: Uint8Array | null;
  created_at: number;
  outbox_state: string | null;
  outbox_failure: string | null;
}

const toCase = (r: CaseRow): CaseRecord => ({
  caseId: r.case_id,
  role: r.role,
  status: r.status,
  ...(r.priority && { priority: r.priority }),
  applicantId: r.applicant_id,
  expertId: r.expert_id,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  unread: r.unread === 1,
  mySequence: r.my_sequence,
  peerSequence: r.peer_sequence,
});
const toMessage = (r: MessageRow): CaseMessageRecord => ({
  messageId: r.message_id,
  caseId: r.case_id,
  direction: r.direction,
  type: r.type,
  status: r.status,
  sequence: r.sequence,
  state: r.state,
  ...(r.reason && { reason: r.reason as ReasonCode }),
  ...(r.detail && { detail: r.detail }),
  ...(r.signer_subject && { signerSubject: r.signer_subject }),
  ...(r.signed_at !== null && { signedAt: r.signed_at }),
  ...(r.body && { body: new Uint8Array(r.body) }),
  createdAt: r.created_at,
  outbox: r.outbox_state === null ? 'sent' : r.outbox_state === 'failed' ? 'failed' : 'waiting',
  ...(r.outbox_failure && { outboxFailure: r.outbox_failure }),
});

export interface CaseStore {
  get(caseId: string): CaseRecord | undefined;
  /** Newest first; within a bucket, the inbox's order: unread, then most urgent, then newest. */
  /** A page of cases; `role` and `practitioner` (our side of the case, e.g. one practitioner of a connector) narrow it. */
  list(options?: {
    bucket?: CaseBucket;
    role?: CaseRole;
    practitioner?: string;
    offset?: number;
    limit?: number;
  }): CaseRecord[];
  counts(): Record<CaseBucket, number>;
  create(
    record: Omit<CaseRecord, 'updatedAt' | 'unread' | 'peerSequence'> & { unread?: boolean; peerSequence?: number },
  ): void;
  update(
    caseId: string,
    change: { status?: ConsultStatus; unread?: boolean; mySequence?: number; peerSequence?: number; at: number },
  ): void;
  addMessage(message: Omit<CaseMessageRecord, 'outbox' | 'outboxFailure'>): void;
  /** A receipt about one of our messages; a later state never goes back to an earlier one. */
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
  attention(caseIds: readonly string[]): Map<string, string>;
}

const STATE_RANK: Readonly<Record<MessageState, number>> = {
  queued: 0,
  delivered: 1,
  processed: 2,
  verified: 2,
  rejected: 3,
  failed: 3,
};

export function openCaseStore(db: SqliteDatabase): CaseStore {
  migrate(db, 'cases', MIGRATIONS);
  // The outbox table belongs to the transport; "still queued" is read from it rather than copied.
  const messageColumns = 'm.*, o.state as outbox_state, o.failure_reason as outbox_failure';
  const messageFrom = 'case_messages m left join outbox o on o.message_id = m.message_id';
  return {
    get: (caseId) => {
      const row = db.prepare<[string], CaseRow>('select * from cases where case_id = ?').get(caseId);
      return row && toCase(row);
    },
    list(options = {}) {
      const limit = Math.min(options.limit ?? 10_000, 100_000);
      const offset = options.offset ?? 0;
      const filters: [string, string | undefined][] = [
        ['bucket = ?', options.bucket],
        ['role = ?', options.role],
        ["(case role when 'expert' then expert_id else applicant_id end) = ?", options.practitioner],
      ];
      const chosen = filters.filter(([, value]) => value !== undefined);
      const where = chosen.map(([condition]) => condition);
      const values: (string | number)[] = chosen.map(([, value]) => value!);
      const order = options.bucket ? 'unread desc, urgency, updated_at desc' : 'updated_at desc';
      const sql = `select * from cases ${where.length > 0 ? `where ${where.join(' and ')}` : ''} order by ${order} limit ? offset ?`;
      return db
        .prepare<(string | number)[], CaseRow>(sql)
        .all(...values, limit, offset)
        .map(toCase);
    },
    counts() {
      const counts = Object.fromEntries(caseBucketSchema.options.map((b) => [b, 0])) as Record<CaseBucket, number>;
      for (const row of db
        .prepare<[], { bucket: CaseBucket; n: number }>('select bucket, count(*) as n from cases group by bucket')
        .all())
        counts[row.bucket] = row.n;
      return counts;
    },
    create(r) {
      db.prepare(
        'insert into cases (case_id, role, status, priority, applicant_id, expert_id, created_at, updated_at, unread, my_sequence, peer_sequence) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      ).run(
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
      );
    },
    update(caseId, change) {
      db.prepare(
        `update cases set status = coalesce(?, status), unread = coalesce(?, unread), my_sequence = coalesce(?, my_sequence),
        peer_sequence = coalesce(?, peer_sequence), updated_at = ? where case_id = ?`,
      ).run(
        change.status ?? null,
        change.unread === undefined ? null : change.unread ? 1 : 0,
        change.mySequence ?? null,
        change.peerSequence ?? null,
        change.at,
        caseId,
      );
    },
    addMessage(m) {
      db.prepare(
        `insert into case_messages (message_id, case_id, direction, type, status, sequence, state, reason, detail, signer_subject, signed_at, body, created_at, updated_at)
        values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) on conflict (message_id) do nothing`,
      ).run(
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
        m.body ?? null,
        m.createdAt,
        m.createdAt,
      );
    },
    setMessageState(messageId, state, at, reason, detail) {
      const current = db
        .prepare<[string], MessageRow>(`select ${messageColumns} from ${messageFrom} where m.message_id = ?`)
        .get(messageId);
      if (!current || STATE_RANK[state] <= STATE_RANK[current.state]) return current && toMessage(current);
      db.prepare('update case_messages set state = ?, reason = ?, detail = ?, updated_at = ? where message_id = ?').run(
        state,
        reason ?? null,
        detail ?? null,
        at,
        messageId,
      );
      db.prepare('update cases set updated_at = ? where case_id = ?').run(at, current.case_id);
      return toMessage({ ...current, state, reason: reason ?? null, detail: detail ?? null });
    },
    message: (messageId) => {
      const row = db
        .prepare<[string], MessageRow>(`select ${messageColumns} from ${messageFrom} where m.message_id = ?`)
        .get(messageId);
      return row && toMessage(row);
    },
    caseOfMessage: (messageId) => {
      const row = db
        .prepare<[string], { case_id: string; type: ConsultMessageType }>(
          'select case_id, type from case_messages where message_id = ?',
        )
        .get(messageId);
      return row && { caseId: row.case_id, type: row.type };
    },
    messages: (caseId) =>
      db
        .prepare<[string], MessageRow>(
          `select ${messageColumns} from ${messageFrom} where m.case_id = ? order by m.created_at, m.rowid`,
        )
        .all(caseId)
        .map(toMessage),
    attention(caseIds) {
      const result = new Map<string, string>();
      if (caseIds.length === 0) return result;
      const rows = db
        .prepare<string[], { case_id: string; reason: string | null; direction: string }>(
          `select m.case_id, m.reason, m.direction from ${messageFrom} where (m.state in ('rejected', 'failed') or o.state = 'failed')
          and m.case_id in (${caseIds.map(() => '?').join(',')}) order by m.created_at`,
        )
        .all(...caseIds);
      const words = (r: { reason: string | null; direction: string }) =>
        r.direction === 'in'
          ? `A received message was refused: ${r.reason ?? 'unknown reason'}`
          : r.reason
            ? `A sent message was refused: ${r.reason}`
            : 'A message could not be sent';
      for (const r of rows) if (!result.has(r.case_id)) result.set(r.case_id, words(r));
      return result;
    },
  };
}
