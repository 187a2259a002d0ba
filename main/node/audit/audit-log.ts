import { createHash } from 'node:crypto';
import { migrate, type SqliteDatabase } from '../../../transport/sqlite-database.ts';

/**
 * Who did what to which case and when: opened, decrypted, signed, sent, exported. Each entry carries the SHA-256 of
 * the previous entry and of itself, so that changing, removing or inserting a row breaks the chain, and `check`
 * finds where. Subjects are case and message ids, never patient data.
 */
export const AUDIT_ACTIONS = {
  identityImported: 'identity-imported',
  registered: 'registered',
  caseCreated: 'case-created',
  caseReceived: 'case-received',
  caseOpened: 'case-opened',
  decrypted: 'decrypted',
  signed: 'signed',
  sent: 'sent',
  received: 'received',
  rejected: 'rejected',
  exported: 'exported',
  locked: 'locked',
  unlocked: 'unlocked',
} as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[keyof typeof AUDIT_ACTIONS];

export interface AuditEntry {
  readonly seq: number;
  readonly at: string;
  /** The practitioner (directory id) at the workstation, or "system". */
  readonly actor: string;
  readonly action: AuditAction;
  /** e.g. "case:<uuid>", "message:<uuid>". */
  readonly subject: string;
  readonly detail: string;
  readonly hash: string;
}

export type AuditCheck =
  | { readonly ok: true; readonly entries: number; readonly head: string }
  | { readonly ok: false; readonly entries: number; readonly firstBadSeq: number; readonly problem: string };

export interface AuditLog {
  append(entry: { actor: string; action: AuditAction; subject: string; detail?: string; at?: Date }): AuditEntry;
  list(options?: { subject?: string; limit?: number }): AuditEntry[];
  check(): AuditCheck;
}

const GENESIS = '0'.repeat(64);

const MIGRATIONS = [{
  version: 1,
  sql: `create table audit_log (
    seq integer primary key, at text not null, actor text not null, action text not null, subject text not null,
    detail text not null, prev_hash text not null, hash text not null
  )`,
}];

function hashOf(prev: string, e: { seq: number; at: string; actor: string; action: string; subject: string; detail: string }): string {
  // A JSON array: no field can bleed into the next, whatever characters it holds.
  return createHash('sha256').update(JSON.stringify([prev, e.seq, e.at, e.actor, e.action, e.subject, e.detail])).digest('hex');
}

interface Row { seq: number; at: string; actor: string; action: AuditAction; subject: string; detail: string; prev_hash: string; hash: string }

export function openAuditLog(db: SqliteDatabase): AuditLog {
  migrate(db, 'audit', MIGRATIONS);
  const last = db.prepare<[], { seq: number; hash: string }>('select seq, hash from audit_log order by seq desc limit 1');
  const insert = db.prepare('insert into audit_log (seq, at, actor, action, subject, detail, prev_hash, hash) values (?, ?, ?, ?, ?, ?, ?, ?)');
  const toEntry = (r: Row): AuditEntry => ({ seq: r.seq, at: r.at, actor: r.actor, action: r.action, subject: r.subject, detail: r.detail, hash: r.hash });
  return {
    append(input) {
      const previous = last.get();
      const entry = { seq: (previous?.seq ?? 0) + 1, at: (input.at ?? new Date()).toISOString(), actor: input.actor, action: input.action, subject: input.subject, detail: input.detail ?? '' };
      const prev = previous?.hash ?? GENESIS;
      const hash = hashOf(prev, entry);
      insert.run(entry.seq, entry.at, entry.actor, entry.action, entry.subject, entry.detail, prev, hash);
      return { ...entry, hash };
    },
    list(options = {}) {
      const limit = Math.min(options.limit ?? 200, 10_000);
      const rows = options.subject
        ? db.prepare<[string, number], Row>('select * from audit_log where subject = ? order by seq desc limit ?').all(options.subject, limit)
        : db.prepare<[number], Row>('select * from audit_log order by seq desc limit ?').all(limit);
      return rows.map(toEntry);
    },
    check() {
      let prev = GENESIS;
      let expectedSeq = 1;
      let entries = 0;
      for (const row of db.prepare<[], Row>('select * from audit_log order by seq').iterate()) {
        entries++;
        const fail = (problem: string): AuditCheck => ({ ok: false, entries, firstBadSeq: row.seq, problem });
        if (row.seq !== expectedSeq) return fail(`entry ${expectedSeq} is missing`);
        if (row.prev_hash !== prev) return fail('does not follow from the entry before it');
        if (hashOf(prev, row) !== row.hash) return fail('was changed after it was written');
        prev = row.hash;
        expectedSeq++;
      }
      return { ok: true, entries, head: prev };
    },
  };
}
