import { openCaseStore } from '../../main/node/index.ts';
import { openDatabase, createSqliteTransportStore } from '../../transport/index.ts';
import { openEventFeed } from '../event-feed.ts';

/** The publications table as the connector creates it (its module owns the real DDL). */
export const PUBLICATIONS_DDL = `create table connector_publications (publication_id text primary key, mode text not null, state text not null,
  batches integer not null, entries integer not null, reason text, detail text, created_at integer not null, updated_at integer not null);`;

/** A plain (unencrypted) connector store in `path` with every table the feed follows, and the feed. */
export function openTestStore(path: string, options?: Parameters<typeof openEventFeed>[1]) {
  const db = openDatabase(path, undefined);
  const cases = openCaseStore(db);
  const transport = createSqliteTransportStore(db, { heldBodies: { read: (id) => cases.body(id) } });
  db.exec(PUBLICATIONS_DDL.replace('create table', 'create table if not exists'));
  return { db, transport, cases, feed: openEventFeed(db, options) };
}
