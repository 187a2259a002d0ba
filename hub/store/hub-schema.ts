import type { SqlClient } from './sql-client.ts';

/**
 * The hub's tables, in PostgreSQL's SQL (PGlite runs the same). Migrations are applied in order, each once, under an
 * advisory lock so that hub instances starting together do not race.
 */
export interface Migration {
  readonly version: number;
  readonly sql: string;
}

export const HUB_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    sql: `
      create table endpoints (
        id text primary key,
        kind text not null check (kind in ('workstation', 'clinic-system')),
        -- The clinic system that operates the endpoint (a clinic system operates itself).
        operator text not null,
        name text not null,
        organization text not null,
        -- A clinic system's certificate (it signs its directory publishes and its workstations' registrations).
        certificate bytea,
        registered_at timestamptz not null,
        updated_at timestamptz not null
      );

      create table directory_state (id int primary key check (id = 1), version bigint not null);
      insert into directory_state values (1, 0);

      -- One row per directory resource ever published; a retired one keeps its row (resource null) so that the
      -- retirement is a versioned change like any other. Resources are JSON text, not jsonb: the hub never queries
      -- inside them (a role's endpoints have their own column), and parsing 200,000 of them into jsonb was the
      -- slowest part of a full sync.
      create table directory_entries (
        url text primary key,
        entry_id text not null,
        resource_type text not null,
        publisher text not null,
        resource text,
        -- A PractitionerRole's endpoint ids, space-separated (endpoint ids have no spaces).
        endpoints text,
        digest text not null,
        version bigint not null,
        retired boolean not null
      );
      create index directory_entries_publisher on directory_entries (publisher);
      create index directory_entries_live on directory_entries (entry_id, resource_type) where not retired;

      create table directory_changes (
        version bigint primary key,
        publisher text not null,
        message_id text not null,
        upserts int not null,
        retirements int not null,
        applied_at timestamptz not null
      );

      -- A full publish travels in batches; it is applied once all of them are here.
      create table publish_sets (
        batch_id text primary key,
        publisher text not null,
        batch_count int not null,
        state text not null check (state in ('collecting', 'applied', 'rejected')),
        reason text,
        created_at timestamptz not null
      );
      create table publish_batches (
        batch_id text not null references publish_sets (batch_id) on delete cascade,
        batch_index int not null,
        message_id text not null,
        -- The batch's directory resources, a JSON array (the URLs it listed, from version 5 on).
        entries text not null,
        primary key (batch_id, batch_index)
      );

      -- De-duplication (protocol §7.1) and the outcome to repeat when a message comes again.
      create table processed_messages (
        message_id text primary key,
        sender text not null,
        type text not null,
        outcome text not null check (outcome in ('processed', 'delivered', 'rejected')),
        reason text,
        processed_at timestamptz not null
      );
      create index processed_messages_at on processed_messages (processed_at);

      -- What the hub sends, written in the transaction that decided it; a body fanned out to many endpoints is
      -- stored once. A row is claimed by the instance sending it until claimed_until; rows whose claim lapsed (the
      -- instance died) are taken over by another instance.
      create table outbox_bodies (id bigserial primary key, body bytea not null);
      create table hub_outbox (
        id bigserial primary key,
        endpoint text not null,
        message_id text not null,
        properties jsonb not null,
        body_id bigint not null references outbox_bodies (id),
        claimed_by text,
        claimed_until timestamptz not null,
        created_at timestamptz not null default now()
      );
      create index hub_outbox_claim on hub_outbox (claimed_until, id);
      create index hub_outbox_body on hub_outbox (body_id);

      create table dead_letters (
        id bigserial primary key,
        message_id text not null,
        source text not null,
        sender text not null,
        type text not null,
        reason text not null,
        detail text not null,
        properties jsonb not null,
        body bytea not null,
        received_at timestamptz not null,
        state text not null default 'held' check (state in ('held', 'replayed', 'discarded')),
        resolved_at timestamptz,
        resolution text
      );
      create index dead_letters_state on dead_letters (state, id);

      create table hub_instances (
        id text primary key,
        host text not null,
        pid int not null,
        version text not null,
        started_at timestamptz not null,
        heartbeat_at timestamptz not null,
        -- The instance's broker connection as it last saw it, e.g. "online 127.0.0.1:5672".
        broker text not null,
        stopped boolean not null default false
      );
    `,
  },
  {
    version: 2,
    sql: `
      -- Which endpoints the hub routed each consult message to, and from whom: a receipt from an endpoint is forwarded
      -- only about a message the hub routed from the receipt's addressee to that endpoint (protocol §6.1). Kept as
      -- long as the de-duplication records.
      create table routed_messages (
        message_id text not null,
        recipient text not null,
        sender text not null,
        routed_at timestamptz not null,
        primary key (message_id, recipient)
      );
      create index routed_messages_at on routed_messages (routed_at);

      -- The last full snapshot sent to each endpoint, and whether a request is waiting for the next one: an endpoint
      -- gets at most one snapshot per interval, however often it asks (protocol §5.1).
      create table snapshot_state (
        endpoint text primary key,
        sent_at timestamptz,
        version bigint,
        pending boolean not null default false
      );
      create index snapshot_state_pending on snapshot_state (sent_at) where pending;
    `,
  },
  {
    version: 3,
    sql: `
      -- Each CRL the hub has fanned out to every endpoint (hub.notice crl-updated, protocol §5.3), by the digest of its
      -- DER: instances that take the same new CRL from their files send it once between them.
      create table crl_distributions (
        digest text primary key,
        issuer text not null,
        crl_number bigint,
        endpoints int not null,
        distributed_at timestamptz not null,
        distributed_by text not null
      );
    `,
  },
  {
    version: 4,
    sql: `
      -- The CRL itself (DER) and its thisUpdate: a hub instance registering an endpoint sends it the newest CRL the
      -- region distributed, and an instance started on an older file takes that one instead. Rows recorded before
      -- have none until that CRL is offered again.
      alter table crl_distributions add column crl bytea, add column this_update timestamptz;
    `,
  },
  {
    version: 5,
    sql: `
      -- A full list is applied batch by batch as it arrives (protocol 5.1): a batch row keeps the URLs it listed, for
      -- the retirements once the last batch is in, or, for a refused batch, why. Batches collected before keep their
      -- resources (a JSON array of objects), applied when their set completes.
      alter table publish_batches add column rejected_reason text;
    `,
  },
  {
    version: 6,
    sql: `
      -- What the hub stores does not compress: CMS envelopes, and signed directory updates whose bulk is certificates in
      -- base64. PostgreSQL tried anyway on every value over 2 KB and failed at the end of it: a 1.5 MB update's body
      -- 33 ms into PGlite with the attempt, 9 ms without; 870 entries of 2.1 KB 61 ms, 44 ms kept inline. Rows written
      -- before keep how they were stored.
      alter table outbox_bodies alter column body set storage external;
      alter table dead_letters alter column body set storage external;
      alter table directory_entries set (toast_tuple_target = 8160);
    `,
  },
];

export async function migrateHubSchema(sql: SqlClient): Promise<void> {
  await sql.transaction(async (tx) => {
    // Serializes concurrent starts; released at commit.
    await tx.query('select pg_advisory_xact_lock(7273001)');
    await tx.query('create table if not exists schema_versions (component text primary key, version int not null)');
    const rows = await tx.query<{ version: number }>("select version from schema_versions where component = 'hub'");
    const current = rows[0]?.version ?? 0;
    for (const migration of HUB_MIGRATIONS) {
      if (migration.version <= current) continue;
      await tx.exec(migration.sql);
      await tx.query(
        "insert into schema_versions (component, version) values ('hub', $1) on conflict (component) do update set version = excluded.version",
        [migration.version],
      );
    }
  });
}
