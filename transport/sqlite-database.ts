import Database from 'better-sqlite3-multiple-ciphers';

export type SqliteDatabase = Database.Database;
export type SqliteStatement<P extends unknown[], R> = Database.Statement<P, R>;

const keys = new WeakMap<SqliteDatabase, string | undefined>();

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

const isNotADatabase = (error: unknown) => error instanceof Error && 'code' in error && error.code === 'SQLITE_NOTADB';

/**
 * Opens (or creates) an SQLite database encrypted with an AEAD page cipher (CIPHERS) in 64 KiB pages, which matters
 * when a store holds consults of megabytes: measured 3.5× faster to write and 2.5× faster to free than SQLCipher's
 * AES-CBC + HMAC in 4 KiB pages. Without a key the file is plain SQLite, which only the hub's operator may choose; the
 * workstation always passes the key from the OS keychain. A wrong key fails here, not at the first query, so the
 * caller can say so plainly.
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
  const db = new Database(path);
  try {
    if (key !== undefined) {
      db.pragma(`cipher='${cipher}'`);
      // Only takes effect when the file is created.
      db.pragma('page_size = 65536');
      // PRAGMA takes no bound parameters; the key is quoted as an SQL string literal.
      db.pragma(`key='${key.replaceAll("'", "''")}'`);
    }
    // Fails on a wrong key (or cipher) before anything is written.
    db.prepare('select count(*) from sqlite_master').get();
    db.pragma('journal_mode = WAL');
    // FULL: a committed transaction survives a power cut, which is what "committed before accepted" promises.
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    // SQLite3MultipleCiphers turns secure_delete on, which re-encrypts and rewrites every freed overflow page: twice the
    // cost of deleting a 1 MiB outbox body (measured 24 against 11 ms). Freed pages are encrypted with the store key
    // either way, and the bodies are CMS envelopes themselves; FAST still zeroes deleted cells in b-tree pages.
    db.pragma('secure_delete = FAST');
    // Checkpoint every 16 MiB of WAL (256 of our 64 KiB pages) instead of SQLite's 1,000 pages (64 MiB): with
    // megabyte consults a 64 MiB checkpoint stalled one send in thirty by about 160 ms. Alternating runs of P2: p99
    // 726 and 538 ms against 811 and 846 ms; the price, within the noise of two runs of P1 at 20,000 experts, is
    // directory ingestion about 5 % slower (more checkpoints of the same index pages). A user waits on the first.
    db.pragma('wal_autocheckpoint = 256');
    return db;
  } catch (error) {
    db.close();
    throw error;
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
