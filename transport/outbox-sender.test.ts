import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { rabbitmq3Adapter } from './broker-adapter.ts';
import { recordingLogger } from './testing/recording-logger.ts';
import { standInBroker } from './testing/stand-in-broker.ts';
import {
  createOutboxSender,
  outboxCounts,
  UPLINK,
  type OutboxSender,
  type OutboxSenderOptions,
} from './outbox-sender.ts';
import { openDatabase } from './sqlite-database.ts';
import { createSqliteTransportStore } from './sqlite-transport-store.ts';
import type { TransportStore } from './transport-store.ts';

const ADDRESS = '/exchange/rts.uplink/ws-1';
const BODY = '{"patient":"Jane Roe, born 1970-01-01"}';
const PROPERTIES = {
  message_id: '',
  user_id: 'ws-1',
  creation_time: 1_700_000_000_000,
  content_type: 'application/pkcs7-mime',
  application_properties: { rtsType: 'consult.request' },
};

describe('outbox sender', () => {
  let dir: string;
  let store: TransportStore;
  let broker: ReturnType<typeof standInBroker>;
  const enqueue = (id: string, orderKey: string) =>
    store.outbox.enqueue({
      messageId: id,
      orderKey,
      address: ADDRESS,
      message: {
        properties: {
          message_id: id,
          user_id: 'ws-1',
          creation_time: 1_700_000_000_000,
          content_type: 'application/pkcs7-mime',
          application_properties: { rtsType: 'consult.request' },
        },
        body: new TextEncoder().encode(BODY),
      },
    });
  const start = (options: Partial<OutboxSenderOptions> = {}) =>
    createOutboxSender({ connection: broker.connection, outbox: store.outbox, retryDelayMs: 1_000, ...options });
  // Settlements are recorded on the next tick and the sender pumps on the one after; the fake clock puts an immediate
  // queued by another 1 ms later, so a few milliseconds let both run (far below the retry delay).
  const ticks = () => vi.advanceTimersByTime(25);
  const counts = (sender: OutboxSender) => outboxCounts(store.outbox, sender);

  beforeEach(() => {
    // Date too: the store's retry delay is measured on Date.now().
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'clearImmediate', 'Date'] });
    dir = mkdtempSync(join(tmpdir(), 'rts-outbox-'));
    store = createSqliteTransportStore(openDatabase(join(dir, 'store.db'), 'k'.repeat(40)));
    broker = standInBroker();
  });
  afterEach(() => {
    vi.useRealTimers();
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('sends the queued messages oldest first, up to the window of each order key, and removes each once it is accepted', () => {
    const onChange = vi.fn();
    const sender = start({ onChange, windowPerKey: 2 });
    for (const [id, key] of [
      ['a1', 'case-a'],
      ['b1', 'case-b'],
      ['a2', 'case-a'],
      ['a3', 'case-a'],
    ])
      enqueue(id!, key!);
    sender.wake();
    expect(broker.sent()).toEqual(['a1', 'b1', 'a2']);
    expect(counts(sender)).toEqual({ pending: 1, inFlight: 3, failed: 0 });

    broker.settle('a1', 'accepted');
    ticks();
    expect(broker.sent()).toEqual(['a1', 'b1', 'a2', 'a3']);
    expect(onChange).toHaveBeenCalled();
    for (const id of ['a2', 'b1', 'a3']) broker.settle(id, 'accepted');
    ticks();
    expect(broker.sent()).toEqual(['a1', 'b1', 'a2', 'a3']);
    expect(counts(sender)).toEqual({ pending: 0, inFlight: 0, failed: 0 });
    expect(store.outbox.queuedAfter(0, 10)).toEqual([]);
    sender.stop();
  });

  it('writes nothing to the store while sending: a restart finds everything not yet accepted still queued', () => {
    const sender = start();
    for (const id of ['a1', 'b1', 'c1']) enqueue(id, `case-${id}`);
    const before = store.outbox.queuedAfter(0, 10);
    sender.wake();
    broker.settle('b1', 'accepted');
    expect(store.outbox.queuedAfter(0, 10)).toEqual(before);
    sender.stop();
    expect(store.outbox.queuedAfter(0, 10).map((t) => t.messageId)).toEqual(['a1', 'c1']);
    const again = start();
    again.wake();
    expect(broker.sent()).toEqual(['a1', 'b1', 'c1', 'a1', 'c1']);
    again.stop();
  });

  it('withdraws a message not yet sent, never one in flight or accepted, and sends the rest', () => {
    const sender = start({ windowPerKey: 1 });
    for (const id of ['a1', 'a2', 'a3']) enqueue(id, 'case-a');
    sender.wake();
    expect(broker.sent()).toEqual(['a1']);
    // In flight: the broker may or may not have it.
    expect(sender.withdraw('a1')).toBe(false);
    // Queued behind it: let go of by the sender, then taken out of the store.
    expect(sender.withdraw('a2')).toBe(true);
    expect(store.outbox.withdraw('a2')).toBe(true);
    broker.settle('a1', 'accepted');
    // Accepted, its confirmation not yet written: sent, not withdrawn.
    expect(sender.withdraw('a1')).toBe(false);
    ticks();
    expect(broker.sent()).toEqual(['a1', 'a3']);
    // The store takes back only what is still queued.
    expect(store.outbox.withdraw('a1')).toBe(false);
    expect(store.outbox.withdraw('a2')).toBe(false);
    broker.settle('a3', 'accepted');
    ticks();
    expect(counts(sender)).toEqual({ pending: 0, inFlight: 0, failed: 0 });
    sender.stop();
  });

  it('sends what was queued to the uplink where the broker adapter says that is, when it sends it', () => {
    const sender = start({ endpointId: 'ws-1' });
    store.outbox.enqueue({
      messageId: 'u1',
      orderKey: 'case-u',
      address: UPLINK,
      message: { properties: { ...PROPERTIES, message_id: 'u1' }, body: new Uint8Array([1]) },
    });
    sender.wake();
    expect(broker.sent()).toEqual(['u1']);
    expect(broker.links.map((link) => link.address)).toEqual([rabbitmq3Adapter.uplinkTarget('ws-1')]);
    sender.stop();
  });

  it("gives up a rejected message with the broker's reason, never sends it again, and still sends the ones behind it", () => {
    const sender = start({ windowPerKey: 1 });
    enqueue('a1', 'case-a');
    enqueue('a2', 'case-a');
    enqueue('b1', 'case-b');
    sender.wake();
    broker.settle('a1', 'rejected', { condition: 'amqp:precondition-failed', description: 'bad header' });
    ticks();
    expect(broker.sent()).toEqual(['a1', 'b1', 'a2']);
    broker.settle('a2', 'accepted');
    broker.settle('b1', 'accepted');
    vi.advanceTimersByTime(60_000);
    expect(broker.sent()).toEqual(['a1', 'b1', 'a2']);
    expect(counts(sender)).toEqual({ pending: 0, inFlight: 0, failed: 1 });
    expect(store.outbox.failed()).toEqual([
      expect.objectContaining({
        messageId: 'a1',
        state: 'failed',
        failureReason: 'rejected by the broker: amqp:precondition-failed (bad header)',
      }),
    ]);
    sender.stop();
  });

  it('sends a released or modified message again after the retry delay, not before, and keeps its order key waiting meanwhile', () => {
    const sender = start({ windowPerKey: 2 });
    for (const [id, key] of [
      ['a1', 'case-a'],
      ['a2', 'case-a'],
      ['a3', 'case-a'],
      ['b1', 'case-b'],
    ])
      enqueue(id!, key!);
    sender.wake();
    expect(broker.sent()).toEqual(['a1', 'b1', 'a2']);
    broker.settle('a1', 'released');
    broker.settle('b1', 'modified');
    broker.settle('a2', 'accepted');
    vi.advanceTimersByTime(999);
    // a2 made room in case-a's window, but a1 waits to be sent again: a3 waits behind it.
    expect(broker.sent()).toEqual(['a1', 'b1', 'a2']);
    expect(counts(sender)).toEqual({ pending: 3, inFlight: 0, failed: 0 });
    vi.advanceTimersByTime(1);
    expect(broker.sent()).toEqual(['a1', 'b1', 'a2', 'a1', 'b1', 'a3']);
    for (const id of ['a1', 'a3', 'b1']) broker.settle(id, 'accepted');
    ticks();
    expect(counts(sender)).toEqual({ pending: 0, inFlight: 0, failed: 0 });
    sender.stop();
  });

  it('sends again what was in flight when the connection dropped, once it is back, and not what was accepted just before', () => {
    const sender = start();
    for (const id of ['a1', 'b1', 'c1']) enqueue(id, `case-${id}`);
    sender.wake();
    // Accepted in the same tick as the drop: recorded before the in-flight ones are requeued.
    broker.settle('a1', 'accepted');
    broker.drop();
    expect(counts(sender)).toEqual({ pending: 2, inFlight: 0, failed: 0 });
    // Offline: nothing goes out, however long it takes.
    sender.wake();
    vi.advanceTimersByTime(10_000);
    expect(broker.sent()).toEqual(['a1', 'b1', 'c1']);

    broker.reopen();
    ticks();
    expect(broker.sent()).toEqual(['a1', 'b1', 'c1', 'b1', 'c1']);
    broker.settle('b1', 'accepted');
    broker.settle('c1', 'accepted');
    ticks();
    expect(counts(sender)).toEqual({ pending: 0, inFlight: 0, failed: 0 });
    sender.stop();
  });

  it('sends again, on a new link after the retry delay, what was in flight on a link detached with a transient error', () => {
    const sender = start();
    enqueue('a1', 'case-a');
    enqueue('b1', 'case-b');
    sender.wake();
    broker.detach('amqp:resource-limit-exceeded');
    vi.advanceTimersByTime(1_000);
    expect(broker.links).toHaveLength(2);
    expect(broker.unsettled()).toEqual(['a1', 'b1']);
    expect(broker.sent()).toEqual(['a1', 'b1', 'a1', 'b1']);
    sender.stop();
  });

  it('after a link refused for good with several in flight, sends them one at a time and gives up only the one refused alone', () => {
    const sender = start();
    enqueue('a1', 'case-a');
    enqueue('b1', 'case-b');
    sender.wake();
    expect(broker.unsettled()).toEqual(['a1', 'b1']);
    broker.detach('amqp:unauthorized-access');
    expect(store.outbox.failed()).toEqual([]);
    vi.advanceTimersByTime(1_000);
    ticks();
    expect(broker.unsettled()).toEqual(['a1']);
    broker.detach('amqp:unauthorized-access');
    vi.advanceTimersByTime(1_000);
    ticks();
    expect(store.outbox.failed().map((f) => f.messageId)).toEqual(['a1']);
    expect(broker.unsettled()).toEqual(['b1']);
    broker.settle('b1', 'accepted');
    ticks();
    expect(outboxCounts(store.outbox, sender)).toEqual({ pending: 0, inFlight: 0, failed: 1 });
    sender.stop();
  });

  it('gives up a message whose stored body cannot be read, and sends the rest', () => {
    const sender = start();
    enqueue('a1', 'case-a');
    enqueue('b1', 'case-b');
    const load = store.outbox.load.bind(store.outbox);
    store.outbox.load = (id) => {
      if (id === 'a1') throw new Error('the body record at segment 1 offset 0 fails its authentication tag');
      return load(id);
    };
    sender.wake();
    expect(broker.sent()).toEqual(['b1']);
    expect(store.outbox.failed()).toEqual([
      expect.objectContaining({ messageId: 'a1', failureReason: expect.stringContaining('cannot be read') }),
    ]);
    sender.stop();
  });

  it('tries a new link later when one was refused with nothing in flight, which nothing else would wake it for', () => {
    const sender = start();
    broker.withholdCredit(true);
    enqueue('a1', 'case-a');
    sender.wake();
    expect(broker.sent()).toEqual([]);
    // E.g. the broker is still starting: the attach is refused, no transfer was made.
    broker.detach('amqp:not-found');
    broker.withholdCredit(false);
    vi.advanceTimersByTime(990);
    expect(broker.links).toHaveLength(1);
    ticks();
    expect(broker.links).toHaveLength(2);
    expect(broker.sent()).toEqual(['a1']);
    sender.stop();
  });

  it('after stop() sends nothing, keeps no timer, closes its links and ignores a reconnect and a late settlement', () => {
    const sender = start();
    enqueue('a1', 'case-a');
    enqueue('b1', 'case-b');
    sender.wake();
    broker.settle('a1', 'released');
    ticks();
    sender.stop();
    expect(vi.getTimerCount()).toBe(0);
    expect(broker.listeners()).toBe(0);
    expect(broker.links.every((link) => link.closed)).toBe(true);
    // The store closes after the sender: anything that still touched it would throw here.
    store.close();
    broker.reopen();
    broker.settle('b1', 'accepted');
    vi.advanceTimersByTime(60_000);
    expect(broker.sent()).toEqual(['a1', 'b1']);
    store = createSqliteTransportStore(openDatabase(join(dir, 'store.db'), 'k'.repeat(40)));
    // Nothing of the sending was written: both are still queued, to be sent at the next start.
    expect(store.outbox.counts()).toEqual({ queued: 2, failed: 0 });
  });

  it('logs released, given-up and rejected messages by message id and attempt, never the body', () => {
    const { logger, lines } = recordingLogger();
    const sender = start({ logger, maxAttempts: 2 });
    enqueue('m1', 'case-1');
    enqueue('m2', 'case-2');
    sender.wake();
    broker.settle('m1', 'released');
    // A broker's description may quote what it refused: the store keeps it for the user, the log must not.
    broker.settle('m2', 'rejected', { condition: 'amqp:precondition-failed', description: BODY });
    vi.advanceTimersByTime(1_000);
    broker.settle('m1', 'released');
    vi.advanceTimersByTime(60_000);
    expect(broker.sent()).toEqual(['m1', 'm2', 'm1']);
    expect(store.outbox.failed().map((e) => [e.messageId, e.failureReason])).toEqual([
      ['m1', 'released by the broker 2 times'],
      ['m2', `rejected by the broker: amqp:precondition-failed (${BODY})`],
    ]);
    expect(lines).toEqual([
      { level: 'info', code: 'outbox.released', fields: { messageId: 'm1', attempts: 1 } },
      {
        level: 'warn',
        code: 'outbox.rejected',
        fields: { messageId: 'm2', error: 'amqp:precondition-failed', attempts: 1 },
      },
      { level: 'warn', code: 'outbox.given-up', fields: { messageId: 'm1', attempts: 2 } },
    ]);
    expect(JSON.stringify(lines)).not.toMatch(/Jane|patient/);
    sender.stop();
  });
});
