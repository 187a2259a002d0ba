import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { schemaVersion, scratchDatabase, type SqliteDatabase } from '../../../transport/index.ts';
import { DRAFT_MIGRATIONS, openDraftStore } from './draft-store.ts';

let db: SqliteDatabase;
let dispose: () => void;
beforeEach(() => ({ db, dispose } = scratchDatabase()));
afterEach(() => dispose());

describe('draft store', () => {
  it('1: creates the drafts table in an empty store', () => {
    openDraftStore(db);
    expect(schemaVersion(db, 'drafts')).toBe(DRAFT_MIGRATIONS.at(-1)!.version);
    expect(db.prepare("select name from sqlite_master where type = 'table' and name = 'drafts'").get()).toEqual({
      name: 'drafts',
    });
  });

  it('keeps one draft per key, the last saved, until it is discarded', () => {
    const drafts = openDraftStore(db);
    expect(drafts.get('compose')).toBeUndefined();
    const first = drafts.save('compose', '{"family":"Hansen"}');
    drafts.save('report:1', '{"findings":"ST elevation"}');
    expect(drafts.get('compose')).toEqual({ body: '{"family":"Hansen"}', savedAt: first });
    drafts.save('compose', '{"family":"Hansen-Berg"}');
    expect(drafts.get('compose')?.body).toBe('{"family":"Hansen-Berg"}');
    expect(drafts.discard('compose')).toBe(true);
    expect(drafts.discard('compose')).toBe(false);
    expect(drafts.get('compose')).toBeUndefined();
    expect(drafts.get('report:1')?.body).toBe('{"findings":"ST elevation"}');
  });

  it('keeps drafts when the store is opened again (a restart)', () => {
    openDraftStore(db).save('compose', 'kept');
    expect(openDraftStore(db).get('compose')?.body).toBe('kept');
  });
});
