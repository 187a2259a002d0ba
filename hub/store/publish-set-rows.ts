import type { SqlQueryable } from './sql-client.ts';

/** `publish_sets` and `publish_batches`: a clinic's full publish, collected batch by batch until it is complete. */

export interface PublishSet {
  readonly batchId: string;
  readonly publisher: string;
  readonly batchCount: number;
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

export async function addPublishBatch(
  q: SqlQueryable,
  batch: { batchId: string; index: number; messageId: string; entriesJson: string },
): Promise<number> {
  await q.query(
    'insert into publish_batches (batch_id, batch_index, message_id, entries) values ($1, $2, $3, $4) on conflict do nothing',
    [batch.batchId, batch.index, batch.messageId, batch.entriesJson],
  );
  return (
    await q.query<{ n: number }>('select count(*)::int as n from publish_batches where batch_id = $1', [batch.batchId])
  )[0]!.n;
}

/** One stored batch of a full publish (its resources as a JSON array), read when the set is applied. */
export async function publishBatchEntries(q: SqlQueryable, batchId: string, index: number): Promise<string> {
  return (
    await q.query<{ entries: string }>('select entries from publish_batches where batch_id = $1 and batch_index = $2', [
      batchId,
      index,
    ])
  )[0]!.entries;
}

/** A batch of the set was rejected: the set can never be complete, and its later batches are refused too. */
export async function rejectPublishSet(
  q: SqlQueryable,
  set: { batchId: string; publisher: string; batchCount: number; reason: string; at: Date },
): Promise<void> {
  await q.query(
    `insert into publish_sets (batch_id, publisher, batch_count, state, reason, created_at) values ($1, $2, $3, 'rejected', $4, $5)
     on conflict (batch_id) do update set state = 'rejected', reason = excluded.reason where publish_sets.publisher = excluded.publisher`,
    [set.batchId, set.publisher, set.batchCount, set.reason, set.at],
  );
  // Only the publisher's own set loses its batches: another sender naming the same batch id changes nothing of it.
  await q.query(
    'delete from publish_batches where batch_id = $1 and exists (select 1 from publish_sets where batch_id = $1 and publisher = $2)',
    [set.batchId, set.publisher],
  );
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
