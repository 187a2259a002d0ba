import { migrate, preparedStatement, type SqliteDatabase } from '../../../transport/index.ts';
import { MIGRATIONS } from './case-store-migrations.ts';
import { indexTextOf, nameTextOf, queryTermsOf } from '../directory/search-terms.ts';
import type { CaseDetails, CaseListOptions } from './case-store.ts';

/**
 * The case store's triage (issue #21): a page of cases filtered, searched and ordered as the inbox asks, and what a
 * case is about kept and indexed for search.
 */

/** Priorities whose unaccepted requests are escalated. */
export const ESCALATED_PRIORITIES = ['stat', 'asap', 'urgent'] as const;

/** The escalation test as SQL, for an `escalateBefore` in ms since the epoch. */
export const escalatedSql = (before: number) => {
  if (!Number.isFinite(before)) throw new RangeError('escalateBefore must be a time in ms');
  return `(role = 'expert' and status = 'requested' and priority in (${ESCALATED_PRIORITIES.map((p) => `'${p}'`).join(',')}) and status_at <= ${Math.floor(before)})`;
};

/**
 * Escalated cases lead every order that shows urgency, the longest waiting first. Only the New tab can hold them (an
 * unaccepted request to us): elsewhere, and without `escalateBefore`, the order is one `cases_by_bucket` serves.
 */
const ESCALATED_FIRST = 'escalated desc, case when escalated = 1 then status_at end';
const ORDER = {
  inbox: 'unread desc, urgency, updated_at desc',
  urgency: 'urgency, status_at',
  waiting: 'status_at, urgency',
  newest: 'created_at desc',
  patient: 'patient_name is null, patient_name collate nocase, created_at desc',
  updated: 'updated_at desc',
} as const;

/** The select of one page of cases, with an `escalated` column (0 without `escalateBefore`). */
export function caseListQuery(options: CaseListOptions): { sql: string; values: (string | number)[] } {
  const limit = Math.min(options.limit ?? 10_000, 100_000);
  const offset = options.offset ?? 0;
  const terms = options.query === undefined ? [] : queryTermsOf(options.query);
  const filters: [string, ...(string | number)[]][] = [];
  if (options.bucket) filters.push(['bucket = ?', options.bucket]);
  if (options.role) filters.push(['role = ?', options.role]);
  if (options.practitioner)
    filters.push(["(case role when 'expert' then expert_id else applicant_id end) = ?", options.practitioner]);
  if (options.waitingOn) filters.push(['waiting_on = ?', options.waitingOn]);
  if (options.priorities) {
    // A case without a priority is routine.
    const priorities = [...options.priorities];
    filters.push([
      `coalesce(priority, 'routine') in (${priorities.map(() => '?').join(',') || 'null'})`,
      ...priorities,
    ]);
  }
  // Each word a quoted prefix, each Chinese run the phrase of its bigrams (search-terms.ts): what the user types is
  // never read as FTS5 syntax. Typed text without a word ("-") matches nothing rather than everything.
  const sort = options.sort ?? (options.bucket ? 'inbox' : 'updated');
  const matching = 'select rowid from case_search where case_search match ?';
  if (terms.length === 0 && options.query?.trim()) filters.push(['0']);
  else if (terms.length > 0)
    filters.push([
      sort === 'updated'
        ? // Most recent first: walk the cases newest first and test each, stopping at the page. Each case's search
          // row is looked up and tested against the matching rowids, rather than every match (all 10,000 cases for a
          // one-letter prefix) being turned into a case id first: a page of "c" in 1.5 ms instead of 17.
          `(select rowid from case_search_rows r where r.case_id = cases.case_id) in (${matching})`
        : `case_id in (select case_id from case_search_rows where rowid in (${matching}))`,
      terms.join(' AND '),
    ]);
  const escalates = options.escalateBefore !== undefined && (options.bucket ?? 'new') === 'new';
  const escalated = escalates ? escalatedSql(options.escalateBefore) : '0';
  const order =
    escalates && (sort === 'inbox' || sort === 'urgency') ? `${ESCALATED_FIRST}, ${ORDER[sort]}` : ORDER[sort];
  const where = filters.length > 0 ? `where ${filters.map(([condition]) => condition).join(' and ')}` : '';
  return {
    sql: `select *, ${escalated} as escalated from cases ${where} order by ${order}, rowid limit ? offset ?`,
    values: [...filters.flatMap(([, ...values]) => values), limit, offset],
  };
}

/** A patient of the user's own cases, once per name, birth date and sex: what a new request can start from. */
export interface SeenPatient {
  /** The newest case of this patient: its request holds the patient's full details. */
  readonly caseId: string;
  readonly name: string;
  readonly birthDate?: string;
  readonly gender?: string;
  /** When the newest case began (ms since the epoch). */
  readonly seenAt: number;
  readonly cases: number;
}

/**
 * Patients whose name has a word starting with each typed word, most recently seen first. Only what the cases keep is
 * searched (the FTS index's patient column): no registry leaves the workstation.
 */
export function seenPatients(db: SqliteDatabase, text: string, limit: number): SeenPatient[] {
  const terms = queryTermsOf(text);
  if (terms.length === 0) return [];
  // Grouped in SQL; SQLite's bare columns beside max() come from the row holding the maximum: the newest case.
  const rows = db
    .prepare<
      [string, number],
      {
        case_id: string;
        name: string;
        birth_date: string | null;
        gender: string | null;
        seen_at: number;
        cases: number;
      }
    >(
      `select case_id, patient_name as name, patient_birth_date as birth_date, patient_gender as gender,
        max(created_at) as seen_at, count(*) as cases
      from cases
      where patient_name is not null and case_id in (select case_id from case_search_rows where rowid in
        (select rowid from case_search where case_search match ?))
      group by lower(patient_name), patient_birth_date, patient_gender
      order by seen_at desc limit ?`,
    )
    .all(`patient : (${terms.join(' AND ')})`, limit);
  return rows.map((r) => ({
    caseId: r.case_id,
    name: r.name,
    ...(r.birth_date && { birthDate: r.birth_date }),
    ...(r.gender && { gender: r.gender }),
    seenAt: r.seen_at,
    cases: r.cases,
  }));
}

/** Keeps what a case is about and (re)indexes its search row; a diagnosis given alone keeps what the request said. */
export function describeCase(db: SqliteDatabase, caseId: string, details: CaseDetails): void {
  // Columns and search row together (a savepoint inside the inbox's or outbox's transaction).
  db.transaction(() => writeDetails(db, caseId, details))();
}

function writeDetails(db: SqliteDatabase, caseId: string, details: CaseDetails): void {
  const columns: [string, string | undefined][] = [
    ['patient_name', details.patientName],
    ['patient_birth_date', details.patientBirthDate],
    ['patient_gender', details.patientGender],
    ['reason', details.reason],
    ['peer_name', details.peerName],
    ['peer_hospital', details.peerHospital],
  ];
  const given = columns.filter(([, value]) => value !== undefined);
  // A report's diagnosis alone does not describe a case of an older store: its request is still to be read.
  const fromRequest = details.patientName !== undefined || details.reason !== undefined;
  preparedStatement(
    db,
    `update cases set ${[...given.map(([column]) => `${column} = ?`), `described = ${fromRequest ? 1 : 'described'}`].join(', ')} where case_id = ?`,
  ).run(...given.map(([, value]) => value!), caseId);
  const row = preparedStatement<[string], SearchedColumns>(
    db,
    'select patient_name, reason, peer_name, peer_hospital, applicant_id, expert_id from cases where case_id = ?',
  ).get(caseId);
  if (!row) return;
  const { rowid } = preparedStatement<[string], { rowid: number }>(
    db,
    'insert into case_search_rows (case_id) values (?) on conflict (case_id) do update set case_id = excluded.case_id returning rowid',
  ).get(caseId)!;
  const previous = preparedStatement<[number], { diagnosis_text: string | null }>(
    db,
    'select diagnosis_text from case_search where rowid = ?',
  ).get(rowid);
  writeSearchRow(db, rowid, row, details.diagnosis ?? previous?.diagnosis_text ?? '');
}

interface SearchedColumns {
  readonly patient_name: string | null;
  readonly reason: string | null;
  readonly peer_name: string | null;
  readonly peer_hospital: string | null;
  readonly applicant_id: string;
  readonly expert_id: string;
}

/** A case's search row, as terms (search-terms.ts), and its diagnosis as given. */
function writeSearchRow(db: SqliteDatabase, rowid: number, row: SearchedColumns, diagnosis: string): void {
  preparedStatement(db, 'delete from case_search where rowid = ?').run(rowid);
  preparedStatement(
    db,
    'insert into case_search (rowid, patient, reason, diagnosis, people, diagnosis_text) values (?, ?, ?, ?, ?, ?)',
  ).run(
    rowid,
    nameTextOf(row.patient_name ?? ''),
    indexTextOf(row.reason ?? ''),
    indexTextOf(diagnosis),
    [
      nameTextOf(row.peer_name ?? ''),
      indexTextOf([row.peer_hospital, row.applicant_id, row.expert_id].filter(Boolean).join(' ')),
    ].join(' '),
    diagnosis,
  );
}

/** Brings the store's schema up to date; the search rows of a store made before migration 4 are written again as terms. */
export function migrateCaseStore(db: SqliteDatabase): void {
  migrate(db, 'cases', MIGRATIONS);
  const { built } = db.prepare('select built from case_search_terms').get() as { built: number };
  if (built === 1) return;
  db.transaction(() => {
    const rows = db
      .prepare<[], SearchedColumns & { rowid: number; diagnosis_text: string | null }>(
        `select r.rowid as rowid, s.diagnosis_text, c.patient_name, c.reason, c.peer_name, c.peer_hospital, c.applicant_id, c.expert_id
        from case_search_rows r join cases c on c.case_id = r.case_id left join case_search s on s.rowid = r.rowid`,
      )
      .all();
    for (const row of rows) writeSearchRow(db, row.rowid, row, row.diagnosis_text ?? '');
    db.prepare('update case_search_terms set built = 1').run();
  })();
}
