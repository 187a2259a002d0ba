import type { EntryDigest } from './directory-rows.ts';
import type { SqlQueryable } from './sql-client.ts';

/** `publish_sets` and `publish_batches`: a clinic's full publish, applied batch by batch, and what each batch listed. */

export interface PublishSet {
  readonly batchId: string;
  readonly publisher: string;
  readonly batchCount: number;
  /** `rejected`: written by hubs before full lists were applied batch by batch; such a set's batches are refused. */
  readonly state: 'collecting' | 'applied' | 'rejected';
  readonly reason: string | null;
}

export async function getPublishSet(q: SqlQueryable, batchId: string): Promise<PublishSet | undefined> {
  return (
    await q.query<PublishSet>(
      'select batch_id as "batchId", publisher, batch_count as "batchCount", state, reason from publish_sets where batch_id = $1',
      [batchId],
    )
  )[0];
}

export async function createPublishSet(
  q: SqlQueryable,
  set: { batchId: string; publisher: string; batchCount: number; at: Date },
): Promise<void> {
  await q.query(
    "insert into publish_sets (batch_id, publisher, batch_count, state, created_at) values ($1, $2, $3, 'collecting', $4)",
    [set.batchId, set.publisher, set.batchCount, set.at],
  );
}

/**
 * Records one applied batch of the set with the URLs it listed; gives how many of its batches are now in (a batch
 * arriving again under another message id counts once).
 */
export async function addPublishBatch(
  q: SqlQueryable,
  batch: { batchId: string; index: number; messageId: string; listedJson: string },
): Promise<number> {
  await q.query(
    'insert into publish_batches (batch_id, batch_index, message_id, entries) values ($1, $2, $3, $4) on conflict do nothing',
    [batch.batchId, batch.index, batch.messageId, batch.listedJson],
  );
  return publishBatchCount(q, batch.batchId);
}

async function publishBatchCount(q: SqlQueryable, batchId: string): Promise<number> {
  return (
    await q.query<{ n: number }>('select count(*)::int as n from publish_batches where batch_id = $1', [batchId])
  )[0]!.n;
}

/**
 * The publisher's live entries that no batch of this set listed: what a completed full list retires, found by the
 * database instead of reading every entry of the publisher into the hub (at 20,000 experts 77 ms against 289–339 ms,
 * on the tail of the list, before its last update goes out). A batch lists URLs, or (collected before schema version
 * 5) the resources themselves, each listing its `resourceType/id`.
 */
export async function unlistedEntries(
  q: SqlQueryable,
  publisher: string,
  batchId: string,
): Promise<Map<string, EntryDigest>> {
  const rows = await q.query<{ url: string; digest: string }>(
    `select d.url, d.digest from directory_entries d
     where d.publisher = $1 and not d.retired and not exists (
       select 1 from publish_batches b cross join lateral jsonb_array_elements(b.entries::jsonb) as listed(entry)
       where b.batch_id = $2
         and d.url = case when jsonb_typeof(listed.entry) = 'string' then listed.entry #>> '{}'
                          else concat(listed.entry ->> 'resourceType', '/', listed.entry ->> 'id') end)`,
    [publisher, batchId],
  );
  return new Map(rows.map((r) => [r.url, { digest: r.digest, retired: false }]));
}

/** A stored batch: the URLs it listed (or, collected before version 5, its resources), or why it was refused. */
export interface PublishBatch {
  readonly entries: string;
  readonly rejectedReason: string | null;
}

export async function publishBatch(q: SqlQueryable, batchId: string, index: number): Promise<PublishBatch | undefined> {
  return (
    await q.query<PublishBatch>(
      'select entries, rejected_reason as "rejectedReason" from publish_batches where batch_id = $1 and batch_index = $2',
      [batchId, index],
    )
  )[0];
}

/**
 * A batch of the publisher's own collecting set was refused: only its entries are (protocol §5.1). It counts as in,
 * so that the set still completes; a set with a refused batch retires nothing. Gives the batches now in, or undefined
 * when the batch does not belong to the set (another publisher, another count, an index outside it): nothing is kept.
 */
export async function rejectPublishBatch(
  q: SqlQueryable,
  batch: {
    batchId: string;
    publisher: string;
    batchCount: number;
    index: number;
    messageId: string;
    reason: string;
    at: Date;
  },
): Promise<number | undefined> {
  if (batch.index < 1 || batch.index > batch.batchCount) return undefined;
  await q.query(
    "insert into publish_sets (batch_id, publisher, batch_count, state, created_at) values ($1, $2, $3, 'collecting', $4) on conflict do nothing",
    [batch.batchId, batch.publisher, batch.batchCount, batch.at],
  );
  const set = await getPublishSet(q, batch.batchId);
  if (set?.publisher !== batch.publisher || set.batchCount !== batch.batchCount || set.state !== 'collecting')
    return undefined;
  await q.query(
    "insert into publish_batches (batch_id, batch_index, message_id, entries, rejected_reason) values ($1, $2, $3, '[]', $4) on conflict do nothing",
    [batch.batchId, batch.index, batch.messageId, batch.reason],
  );
  return publishBatchCount(q, batch.batchId);
}

/** Applied or rejected sets keep their row (a late batch of them is recognized) but lose their batches. */
export async function closePublishSet(
  q: SqlQueryable,
  batchId: string,
  state: 'applied' | 'rejected',
  reason?: string,
): Promise<void> {
  await q.query('update publish_sets set state = $2, reason = $3 where batch_id = $1', [
    batchId,
    state,
    reason ?? null,
  ]);
  await q.query('delete from publish_batches where batch_id = $1', [batchId]);
}

/**
 * Lists whose last batch never came, begun before `before`: closed, retiring nothing, and their batches' URL lists
 * dropped. Gives how many. A batch of such a list coming later is refused as one of a list that is done.
 */
export async function closeStalePublishSets(q: SqlQueryable, before: Date): Promise<number> {
  const closed = await q.query<{ batch_id: string }>(
    `update publish_sets s set state = 'applied',
       reason = 'incomplete: ' || (select count(*) from publish_batches b where b.batch_id = s.batch_id) || ' of ' ||
         s.batch_count || ' batches came; nothing retired'
     where s.state = 'collecting' and s.created_at < $1 returning s.batch_id`,
    [before],
  );
  if (closed.length > 0)
    await q.query('delete from publish_batches where batch_id = any($1::text[])', [closed.map((c) => c.batch_id)]);
  return closed.length;
}
