import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { endpointCredentials, loadBrokerEnv } from '../scripts/test-env/index.ts';
import { rabbitmq3Adapter } from './broker-adapter.ts';
import { createInboxReceiver, type HandlerResult, type ReceivedMessage } from './inbox-receiver.ts';
import { createOutboxSender } from './outbox-sender.ts';
import type { StoredMessage } from './transport-store.ts';
import { createLiveTransport, until } from './testing/live-transport.ts';

const env = loadBrokerEnv();
const live = createLiveTransport({
  hosts: [{ host: '127.0.0.1', port: env.nodes[0]!.amqpPort }],
  vhost: env.vhost,
  adapter: rabbitmq3Adapter,
});
const { store, connect, afterTest } = live;
afterEach(live.endTest);
afterAll(live.close);

/** Each test tags its messages, so what another test left in the shared uplink queue is not counted. */
let run = '';
beforeEach(() => {
  run = randomUUID();
});

function message(sender: string, n: number, id = randomUUID()): StoredMessage {
  return {
    properties: {
      message_id: id,
      user_id: sender,
      creation_time: Date.now(),
      content_type: 'application/pkcs7-mime; smime-type=signed-data',
      application_properties: { rtsType: 'receipt', rtsVersion: '1.0', rtsSender: sender, n, run },
    },
    body: new TextEncoder().encode(`message ${n}`),
  };
}

/** The hub side: reads the uplink queue into an inbox, recording what it processed. */
async function uplinkConsumer(
  handle: (m: ReceivedMessage) => Promise<HandlerResult>,
  extra: { onDuplicate?: () => void } = {},
) {
  const hubStore = store();
  const hub = await connect(env.users.hub);
  const receiver = createInboxReceiver({
    connection: hub,
    source: rabbitmq3Adapter.uplinkSource(),
    sourceName: 'uplink',
    inbox: hubStore.inbox,
    deadLetters: hubStore.deadLetters,
    handle: async (m) => (ofThisRun(m) ? handle(m) : { outcome: 'processed' }),
    credit: 16,
    ...(extra.onDuplicate && { onDuplicate: (_record, m) => ofThisRun(m) && extra.onDuplicate!() }),
  });
  afterTest(() => receiver.stop());
  await until(() => receiver.attached);
  return { hubStore, receiver };
}

const ofThisRun = (m: ReceivedMessage) => (m.amqp.application_properties as { run?: string }).run === run;
const numberOf = (m: ReceivedMessage) => Number((m.amqp.application_properties as { n: number }).n);

describe('transport on the private broker', () => {
  it('delivers every queued message once, in order, and empties the outbox', async () => {
    const seen: number[] = [];
    await uplinkConsumer(async (m) => {
      seen.push(numberOf(m));
      return { outcome: 'processed' };
    });
    const clinic = endpointCredentials(env, 'clinic-a');
    const senderStore = store();
    const sender = createOutboxSender({
      connection: await connect(clinic),
      outbox: senderStore.outbox,
      maxInFlight: 8,
    });
    afterTest(() => sender.stop());
    for (let n = 1; n <= 60; n++) {
      senderStore.outbox.enqueue({
        messageId: randomUUID(),
        orderKey: 'case-1',
        address: rabbitmq3Adapter.uplinkTarget('clinic-a'),
        message: message('clinic-a', n),
      });
    }
    sender.wake();
    await until(() => seen.length === 60);
    expect(seen).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
    await until(() => senderStore.outbox.counts().queued === 0);
    expect(senderStore.outbox.counts()).toEqual({ queued: 0, failed: 0 });
  });

  it('absorbs a duplicate message id and says so', async () => {
    let handled = 0;
    let duplicates = 0;
    await uplinkConsumer(
      async () => {
        handled++;
        return { outcome: 'processed' };
      },
      { onDuplicate: () => duplicates++ },
    );
    const clinic = endpointCredentials(env, 'clinic-a');
    const connection = await connect(clinic);
    const raw = connection.amqp!.open_sender({ target: { address: rabbitmq3Adapter.uplinkTarget('clinic-a') } });
    const id = randomUUID();
    await until(() => raw.sendable());
    const { toRheaMessage } = await import('./amqp-message.ts');
    raw.send(toRheaMessage(message('clinic-a', 1, id)));
    raw.send(toRheaMessage(message('clinic-a', 1, id)));
    await until(() => handled + duplicates === 2);
    expect({ handled, duplicates }).toEqual({ handled: 1, duplicates: 1 });
  });

  it('dead-letters a message that can never succeed, with its reason, and keeps the rest flowing', async () => {
    const processed: number[] = [];
    const { hubStore } = await uplinkConsumer(async (m) => {
      const n = numberOf(m);
      if (n === 2) return { outcome: 'rejected', reason: 'schema-invalid', detail: 'Bundle.entry[3]: missing Patient' };
      processed.push(n);
      return { outcome: 'processed' };
    });
    const senderStore = store();
    const sender = createOutboxSender({
      connection: await connect(endpointCredentials(env, 'clinic-b')),
      outbox: senderStore.outbox,
    });
    afterTest(() => sender.stop());
    for (let n = 1; n <= 3; n++)
      senderStore.outbox.enqueue({
        messageId: randomUUID(),
        orderKey: `k${n}`,
        address: rabbitmq3Adapter.uplinkTarget('clinic-b'),
        message: message('clinic-b', n),
      });
    sender.wake();
    await until(() => processed.length === 2);
    expect(processed.sort()).toEqual([1, 3]);
    const [letter] = hubStore.deadLetters.list();
    expect(letter).toMatchObject({
      reason: 'schema-invalid',
      detail: 'Bundle.entry[3]: missing Patient',
      source: 'uplink',
    });
    expect(new TextDecoder().decode(letter!.message.body)).toBe('message 2');
  });

  it('retries a message whose handler failed for a passing reason (released, then redelivered)', async () => {
    const attempts: boolean[] = [];
    await uplinkConsumer(async (m) => {
      attempts.push(m.redelivered);
      if (attempts.length === 1) throw new Error('database busy');
      return { outcome: 'processed' };
    });
    const senderStore = store();
    const sender = createOutboxSender({
      connection: await connect(endpointCredentials(env, 'clinic-a')),
      outbox: senderStore.outbox,
    });
    afterTest(() => sender.stop());
    senderStore.outbox.enqueue({
      messageId: randomUUID(),
      orderKey: 'k',
      address: rabbitmq3Adapter.uplinkTarget('clinic-a'),
      message: message('clinic-a', 1),
    });
    sender.wake();
    await until(() => attempts.length === 2);
    expect(attempts).toEqual([false, true]);
  });

  it("surfaces a publish the broker refuses (another clinic's routing key) as a permanent failure, without retrying it", async () => {
    const senderStore = store();
    const sender = createOutboxSender({
      connection: await connect(endpointCredentials(env, 'clinic-a')),
      outbox: senderStore.outbox,
    });
    afterTest(() => sender.stop());
    const forged = randomUUID();
    senderStore.outbox.enqueue({
      messageId: forged,
      orderKey: 'k',
      address: rabbitmq3Adapter.uplinkTarget('clinic-b'),
      message: message('clinic-a', 1, forged),
    });
    sender.wake();
    await until(() => senderStore.outbox.counts().failed === 1);
    expect(senderStore.outbox.failed()).toEqual([
      expect.objectContaining({
        messageId: forged,
        failureReason: expect.stringContaining('amqp:unauthorized-access'),
      }),
    ]);
    // The connection survives and the next message goes through.
    const ok = randomUUID();
    senderStore.outbox.enqueue({
      messageId: ok,
      orderKey: 'k2',
      address: rabbitmq3Adapter.uplinkTarget('clinic-a'),
      message: message('clinic-a', 2, ok),
    });
    sender.wake();
    await until(() => senderStore.outbox.counts().queued === 0);
    expect(senderStore.outbox.counts()).toEqual({ queued: 0, failed: 1 });
  });

  it("refuses a transfer above the link's max_message_size, which RabbitMQ 3.10 sends anyway, as too-large without its body, and keeps the rest flowing", async () => {
    const hubStore = store();
    const processed: number[] = [];
    const receiver = createInboxReceiver({
      connection: await connect(env.users.hub),
      source: rabbitmq3Adapter.uplinkSource(),
      sourceName: 'uplink',
      inbox: hubStore.inbox,
      deadLetters: hubStore.deadLetters,
      maxMessageBytes: 4096,
      handle: async (m) => {
        if (ofThisRun(m)) processed.push(numberOf(m));
        return { outcome: 'processed' };
      },
    });
    afterTest(() => receiver.stop());
    await until(() => receiver.attached);
    const senderStore = store();
    const sender = createOutboxSender({
      connection: await connect(endpointCredentials(env, 'clinic-a')),
      outbox: senderStore.outbox,
    });
    afterTest(() => sender.stop());
    const huge = { ...message('clinic-a', 1), body: new Uint8Array(10_000) };
    senderStore.outbox.enqueue({
      messageId: huge.properties.message_id,
      orderKey: 'k',
      address: rabbitmq3Adapter.uplinkTarget('clinic-a'),
      message: huge,
    });
    senderStore.outbox.enqueue({
      messageId: randomUUID(),
      orderKey: 'k',
      address: rabbitmq3Adapter.uplinkTarget('clinic-a'),
      message: message('clinic-a', 2),
    });
    sender.wake();
    await until(() => processed.length === 1);
    expect(processed).toEqual([2]);
    expect(hubStore.deadLetters.list().filter((l) => l.messageId === huge.properties.message_id)).toEqual([
      expect.objectContaining({
        reason: 'too-large',
        detail: "transfer of 10000 bytes exceeds this link's max_message_size of 4096",
        bodyKept: false,
        bodyBytes: 10_000,
      }),
    ]);
  });
});
