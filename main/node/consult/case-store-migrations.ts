/** The case store's schema, one numbered step at a time (each has its test in case-store.migrations.test.ts). */
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
  {
    version: 3,
    // Triage without opening a case (issue #21): who the patient is and why, kept when the case arrives or is sent,
    // in this encrypted store like the case itself. described: 0 = a case of an older store, read once at start.
    // status_at: since when the case waits in its state (updated_at also moves on receipts).
    sql: `
    alter table cases add column patient_name text;
    alter table cases add column patient_birth_date text;
    alter table cases add column patient_gender text;
    alter table cases add column reason text;
    alter table cases add column peer_name text;
    alter table cases add column peer_hospital text;
    alter table cases add column described integer not null default 0;
    alter table cases add column status_at integer;
    update cases set status_at = updated_at;
    alter table cases add column waiting_on text generated always as (
      case when status in ('requested', 'accepted', 'information-provided') then (case when role = 'expert' then 'me' else 'them' end)
           when status = 'more-information-needed' then (case when role = 'expert' then 'them' else 'me' end)
           else 'nobody' end) virtual;
    create index cases_undescribed on cases (described) where described = 0;
    -- FTS rows by their own integer key: the rowid of a table with a text key may change on VACUUM.
    create table case_search_rows (rowid integer primary key, case_id text not null unique references cases (case_id));
    create virtual table case_search using fts5(patient, reason, diagnosis, people, tokenize = 'unicode61 remove_diacritics 2', prefix = '1 2 3');
  `,
  },
  {
    version: 4,
    // Search across scripts (issue 22, directory/search-terms.ts): the columns hold terms (Chinese runs as bigrams, so
    // that any part of a name is found; Bengali words whole; å not folded to a, hence remove_diacritics 0), and the
    // diagnosis as given, which only this index keeps, beside them. Every case's terms are written again when the
    // store is opened (reindexCaseSearch), while case_search_terms holds 0.
    sql: `
    create virtual table case_search_v4 using fts5(patient, reason, diagnosis, people, diagnosis_text unindexed, tokenize = 'unicode61 remove_diacritics 0', prefix = '1 2 3');
    insert into case_search_v4 (rowid, diagnosis_text) select rowid, diagnosis from case_search;
    drop table case_search;
    alter table case_search_v4 rename to case_search;
    create table case_search_terms (id integer primary key check (id = 1), built integer not null);
    insert into case_search_terms values (1, 0);
  `,
  },
  {
    version: 5,
    // A message's envelope is written once (issues 19 and 20): sealed into the case store's segment files beside the
    // database (case-bodies.ts), which the outbox also sends it from, instead of into this page-encrypted B-tree.
    // Messages kept before keep their body in the body column.
    sql: `
    alter table case_messages add column body_segment integer;
    alter table case_messages add column body_offset integer;
    alter table case_messages add column body_bytes integer;
  `,
  },
];
