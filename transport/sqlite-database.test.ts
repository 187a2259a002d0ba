import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase } from './sqlite-database.ts';

describe('openDatabase', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('opens an encrypted store durable (WAL, synchronous FULL) with secure_delete FAST, and refuses another key', () => {
    dir = mkdtempSync(join(tmpdir(), 'rts-sqlite-'));
    const path = join(dir, 'store.db');
    const db = openDatabase(path, 'k'.repeat(40));
    // FULL = 2; secure_delete: 0 off, 1 on, 2 FAST.
    expect({ journal: db.pragma('journal_mode', { simple: true }), synchronous: db.pragma('synchronous', { simple: true }), secureDelete: db.pragma('secure_delete', { simple: true }) })
      .toEqual({ journal: 'wal', synchronous: 2, secureDelete: 2 });
    db.exec('create table t (x)');
    db.close();
    expect(() => openDatabase(path, 'w'.repeat(40))).toThrow(/cannot be opened with this key/);
  });
});
