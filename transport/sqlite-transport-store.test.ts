import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase } from './sqlite-database.ts';
import { createSqliteTransportStore } from './sqlite-transport-store.ts';
import type { StoredMessage, TransportStore } from './transport-store.ts';

const KEY = 'k'.repeat(16) + 'e'.repeat(16) + 'y';
let dir: string;
let store: TransportStore;
const path = () => join(dir, 'store.db');

function message(id: string, text = 'Begum, Nasrin'): StoredMessage {
  return {
    properties: {
      message_id: id,
      user_id: 'ws-1',
      creation_time: 1_700_000_000_000,
      content_type: 'application/pkcs7-mime',
      application_properties: { rtsType: 'consult.request' },
    },
    body: new TextEncoder().encode(text),
  };
}

const enqueue = (id: string, orderKey: string) =>
  store.outbox.enqueue({ messageId: id, orderKey, address: '/exchange/rts.uplink/ws-1', message: message(id) });
const queued = () => store.outbox.queuedAfter(0, 100).map((e) => e.messageId);

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'rts-store-'));
  store = createSqliteTransportStore(openDatabase(path(), KEY));
});
afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('encrypted SQLite store', () => {
  it('keeps nothing readable on disk without the key', () => {
    enqueue('m1', 'case-1');
    store.close();
    const bytes = readFileSync(path());
    expect(bytes.subarray(0, 16).toString('latin1')).not.toBe('SQLite format 3\0');
    expect(bytes.includes('Nasrin')).toBe(false);
    // The body itself is sealed in a segment file beside the store.
    const segments = readdirSync(`${path()}.bodies`).filter((f) => f.endsWith('.seg'));
    expect(segments).toHaveLength(1);
    const sealed = readFileSync(join(`${path()}.bodies`, segments[0]!));
    expect(sealed.byteLength).toBeGreaterThan('Begum, Nasrin'.length);
    expect(sealed.includes('Nasrin')).toBe(false);
    expect(() => openDatabase(path(), 'w'.repeat(32))).toThrow(/cannot be opened with this key/);
    store = createSqliteTransportStore(openDatabase(path(), KEY));
    expect(store.outbox.counts()).toEqual({ queued: 1, failed: 0 });
  });

  it('refuses a short key', () => {
    expect(() => openDatabase(join(dir, 'other.db'), 'short')).toThrow(/at least 32/);
  });
});

describe('outbox', () => {
  it('hands out queued messages in order after a sequence number, without marking anything', () => {
    enqueue('a1', 'case-a');
    enqueue('a2', 'case-a');
    enqueue('b1', 'case-b');
    expect(queued()).toEqual(['a1', 'a2', 'b1']);
    expect(queued()).toEqual(['a1', 'a2', 'b1']);
    const [first] = store.outbox.queuedAfter(0, 1);
    expect(first).toMatchObject({ messageId: 'a1', orderKey: 'case-a', bytes: 13 });
    expect(store.outbox.queuedAfter(first!.seq, 10).map((t) => t.messageId)).toEqual(['a2', 'b1']);
  });

  it('ignores a second enqueue of the same message id', () => {
    enqueue('a1', 'case-a');
    enqueue('a1', 'case-a');
    expect(store.outbox.counts().queued).toBe(1);
  });

  it('forgets what the broker accepted, body and all', () => {
    enqueue('a1', 'case-a');
    enqueue('b1', 'case-b');
    store.outbox.confirmMany(['a1']);
    expect(queued()).toEqual(['b1']);
    expect(store.outbox.load('a1')).toBeUndefined();
    expect(store.outbox.counts()).toEqual({ queued: 1, failed: 0 });
  });

  it("leaves the store's commits durable after a confirmation, which alone commits without waiting for the disk", () => {
    store.close();
    const db = openDatabase(path(), KEY);
    store = createSqliteTransportStore(db);
    const FULL = 2;
    enqueue('a1', 'case-a');
    enqueue('b1', 'case-b');
    store.outbox.confirmMany(['a1']);
    expect(db.pragma('synchronous', { simple: true })).toBe(FULL);
    // Within a caller's transaction the caller's commit decides, at the store's own level.
    db.transaction(() => store.outbox.confirmMany(['b1']))();
    expect(db.pragma('synchronous', { simple: true })).toBe(FULL);
    expect(queued()).toEqual([]);
  });

  it('deletes a segment file once every body in it was accepted, and keeps one a failed message still needs', () => {
    const segmentFiles = () => readdirSync(`${path()}.bodies`).filter((f) => f.endsWith('.seg'));
    enqueue('a1', 'case-a');
    enqueue('b1', 'case-b');
    store.close();
    store = createSqliteTransportStore(openDatabase(path(), KEY));
    enqueue('c1', 'case-c');
    store.close();
    store = createSqliteTransportStore(openDatabase(path(), KEY));
    expect(queued()).toEqual(['a1', 'b1', 'c1']);
    expect(segmentFiles()).toEqual(['00000001.seg', '00000002.seg']);
    store.outbox.fail('c1', 'rejected by the broker');
    store.outbox.confirmMany(['a1']);
    expect(segmentFiles()).toEqual(['00000001.seg', '00000002.seg', '00000003.seg']);
    store.outbox.confirmMany(['b1']);
    expect(segmentFiles()).toEqual(['00000002.seg', '00000003.seg']);
    expect(new TextDecoder().decode(store.outbox.failed()[0]!.message.body)).toBe('Begum, Nasrin');
  });

  it('writes no copy of a body its owner holds, sends it from the owner, and fails it clearly when the owner has none', () => {
    store.close();
    const held = new Map<string, Uint8Array>([['h1', new TextEncoder().encode('held by the case')]]);
    const db = openDatabase(path(), KEY);
    store = createSqliteTransportStore(db, { heldBodies: { read: (id) => held.get(id) } });
    const input = (id: string) => ({
      messageId: id,
      orderKey: 'case-h',
      address: 'a',
      message: message(id),
      bodyHeld: true,
    });
    db.transaction(() => store.outbox.enqueueMany([input('h1'), input('h2')]))();
    enqueue('w1', 'case-w');
    // Only w1's body went to the outbox's segments; h1 and h2 are rows without a body or a place.
    expect(db.prepare('select message_id, body_held, body_segment from outbox order by seq').all()).toEqual([
      { message_id: 'h1', body_held: 1, body_segment: null },
      { message_id: 'h2', body_held: 1, body_segment: null },
      { message_id: 'w1', body_held: 0, body_segment: 1 },
    ]);
    expect(readFileSync(join(`${path()}.bodies`, '00000001.seg')).byteLength).toBeLessThan(
      2 * 'Begum, Nasrin'.length + 80,
    );
    // After a restart, nothing in memory: the bodies come from their owner.
    store.close();
    store = createSqliteTransportStore(openDatabase(path(), KEY), { heldBodies: { read: (id) => held.get(id) } });
    expect(new TextDecoder().decode(store.outbox.load('h1')!.body)).toBe('held by the case');
    expect(() => store.outbox.load('h2')).toThrow("the body of h2 is held by the store's owner, which has none for it");
    // Given up on, it is still listed, with its reason.
    store.outbox.fail('h2', 'its stored body cannot be read');
    expect(store.outbox.failed()).toEqual([
      expect.objectContaining({ messageId: 'h2', failureReason: 'its stored body cannot be read' }),
    ]);
    // Accepting it takes the row only: the owner's body stays its own.
    store.outbox.confirmMany(['h1']);
    expect(store.outbox.load('h1')).toBeUndefined();
    expect(held.has('h1')).toBe(true);
    expect(queued()).toEqual(['w1']);
  });

  it("sends a held body queued in its owner's transaction from memory; one rolled back is neither sent nor kept", () => {
    store.close();
    const reads: string[] = [];
    const db = openDatabase(path(), KEY);
    store = createSqliteTransportStore(db, {
      heldBodies: {
        read: (id) => {
          reads.push(id);
          return undefined;
        },
      },
    });
    const input = (id: string, text?: string) => ({
      messageId: id,
      orderKey: 'case-h',
      address: 'a',
      message: message(id, text),
      bodyHeld: true,
    });
    db.transaction(() => store.outbox.enqueue(input('kept')))();
    expect(() =>
      db.transaction(() => {
        store.outbox.enqueue(input('undone'));
        throw new Error('the case could not be stored');
      })(),
    ).toThrow('the case could not be stored');
    expect(queued()).toEqual(['kept']);
    expect(new TextDecoder().decode(store.outbox.load('kept')!.body)).toBe('Begum, Nasrin');
    expect(store.outbox.load('undone')).toBeUndefined();
    // Queued again with another body, the new one is what goes.
    db.transaction(() => store.outbox.enqueue(input('undone', 'the second try')))();
    expect(new TextDecoder().decode(store.outbox.load('undone')!.body)).toBe('the second try');
    expect(reads).toEqual([]);
  });

  it('still has everything queued after a restart, bodies read back from the store', () => {
    enqueue('a1', 'case-a');
    store.close();
    store = createSqliteTransportStore(openDatabase(path(), KEY));
    expect(queued()).toEqual(['a1']);
    expect(new TextDecoder().decode(store.outbox.load('a1')!.body)).toBe('Begum, Nasrin');
  });

  it('does not hand out a message queued in a transaction that was rolled back', () => {
    const db = openDatabase(join(dir, 'rollback.db'), KEY);
    const other = createSqliteTransportStore(db);
    expect(() =>
      db.transaction(() => {
        other.outbox.enqueue({ messageId: 'r1', orderKey: 'k', address: 'a', message: message('r1') });
        throw new Error('the caller failed');
      })(),
    ).toThrow('the caller failed');
    expect(other.outbox.queuedAfter(0, 10)).toEqual([]);
    expect(other.outbox.load('r1')).toBeUndefined();
    other.close();
  });

  it('surfaces a permanent failure with its reason, and no longer hands it out', () => {
    enqueue('a1', 'case-a');
    enqueue('a2', 'case-a');
    store.outbox.fail('a1', 'rejected by the broker: amqp:unauthorized-access');
    expect(store.outbox.failed()).toEqual([
      expect.objectContaining({ messageId: 'a1', failureReason: 'rejected by the broker: amqp:unauthorized-access' }),
    ]);
    expect(queued()).toEqual(['a2']);
    expect(store.outbox.counts()).toEqual({ queued: 1, failed: 1 });
  });
});

describe('inbox', () => {
  it('records an outcome together with the effect, or neither', () => {
    const db = openDatabase(join(dir, 'effects.db'), KEY);
    const inbox = createSqliteTransportStore(db).inbox;
    db.exec('create table cases (id text primary key)');
    inbox.commit({ messageId: 'm1', outcome: 'processed', processedAt: 1 }, () =>
      db.prepare("insert into cases values ('c1')").run(),
    );
    expect(() =>
      inbox.commit({ messageId: 'm2', outcome: 'processed', processedAt: 2 }, () => {
        db.prepare("insert into cases values ('c2')").run();
        throw new Error('handler failed half-way');
      }),
    ).toThrow(/half-way/);
    expect(inbox.find('m1')).toEqual({ messageId: 'm1', outcome: 'processed', processedAt: 1 });
    expect(inbox.find('m2')).toBeUndefined();
    expect(db.prepare('select id from cases').all()).toEqual([{ id: 'c1' }]);
    db.close();
  });

  it('finds the records of a batch of ids in one query: those processed, with their outcome and reason', () => {
    store.inbox.commitMany([
      { record: { messageId: 'kept', outcome: 'processed', processedAt: 1 } },
      { record: { messageId: 'refused', outcome: 'rejected', reason: 'schema-invalid', processedAt: 2 } },
    ]);
    const found = store.inbox.findMany(['new', 'refused', 'kept', 'it\'s "quoted"']);
    expect([...found.entries()].sort(([a], [b]) => a.localeCompare(b))).toEqual([
      ['kept', { messageId: 'kept', outcome: 'processed', processedAt: 1 }],
      ['refused', { messageId: 'refused', outcome: 'rejected', reason: 'schema-invalid', processedAt: 2 }],
    ]);
    expect(store.inbox.findMany([]).size).toBe(0);
  });

  it('forgets ids older than the window', () => {
    store.inbox.commit({ messageId: 'old', outcome: 'rejected', reason: 'schema-invalid', processedAt: 10 });
    store.inbox.commit({ messageId: 'new', outcome: 'processed', processedAt: 100 });
    expect(store.inbox.prune(50)).toBe(1);
    expect(store.inbox.find('old')).toBeUndefined();
    expect(store.inbox.find('new')).toBeDefined();
  });
});

describe('dead letters', () => {
  it('keeps the message with its reason until replayed or discarded', () => {
    const id = store.deadLetters.add({
      messageId: 'm1',
      source: 'downlink',
      reason: 'bad-signature',
      detail: 'signature does not verify',
      message: message('m1'),
      receivedAt: Date.now(),
    });
    expect(store.deadLetters.list()).toEqual([expect.objectContaining({ id, reason: 'bad-signature', state: 'held' })]);
    store.deadLetters.setState(id, 'discarded');
    expect(store.deadLetters.list()).toEqual([]);
    expect(store.deadLetters.list({ state: 'discarded' })).toHaveLength(1);
    expect(new TextDecoder().decode(store.deadLetters.get(id)!.message.body)).toBe('Begum, Nasrin');
  });

  it('keeps every record and reason, but only the newest bodies within the count, bytes and age limits', () => {
    let now = 1_000_000;
    const capped = createSqliteTransportStore(openDatabase(join(dir, 'capped.db'), KEY), {
      deadLetterBodies: { maxCount: 3, maxBytes: 2_500, maxAgeMs: 10_000 },
      now: () => now,
    });
    const add = (id: string, bytes: number) =>
      capped.deadLetters.add({
        messageId: id,
        source: 'downlink',
        reason: 'cms-malformed',
        detail: 'garbage',
        message: message(id, 'x'.repeat(bytes)),
        receivedAt: now,
      });
    const kept = () =>
      capped.deadLetters
        .list({ limit: 100 })
        .map((l) => `${l.messageId}:${l.bodyKept ? l.message.body.byteLength : `dropped ${l.bodyBytes}`}`);
    for (const [i, id] of ['a', 'b', 'c', 'd'].entries()) add(id, 100 + i);
    expect(kept()).toEqual(['a:dropped 100', 'b:101', 'c:102', 'd:103']);
    add('big', 2_300);
    expect(kept()).toEqual(['a:dropped 100', 'b:dropped 101', 'c:dropped 102', 'd:103', 'big:2300']);
    capped.close();
    now += 20_000;
    const reopened = createSqliteTransportStore(openDatabase(join(dir, 'capped.db'), KEY), {
      deadLetterBodies: { maxCount: 3, maxBytes: 2_500, maxAgeMs: 10_000 },
      now: () => now,
    });
    expect(
      reopened.deadLetters
        .list({ limit: 100 })
        .map((l) => [l.messageId, l.reason, l.bodyKept, l.message.body.byteLength]),
    ).toEqual([
      ['a', 'cms-malformed', false, 0],
      ['b', 'cms-malformed', false, 0],
      ['c', 'cms-malformed', false, 0],
      ['d', 'cms-malformed', false, 0],
      ['big', 'cms-malformed', false, 0],
    ]);
    reopened.close();
  });

  it('stores a letter refused without its body as dropped, with the size it had', () => {
    const id = store.deadLetters.add({
      messageId: 'huge',
      source: 'downlink',
      reason: 'too-large',
      detail: 'too big',
      message: { ...message('huge'), body: new Uint8Array(0) },
      droppedBodyBytes: 40_000_000,
      receivedAt: 5,
    });
    expect(store.deadLetters.get(id)).toMatchObject({
      reason: 'too-large',
      bodyKept: false,
      bodyBytes: 40_000_000,
      message: { body: new Uint8Array(0) },
    });
  });
});

describe('parked messages', () => {
  it('keeps whole messages per source in the order they were parked, the first of an id, until removed', () => {
    const parked = { source: 'downlink', reason: 'internal-error' as const, durable: true, parkedAt: 5 };
    store.parked.add({ ...parked, messageId: 'm1', message: message('m1') });
    store.parked.add({ ...parked, messageId: 'm2', message: message('m2', 'x') });
    store.parked.add({ ...parked, messageId: 'm1', message: message('m1', 'second copy') });
    store.parked.add({ ...parked, source: 'uplink', messageId: 'u1', message: message('u1') });
    const listed = store.parked.list('downlink');
    expect(listed.map((p) => p.messageId)).toEqual(['m1', 'm2']);
    expect(listed[0]).toMatchObject({
      source: 'downlink',
      reason: 'internal-error',
      durable: true,
      parkedAt: 5,
      message: message('m1'),
    });
    expect(store.parked.list('downlink', { afterSeq: listed[0]!.seq }).map((p) => p.messageId)).toEqual(['m2']);
    expect(store.parked.counts('downlink')).toEqual({
      messages: 2,
      bytes: message('m1').body.byteLength + 1,
      reasons: ['internal-error'],
    });
    store.parked.remove('m1');
    expect(store.parked.list('downlink').map((p) => p.messageId)).toEqual(['m2']);
  });
});
