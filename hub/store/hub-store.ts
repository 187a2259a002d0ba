import type { DeadLetterState, StoredMessage } from '../../transport/transport-store.ts';
import type { DirectoryResourceType, DirectoryRow } from '../directory/directory-chunks.ts';
import { asJson, type SqlQueryable } from './sql-client.ts';

/**
 * The hub's queries, each taking the transaction (or client) it runs in, so that a message's effects — directory
 * change, outgoing messages, de-duplication record, dead letter — commit together or not at all.
 */

// --- endpoints ------------------------------------------------------------------------------------------------------

export type EndpointKind = 'workstation' | 'clinic-system';

export interface EndpointRecord {
  readonly id: string;
  readonly kind: EndpointKind;
  readonly operator: string;
  readonly name: string;
  readonly organization: string;
  readonly certificate: Uint8Array | null;
  readonly registeredAt: Date;
  readonly updatedAt: Date;
}

const endpointColumns = 'id, kind, operator, name, organization, certificate, registered_at as "registeredAt", updated_at as "updatedAt"';

export async function getEndpoint(q: SqlQueryable, id: string): Promise<EndpointRecord | undefined> {
  return (await q.query<EndpointRecord>(`select ${endpointColumns} from endpoints where id = $1`, [id]))[0];
}

export function listEndpoints(q: SqlQueryable): Promise<EndpointRecord[]> {
  return q.query<EndpointRecord>(`select ${endpointColumns} from endpoints order by id`);
}

export async function endpointIds(q: SqlQueryable): Promise<string[]> {
  return (await q.query<{ id: string }>('select id from endpoints order by id')).map((r) => r.id);
}

/** Registered clinic systems: the senders whose directory publishes the hub validates ahead. */
export async function clinicSystemIds(q: SqlQueryable): Promise<string[]> {
  return (await q.query<{ id: string }>("select id from endpoints where kind = 'clinic-system'")).map((r) => r.id);
}

export async function saveEndpoint(q: SqlQueryable, e: Omit<EndpointRecord, 'registeredAt' | 'updatedAt'>, now: Date): Promise<void> {
  await q.query(
    `insert into endpoints (id, kind, operator, name, organization, certificate, registered_at, updated_at)
     values ($1, $2, $3, $4, $5, $6, $7, $7)
     on conflict (id) do update set kind = excluded.kind, operator = excluded.operator, name = excluded.name,
       organization = excluded.organization, certificate = excluded.certificate, updated_at = excluded.updated_at`,
    [e.id, e.kind, e.operator, e.name, e.organization, e.certificate, now],
  );
}

// --- directory ------------------------------------------------------------------------------------------------------

/** Locks the region's directory for this transaction (instances apply changes one at a time) and reads its version. */
export async function lockDirectory(q: SqlQueryable): Promise<number> {
  return (await q.query<{ version: number }>('select version from directory_state where id = 1 for update'))[0]!.version;
}

export async function directoryVersion(q: SqlQueryable): Promise<number> {
  return (await q.query<{ version: number }>('select version from directory_state where id = 1'))[0]!.version;
}

export async function setDirectoryVersion(q: SqlQueryable, version: number): Promise<void> {
  await q.query('update directory_state set version = $1 where id = 1', [version]);
}

export interface EntryDigest { readonly digest: string; readonly retired: boolean }

/** What a publisher has in the directory, by url: enough to tell which entries a new publish changes. */
export async function publisherDigests(q: SqlQueryable, publisher: string): Promise<Map<string, EntryDigest>> {
  const rows = await q.query<{ url: string; digest: string; retired: boolean }>('select url, digest, retired from directory_entries where publisher = $1', [publisher]);
  return new Map(rows.map((r) => [r.url, { digest: r.digest, retired: r.retired }]));
}

export async function entryDigests(q: SqlQueryable, urls: readonly string[]): Promise<Map<string, EntryDigest>> {
  const rows = await q.query<{ url: string; digest: string; retired: boolean }>('select url, digest, retired from directory_entries where url = any($1::text[])', [urls]);
  return new Map(rows.map((r) => [r.url, { digest: r.digest, retired: r.retired }]));
}

export interface EntryWrite extends DirectoryRow {
  readonly publisher: string;
  /** JSON text of the resource; undefined retires the entry. */
  readonly json?: string;
  /** A PractitionerRole's endpoint ids. */
  readonly endpoints?: readonly string[];
  readonly digest: string;
}

export async function writeEntries(q: SqlQueryable, entries: readonly EntryWrite[], version: number): Promise<void> {
  if (entries.length === 0) return;
  await q.query(
    `insert into directory_entries (url, entry_id, resource_type, publisher, resource, endpoints, digest, version, retired)
     select u, e, t, p, r, n, d, $8, r is null
     from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[]) as x(u, e, t, p, r, n, d)
     on conflict (url) do update set resource = excluded.resource, endpoints = excluded.endpoints, digest = excluded.digest,
       version = excluded.version, retired = excluded.retired, publisher = excluded.publisher`,
    [
      entries.map((e) => e.url), entries.map((e) => e.entryId), entries.map((e) => e.resourceType), entries.map((e) => e.publisher),
      entries.map((e) => e.json ?? null) as unknown as string[], entries.map((e) => e.endpoints?.join(' ') ?? null) as unknown as string[],
      entries.map((e) => e.digest), version,
    ],
  );
}

export async function recordDirectoryChange(q: SqlQueryable, change: { version: number; publisher: string; messageId: string; upserts: number; retirements: number; at: Date }): Promise<void> {
  await q.query(
    'insert into directory_changes (version, publisher, message_id, upserts, retirements, applied_at) values ($1, $2, $3, $4, $5, $6)',
    [change.version, change.publisher, change.messageId, change.upserts, change.retirements, change.at],
  );
}

export async function liveDirectoryRows(q: SqlQueryable): Promise<DirectoryRow[]> {
  return q.query<DirectoryRow>('select url, entry_id as "entryId", resource_type as "resourceType" from directory_entries where not retired');
}

/** Resources as JSON text, in the order asked. */
export async function resourcesByUrl(q: SqlQueryable, urls: readonly string[]): Promise<string[]> {
  const rows = await q.query<{ url: string; json: string }>('select url, resource as json from directory_entries where url = any($1::text[])', [urls]);
  const byUrl = new Map(rows.map((r) => [r.url, r.json]));
  return urls.map((url) => byUrl.get(url)!);
}

export interface RoleRecord {
  readonly publisher: string;
  readonly retired: boolean;
  /** Endpoint ids the role lists. */
  readonly endpoints: string[];
}

export async function findRole(q: SqlQueryable, directoryId: string): Promise<RoleRecord | undefined> {
  const rows = await q.query<{ publisher: string; retired: boolean; endpoints: string | null }>(
    'select publisher, retired, endpoints from directory_entries where url = $1',
    [`PractitionerRole/${directoryId}`],
  );
  const row = rows[0];
  return row && { publisher: row.publisher, retired: row.retired, endpoints: row.endpoints ? row.endpoints.split(' ') : [] };
}

export interface DirectoryStats {
  readonly version: number;
  readonly live: Readonly<Record<DirectoryResourceType, number>>;
  readonly retired: number;
  readonly publishers: { publisher: string; practitioners: number }[];
  readonly lastChange?: { version: number; publisher: string; at: Date };
  readonly collectingPublishes: number;
}

export async function directoryStats(q: SqlQueryable): Promise<DirectoryStats> {
  const counts = await q.query<{ resourceType: DirectoryResourceType; retired: boolean; n: number }>(
    'select resource_type as "resourceType", retired, count(*)::int as n from directory_entries group by 1, 2',
  );
  const publishers = await q.query<{ publisher: string; practitioners: number }>(
    "select publisher, count(*)::int as practitioners from directory_entries where resource_type = 'PractitionerRole' and not retired group by 1 order by 1",
  );
  const last = (await q.query<{ version: number; publisher: string; at: Date }>('select version, publisher, applied_at as at from directory_changes order by version desc limit 1'))[0];
  const collecting = (await q.query<{ n: number }>("select count(*)::int as n from publish_sets where state = 'collecting'"))[0]!.n;
  const live = { Organization: 0, Practitioner: 0, PractitionerRole: 0 };
  let retired = 0;
  for (const c of counts) {
    if (c.retired) retired += c.n;
    else live[c.resourceType] = c.n;
  }
  return { version: await directoryVersion(q), live, retired, publishers, ...(last && { lastChange: last }), collectingPublishes: collecting };
}

export interface DirectoryListingRow {
  readonly id: string;
  readonly publisher: string;
  readonly retired: boolean;
  readonly version: number;
  /** JSON text of the PractitionerRole and the Practitioner of the same id; null once retired. */
  readonly role: string | null;
  readonly practitioner: string | null;
}

/**
 * Practitioner entries (by their PractitionerRole), ordered by directory id, a page at a time (ids after `after`);
 * with `exactId`, that one entry.
 */
export function listDirectoryEntries(q: SqlQueryable, options: { publisher?: string; after?: string | undefined; exactId?: string; limit: number }): Promise<DirectoryListingRow[]> {
  return q.query<DirectoryListingRow>(
    `select r.entry_id as id, r.publisher, r.retired, r.version, r.resource as role, p.resource as practitioner
     from directory_entries r left join directory_entries p on p.url = 'Practitioner/' || r.entry_id
     where r.resource_type = 'PractitionerRole' and ($1::text is null or r.publisher = $1) and ($2::text is null or r.entry_id > $2)
       and ($3::text is null or r.url = 'PractitionerRole/' || $3)
     order by r.entry_id limit $4`,
    [options.publisher ?? null, options.after ?? null, options.exactId ?? null, options.limit],
  );
}

// --- revocation lists -----------------------------------------------------------------------------------------------

/** A CRL the hub fans out to every endpoint, as `crl_distributions` records it. */
export interface CrlDistribution {
  readonly digest: string;
  readonly issuer: string;
  readonly crlNumber: number | null;
  readonly thisUpdate: Date;
  /** The CRL's DER: what a registering endpoint, or an instance starting on an older file, is given later. */
  readonly crl: Uint8Array;
  readonly endpoints: number;
  readonly by: string;
  readonly at: Date;
}

/**
 * Records that a CRL is being fanned out; false if an instance already did (the caller then sends nothing). The
 * digest is the primary key, so two instances recording the same CRL at once insert one row between them; a row
 * recorded before the DER was kept (migration 4) gets it now.
 */
export async function recordCrlDistribution(q: SqlQueryable, d: CrlDistribution): Promise<boolean> {
  const rows = await q.query(
    `insert into crl_distributions (digest, issuer, crl_number, this_update, crl, endpoints, distributed_at, distributed_by) values ($1, $2, $3, $4, $5, $6, $7, $8)
     on conflict (digest) do nothing returning digest`,
    [d.digest, d.issuer, d.crlNumber, d.thisUpdate, d.crl, d.endpoints, d.at, d.by],
  );
  if (rows.length === 1) return true;
  await q.query('update crl_distributions set crl = $2, this_update = $3 where digest = $1 and crl is null', [d.digest, d.crl, d.thisUpdate]);
  return false;
}

/** Whether the CRL with this digest was distributed and its DER kept (nothing left to do for it). */
export async function isCrlDistributed(q: SqlQueryable, digest: string): Promise<boolean> {
  return (await q.query('select 1 from crl_distributions where digest = $1 and crl is not null', [digest])).length === 1;
}

/**
 * The newest distributed CRL of each issuer (highest CRL number, then latest thisUpdate), as DER. The caller still
 * verifies each against its trust anchors: the issuer here is a name, not a key.
 */
export async function newestDistributedCrls(q: SqlQueryable): Promise<Uint8Array[]> {
  const rows = await q.query<{ crl: Uint8Array }>(
    `select distinct on (issuer) crl from crl_distributions where crl is not null
     order by issuer, crl_number desc nulls last, this_update desc`,
  );
  return rows.map((r) => new Uint8Array(r.crl));
}

// --- full publishes in batches --------------------------------------------------------------------------------------

export interface PublishSet {
  readonly batchId: string;
  readonly publisher: string;
  readonly batchCount: number;
  readonly state: 'collecting' | 'applied' | 'rejected';
  readonly reason: string | null;
}

export async function getPublishSet(q: SqlQueryable, batchId: string): Promise<PublishSet | undefined> {
  return (await q.query<PublishSet>('select batch_id as "batchId", publisher, batch_count as "batchCount", state, reason from publish_sets where batch_id = $1', [batchId]))[0];
}

export async function createPublishSet(q: SqlQueryable, set: { batchId: string; publisher: string; batchCount: number; at: Date }): Promise<void> {
  await q.query("insert into publish_sets (batch_id, publisher, batch_count, state, created_at) values ($1, $2, $3, 'collecting', $4)", [set.batchId, set.publisher, set.batchCount, set.at]);
}

export async function addPublishBatch(q: SqlQueryable, batch: { batchId: string; index: number; messageId: string; entriesJson: string }): Promise<number> {
  await q.query('insert into publish_batches (batch_id, batch_index, message_id, entries) values ($1, $2, $3, $4) on conflict do nothing', [batch.batchId, batch.index, batch.messageId, batch.entriesJson]);
  return (await q.query<{ n: number }>('select count(*)::int as n from publish_batches where batch_id = $1', [batch.batchId]))[0]!.n;
}

/** One stored batch of a full publish (its resources as a JSON array), read when the set is applied. */
export async function publishBatchEntries(q: SqlQueryable, batchId: string, index: number): Promise<string> {
  return (await q.query<{ entries: string }>('select entries from publish_batches where batch_id = $1 and batch_index = $2', [batchId, index]))[0]!.entries;
}

/** A batch of the set was rejected: the set can never be complete, and its later batches are refused too. */
export async function rejectPublishSet(q: SqlQueryable, set: { batchId: string; publisher: string; batchCount: number; reason: string; at: Date }): Promise<void> {
  await q.query(
    `insert into publish_sets (batch_id, publisher, batch_count, state, reason, created_at) values ($1, $2, $3, 'rejected', $4, $5)
     on conflict (batch_id) do update set state = 'rejected', reason = excluded.reason where publish_sets.publisher = excluded.publisher`,
    [set.batchId, set.publisher, set.batchCount, set.reason, set.at],
  );
  // Only the publisher's own set loses its batches: another sender naming the same batch id changes nothing of it.
  await q.query('delete from publish_batches where batch_id = $1 and exists (select 1 from publish_sets where batch_id = $1 and publisher = $2)', [set.batchId, set.publisher]);
}

/** Applied or rejected sets keep their row (a late batch of them is recognized) but lose their batches. */
export async function closePublishSet(q: SqlQueryable, batchId: string, state: 'applied' | 'rejected', reason?: string): Promise<void> {
  await q.query('update publish_sets set state = $2, reason = $3 where batch_id = $1', [batchId, state, reason ?? null]);
  await q.query('delete from publish_batches where batch_id = $1', [batchId]);
}

// --- de-duplication -------------------------------------------------------------------------------------------------

export type ProcessedOutcome = 'processed' | 'delivered' | 'rejected';

export interface ProcessedRecord {
  readonly outcome: ProcessedOutcome;
  readonly reason: string | null;
  readonly sender: string;
}

/**
 * Claims a message id for this transaction. False: it was processed before (or another instance is processing it
 * now; the insert waits for that transaction and then sees its row).
 */
export async function claimMessage(q: SqlQueryable, m: { messageId: string; sender: string; type: string; outcome: ProcessedOutcome; at: Date }): Promise<boolean> {
  const rows = await q.query(
    'insert into processed_messages (message_id, sender, type, outcome, processed_at) values ($1, $2, $3, $4, $5) on conflict do nothing returning message_id',
    [m.messageId, m.sender, m.type, m.outcome, m.at],
  );
  return rows.length === 1;
}

/** Claims several message ids in one statement; returns those claimed now (the others were processed before). */
export async function claimMessages(q: SqlQueryable, messages: readonly { messageId: string; sender: string; type: string; outcome: ProcessedOutcome }[], at: Date): Promise<Set<string>> {
  if (messages.length === 0) return new Set();
  const rows = await q.query<{ message_id: string }>(
    `insert into processed_messages (message_id, sender, type, outcome, processed_at)
     select * , $5::timestamptz from unnest($1::text[], $2::text[], $3::text[], $4::text[]) on conflict do nothing returning message_id`,
    [messages.map((m) => m.messageId), messages.map((m) => m.sender), messages.map((m) => m.type), messages.map((m) => m.outcome), at],
  );
  return new Set(rows.map((r) => r.message_id));
}

export async function setMessageOutcome(q: SqlQueryable, messageId: string, outcome: ProcessedOutcome, reason?: string): Promise<void> {
  await q.query('update processed_messages set outcome = $2, reason = $3 where message_id = $1', [messageId, outcome, reason ?? null]);
}

export async function getProcessed(q: SqlQueryable, messageId: string): Promise<ProcessedRecord | undefined> {
  return (await q.query<ProcessedRecord>('select outcome, reason, sender from processed_messages where message_id = $1', [messageId]))[0];
}

export async function forgetMessage(q: SqlQueryable, messageId: string): Promise<void> {
  await q.query('delete from processed_messages where message_id = $1', [messageId]);
}

export async function pruneProcessed(q: SqlQueryable, before: Date): Promise<number> {
  return (await q.query('delete from processed_messages where processed_at < $1 returning 1', [before])).length;
}

// --- routed messages --------------------------------------------------------------------------------------------------

/** The endpoints a consult message was routed to, from its sender: what receipts may later refer to. */
export async function recordRoutes(q: SqlQueryable, routes: readonly { messageId: string; sender: string; recipients: readonly string[] }[], at: Date): Promise<void> {
  const rows = routes.flatMap((r) => r.recipients.map((recipient) => ({ messageId: r.messageId, sender: r.sender, recipient })));
  if (rows.length === 0) return;
  await q.query(
    `insert into routed_messages (message_id, recipient, sender, routed_at)
     select m, r, s, $4 from unnest($1::text[], $2::text[], $3::text[]) as x(m, r, s) on conflict do nothing`,
    [rows.map((r) => r.messageId), rows.map((r) => r.recipient), rows.map((r) => r.sender), at],
  );
}

/** Whether the hub routed this message from `sender` to `recipient`. */
export async function wasRouted(q: SqlQueryable, route: { messageId: string; sender: string; recipient: string }): Promise<boolean> {
  return (await q.query('select 1 from routed_messages where message_id = $1 and recipient = $2 and sender = $3', [route.messageId, route.recipient, route.sender])).length === 1;
}

export async function pruneRouted(q: SqlQueryable, before: Date): Promise<number> {
  return (await q.query('delete from routed_messages where routed_at < $1 returning 1', [before])).length;
}

// --- snapshots ------------------------------------------------------------------------------------------------------

export interface SnapshotState {
  /** When the last full snapshot was sent to the endpoint, and at which version; null before the first. */
  readonly sentAt: Date | null;
  readonly version: number | null;
  /** A request waits for the next snapshot (it came too soon after the last one). */
  readonly pending: boolean;
}

/** The endpoint's snapshot state, locked for this transaction (taken before the directory lock, always). */
export async function lockSnapshotState(q: SqlQueryable, endpoint: string): Promise<SnapshotState> {
  await q.query('insert into snapshot_state (endpoint) values ($1) on conflict do nothing', [endpoint]);
  return (await q.query<SnapshotState>(
    'select sent_at as "sentAt", version, pending from snapshot_state where endpoint = $1 for update',
    [endpoint],
  ))[0]!;
}

export async function snapshotSent(q: SqlQueryable, endpoint: string, version: number, at: Date): Promise<void> {
  await q.query('update snapshot_state set sent_at = $2, version = $3, pending = false where endpoint = $1', [endpoint, at, version]);
}

export async function deferSnapshot(q: SqlQueryable, endpoint: string): Promise<void> {
  await q.query('update snapshot_state set pending = true where endpoint = $1', [endpoint]);
}

/** Endpoints whose waiting request is due (their last snapshot is older than `before`), locked; none another instance holds. */
export async function dueSnapshots(q: SqlQueryable, before: Date, limit: number): Promise<string[]> {
  return (await q.query<{ endpoint: string }>(
    'select endpoint from snapshot_state where pending and sent_at <= $1 order by sent_at limit $2 for update skip locked',
    [before, limit],
  )).map((r) => r.endpoint);
}

// --- outbox ---------------------------------------------------------------------------------------------------------

export interface OutboxRow {
  readonly id: number;
  readonly endpoint: string;
  readonly messageId: string;
  readonly properties: StoredMessage['properties'];
  readonly bodyId: number;
}

/**
 * Bodies cross the SQL boundary as hex text: PGlite moves a bytea parameter or column at 3–6 MiB/s, hex text at
 * 30–100 MiB/s (bench/pglite-bytea-probe.ts); for PostgreSQL it makes no difference worth a second code path.
 */
const toHexText = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
const fromHexText = (hex: string): Uint8Array => new Uint8Array(Buffer.from(hex, 'hex'));

/** Ids in the order of the bodies given. */
export async function insertBodies(q: SqlQueryable, bodies: readonly Uint8Array[]): Promise<number[]> {
  const ids: number[] = [];
  // One statement per few hundred bodies: VALUES lists work the same on pg and PGlite (bytea arrays do not).
  for (let i = 0; i < bodies.length; i += 500) {
    const slice = bodies.slice(i, i + 500);
    const rows = await q.query<{ id: number }>(`insert into outbox_bodies (body) values ${slice.map((_, j) => `(decode($${j + 1}, 'hex'))`).join(', ')} returning id`, slice.map(toHexText));
    // Identity values are assigned in VALUES order within one insert; sorting restores it whatever order RETURNING uses.
    ids.push(...rows.map((r) => r.id).sort((a, b) => a - b));
  }
  return ids;
}

export async function insertOutbox(
  q: SqlQueryable,
  rows: readonly Omit<OutboxRow, 'id'>[],
  claim: { by: string | null; until: Date },
): Promise<OutboxRow[]> {
  if (rows.length === 0) return [];
  const ids = await q.query<{ id: number }>(
    `insert into hub_outbox (endpoint, message_id, properties, body_id, claimed_by, claimed_until)
     select e, m, p::jsonb, b, $5, $6 from unnest($1::text[], $2::text[], $3::text[], $4::bigint[]) with ordinality as x(e, m, p, b, n)
     order by n returning id`,
    [rows.map((r) => r.endpoint), rows.map((r) => r.messageId), rows.map((r) => asJson(r.properties)), rows.map((r) => r.bodyId), claim.by, claim.until],
  );
  return rows.map((r, i) => ({ ...r, id: ids[i]!.id }));
}

export async function loadBodies(q: SqlQueryable, ids: readonly number[]): Promise<Map<number, Uint8Array>> {
  const rows = await q.query<{ id: number; hex: string }>("select id, encode(body, 'hex') as hex from outbox_bodies where id = any($1::bigint[])", [[...new Set(ids)]]);
  return new Map(rows.map((r) => [r.id, fromHexText(r.hex)]));
}

/** Sent and accepted by the broker: gone, and bodies no other row needs with them. */
export async function deleteOutbox(q: SqlQueryable, ids: readonly number[]): Promise<void> {
  const bodies = await q.query<{ body_id: number }>('delete from hub_outbox where id = any($1::bigint[]) returning body_id', [ids]);
  await q.query(
    'delete from outbox_bodies b where b.id = any($1::bigint[]) and not exists (select 1 from hub_outbox o where o.body_id = b.id)',
    [[...new Set(bodies.map((b) => b.body_id))]],
  );
}

/** Takes over rows whose claim lapsed (their instance died, or they were queued by the CLI), oldest first. */
export async function claimLapsed(q: SqlQueryable, by: string, until: Date, now: Date, limit: number): Promise<OutboxRow[]> {
  return q.query<OutboxRow>(
    `update hub_outbox set claimed_by = $1, claimed_until = $2
     where id in (select id from hub_outbox where claimed_until < $3 order by id limit $4 for update skip locked)
     returning id, endpoint, message_id as "messageId", properties, body_id as "bodyId"`,
    [by, until, now, limit],
  );
}

/** Only the rows the instance still holds: a row it gave up on lapses and is retried by whoever sweeps first. */
export async function renewClaims(q: SqlQueryable, by: string, ids: readonly number[], until: Date): Promise<void> {
  await q.query('update hub_outbox set claimed_until = $3 where claimed_by = $1 and id = any($2::bigint[])', [by, ids, until]);
}

export async function outboxCounts(q: SqlQueryable, now: Date): Promise<{ queued: number; lapsed: number; oldest: Date | null }> {
  return (await q.query<{ queued: number; lapsed: number; oldest: Date | null }>(
    'select count(*)::int as queued, (count(*) filter (where claimed_until < $1))::int as lapsed, min(created_at) as oldest from hub_outbox',
    [now],
  ))[0]!;
}

// --- dead letters ---------------------------------------------------------------------------------------------------

export interface DeadLetterRecord {
  readonly id: number;
  readonly messageId: string;
  readonly source: string;
  readonly sender: string;
  readonly type: string;
  readonly reason: string;
  readonly detail: string;
  readonly properties: StoredMessage['properties'];
  readonly bodyBytes: number;
  readonly receivedAt: Date;
  readonly state: DeadLetterState;
  readonly resolvedAt: Date | null;
  readonly resolution: string | null;
}

const deadLetterColumns = `id, message_id as "messageId", source, sender, type, reason, detail, properties, octet_length(body) as "bodyBytes",
  received_at as "receivedAt", state, resolved_at as "resolvedAt", resolution`;

export async function addDeadLetter(
  q: SqlQueryable,
  letter: { messageId: string; source: string; sender: string; type: string; reason: string; detail: string; message: StoredMessage; at: Date },
): Promise<number> {
  return (await q.query<{ id: number }>(
    `insert into dead_letters (message_id, source, sender, type, reason, detail, properties, body, received_at)
     values ($1, $2, $3, $4, $5, $6, $7::jsonb, decode($8, 'hex'), $9) returning id`,
    [letter.messageId, letter.source, letter.sender, letter.type, letter.reason, letter.detail, asJson(letter.message.properties), toHexText(letter.message.body), letter.at],
  ))[0]!.id;
}

export function listDeadLetters(q: SqlQueryable, options: { state?: DeadLetterState; limit?: number; reason?: string } = {}): Promise<DeadLetterRecord[]> {
  return q.query<DeadLetterRecord>(
    `select ${deadLetterColumns} from dead_letters where ($1::text is null or state = $1) and ($2::text is null or reason = $2) order by id desc limit $3`,
    [options.state ?? null, options.reason ?? null, options.limit ?? 100],
  );
}

export async function getDeadLetter(q: SqlQueryable, id: number): Promise<(DeadLetterRecord & { body: Uint8Array }) | undefined> {
  const row = (await q.query<DeadLetterRecord & { hex: string }>(`select ${deadLetterColumns}, encode(body, 'hex') as hex from dead_letters where id = $1 for update`, [id]))[0];
  if (!row) return undefined;
  const { hex, ...letter } = row;
  return { ...letter, body: fromHexText(hex) };
}

export async function resolveDeadLetter(q: SqlQueryable, id: number, state: Exclude<DeadLetterState, 'held'>, resolution: string, at: Date): Promise<void> {
  await q.query('update dead_letters set state = $2, resolution = $3, resolved_at = $4 where id = $1', [id, state, resolution, at]);
}

export async function deadLetterCounts(q: SqlQueryable): Promise<{ reason: string; held: number }[]> {
  return q.query("select reason, count(*)::int as held from dead_letters where state = 'held' group by reason order by held desc");
}

// --- instances ------------------------------------------------------------------------------------------------------

export interface InstanceRecord {
  readonly id: string;
  readonly host: string;
  readonly pid: number;
  readonly version: string;
  readonly startedAt: Date;
  readonly heartbeatAt: Date;
  readonly broker: string;
  readonly stopped: boolean;
}

export async function heartbeat(q: SqlQueryable, instance: Omit<InstanceRecord, 'heartbeatAt'>, at: Date): Promise<void> {
  await q.query(
    `insert into hub_instances (id, host, pid, version, started_at, heartbeat_at, broker, stopped) values ($1, $2, $3, $4, $5, $6, $7, $8)
     on conflict (id) do update set heartbeat_at = excluded.heartbeat_at, broker = excluded.broker, stopped = excluded.stopped,
       pid = excluded.pid, started_at = excluded.started_at, version = excluded.version`,
    [instance.id, instance.host, instance.pid, instance.version, instance.startedAt, at, instance.broker, instance.stopped],
  );
}

export function listInstances(q: SqlQueryable): Promise<InstanceRecord[]> {
  return q.query<InstanceRecord>(
    'select id, host, pid, version, started_at as "startedAt", heartbeat_at as "heartbeatAt", broker, stopped from hub_instances order by heartbeat_at desc',
  );
}
