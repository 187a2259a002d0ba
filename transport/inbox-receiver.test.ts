import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { recordingLogger } from './testing/recording-logger.ts';
import { artemisAdapter, rabbitmq3Adapter, type BrokerAdapter } from './broker-adapter.ts';
import type { BrokerConnection } from './broker-connection.ts';
import { createInboxReceiver, type InboxReceiver } from './inbox-receiver.ts';
import { openDatabase } from './sqlite-database.ts';
import { createSqliteTransportStore } from './sqlite-transport-store.ts';

/** A stand-in for the rhea link, so that a test decides exactly when a transfer arrives. */
function standInLink(adapter: BrokerAdapter = rabbitmq3Adapter) {
  const link = Object.assign(new EventEmitter(), { is_open: () => true, close: () => undefined });
  const connection = {
    amqp: { open_receiver: () => link },
    state: { status: 'online' },
    onOpened: () => () => undefined,
    adapter,
  } as unknown as BrokerConnection;
  const settled: string[] = [];
  const deliver = (messageId: string, body = new Uint8Array(1)) =>
    link.emit('message', {
      message: { message_id: messageId, body },
      delivery: {
        accept: () => settled.push(`accepted ${messageId}`),
        release: (params?: { delivery_failed?: boolean }) =>
          settled.push(`${params?.delivery_failed ? 'modified' : 'released'} ${messageId}`),
      },
    });
  return { connection, deliver, settled };
}

/** The receiver's options for the downlink of `store`, over `connection`. */
const downlinkOf = (connection: BrokerConnection, store: ReturnType<typeof createSqliteTransportStore>) => ({
  connection,
  source: 'downlink',
  sourceName: 'downlink',
  inbox: store.inbox,
  deadLetters: store.deadLetters,
});

describe('inbox receiver', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  /** A real encrypted transport store in a fresh folder, removed after the test. */
  function openStore() {
    dir = mkdtempSync(join(tmpdir(), 'rts-inbox-'));
    return createSqliteTransportStore(openDatabase(join(dir, 'store.db'), 'k'.repeat(40)));
  }

  it('leaves a transfer that arrives after stop() unsettled and never touches the closed store (found by the demo-region test)', async () => {
    const store = openStore();
    const { connection, deliver, settled } = standInLink();
    const handled: string[] = [];
    const failures: unknown[] = [];
    const onFailure = (error: unknown) => failures.push(error);
    process.on('unhandledRejection', onFailure);
    try {
      const receiver = createInboxReceiver({
        ...downlinkOf(connection, store),
        handle: async (m) => {
          handled.push(m.messageId);
          return { outcome: 'processed' };
        },
      });
      deliver('before-stop');
      await receiver.stop();
      store.close();
      deliver('after-stop');
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect({ handled, settled, failures }).toEqual({
        handled: ['before-stop'],
        settled: ['accepted before-stop'],
        failures: [],
      });
    } finally {
      process.off('unhandledRejection', onFailure);
    }
  });

  it('commits a batch whose commit failed message by message: only the message whose writes fail is released, and only committed ones are announced', async () => {
    const store = openStore();
    const { connection, deliver, settled } = standInLink();
    const announced: string[] = [];
    const batches = new Map<string, number>();
    const receiver = createInboxReceiver({
      ...downlinkOf(connection, store),
      handle: async (m) => {
        batches.set(m.messageId, m.batch.serial);
        return {
          outcome: 'processed',
          effect: () => {
            if (m.messageId === 'broken') throw new Error('constraint failed');
          },
          afterCommit: () => announced.push(m.messageId),
        };
      },
    });
    // The first is handled alone; the other three arrive meanwhile and make up one batch.
    for (const id of ['lead', 'good-1', 'broken', 'good-2']) deliver(id);
    await receiver.stop();
    store.close();
    expect(new Set(['good-1', 'broken', 'good-2'].map((id) => batches.get(id))).size).toBe(1);
    expect(settled).toEqual(['accepted lead', 'accepted good-1', 'released broken', 'accepted good-2']);
    expect(announced).toEqual(['lead', 'good-1', 'good-2']);
  });

  it('absorbs a copy that arrives in the same batch as its first, and says so once the first is committed', async () => {
    const store = openStore();
    const { connection, deliver, settled } = standInLink();
    const handled: string[] = [];
    const duplicates: string[] = [];
    const { logger, lines } = recordingLogger();
    const receiver = createInboxReceiver({
      ...downlinkOf(connection, store),
      handle: async (m) => {
        handled.push(m.messageId);
        return { outcome: 'processed' };
      },
      onDuplicate: (first, copy) => {
        duplicates.push(`${copy.messageId} first ${first.outcome}`);
        if (copy.messageId === 'twice') throw new Error('a listener that fails');
      },
      logger,
    });
    // The first is handled alone; the other three arrive meanwhile and make up one batch with a copy of `twice`.
    for (const id of ['lead', 'twice', 'twice', 'lead']) deliver(id);
    await receiver.stop();
    store.close();
    expect(handled).toEqual(['lead', 'twice']);
    expect(settled).toEqual(['accepted lead', 'accepted twice', 'accepted twice', 'accepted lead']);
    expect(duplicates.sort()).toEqual(['lead first processed', 'twice first processed']);
    // The listener that threw after the commit kept nothing behind it from being settled, and was logged.
    expect(lines.filter((l) => l.code === 'inbox.after-commit-failed').map((l) => l.fields.messageId)).toEqual([
      'twice',
    ]);
  });

  it('announces its max_message_size and refuses a larger transfer as too-large without handling it or keeping its body, once', async () => {
    const store = openStore();
    const link = Object.assign(new EventEmitter(), { is_open: () => true, close: () => undefined });
    const attached: Record<string, unknown>[] = [];
    const connection = {
      amqp: { open_receiver: (o: Record<string, unknown>) => attached.push(o) && link },
      state: { status: 'online' },
      onOpened: () => () => undefined,
      adapter: rabbitmq3Adapter,
    } as unknown as BrokerConnection;
    const settled: string[] = [];
    const deliver = (messageId: string, bytes: number) =>
      link.emit('message', {
        message: {
          message_id: messageId,
          application_properties: { rtsType: 'consult.request' },
          body: new Uint8Array(bytes),
        },
        delivery: {
          accept: () => settled.push(`accepted ${messageId}`),
          release: () => settled.push(`released ${messageId}`),
        },
      });
    const handled: string[] = [];
    const deadLettered: string[] = [];
    const receiver = createInboxReceiver({
      ...downlinkOf(connection, store),
      maxMessageBytes: 1024,
      handle: async (m) => {
        handled.push(m.messageId);
        return { outcome: 'processed' };
      },
      onDeadLetter: (_id, reason) => deadLettered.push(reason),
    });
    deliver('huge', 5_000);
    deliver('small', 100);
    deliver('huge', 5_000);
    await receiver.stop();
    expect(attached[0]).toMatchObject({ max_message_size: 1024 });
    expect({ handled, settled, deadLettered }).toEqual({
      handled: ['small'],
      settled: ['accepted huge', 'accepted small', 'accepted huge'],
      deadLettered: ['too-large'],
    });
    expect(store.deadLetters.list()).toEqual([
      expect.objectContaining({
        messageId: 'huge',
        reason: 'too-large',
        detail: "transfer of 5000 bytes exceeds this link's max_message_size of 1024",
        bodyKept: false,
        bodyBytes: 5_000,
        message: expect.objectContaining({
          body: new Uint8Array(0),
          properties: expect.objectContaining({ application_properties: { rtsType: 'consult.request' } }),
        }),
      }),
    ]);
    expect(store.inbox.find('huge')).toMatchObject({ outcome: 'rejected', reason: 'too-large' });
    store.close();
  });

  it('parks what must wait up to its limits and releases the rest, keeps the park across a restart, and handles it again in order', async () => {
    dir = mkdtempSync(join(tmpdir(), 'rts-inbox-'));
    const path = join(dir, 'store.db');
    let store = createSqliteTransportStore(openDatabase(path, 'k'.repeat(40)));
    const { connection, deliver, settled } = standInLink();
    let trusted = false;
    const handled: string[] = [];
    // What the park holds each time the receiver says it changed (the workstation's banner counts from it).
    const announced: number[] = [];
    const open = () =>
      createInboxReceiver({
        ...downlinkOf(connection, store),
        parked: store.parked,
        parkLimits: { maxMessages: 2, maxBytes: 1_000 },
        onParkChanged: () => announced.push(store.parked.counts('downlink').messages),
        handle: async (m) => {
          if (!trusted) return { outcome: 'waiting', reason: 'internal-error', detail: "this endpoint's CRL is stale" };
          handled.push(m.messageId);
          return { outcome: 'processed' };
        },
      });
    let receiver = open();
    for (const id of ['m1', 'm2', 'm3']) deliver(id);
    await receiver.idle();
    expect([...settled].sort()).toEqual(['accepted m1', 'accepted m2', 'released m3']);
    expect(store.parked.list('downlink').map((p) => p.messageId)).toEqual(['m1', 'm2']);
    expect(store.inbox.find('m1')).toBeUndefined();
    expect(announced.at(-1)).toBe(2);

    // Still waiting when handled again: nothing changes.
    receiver.handleParkedAgain();
    await receiver.idle();
    expect(store.parked.list('downlink').map((p) => p.messageId)).toEqual(['m1', 'm2']);

    await receiver.stop();
    store.close();
    store = createSqliteTransportStore(openDatabase(path, 'k'.repeat(40)));
    trusted = true;
    receiver = open();
    await receiver.idle();
    expect(handled).toEqual(['m1', 'm2']);
    expect(store.parked.list('downlink')).toEqual([]);
    expect(announced.at(-1)).toBe(0);
    expect(store.inbox.find('m2')).toMatchObject({ outcome: 'processed' });
    expect(settled).toHaveLength(3);
    await receiver.stop();
    store.close();
  });

  it('judges a copy of a parked message a duplicate when the park was handled in the middle of its batch', async () => {
    const store = openStore();
    const { connection, deliver, settled } = standInLink();
    let trusted = false;
    const handled: string[] = [];
    const duplicates: string[] = [];
    const receiver: InboxReceiver = createInboxReceiver({
      ...downlinkOf(connection, store),
      parked: store.parked,
      handle: async (m) => {
        if (!trusted) return { outcome: 'waiting', reason: 'internal-error', detail: "this endpoint's CRL is stale" };
        handled.push(m.messageId);
        // The trust changes while this batch is handled: the park goes first, before the rest of the batch.
        if (m.messageId === 'first') receiver.handleParkedAgain();
        return { outcome: 'processed' };
      },
      onDuplicate: (_first, copy) => duplicates.push(copy.messageId),
    });
    deliver('parked');
    await receiver.idle();
    expect(store.parked.list('downlink').map((p) => p.messageId)).toEqual(['parked']);
    trusted = true;
    // One batch: a message, then a copy of the parked one (its sender sent it again).
    deliver('first');
    deliver('parked');
    await receiver.idle();
    expect(handled).toEqual(['first', 'parked']);
    expect(duplicates).toEqual(['parked']);
    expect(settled).toEqual(['accepted parked', 'accepted first', 'accepted parked']);
    await receiver.stop();
    store.close();
  });

  it('without a park releases what must wait, as a transient failure', async () => {
    const store = openStore();
    const { connection, deliver, settled } = standInLink();
    const receiver = createInboxReceiver({
      connection,
      source: 'uplink',
      sourceName: 'uplink',
      inbox: store.inbox,
      deadLetters: store.deadLetters,
      handle: async () => ({ outcome: 'waiting', reason: 'internal-error', detail: 'not yet' }),
    });
    deliver('m1');
    await receiver.idle();
    expect(settled).toEqual(['released m1']);
    expect(store.parked.list('uplink')).toEqual([]);
    await receiver.stop();
    store.close();
  });

  it("gives a failed message back with the broker's counted retry: released on RabbitMQ, modified on Artemis", async () => {
    for (const [adapter, expected] of [
      [rabbitmq3Adapter, 'released m1'],
      [artemisAdapter, 'modified m1'],
    ] as const) {
      const store = openStore();
      const { connection, deliver, settled } = standInLink(adapter);
      const receiver = createInboxReceiver({
        ...downlinkOf(connection, store),
        handle: async () => {
          throw new Error('transient');
        },
      });
      deliver('m1');
      await receiver.stop();
      store.close();
      expect(settled).toEqual([expected]);
    }
  });

  it('logs a handler that threw and a commit that failed by event code, source and message id, never the body', async () => {
    const store = openStore();
    const { connection, deliver, settled } = standInLink();
    const { logger, lines } = recordingLogger();
    const body = new TextEncoder().encode('{"patient":"Jane Roe, born 1970-01-01"}');
    const receiver = createInboxReceiver({
      ...downlinkOf(connection, store),
      logger,
      handle: async (m) => {
        if (m.messageId === 'throws') throw new Error(`cannot read ${new TextDecoder().decode(body)}`);
        return {
          outcome: 'processed',
          effect: () => {
            throw Object.assign(new Error('constraint failed: Jane Roe'), { code: 'SQLITE_CONSTRAINT' });
          },
        };
      },
    });
    deliver('throws', body);
    await receiver.idle();
    deliver('unwritable', body);
    await receiver.stop();
    store.close();
    expect(settled).toEqual(['released throws', 'released unwritable']);
    expect(lines).toEqual([
      {
        level: 'warn',
        code: 'inbox.handler-failed',
        fields: { source: 'downlink', messageId: 'throws', error: 'Error', parked: false },
      },
      {
        level: 'warn',
        code: 'inbox.commit-failed',
        fields: { source: 'downlink', messages: 1, error: 'SQLITE_CONSTRAINT' },
      },
      { level: 'warn', code: 'inbox.released', fields: { source: 'downlink', messageId: 'unwritable' } },
    ]);
    expect(JSON.stringify(lines)).not.toMatch(/Jane|patient/);
  });
});
