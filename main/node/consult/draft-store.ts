import { migrate, type SqliteDatabase } from '../../../transport/index.ts';

/**
 * What the user was writing and has not sent — a request, a report — kept across navigation and restarts in the
 * encrypted store, like the cases themselves (drafts hold patient data). The core keeps each draft as the renderer
 * wrote it: only the renderer knows its form's fields, and it reads a draft back through its own schema.
 */
export interface DraftStore {
  /** The draft kept under `key`, with when it was saved; undefined when there is none. */
  get(key: string): { readonly body: string; readonly savedAt: number } | undefined;
  /** Keeps `body` under `key` in place of what was there; returns when it was saved. */
  save(key: string, body: string): number;
  /** Forgets the draft; false when there was none. */
  discard(key: string): boolean;
}

/** The draft store's schema, one numbered step at a time (each tested in draft-store.test.ts). */
export const DRAFT_MIGRATIONS = [
  {
    version: 1,
    sql: `create table drafts (key text primary key, body text not null, saved_at integer not null);`,
  },
];

export function openDraftStore(db: SqliteDatabase): DraftStore {
  migrate(db, 'drafts', DRAFT_MIGRATIONS);
  const get = db.prepare('select body, saved_at as savedAt from drafts where key = ?');
  const save = db.prepare(`insert into drafts (key, body, saved_at) values (?, ?, ?)
    on conflict (key) do update set body = excluded.body, saved_at = excluded.saved_at`);
  const discard = db.prepare('delete from drafts where key = ?');
  return {
    get: (key) => get.get(key) as { body: string; savedAt: number } | undefined,
    save: (key, body) => {
      const savedAt = Date.now();
      save.run(key, body, savedAt);
      return savedAt;
    },
    discard: (key) => discard.run(key).changes > 0,
  };
}
