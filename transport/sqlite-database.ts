import { closeSync, fsyncSync, openSync, readSync } from 'node:fs';
import Database from 'better-sqlite3-multiple-ciphers';

export type SqliteDatabase = Database.Database;
export type SqliteStatement<P extends unknown[], R> = Database.Statement<P, R>;

const keys = new WeakMap<SqliteDatabase, string | undefined>();

/** The level every store commits at, and the one commitWithoutSync gives back. */
const STORE_SYNCHRONOUS = 'FULL';

/** The key a database was opened with: what else the store keeps beside it (its body segments) is sealed with it. */
export function storeKeyOf(db: SqliteDatabase): string | undefined {
  return keys.get(db);
}

const STATEMENTS_KEPT = 128;
const statements = new WeakMap<SqliteDatabase, Map<string, SqliteStatement<unknown[], unknown>>>();

/**
 * `db.prepare(sql)`, kept per database and text (the 128 used last). better-sqlite3 keeps no statement cache, and
 * statements whose text depends on their arguments (the columns given, the number of ids) cannot be prepared once
 * beside their function: preparing them anew took about 2 ms of each consult in P2's profile. For `run`, `get` and
 * `all`; a statement being iterated is busy, so `iterate` callers prepare their own.
 */
export function preparedStatement<P extends unknown[] = unknown[], R = unknown>(
  db: SqliteDatabase,
  sql: string,
): SqliteStatement<P, R> {
  let kept = statements.get(db);
  if (!kept) statements.set(db, (kept = new Map<string, SqliteStatement<unknown[], unknown>>()));
  let statement = kept.get(sql);
  if (statement)
    kept.delete(sql); // the most recently used goes last
  else statement = db.prepare<unknown[], unknown>(sql);
  kept.set(sql, statement);
  if (kept.size > STATEMENTS_KEPT) kept.delete(kept.keys().next().value!);
  return statement as unknown as SqliteStatement<P, R>;
}

/**
 * Ciphers of SQLite3MultipleCiphers, newest first: a store is created with the first and opened with whichever it was
 * created with. AEGIS-256 (AES-NI) commits a batch of 57 inbox records and their effects in 64 KiB pages in 1.8 ms
 * where ChaCha20-Poly1305, used before, takes 4.7 ms and plain SQLite 1.5 ms (measured here, 350 batches each): most
 * of what the transport's receive and confirm commits cost was the page cipher.
 */
const CIPHERS = ['aegis', 'chacha20'] as const;

/**
 * The page size of stores made from now on. Their rows are small (bodies live in segment files), and a commit writes
 * whole pages: at 1 KiB messages bench:transport wrote 4.2–4.4 KiB per message in 4 KiB pages against 7.6–7.7 in
 * 64 KiB ones, and moved them at 0.74–0.76 of the durable floor against 0.69; P1, P2, P6 and bench:ui did not move
 * beyond their noise.
 */
const NEW_STORE_PAGE_SIZE = 4096;
const CHECKPOINT_BYTES = 16 * 1024 * 1024;

/**
 * The page size an existing store was made with, read from the file before SQLite opens it. SQLite3MultipleCiphers
 * must be told an encrypted store's page size before its key (bytes 16–23 of the header stay in clear for this), and
 * opening a store with the wrong one crashed the process with a segmentation fault. Undefined for a new or empty
 * file (SQLite deletes the WAL of an empty database file; the header is written when the store is made, before WAL).
 */
function existingPageSize(path: string): number | undefined {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    const bytes = Buffer.alloc(2);
    if (readSync(fd, bytes, 0, 2, 16) < 2) return undefined;
    // The header writes 65536 as 1.
    const size = bytes.readUInt16BE(0) === 1 ? 65536 : bytes.readUInt16BE(0);
    if (size < 512 || (size & (size - 1)) !== 0) {
      throw new Error(`${path} is not a store of ours (its header gives no valid page size)`);
    }
    return size;
  } finally {
    closeSync(fd);
  }
}

const isNotADatabase = (error: unknown) => error instanceof Error && 'code' in error && error.code === 'SQLITE_NOTADB';

/**
 * Opens (or creates) an SQLite database encrypted with an AEAD page cipher (CIPHERS), measured 3.5× faster to write
 * and 2.5× faster to free than SQLCipher's AES-CBC + HMAC. Without a key the file is plain SQLite, which only the hub's
 * operator may choose; the workstation always passes the key from the OS keychain. A wrong key fails here, not at the
 * first query, so the caller can say so plainly.
 *
 * New stores have 4 KiB pages; those made until 6 December 2026 have 64 KiB pages (chosen when megabyte bodies lived
 * in the B-tree, which no store keeps any more), and keep them.
 */
export function openDatabase(path: string, key: string | undefined): SqliteDatabase {
  if (key !== undefined && key.length < 32) throw new Error('the store key must have at least 32 characters');
  for (const cipher of key === undefined ? [undefined] : CIPHERS) {
    try {
      const db = openWith(path, key, cipher);
      keys.set(db, key);
      return db;
    } catch (error) {
      if (!isNotADatabase(error)) throw error;
    }
  }
  throw new Error(`${path} cannot be opened with this key (wrong key, or not a store of ours)`);
}

function openWith(path: string, key: string | undefined, cipher: (typeof CIPHERS)[number] | undefined): SqliteDatabase {
  const pageSize = existingPageSize(path) ?? NEW_STORE_PAGE_SIZE;
  const db = new Database(path);
  try {
    if (key !== undefined) {
      db.pragma(`cipher='${cipher}'`);
      db.pragma(`page_size = ${pageSize}`);
      // PRAGMA takes no bound parameters; the key is quoted as an SQL string literal.
      db.pragma(`key='${key.replaceAll("'", "''")}'`);
    }
    // Fails on a wrong key (or cipher) before anything is written.
    db.prepare('select count(*) from sqlite_master').get();
    db.pragma('journal_mode = WAL');
    // FULL: a committed transaction survives a power cut, which is what "committed before accepted" promises.
    db.pragma(`synchronous = ${STORE_SYNCHRONOUS}`);
    db.pragma('foreign_keys = ON');
    // SQLite3MultipleCiphers turns secure_delete on, which re-encrypts and rewrites every freed overflow page: twice the
    // cost of deleting a 1 MiB outbox body (measured 24 against 11 ms). Freed pages are encrypted with the store key
    // either way, and the bodies are CMS envelopes themselves; FAST still zeroes deleted cells in b-tree pages.
    db.pragma('secure_delete = FAST');
    // Checkpoint every 16 MiB of WAL instead of SQLite's 1,000 pages (64 MiB in 64 KiB pages): with megabyte consults
    // a 64 MiB checkpoint stalled one send in thirty by about 160 ms. Alternating runs of P2: p99 726 and 538 ms
    // against 811 and 846 ms; the price, within the noise of two runs of P1 at 20,000 experts, is directory ingestion
    // about 5 % slower (more checkpoints of the same index pages). A user waits on the first.
    db.pragma(`wal_autocheckpoint = ${CHECKPOINT_BYTES / pageSize}`);
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

/**
 * Runs `work` in a transaction that commits without waiting for the disk (synchronous NORMAL in WAL mode: written to
 * the WAL, not fsynced; it survives the process's crash, and a power cut may undo it), for writes whose loss costs only
 * work done again. The store's level comes back after it. Within a caller's transaction it is a savepoint, and the
 * caller's commit decides. (SQLite applies this PRAGMA when the statement is prepared, so it is issued each time.)
 */
export function commitWithoutSync<T>(db: SqliteDatabase, work: () => T): T {
  const transaction = db.transaction(work);
  if (db.inTransaction) return transaction();
  db.pragma('synchronous = NORMAL');
  try {
    return transaction();
  } finally {
    db.pragma(`synchronous = ${STORE_SYNCHRONOUS}`);
  }
}

/** Makes what the database's WAL holds durable (what commits at synchronous NORMAL left to the page cache). */
export function syncWal(db: SqliteDatabase): void {
  if (db.memory || db.name === '') return;
  let fd: number;
  try {
    // For writing, though nothing is written: Windows flushes only a file opened so.
    fd = openSync(`${db.name}-wal`, 'r+');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return; // no WAL: nothing written since the last checkpoint
    throw error;
  }
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export interface Migration {
  readonly version: number;
  readonly sql: string;
}

/**
 * Applies the migrations of one component (e.g. "transport") that the database has not seen yet, each in its own
 * transaction. Components share one file and one version table, each with its own version number.
 */
export function migrate(db: SqliteDatabase, component: string, migrations: readonly Migration[]): void {
  db.exec('create table if not exists schema_versions (component text primary key, version integer not null)');
  const row = db.prepare('select version from schema_versions where component = ?').get(component) as
    { version: number } | undefined;
  const current = row?.version ?? 0;
  for (const migration of [...migrations].sort((a, b) => a.version - b.version)) {
    if (migration.version <= current) continue;
    db.transaction(() => {
      db.exec(migration.sql);
      db.prepare(
        'insert into schema_versions (component, version) values (?, ?) on conflict(component) do update set version = excluded.version',
      ).run(component, migration.version);
    })();
  }
}
