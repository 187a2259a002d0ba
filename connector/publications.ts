import { migrate, type SqliteDatabase } from '../transport/index.ts';

/**
 * A directory publication through the connector: one full list (sent as numbered batches of one set) or one delta
 * (sent as one or more delta messages), and what became of it. Each batch's state is the hub's receipt, or, until one
 * arrives, what the outbox says (waiting, sent, failed). The publication is `rejected` as soon as one batch is (the hub
 * refuses that batch's entries, applies the others, and retires nothing for the list: docs/protocol.md §5.1),
 * `accepted` when every batch is processed, else `sent` or `queued`. Only the two final states are written (and so announced on the event feed); the others are read.
 */
export type PublicationState = 'queued' | 'sent' | 'accepted' | 'rejected' | 'failed';
export type BatchState = 'queued' | 'sent' | 'processed' | 'rejected' | 'failed';

export interface PublicationView {
  readonly publicationId: string;
  readonly mode: 'full' | 'delta';
  readonly state: PublicationState;
  readonly entries: number;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly reason?: string;
  readonly detail?: string;
  readonly batches: {
    readonly index: number;
    readonly messageId: string;
    readonly state: BatchState;
    readonly reason?: string;
    readonly detail?: string;
  }[];
}

export interface Publications {
  /** Records a publication and its batches; runs inside the transaction that queues the batches. */
  record(input: {
    publicationId: string;
    mode: 'full' | 'delta';
    entries: number;
    batches: readonly { index: number; messageId: string }[];
    at: number;
  }): void;
  /** The hub's receipt about a batch; inside the inbox transaction. Returns whether it was a batch of ours. */
  receipt(
    messageId: string,
    outcome: 'delivered' | 'processed' | 'rejected',
    reason: string | undefined,
    detail: string | undefined,
    at: number,
  ): boolean;
  get(publicationId: string): PublicationView | undefined;
  list(limit: number): PublicationView[];
}

const MIGRATIONS = [
  {
    version: 1,
    sql: `
    create table connector_publications (publication_id text primary key, mode text not null, state text not null, batches integer not null, entries integer not null, reason text, detail text, created_at integer not null, updated_at integer not null);
    create table connector_publication_batches (
      message_id text primary key, publication_id text not null references connector_publications (publication_id), batch_index integer not null,
      receipt text, reason text, detail text
    );
    create index connector_publication_batches_by_publication on connector_publication_batches (publication_id, batch_index);
  `,
  },
];

interface PublicationRow {
  publication_id: string;
  mode: 'full' | 'delta';
  state: PublicationState;
  entries: number;
  reason: string | null;
  detail: string | null;
  created_at: number;
  updated_at: number;
}
interface BatchRow {
  message_id: string;
  batch_index: number;
  receipt: 'processed' | 'rejected' | null;
  reason: string | null;
  detail: string | null;
  outbox_state: string | null;
}

export function openPublications(db: SqliteDatabase): Publications {
  migrate(db, 'connector-publications', MIGRATIONS);
  const insertPublication = db.prepare(
    "insert into connector_publications (publication_id, mode, state, batches, entries, created_at, updated_at) values (?, ?, 'queued', ?, ?, ?, ?)",
  );
  const insertBatch = db.prepare(
    'insert into connector_publication_batches (message_id, publication_id, batch_index) values (?, ?, ?)',
  );
  const batchOf = db.prepare<[string], { publication_id: string }>(
    'select publication_id from connector_publication_batches where message_id = ?',
  );
  const setReceipt = db.prepare(
    'update connector_publication_batches set receipt = ?, reason = ?, detail = ? where message_id = ?',
  );
  const publicationRow = db.prepare<[string], PublicationRow>(
    'select * from connector_publications where publication_id = ?',
  );
  // The outbox belongs to the transport: "still waiting" and "given up" are read from it, as the case store does.
  const batchRows = db.prepare<[string], BatchRow>(`
    select b.message_id, b.batch_index, b.receipt, b.reason, b.detail, o.state as outbox_state
    from connector_publication_batches b left join outbox o on o.message_id = b.message_id
    where b.publication_id = ? order by b.batch_index`);
  const setState = db.prepare(
    "update connector_publications set state = ?, reason = ?, detail = ?, updated_at = ? where publication_id = ? and state not in ('accepted', 'rejected')",
  );

  const batchState = (row: BatchRow): BatchState =>
    row.receipt ?? (row.outbox_state === null ? 'sent' : row.outbox_state === 'failed' ? 'failed' : 'queued');

  function view(row: PublicationRow): PublicationView {
    const batches = batchRows.all(row.publication_id).map((b) => ({
      index: b.batch_index,
      messageId: b.message_id,
      state: batchState(b),
      ...(b.reason && { reason: b.reason }),
      ...(b.detail && { detail: b.detail }),
    }));
    let state: PublicationState = row.state;
    if (state !== 'accepted' && state !== 'rejected') {
      state = batches.some((b) => b.state === 'failed')
        ? 'failed'
        : batches.every((b) => b.state !== 'queued')
          ? 'sent'
          : 'queued';
    }
    return {
      publicationId: row.publication_id,
      mode: row.mode,
      state,
      entries: row.entries,
      createdAt: new Date(row.created_at).toISOString(),
      updatedAt: new Date(row.updated_at).toISOString(),
      ...(row.reason && { reason: row.reason }),
      ...(row.detail && { detail: row.detail }),
      batches,
    };
  }

  return {
    record(input) {
      insertPublication.run(input.publicationId, input.mode, input.batches.length, input.entries, input.at, input.at);
      for (const batch of input.batches) insertBatch.run(batch.messageId, input.publicationId, batch.index);
    },
    receipt(messageId, outcome, reason, detail, at) {
      const batch = batchOf.get(messageId);
      if (!batch) return false;
      // `delivered` is for routed consults; the hub answers a publish with processed or rejected.
      if (outcome === 'delivered') return true;
      setReceipt.run(outcome, reason ?? null, detail ?? null, messageId);
      const rows = batchRows.all(batch.publication_id);
      if (outcome === 'rejected') setState.run('rejected', reason ?? null, detail ?? null, at, batch.publication_id);
      else if (rows.every((r) => r.receipt === 'processed'))
        setState.run('accepted', null, null, at, batch.publication_id);
      return true;
    },
    get(publicationId) {
      const row = publicationRow.get(publicationId);
      return row && view(row);
    },
    list(limit) {
      return db
        .prepare<[number], PublicationRow>('select * from connector_publications order by created_at desc limit ?')
        .all(limit)
        .map(view);
    },
  };
}
