import { EventEmitter } from 'node:events';
import { describe, expect, it, vi } from 'vitest';
import type { LogFields, Logger } from '../shared/index.ts';
import { createBatchConsumer } from './batch-consumer.ts';
import type { BrokerConnection } from './broker-connection.ts';
import type { Arrival } from './inbox-entries.ts';

/** A stand-in for the rhea receiver link, so that a test decides exactly when a transfer arrives. */
function standInLink() {
  const events: string[] = [];
  const link = Object.assign(new EventEmitter(), {
    is_open: () => true,
    close: () => void events.push('link closed'),
  });
  const connection = {
    amqp: { open_receiver: () => link },
    state: { status: 'online' },
    onOpened: () => () => undefined,
  } as unknown as BrokerConnection;
  const deliver = (messageId: string) =>
    link.emit('message', {
      message: { message_id: messageId, body: new Uint8Array(1) },
      delivery: {
        accept: () => events.push(`accepted ${messageId}`),
        release: () => events.push(`released ${messageId}`),
      },
    });
  return { connection, deliver, events };
}

/** A promise the test resolves when it chooses. */
function gate() {
  let open = () => undefined as void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

const idsOf = (batch: readonly Arrival[]) => batch.map((a) => String(a.message.message_id));

/** The link every test consumes: the uplink queue, with room for ten unsettled deliveries. */
const UPLINK_OPTIONS = { address: '/amq/queue/uplink', sourceName: 'uplink', credit: 10 } as const;

describe('batch consumer', () => {
  it('hands over what arrived while the last batch was handled as the next batch, one batch at a time, in order', async () => {
    const { connection, deliver, events } = standInLink();
    const batches: string[][] = [];
    const first = gate();
    let inHand = 0;
    let mostInHand = 0;
    const consumer = createBatchConsumer({
      ...UPLINK_OPTIONS,
      connection,
      handle: async (batch) => {
        inHand += 1;
        mostInHand = Math.max(mostInHand, inHand);
        batches.push(idsOf(batch));
        if (batches.length === 1) await first.opened;
        for (const arrival of batch) arrival.delivery.accept();
        inHand -= 1;
      },
    });
    deliver('m1');
    deliver('m2');
    deliver('m3');
    expect(batches).toEqual([['m1']]);
    first.open();
    await vi.waitFor(() => expect(batches).toHaveLength(2));
    await consumer.stop();
    expect(batches).toEqual([['m1'], ['m2', 'm3']]);
    expect(mostInHand).toBe(1);
    expect(events).toEqual(['accepted m1', 'accepted m2', 'accepted m3', 'link closed']);
  });

  it('tells of each arrival before it waits its turn', () => {
    const { connection, deliver } = standInLink();
    const told: string[] = [];
    const handled: string[] = [];
    createBatchConsumer({
      ...UPLINK_OPTIONS,
      connection,
      handle: (batch) => (handled.push(...idsOf(batch)), new Promise(() => undefined)),
      onArrival: (arrival) => told.push(String(arrival.message.message_id)),
    });
    deliver('m1');
    deliver('m2');
    expect(told).toEqual(['m1', 'm2']);
    expect(handled).toEqual(['m1']);
  });

  it('on stop waits for the batch in hand, then closes the link; what arrives after stop and what waited is left unsettled', async () => {
    const { connection, deliver, events } = standInLink();
    const handled: string[] = [];
    const release = gate();
    const consumer = createBatchConsumer({
      ...UPLINK_OPTIONS,
      connection,
      handle: async (batch) => {
        handled.push(...idsOf(batch));
        await release.opened;
        for (const arrival of batch) arrival.delivery.accept();
      },
    });
    deliver('m1');
    deliver('m2'); // waits its turn behind m1
    let stopped = false;
    const stopping = consumer.stop().then(() => (stopped = true));
    deliver('late'); // the broker sent it before it saw the detach
    await Promise.resolve();
    expect(stopped).toBe(false);
    expect(events).toEqual([]);
    release.open();
    await stopping;
    expect(handled).toEqual(['m1']);
    expect(events).toEqual(['accepted m1', 'link closed']);
  });

  it('logs a batch that throws, without its bodies, and goes on with the next', async () => {
    const { connection, deliver } = standInLink();
    const lines: { code: string; fields: LogFields }[] = [];
    const logger: Logger = {
      info: () => undefined,
      warn: (code, fields = {}) => void lines.push({ code, fields }),
      error: () => undefined,
    };
    const handled: string[][] = [];
    const consumer = createBatchConsumer({
      ...UPLINK_OPTIONS,
      connection,
      logger,
      handle: (batch) => {
        handled.push(idsOf(batch));
        return handled.length === 1 ? Promise.reject(new TypeError('boom')) : Promise.resolve();
      },
    });
    deliver('m1');
    await new Promise((resolve) => setImmediate(resolve));
    deliver('m2');
    await consumer.stop();
    expect(handled).toEqual([['m1'], ['m2']]);
    expect(lines).toEqual([
      { code: 'consumer.batch-failed', fields: { source: 'uplink', messages: 1, error: 'TypeError' } },
    ]);
  });
});
