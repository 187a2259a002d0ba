import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../../transport/index.ts';
import { createMemoryVault } from '../vault/memory-vault.ts';
import { AUDIT_ANCHOR_ACCOUNT, AUDIT_KEY_ACCOUNT } from '../vault/vault-accounts.ts';
import { auditSealFromVault, openAuditLog } from './audit-log.ts';

async function freshLog() {
  const db = openDatabase(join(mkdtempSync(join(tmpdir(), 'rts-audit-')), 'store.db'), 'k'.repeat(32));
  const vault = createMemoryVault();
  const log = openAuditLog(db, await auditSealFromVault(vault));
  for (const [action, subject] of [
    ['case-opened', 'case:1'],
    ['decrypted', 'case:1'],
    ['signed', 'message:2'],
    ['sent', 'case:1'],
  ] as const) {
    log.append({ actor: 'clinic-a.dr-ahmed', action, subject });
  }
  await log.flush();
  return { db, log, vault };
}

interface StoredRow {
  seq: number;
  prev_hash: string;
  at: string;
  actor: string;
  action: string;
  subject: string;
  detail: string;
}

/** What someone with the store file but not the keychain can do: re-compute every hash from a changed row on. */
function rewriteAndRehash(
  db: ReturnType<typeof openDatabase>,
  seq: number,
  actor: string,
  mac: (text: string) => string,
): void {
  let prev = (db.prepare('select prev_hash from audit_log where seq = ?').get(seq) as { prev_hash: string }).prev_hash;
  db.prepare('update audit_log set actor = ? where seq = ?').run(actor, seq);
  for (const row of db.prepare('select * from audit_log where seq >= ? order by seq').all(seq) as StoredRow[]) {
    const hash = mac(JSON.stringify([prev, row.seq, row.at, row.actor, row.action, row.subject, row.detail]));
    db.prepare('update audit_log set prev_hash = ?, hash = ? where seq = ?').run(prev, hash, row.seq);
    prev = hash;
  }
}

describe('audit log: HMAC chain with its key and anchor in the keychain', () => {
  it('checks a log written only through append, and pages back from the newest entry', async () => {
    const { log, vault } = await freshLog();
    expect(await log.check()).toMatchObject({ ok: true, entries: 4 });
    expect(log.list({ subject: 'case:1' }).map((e) => e.action)).toEqual(['sent', 'decrypted', 'case-opened']);
    expect(log.list({ limit: 2 }).map((e) => e.seq)).toEqual([4, 3]);
    expect(log.list({ limit: 2, beforeSeq: 3 }).map((e) => e.seq)).toEqual([2, 1]);
    expect(log.count()).toBe(4);
    expect(JSON.parse(vault.secrets.get(AUDIT_ANCHOR_ACCOUNT)!)).toEqual({
      count: 4,
      head: log.list({ limit: 1 })[0]!.hash,
    });
    expect(Buffer.from(vault.secrets.get(AUDIT_KEY_ACCOUNT)!, 'base64')).toHaveLength(32);
  });

  it('finds an entry changed after it was written', async () => {
    const { db, log } = await freshLog();
    db.prepare("update audit_log set actor = 'clinic-b.dr-berg' where seq = 2").run();
    expect(await log.check()).toEqual({
      ok: false,
      entries: 2,
      firstBadSeq: 2,
      problem: 'was changed after it was written (its MAC does not verify under the keychain key)',
    });
  });

  it('finds a removed entry in the middle', async () => {
    const { db, log } = await freshLog();
    db.prepare('delete from audit_log where seq = 2').run();
    expect(await log.check()).toMatchObject({ ok: false, firstBadSeq: 3, problem: 'entry 2 is missing' });
  });

  it('finds the newest entries cut off, which leaves a chain that is whole in itself', async () => {
    const { db, log } = await freshLog();
    db.prepare('delete from audit_log where seq > 2').run();
    expect(await log.check()).toEqual({
      ok: false,
      entries: 2,
      firstBadSeq: 3,
      problem: 'is missing: the keychain recorded 4 entries, the log ends after 2 (entries were cut off)',
    });
  });

  it('finds an entry rewritten and the whole chain re-hashed after it, without the keychain key', async () => {
    const { db, log } = await freshLog();
    rewriteAndRehash(db, 2, 'someone-else', (text) => createHash('sha256').update(text).digest('hex'));
    expect(await log.check()).toMatchObject({
      ok: false,
      firstBadSeq: 2,
      problem: expect.stringMatching(/^was changed after it was written/),
    });
    // Even re-hashed with a key of the attacker's own, and cut back to agree with no anchor: the MAC still fails.
    const other = await freshLog();
    rewriteAndRehash(other.db, 1, 'someone-else', (text) =>
      createHash('sha256').update(`guessed key${text}`).digest('hex'),
    );
    expect(await other.log.check()).toMatchObject({ ok: false, firstBadSeq: 1 });
  });

  it('re-chains an intact log written before keyed chains under the new key, and leaves a broken one broken', async () => {
    for (const broken of [false, true]) {
      const db = openDatabase(join(mkdtempSync(join(tmpdir(), 'rts-audit-')), 'store.db'), 'k'.repeat(32));
      // As the unkeyed version wrote it: a plain SHA-256 chain.
      const old = openAuditLog(db, {
        key: new Uint8Array(0),
        anchor: { read: async () => undefined, write: async () => undefined },
      });
      for (const subject of ['case:1', 'case:2', 'case:3'])
        old.append({ actor: 'clinic-a.dr-ahmed', action: 'case-opened', subject });
      rewriteAndRehash(db, 1, 'clinic-a.dr-ahmed', (text) => createHash('sha256').update(text).digest('hex'));
      if (broken) db.prepare("update audit_log set actor = 'someone-else' where seq = 2").run();
      const log = openAuditLog(db, await auditSealFromVault(createMemoryVault()));
      await log.flush();
      expect(await log.check()).toMatchObject(broken ? { ok: false, firstBadSeq: 1 } : { ok: true, entries: 3 });
    }
  });
});
