import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CaseStore } from '../main/node/index.ts';
import {
  openDatabase,
  createSqliteTransportStore,
  type SqliteDatabase,
  type StoredMessage,
  type TransportStore,
} from '../transport/index.ts';
import { openEventFeed, type EventFeed } from './event-feed.ts';
import { openTestStore } from './testing/test-store.ts';

const PATIENT = 'Begum, Nasrin, born 1961-04-02';
const caseId = randomUUID();

function storedMessage(messageId: string, rtsType: string): StoredMessage {
  return {
    properties: {
      message_id: messageId,
      user_id: 'ws-1',
      creation_time: 1,
      content_type: 'application/pkcs7-mime',
      application_properties: { rtsType },
    },
    body: new TextEncoder().encode(PATIENT),
  };
}

let dir: string;
let db: SqliteDatabase;
let transport: TransportStore;
let cases: CaseStore;
let feed: EventFeed;

const all = () => feed.read(0, 1000);
const eventCount = () => (db.prepare('select count(*) as n from connector_events').get() as { n: number }).n;
const addIn = (
  messageId: string,
  state: 'verified' | 'rejected',
  extra: { reason?: 'bad-signature'; detail?: string } = {},
) =>
  cases.addMessage({
    messageId,
    caseId,
    direction: 'in',
    type: 'consult.status',
    status: 'accepted',
    sequence: 1,
    state,
    ...extra,
    createdAt: 5,
  });
const addOut = (messageId: string) =>
  cases.addMessage({
    messageId,
    caseId,
    direction: 'out',
    type: 'consult.report',
    status: 'completed',
    sequence: 2,
    state: 'queued',
    createdAt: 6,
  });
const enqueue = (messageId: string) =>
  transport.outbox.enqueue({
    messageId,
    orderKey: caseId,
    address: '/exchange/rts.uplink/ws-1',
    message: storedMessage(messageId, 'consult.report'),
  });
const publish = (id: string) =>
  db.prepare(`insert into connector_publications values (?, 'full', 'queued', 1, 20, null, null, 1, 1)`).run(id);

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'rts-feed-'));
  ({ db, transport, cases, feed } = openTestStore(join(dir, 'store.db')));
  cases.create({
    caseId,
    role: 'expert',
    status: 'requested',
    applicantId: 'clinic-b.dr-berg',
    expertId: 'clinic-a.dr-ahmed',
    createdAt: 1,
    mySequence: 0,
  });
});
afterEach(() => {
  feed.dispose();
  if (db.open) db.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('event triggers', () => {
  it('records a received consult message once, with its consult status and message type', () => {
    const id = randomUUID();
    addIn(id, 'verified');
    addIn(id, 'verified'); // a redelivery is not stored again
    expect(all()).toEqual([
      {
        cursor: 1,
        type: 'consult.received',
        at: expect.stringMatching(/^\d{4}-\d\d-\d\dT.*Z$/),
        caseId,
        messageId: id,
        messageType: 'consult.status',
        state: 'accepted',
      },
    ]);
  });

  it('records a refused consult message with its reason code, never its detail', () => {
    const id = randomUUID();
    addIn(id, 'rejected', { reason: 'bad-signature', detail: `signed by someone else for ${PATIENT}` });
    expect(all()).toEqual([
      expect.objectContaining({
        type: 'consult.refused',
        caseId,
        messageId: id,
        messageType: 'consult.status',
        reason: 'bad-signature',
      }),
    ]);
    expect(JSON.stringify(all())).not.toContain('Begum');
  });

  it('records our message queued, and each state a receipt moves it to', () => {
    const id = randomUUID();
    addOut(id);
    cases.setMessageState(id, 'delivered', 7);
    cases.setMessageState(id, 'delivered', 8); // no change: no event
    db.prepare(`update case_messages set state = 'delivered', updated_at = 8 where message_id = ?`).run(id); // the same state written again
    cases.setMessageState(id, 'rejected', 9, 'decrypt-failed', `could not open the report on ${PATIENT}`);
    db.prepare('update case_messages set updated_at = 10 where message_id = ?').run(id); // not a state change
    expect(all().map(({ type, state, reason }) => ({ type, state, reason }))).toEqual([
      { type: 'consult.queued', state: 'completed', reason: undefined },
      { type: 'consult.message-state', state: 'delivered', reason: undefined },
      { type: 'consult.message-state', state: 'rejected', reason: 'decrypt-failed' },
    ]);
    expect(all().every((e) => e.caseId === caseId && e.messageId === id && e.messageType === 'consult.report')).toBe(
      true,
    );
    expect(JSON.stringify(all())).not.toContain('Begum');
  });

  it('records a dead letter, dropping a message id that is not a UUID and the free-text detail', () => {
    const id = randomUUID();
    const letter = (messageId: string) => ({
      messageId,
      source: 'downlink',
      reason: 'cms-malformed' as const,
      detail: `garbage about ${PATIENT}`,
      message: storedMessage(messageId, 'consult.request'),
      receivedAt: 1,
    });
    transport.deadLetters.add(letter(id));
    transport.deadLetters.add(letter(PATIENT));
    expect(all().map(({ cursor: _c, at: _a, ...rest }) => rest)).toEqual([
      { type: 'message.refused', messageId: id, messageType: 'consult.request', reason: 'cms-malformed' },
      { type: 'message.refused', messageType: 'consult.request', reason: 'cms-malformed' },
    ]);
    expect(JSON.stringify(all())).not.toContain('Begum');
  });

  it("records a message the outbox gave up on, once, with the kind of failure instead of the broker's words", () => {
    const [consult, other, third] = [randomUUID(), randomUUID(), randomUUID()];
    addOut(consult);
    enqueue(consult);
    enqueue(other);
    enqueue(third);
    transport.outbox.fail(consult, 'rejected by the broker: amqp:unauthorized-access (no access to Begum)');
    transport.outbox.fail(consult, 'rejected by the broker again'); // already failed
    transport.outbox.fail(other, 'released by the broker 10 times');
    transport.outbox.fail(third, 'something else');
    expect(
      all()
        .filter((e) => e.type === 'message.failed')
        .map(({ caseId: c, messageId, reason, messageType }) => ({ c, messageId, reason, messageType })),
    ).toEqual([
      { c: caseId, messageId: consult, reason: 'broker-refused', messageType: 'consult.report' },
      { c: undefined, messageId: other, reason: 'delivery-limit', messageType: 'consult.report' },
      { c: undefined, messageId: third, reason: 'send-failed', messageType: 'consult.report' },
    ]);
    expect(JSON.stringify(all())).not.toContain('Begum');
  });

  it('records a publication queued and each change of its state', () => {
    publish('pub-1');
    db.prepare(`update connector_publications set state = 'sent' where publication_id = 'pub-1'`).run();
    db.prepare(`update connector_publications set updated_at = 2 where publication_id = 'pub-1'`).run();
    db.prepare(`update connector_publications set state = 'sent' where publication_id = 'pub-1'`).run(); // the same state again
    db.prepare(
      `update connector_publications set state = 'rejected', reason = 'not-authorized', detail = ? where publication_id = 'pub-1'`,
    ).run(PATIENT);
    expect(all().map(({ type, publicationId, state, reason }) => ({ type, publicationId, state, reason }))).toEqual([
      { type: 'publication.queued', publicationId: 'pub-1', state: 'queued', reason: undefined },
      { type: 'publication.state', publicationId: 'pub-1', state: 'sent', reason: undefined },
      { type: 'publication.state', publicationId: 'pub-1', state: 'rejected', reason: 'not-authorized' },
    ]);
  });

  it('writes the event in the transaction of its cause: seen inside it, gone with its rollback', () => {
    const id = randomUUID();
    expect(() =>
      db.transaction(() => {
        addIn(id, 'verified');
        expect(eventCount()).toBe(1);
        throw new Error('crash before commit');
      })(),
    ).toThrow('crash before commit');
    expect(eventCount()).toBe(0);
    expect(cases.message(id)).toBeUndefined();
    expect(feed.range()).toEqual({ last: 0 });
  });

  it('refuses to start before the tables it follows exist', () => {
    const bare = openDatabase(join(dir, 'bare.db'), undefined);
    createSqliteTransportStore(bare);
    expect(() => openEventFeed(bare)).toThrow(/needs the tables case_messages, connector_publications/);
    bare.close();
  });
});

describe('reading the feed', () => {
  beforeEach(() => {
    for (let i = 1; i <= 5; i++) publish(`pub-${i}`);
  });

  it('gives each event once per cursor, oldest first, and replays from any kept cursor', () => {
    const cursors = (after: number, limit: number) => feed.read(after, limit).map((e) => e.cursor);
    expect(cursors(0, 2)).toEqual([1, 2]);
    expect(cursors(2, 2)).toEqual([3, 4]);
    expect(cursors(4, 10)).toEqual([5]);
    expect(cursors(5, 10)).toEqual([]);
    expect(cursors(1, 10)).toEqual([2, 3, 4, 5]);
    expect(feed.range()).toEqual({ first: 1, last: 5 });
  });

  it('refuses a bad cursor or limit, naming it', () => {
    expect(() => feed.read(-1, 10)).toThrow(/^after: /);
    expect(() => feed.read(1.5, 10)).toThrow(/^after: /);
    expect(() => feed.read(0, 0)).toThrow(/^limit: /);
    expect(() => feed.read(0, 1001)).toThrow(/^limit: /);
  });

  it('prunes the oldest beyond the maximum count and those past the retention, and never reuses a cursor', () => {
    feed.dispose();
    feed = openEventFeed(db, { maxEvents: 3, retainDays: 1 });
    expect(feed.prune()).toBe(2);
    expect(feed.read(0, 10).map((e) => e.cursor)).toEqual([3, 4, 5]);
    expect(feed.range()).toEqual({ first: 3, last: 5 });
    db.prepare('update connector_events set at = at - 2 * 86400000 where seq = 3').run();
    expect(feed.prune()).toBe(1);
    expect(feed.range()).toEqual({ first: 4, last: 5 });
    expect(feed.prune(Date.now() + 2 * 86_400_000)).toBe(2);
    expect(feed.range()).toEqual({ last: 5 });
    publish('pub-6');
    expect(feed.read(0, 10).map((e) => e.cursor)).toEqual([6]);
  });

  it('keeps its events and numbering when the store is closed without warning and opened again', () => {
    db.close();
    ({ db, transport, cases, feed } = openTestStore(join(dir, 'store.db')));
    expect(feed.read(0, 10).map((e) => e.publicationId)).toEqual(['pub-1', 'pub-2', 'pub-3', 'pub-4', 'pub-5']);
    publish('pub-6');
    expect(feed.range()).toEqual({ first: 1, last: 6 });
  });
});

describe('waiting on the feed', () => {
  const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

  it('answers at once when events are already there', async () => {
    publish('pub-1');
    expect((await feed.wait(0, 60_000)).map((e) => e.cursor)).toEqual([1]);
  });

  it('wakes every waiter behind the new events when notified after the commit, and leaves no timer', async () => {
    const before = timers();
    publish('pub-1');
    const early = feed.wait(0, 60_000);
    const a = feed.wait(1, 60_000);
    const b = feed.wait(1, 60_000, undefined, 1);
    feed.notify(); // nothing new for a and b yet
    publish('pub-2');
    publish('pub-3');
    let woken = false;
    void a.then(() => (woken = true));
    await new Promise((r) => setTimeout(r, 20));
    expect(woken).toBe(false); // written, but not announced
    feed.notify();
    expect((await early).map((e) => e.cursor)).toEqual([1]);
    expect((await a).map((e) => e.cursor)).toEqual([2, 3]);
    expect((await b).map((e) => e.cursor)).toEqual([2]);
    expect(timers()).toBeLessThanOrEqual(before);
  });

  it('resolves with [] at the timeout, on abort, and on dispose', async () => {
    const before = timers();
    const started = Date.now();
    expect(await feed.wait(0, 50)).toEqual([]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
    const controller = new AbortController();
    const aborted = feed.wait(0, 60_000, controller.signal);
    const disposed = feed.wait(0, 60_000);
    controller.abort();
    expect(await aborted).toEqual([]);
    expect(await feed.wait(0, 60_000, controller.signal)).toEqual([]);
    feed.dispose();
    expect(await disposed).toEqual([]);
    publish('pub-1');
    expect(await feed.wait(0, 60_000)).toEqual([]);
    expect(timers()).toBeLessThanOrEqual(before);
  });
});
