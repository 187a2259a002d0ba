import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../../transport/sqlite-database.ts';
import { openAuditLog } from './audit-log.ts';

function freshLog() {
  const db = openDatabase(join(mkdtempSync(join(tmpdir(), 'rts-audit-')), 'store.db'), 'k'.repeat(32));
  const log = openAuditLog(db);
  for (const [action, subject] of [['case-opened', 'case:1'], ['decrypted', 'case:1'], ['signed', 'message:2'], ['sent', 'case:1']] as const) {
    log.append({ actor: 'clinic-a.dr-ahmed', action, subject });
  }
  return { db, log };
}

describe('hash-chained audit log', () => {
  it('checks a log written only through append', () => {
    const { log } = freshLog();
    expect(log.check()).toMatchObject({ ok: true, entries: 4 });
    expect(log.list({ subject: 'case:1' }).map((e) => e.action)).toEqual(['sent', 'decrypted', 'case-opened']);
  });

  it('finds an entry changed after it was written', () => {
    const { db, log } = freshLog();
    db.prepare("update audit_log set actor = 'clinic-b.dr-berg' where seq = 2").run();
    expect(log.check()).toEqual({ ok: false, entries: 2, firstBadSeq: 2, problem: 'was changed after it was written' });
  });

  it('finds a removed entry, and one re-hashed to hide a change', () => {
    const { db, log } = freshLog();
    db.prepare('delete from audit_log where seq = 2').run();
    expect(log.check()).toMatchObject({ ok: false, firstBadSeq: 3, problem: 'entry 2 is missing' });

    const other = freshLog();
    // Recomputing the changed row's own hash is not enough: the next entry still names the old one.
    const row = other.db.prepare('select * from audit_log where seq = 2').get() as { prev_hash: string; at: string; action: string; subject: string; detail: string };
    const forged = createHash('sha256').update(JSON.stringify([row.prev_hash, 2, row.at, 'someone-else', row.action, row.subject, row.detail])).digest('hex');
    other.db.prepare("update audit_log set actor = 'someone-else', hash = ? where seq = 2").run(forged);
    expect(other.log.check()).toMatchObject({ ok: false, firstBadSeq: 3, problem: 'does not follow from the entry before it' });
  });
});
