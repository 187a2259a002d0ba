import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  migrateTo,
  schemaVersion,
  scratchDatabase,
  storeContents,
  type SqliteDatabase,
} from '../../../transport/index.ts';
import { createMemoryVault } from '../vault/memory-vault.ts';
import { privateKeyAccount } from '../vault/vault-accounts.ts';
import { MIGRATIONS, openPractitionerIdentity } from './practitioner-identity.ts';

const LAST = MIGRATIONS.at(-1)!.version;
const ID = 'clinic-a.dr-ahmed';

let db: SqliteDatabase;
let dispose: () => void;
beforeEach(() => {
  ({ db, dispose } = scratchDatabase());
});
afterEach(() => dispose());

const open = () => openPractitionerIdentity(db, createMemoryVault());

describe('identity migrations', () => {
  it("2: names the keychain account each installed certificate's key has always had, and keeps the trust", () => {
    migrateTo(db, 'identity', MIGRATIONS, 1);
    const insert = db.prepare(
      'insert into identity_certificates (use, practitioner_id, certificate, chain) values (?, ?, ?, ?)',
    );
    insert.run('signing', ID, Buffer.from('signing der'), '["Y2E="]');
    insert.run('encryption', ID, Buffer.from('encryption der'), '[]');
    db.prepare("insert into trust_items (kind, der, added_at) values ('anchor', ?, 1)").run(Buffer.from('ca der'));

    open();
    // The names under which version 1 stored the keys: the keys themselves stay where they are.
    expect(
      db
        .prepare('select use, practitioner_id, certificate, chain, key_account from identity_certificates order by use')
        .all(),
    ).toEqual([
      {
        use: 'encryption',
        practitioner_id: ID,
        certificate: Buffer.from('encryption der'),
        chain: '[]',
        key_account: privateKeyAccount(ID, 'encryption'),
      },
      {
        use: 'signing',
        practitioner_id: ID,
        certificate: Buffer.from('signing der'),
        chain: '["Y2E="]',
        key_account: privateKeyAccount(ID, 'signing'),
      },
    ]);
    expect(db.prepare('select kind, der from trust_items').all()).toEqual([
      { kind: 'anchor', der: Buffer.from('ca der') },
    ]);
    expect(db.prepare('select count(*) as n from retired_certificates').get()).toEqual({ n: 0 });
    expect(db.prepare('select count(*) as n from pending_requests').get()).toEqual({ n: 0 });
  });

  it('3: gives the certificates retired before it an empty chain', () => {
    migrateTo(db, 'identity', MIGRATIONS, 2);
    db.prepare(
      'insert into retired_certificates (certificate, use, practitioner_id, key_account, retired_at) values (?, ?, ?, ?, ?)',
    ).run(Buffer.from('old encryption der'), 'encryption', ID, privateKeyAccount(ID, 'encryption'), 5);

    open();
    expect(db.prepare('select use, key_account, retired_at, chain from retired_certificates').all()).toEqual([
      { use: 'encryption', key_account: privateKeyAccount(ID, 'encryption'), retired_at: 5, chain: '[]' },
    ]);
    expect(schemaVersion(db, 'identity')).toBe(LAST);
  });

  it('runs each migration once: migrating again changes nothing', () => {
    migrateTo(db, 'identity', MIGRATIONS, 1);
    db.prepare('insert into identity_certificates (use, practitioner_id, certificate, chain) values (?, ?, ?, ?)').run(
      'signing',
      ID,
      Buffer.from('der'),
      '[]',
    );
    open();
    const before = storeContents(db);
    open();
    expect(storeContents(db)).toEqual(before);
    expect(schemaVersion(db, 'identity')).toBe(LAST);
  });
});
