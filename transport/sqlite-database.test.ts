import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3-multiple-ciphers';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { commitWithoutSync, openDatabase, preparedStatement } from './sqlite-database.ts';

describe('openDatabase', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('opens an encrypted store durable (WAL, synchronous FULL) in 4 KiB pages with secure_delete FAST and 16 MiB checkpoints, and refuses another key', () => {
    dir = mkdtempSync(join(tmpdir(), 'rts-sqlite-'));
    const path = join(dir, 'store.db');
    const db = openDatabase(path, 'k'.repeat(40));
    // FULL = 2; secure_delete: 0 off, 1 on, 2 FAST.
    const setting = (name: string) => db.pragma(name, { simple: true });
    expect({
      journal: setting('journal_mode'),
      synchronous: setting('synchronous'),
      secureDelete: setting('secure_delete'),
      walPages: setting('wal_autocheckpoint'),
      pageSize: setting('page_size'),
    }).toEqual({ journal: 'wal', synchronous: 2, secureDelete: 2, walPages: 4096, pageSize: 4096 });
    db.exec('create table t (x)');
    db.close();
    expect(() => openDatabase(path, 'w'.repeat(40))).toThrow(/cannot be opened with this key/);
  });

  it('creates a store with the AEGIS cipher, and still opens one that ChaCha20 encrypted before', () => {
    const folder = mkdtempSync(join(tmpdir(), 'rts-sqlite-'));
    dir = folder;
    const key = 'k'.repeat(40);
    const created = openDatabase(join(folder, 'new.db'), key);
    expect(created.pragma('cipher', { simple: true })).toBe('aegis');
    created.close();

    const old = new Database(join(folder, 'old.db'));
    old.pragma(`cipher='chacha20'`);
    old.pragma('page_size = 65536');
    old.pragma(`key='${key}'`);
    old.exec("create table t (x); insert into t values ('Begum, Nasrin')");
    old.close();
    const reopened = openDatabase(join(folder, 'old.db'), key);
    expect(reopened.pragma('cipher', { simple: true })).toBe('chacha20');
    expect(reopened.prepare('select x from t').get()).toEqual({ x: 'Begum, Nasrin' });
    reopened.close();
    expect(() => openDatabase(join(folder, 'old.db'), 'w'.repeat(40))).toThrow(/cannot be opened with this key/);
  });
});

describe('openDatabase on stores of other page sizes', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'rts-sqlite-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const key = 'k'.repeat(40);

  /** A store as openDatabase made them until 6 December 2026: AEGIS in 64 KiB pages, in WAL mode. */
  const storeOf64KiBPages = (path: string) => {
    const old = new Database(path);
    old.pragma(`cipher='aegis'`);
    old.pragma('page_size = 65536');
    old.pragma(`key='${key}'`);
    old.pragma('journal_mode = WAL');
    old.exec("create table t (x); insert into t values ('Begum, Nasrin')");
    return old;
  };

  it('opens a store made in 64 KiB pages with its own page size (a wrong one crashes SQLite3MultipleCiphers) and checkpoints it every 16 MiB', () => {
    const path = join(dir, 'old.db');
    storeOf64KiBPages(path).close();
    const db = openDatabase(path, key);
    expect(db.pragma('page_size', { simple: true })).toBe(65536);
    expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(256);
    expect(db.prepare('select x from t').get()).toEqual({ x: 'Begum, Nasrin' });
    db.close();
  });

  it('refuses a file whose header gives no page size, instead of handing it to SQLite', () => {
    const path = join(dir, 'garbage.db');
    writeFileSync(path, new Uint8Array(4096).fill(0x7f));
    expect(() => openDatabase(path, key)).toThrow(/not a store of ours \(its header gives no valid page size\)/);
  });
});

describe('preparedStatement', () => {
  it('prepares a text once per database, keeps the 128 used last, and follows a schema change', () => {
    const db = new Database(':memory:');
    const other = new Database(':memory:');
    db.exec('create table t (a integer)');
    const insert = preparedStatement(db, 'insert into t (a) values (?)');
    expect(preparedStatement(db, 'insert into t (a) values (?)')).toBe(insert);
    expect(preparedStatement(other, 'select 1')).not.toBe(preparedStatement(db, 'select 1'));
    insert.run(1);
    for (let i = 0; i < 128; i++) preparedStatement(db, `select ${i}`);
    expect(preparedStatement(db, 'insert into t (a) values (?)')).not.toBe(insert);
    const count = preparedStatement<[], { n: number }>(db, 'select count(*) as n from t');
    db.exec('alter table t add column b text');
    expect(preparedStatement(db, 'select count(*) as n from t')).toBe(count);
    expect(count.get()).toEqual({ n: 1 });
    db.close();
    other.close();
  });
});

describe('commitWithoutSync', () => {
  const NORMAL = 1;
  const FULL = 2;
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'rts-sync-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('commits its work at synchronous NORMAL and gives the store FULL back, also when the work throws', () => {
    const db = openDatabase(join(dir, 'store.db'), 'k'.repeat(32));
    db.exec('create table t (n integer)');
    const level = () => db.pragma('synchronous', { simple: true }) as number;
    expect(
      commitWithoutSync(db, () => {
        db.prepare('insert into t values (1)').run();
        return level();
      }),
    ).toBe(NORMAL);
    expect(level()).toBe(FULL);
    expect(() =>
      commitWithoutSync(db, () => {
        db.prepare('insert into t values (2)').run();
        throw new Error('the work fails');
      }),
    ).toThrow('the work fails');
    expect(level()).toBe(FULL);
    expect(db.prepare('select n from t').pluck().all()).toEqual([1]);
    // Within a caller's transaction, the caller's commit decides: at the store's level.
    expect(db.transaction(() => commitWithoutSync(db, level))()).toBe(FULL);
    db.close();
  });
});
