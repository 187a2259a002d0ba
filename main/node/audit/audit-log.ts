import { createHash, createHmac, randomBytes } from 'node:crypto';
import { migrate, type SqliteDatabase } from '../../../transport/index.ts';
import type { SecretVault } from '../vault/secret-vault.ts';
import { AUDIT_ANCHOR_ACCOUNT, AUDIT_KEY_ACCOUNT } from '../vault/vault-accounts.ts';

/**
 * Who did what to which case and when: opened, decrypted, signed, sent, exported. Each entry carries an HMAC-SHA-256,
 * under a key kept in the OS keychain (not in the store), of the previous entry's MAC and of itself: changing,
 * removing or inserting a row breaks the chain, and without the key nobody can re-compute it to hide that. The
 * newest entry's number and MAC (the anchor) are kept in the keychain too, so that cutting the newest entries off is
 * found as well. Subjects are case and message ids, never patient data.
 */
export const AUDIT_ACTIONS = {
  identityImported: 'identity-imported',
  /** The region's trust and connection taken from an enrolment file. */
  enrolled: 'enrolled',
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
  /** A request taken back from the outbox before it was sent. */
  withdrawn: 'withdrawn',
  locked: 'locked',
  unlocked: 'unlocked',
  crlApplied: 'crl-applied',
  crlIgnored: 'crl-ignored',
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

/** The newest entry as last recorded outside the store. */
export interface AuditAnchorValue {
  readonly count: number;
  readonly head: string;
}

/** Where the anchor lives: the keychain in the app (auditSealFromVault), anything else in tests. */
export interface AuditAnchor {
  read(): Promise<AuditAnchorValue | undefined>;
  write(value: AuditAnchorValue): Promise<void>;
}

/** What the log needs from outside the store: the MAC key and the anchor. */
export interface AuditSeal {
  readonly key: Uint8Array;
  readonly anchor: AuditAnchor;
  /** The key was made just now: entries already in the store are from before keyed chains (see `sealLegacyChain`). */
  readonly fresh?: boolean;
}

export interface AuditLog {
  append(entry: { actor: string; action: AuditAction; subject: string; detail?: string; at?: Date }): AuditEntry;
  /** Newest first; `beforeSeq` pages back from there. */
  list(options?: { subject?: string; limit?: number; beforeSeq?: number }): AuditEntry[];
  count(): number;
  check(): Promise<AuditCheck>;
  /** Writes the anchor now if an append has not yet been recorded (before the store closes). */
  flush(): Promise<void>;
}

const GENESIS = '0'.repeat(64);

const MIGRATIONS = [
  {
    version: 1,
    sql: `create table audit_log (
    seq integer primary key, at text not null, actor text not null, action text not null, subject text not null,
    detail text not null, prev_hash text not null, hash text not null
  )`,
  },
];

interface Row {
  seq: number;
  at: string;
  actor: string;
  action: AuditAction;
  subject: string;
  detail: string;
  prev_hash: string;
  hash: string;
}

/**
 * The key (32 random bytes, made on first use) and the anchor, both in the OS keychain beside the store key: an
 * attacker who can edit the store file cannot read or write them without the user's desktop session. The anchor is
 * written after each append (coalesced); entries appended after the last write that reached the keychain (a crash in
 * between) are the only ones whose removal it cannot show.
 */
export async function auditSealFromVault(vault: SecretVault): Promise<AuditSeal> {
  let key = await vault.get(AUDIT_KEY_ACCOUNT);
  const fresh = key === undefined;
  if (key === undefined) {
    key = randomBytes(32).toString('base64');
    await vault.set(AUDIT_KEY_ACCOUNT, key);
  }
  return {
    key: new Uint8Array(Buffer.from(key, 'base64')),
    fresh,
    anchor: {
      async read() {
        const stored = await vault.get(AUDIT_ANCHOR_ACCOUNT);
        return stored === undefined ? undefined : (JSON.parse(stored) as AuditAnchorValue);
      },
      write: (value) => vault.set(AUDIT_ANCHOR_ACCOUNT, JSON.stringify(value)),
    },
  };
}

/**
 * A store written before the chain was keyed holds a SHA-256 chain. If it is intact it is re-chained under the new key
 * (from here on nobody can rewrite it unseen); a broken one is left as it is, for the check to report.
 */
function sealLegacyChain(db: SqliteDatabase, macOf: (prev: string, row: Row) => string): void {
  const rows = db.prepare<[], Row>('select * from audit_log order by seq').all();
  let prev = GENESIS;
  for (const [i, row] of rows.entries()) {
    const legacy = createHash('sha256')
      .update(JSON.stringify([prev, row.seq, row.at, row.actor, row.action, row.subject, row.detail]))
      .digest('hex');
    if (row.seq !== i + 1 || row.prev_hash !== prev || row.hash !== legacy) return;
    prev = row.hash;
  }
  const update = db.prepare('update audit_log set prev_hash = ?, hash = ? where seq = ?');
  db.transaction(() => {
    let mac = GENESIS;
    for (const row of rows) {
      const next = macOf(mac, row);
      update.run(mac, next, row.seq);
      mac = next;
    }
  })();
}

export function openAuditLog(db: SqliteDatabase, seal: AuditSeal): AuditLog {
  migrate(db, 'audit', MIGRATIONS);
  // A JSON array: no field can bleed into the next, whatever characters it holds.
  const macOf = (
    prev: string,
    e: { seq: number; at: string; actor: string; action: string; subject: string; detail: string },
  ): string =>
    createHmac('sha256', seal.key)
      .update(JSON.stringify([prev, e.seq, e.at, e.actor, e.action, e.subject, e.detail]))
      .digest('hex');
  const last = db.prepare<[], { seq: number; hash: string }>(
    'select seq, hash from audit_log order by seq desc limit 1',
  );
  const insert = db.prepare(
    'insert into audit_log (seq, at, actor, action, subject, detail, prev_hash, hash) values (?, ?, ?, ?, ?, ?, ?, ?)',
  );
  const toEntry = (r: Row): AuditEntry => ({
    seq: r.seq,
    at: r.at,
    actor: r.actor,
    action: r.action,
    subject: r.subject,
    detail: r.detail,
    hash: r.hash,
  });

  // Anchor writes run one at a time, after the transaction that appended has committed, with the newest entry then.
  let anchoring: Promise<void> = Promise.resolve();
  let anchorDue = false;
  const writeAnchor = async (): Promise<void> => {
    if (!anchorDue) return;
    anchorDue = false;
    const newest = db.open ? last.get() : undefined;
    if (newest) await seal.anchor.write({ count: newest.seq, head: newest.hash }).catch(() => undefined);
  };
  const scheduleAnchor = () => {
    if (anchorDue) return;
    anchorDue = true;
    setImmediate(() => {
      anchoring = anchoring.then(writeAnchor);
    });
  };
  if (seal.fresh) {
    sealLegacyChain(db, macOf);
    scheduleAnchor();
  }

  return {
    append(input) {
      const previous = last.get();
      const entry = {
        seq: (previous?.seq ?? 0) + 1,
        at: (input.at ?? new Date()).toISOString(),
        actor: input.actor,
        action: input.action,
        subject: input.subject,
        detail: input.detail ?? '',
      };
      const prev = previous?.hash ?? GENESIS;
      const hash = macOf(prev, entry);
      insert.run(entry.seq, entry.at, entry.actor, entry.action, entry.subject, entry.detail, prev, hash);
      scheduleAnchor();
      return { ...entry, hash };
    },
    list(options = {}) {
      const limit = Math.min(options.limit ?? 200, 10_000);
      const before = options.beforeSeq ?? Number.MAX_SAFE_INTEGER;
      const rows = options.subject
        ? db
            .prepare<[string, number, number], Row>(
              'select * from audit_log where subject = ? and seq < ? order by seq desc limit ?',
            )
            .all(options.subject, before, limit)
        : db
            .prepare<[number, number], Row>('select * from audit_log where seq < ? order by seq desc limit ?')
            .all(before, limit);
      return rows.map(toEntry);
    },
    count: () => last.get()?.seq ?? 0,
    async check() {
      await (anchoring = anchoring.then(writeAnchor));
      const anchor = await seal.anchor.read();
      let prev = GENESIS;
      let expectedSeq = 1;
      let entries = 0;
      let anchored = anchor === undefined || anchor.count === 0;
      for (const row of db.prepare<[], Row>('select * from audit_log order by seq').iterate()) {
        entries++;
        const fail = (problem: string): AuditCheck => ({ ok: false, entries, firstBadSeq: row.seq, problem });
        if (row.seq !== expectedSeq) return fail(`entry ${expectedSeq} is missing`);
        if (row.prev_hash !== prev) return fail('does not follow from the entry before it');
        if (macOf(prev, row) !== row.hash)
          return fail('was changed after it was written (its MAC does not verify under the keychain key)');
        if (anchor && row.seq === anchor.count) {
          if (row.hash !== anchor.head) return fail('differs from the entry recorded in the keychain');
          anchored = true;
        }
        prev = row.hash;
        expectedSeq++;
      }
      if (!anchored) {
        return {
          ok: false,
          entries,
          firstBadSeq: entries + 1,
          problem: `is missing: the keychain recorded ${anchor!.count} entries, the log ends after ${entries} (entries were cut off)`,
        };
      }
      return { ok: true, entries, head: prev };
    },
    async flush() {
      await (anchoring = anchoring.then(writeAnchor));
    },
  };
}
