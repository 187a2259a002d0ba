// The transport's schema, apart from the code that reads and writes it (sqlite-transport-store.ts): one version per
// change, applied by `migrate` (sqlite-database.ts) where a store has not seen it yet. A shipped version is never
// edited, because a store that already has it would never see the change.

// Bodies live apart from the outbox rows: SQLite rewrites a whole row on every update, and a state change must not
// rewrite (and re-encrypt) a megabyte attachment.
export const MIGRATIONS = [
  {
    version: 1,
    sql: `
      create table outbox (
        seq integer primary key autoincrement,
        message_id text not null unique,
        order_key text not null,
        address text not null,
        properties text not null,
        bytes integer not null,
        state text not null check (state in ('pending', 'in-flight', 'failed')),
        attempts integer not null default 0,
        next_attempt_at integer not null default 0,
        failure_reason text,
        created_at integer not null
      );
      create table outbox_bodies (message_id text primary key, body blob not null) without rowid;
      create index outbox_by_state on outbox (state, next_attempt_at, seq);
      -- The head of every order key in one pass over this index.
      create index outbox_live_by_key on outbox (order_key, seq) where state != 'failed';
      create table inbox (
        message_id text primary key,
        outcome text not null check (outcome in ('processed', 'rejected')),
        reason text,
        processed_at integer not null
      ) without rowid;
      create index inbox_by_age on inbox (processed_at);
      create table dead_letters (
        id integer primary key autoincrement,
        message_id text not null,
        source text not null,
        reason text not null,
        detail text not null,
        properties text not null,
        body blob not null,
        received_at integer not null,
        state text not null default 'held' check (state in ('held', 'replayed', 'discarded'))
      );
      create index dead_letters_by_state on dead_letters (state, id);
    `,
  },
  {
    version: 2,
    sql: `
      alter table dead_letters add column body_bytes integer not null default 0;
      alter table dead_letters add column body_kept integer not null default 1;
      update dead_letters set body_bytes = length(body);
      create index dead_letters_with_body on dead_letters (id) where body_kept = 1;
    `,
  },
  {
    version: 3,
    sql: `
      create table parked (
        seq integer primary key autoincrement,
        message_id text not null unique,
        source text not null,
        reason text not null,
        properties text not null,
        body blob not null,
        bytes integer not null,
        durable integer not null,
        parked_at integer not null
      );
      create index parked_by_source on parked (source, seq);
    `,
  },
  {
    // In-flight state lives in the sender's memory now (outbox-sender.ts): nothing is written per send. The indexes
    // that picked each order key's head go with it; the sender reads queued rows by seq.
    version: 4,
    sql: `
      update outbox set state = 'pending' where state = 'in-flight';
      drop index if exists outbox_by_state;
      drop index if exists outbox_live_by_key;
    `,
  },
  {
    // Bodies queued from now on live in segment files beside the database (body-segments.ts), sealed once; a row
    // holds where. Rows queued before keep their body in outbox_bodies until they are sent.
    version: 5,
    sql: `
      alter table outbox add column body_segment integer;
      alter table outbox add column body_offset integer;
      create index outbox_by_segment on outbox (body_segment) where body_segment is not null;
    `,
  },
  {
    // A body its owner keeps durable anyway (a case's message, in the case store's segments) is not written again:
    // the row holds neither body nor place, and the body is read from its owner (HeldBodies) to send it.
    version: 6,
    sql: `alter table outbox add column body_held integer not null default 0;`,
  },
];
