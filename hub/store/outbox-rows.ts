import type { StoredMessage } from '../../transport/index.ts';
import { asJson, fromHexText, type SqlQueryable } from './sql-client.ts';

/** `hub_outbox` and `outbox_bodies`: what the hub sends, each body once however many endpoints it goes to. */

export interface OutboxRow {
  readonly id: number;
  readonly endpoint: string;
  readonly messageId: string;
  readonly properties: StoredMessage['properties'];
  readonly bodyId: number;
}

/** Ids in the order of the bodies given. */
export async function insertBodies(q: SqlQueryable, bodies: readonly Uint8Array[]): Promise<number[]> {
  const ids: number[] = [];
  // One statement per few hundred bodies: VALUES lists work the same on pg and PGlite (bytea arrays do not).
  for (let i = 0; i < bodies.length; i += 500) {
    const slice = bodies.slice(i, i + 500);
    const rows = await q.query<{ id: number }>(
      `insert into outbox_bodies (body) values ${slice.map((_, j) => `($${j + 1}::bytea)`).join(', ')} returning id`,
      slice,
    );
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
    [
      rows.map((r) => r.endpoint),
      rows.map((r) => r.messageId),
      rows.map((r) => asJson(r.properties)),
      rows.map((r) => r.bodyId),
      claim.by,
      claim.until,
    ],
  );
  return rows.map((r, i) => ({ ...r, id: ids[i]!.id }));
}

export async function loadBodies(q: SqlQueryable, ids: readonly number[]): Promise<Map<number, Uint8Array>> {
  const rows = await q.query<{ id: number; hex: string }>(
    "select id, encode(body, 'hex') as hex from outbox_bodies where id = any($1::bigint[])",
    [[...new Set(ids)]],
  );
  return new Map(rows.map((r) => [r.id, fromHexText(r.hex)]));
}

/** Sent and accepted by the broker: gone, and bodies no other row needs with them. */
export async function deleteOutbox(q: SqlQueryable, ids: readonly number[]): Promise<void> {
  const bodies = await q.query<{ body_id: number }>(
    'delete from hub_outbox where id = any($1::bigint[]) returning body_id',
    [ids],
  );
  await q.query(
    'delete from outbox_bodies b where b.id = any($1::bigint[]) and not exists (select 1 from hub_outbox o where o.body_id = b.id)',
    [[...new Set(bodies.map((b) => b.body_id))]],
  );
}

/** Takes over rows whose claim lapsed (their instance died, or they were queued by the CLI), oldest first. */
export async function claimLapsed(
  q: SqlQueryable,
  by: string,
  until: Date,
  now: Date,
  limit: number,
): Promise<OutboxRow[]> {
  return q.query<OutboxRow>(
    `update hub_outbox set claimed_by = $1, claimed_until = $2
     where id in (select id from hub_outbox where claimed_until < $3 order by id limit $4 for update skip locked)
     returning id, endpoint, message_id as "messageId", properties, body_id as "bodyId"`,
    [by, until, now, limit],
  );
}

/** Only the rows the instance still holds: a row it gave up on lapses and is retried by whoever sweeps first. */
export async function renewClaims(q: SqlQueryable, by: string, ids: readonly number[], until: Date): Promise<void> {
  await q.query('update hub_outbox set claimed_until = $3 where claimed_by = $1 and id = any($2::bigint[])', [
    by,
    ids,
    until,
  ]);
}

export async function outboxCounts(
  q: SqlQueryable,
  now: Date,
): Promise<{ queued: number; lapsed: number; oldest: Date | null }> {
  return (
    await q.query<{ queued: number; lapsed: number; oldest: Date | null }>(
      'select count(*)::int as queued, (count(*) filter (where claimed_until < $1))::int as lapsed, min(created_at) as oldest from hub_outbox',
      [now],
    )
  )[0]!;
}
