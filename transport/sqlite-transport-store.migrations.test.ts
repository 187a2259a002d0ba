import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SqliteDatabase } from './sqlite-database.ts';
import { MIGRATIONS } from './sqlite-transport-migrations.ts';
import { createSqliteTransportStore } from './sqlite-transport-store.ts';
import { migrateTo, schemaVersion, scratchDatabase, storeContents } from './testing/migrations.ts';

const LAST = MIGRATIONS.at(-1)!.version;
const properties = (messageId: string) =>
  JSON.stringify({
    message_id: messageId,
    user_id: 'ws-1',
    creation_time: 1,
    content_type: 'application/pkcs7-mime',
    application_properties: {},
  });

let db: SqliteDatabase;
let dispose: () => void;
beforeEach(() => {
  ({ db, dispose } = scratchDatabase());
});
afterEach(() => dispose());

/** A refused message as version 1 kept it: the body only, no count of its bytes. */
function deadLetterV1(messageId: string, body: Uint8Array, receivedAt: number): void {
  db.prepare(
    'insert into dead_letters (message_id, source, reason, detail, properties, body, received_at) values (?, ?, ?, ?, ?, ?, ?)',
  ).run(messageId, 'downlink', 'schema-invalid', 'bad', properties(messageId), body, receivedAt);
}

describe('transport migrations', () => {
  it('2: counts the bytes of each refused body held before, so that pruning by size counts them too', () => {
    migrateTo(db, 'transport', MIGRATIONS, 1);
    const now = Date.now();
    deadLetterV1('d1', new Uint8Array(5), now - 2);
    deadLetterV1('d2', new Uint8Array(3), now - 1);

    const store = createSqliteTransportStore(db, {
      deadLetterBodies: { maxCount: 10, maxBytes: 6, maxAgeMs: 86_400_000 },
      now: () => now,
    });
    // Newest first: d2's 3 bytes fit in 6, d1's 5 more do not, so its body goes and its size stays known.
    expect(
      store.deadLetters.list().map((l) => [l.messageId, l.bodyBytes, l.bodyKept, l.message.body.byteLength]),
    ).toEqual([
      ['d1', 5, false, 0],
      ['d2', 3, true, 3],
    ]);
    expect(schemaVersion(db, 'transport')).toBe(LAST);
  });

  it('3: adds the park and keeps the outbox, inbox and dead letters of version 2', () => {
    migrateTo(db, 'transport', MIGRATIONS, 2);
    db.prepare(
      'insert into outbox (message_id, order_key, address, properties, bytes, state, created_at) values (?, ?, ?, ?, ?, ?, ?)',
    ).run('m1', 'case-1', '/exchange/rts.uplink/ws-1', properties('m1'), 4, 'pending', 1);
    db.prepare('insert into outbox_bodies (message_id, body) values (?, ?)').run('m1', new Uint8Array([1, 2, 3, 4]));
    db.prepare('insert into inbox (message_id, outcome, processed_at) values (?, ?, ?)').run('i1', 'processed', 1);
    deadLetterV1('d1', new Uint8Array(2), Date.now());

    const store = createSqliteTransportStore(db);
    expect(store.outbox.queuedAfter(0, 10).map((t) => t.messageId)).toEqual(['m1']);
    expect(store.outbox.load('m1')?.body).toEqual(new Uint8Array([1, 2, 3, 4]));
    expect(store.inbox.find('i1')).toMatchObject({ messageId: 'i1', outcome: 'processed' });
    expect(store.deadLetters.list().map((l) => l.messageId)).toEqual(['d1']);
    expect(store.parked.counts('downlink')).toEqual({ messages: 0, bytes: 0, reasons: [] });
    store.parked.add({
      messageId: 'p1',
      source: 'downlink',
      reason: 'internal-error',
      message: { properties: JSON.parse(properties('p1')), body: new Uint8Array(7) },
      durable: true,
      parkedAt: 2,
    });
    expect(store.parked.counts('downlink')).toEqual({ messages: 1, bytes: 7, reasons: ['internal-error'] });
  });

  it('4 and 5: a message in flight when version 3 stopped is queued again, and is sent from where it was kept', () => {
    migrateTo(db, 'transport', MIGRATIONS, 3);
    const insert = db.prepare(
      'insert into outbox (message_id, order_key, address, properties, bytes, state, created_at) values (?, ?, ?, ?, ?, ?, ?)',
    );
    insert.run('m1', 'case-1', '/exchange/rts.uplink/ws-1', properties('m1'), 3, 'in-flight', 1);
    insert.run('m2', 'case-1', '/exchange/rts.uplink/ws-1', properties('m2'), 2, 'failed', 2);
    db.prepare('insert into outbox_bodies (message_id, body) values (?, ?)').run('m1', new Uint8Array([1, 2, 3]));
    db.prepare('insert into outbox_bodies (message_id, body) values (?, ?)').run('m2', new Uint8Array([4, 5]));

    const store = createSqliteTransportStore(db);
    expect(store.outbox.counts()).toEqual({ queued: 1, failed: 1 });
    expect(store.outbox.queuedAfter(0, 10).map((t) => t.messageId)).toEqual(['m1']);
    expect(store.outbox.load('m1')?.body).toEqual(new Uint8Array([1, 2, 3]));
    expect(store.outbox.failed()[0]?.message.body).toEqual(new Uint8Array([4, 5]));
    // Queued after the upgrade: into a segment file, not the table.
    store.outbox.enqueue({
      messageId: 'm3',
      orderKey: 'case-2',
      address: '/exchange/rts.uplink/ws-1',
      message: { properties: JSON.parse(properties('m3')), body: new Uint8Array([6]) },
    });
    expect(db.prepare("select body_segment from outbox where message_id = 'm3'").get()).toEqual({ body_segment: 1 });
    store.outbox.confirmMany(['m1', 'm3']);
    expect(db.prepare('select message_id from outbox_bodies').all()).toEqual([{ message_id: 'm2' }]);
  });

  it('6: a message queued by version 5 is still sent from where it was kept, not asked of the owner', () => {
    migrateTo(db, 'transport', MIGRATIONS, 5);
    db.prepare(
      `insert into outbox (message_id, order_key, address, properties, bytes, state, created_at) values (?, 'case-1', 'a', ?, 2, 'pending', 1)`,
    ).run('m1', properties('m1'));
    db.prepare('insert into outbox_bodies (message_id, body) values (?, ?)').run('m1', new Uint8Array([1, 2]));
    const asked: string[] = [];
    const store = createSqliteTransportStore(db, { heldBodies: { read: (id) => (asked.push(id), undefined) } });
    expect(db.prepare('select body_held from outbox').all()).toEqual([{ body_held: 0 }]);
    expect(store.outbox.load('m1')?.body).toEqual(new Uint8Array([1, 2]));
    store.outbox.confirmMany(['m1']);
    expect(db.prepare('select count(*) as n from outbox_bodies').get()).toEqual({ n: 0 });
    expect(asked).toEqual([]);
  });

  it('runs each migration once: migrating again changes nothing', () => {
    const store = createSqliteTransportStore(db);
    store.deadLetters.add({
      messageId: 'd1',
      source: 'downlink',
      reason: 'schema-invalid',
      detail: 'bad',
      message: { properties: JSON.parse(properties('d1')), body: new Uint8Array(2) },
      receivedAt: Date.now(),
    });
    const before = storeContents(db);
    createSqliteTransportStore(db);
    expect(storeContents(db)).toEqual(before);
    expect(schemaVersion(db, 'transport')).toBe(LAST);
  });
});
