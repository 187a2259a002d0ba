import { randomUUID } from 'node:crypto';
import rhea, { type EventContext } from 'rhea';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { ARTEMIS_STATE_ENV, killArtemis, loadArtemisEnv, restartArtemis } from '../scripts/test-env/index.ts';
import { artemisAdapter as adapter } from './broker-adapter.ts';
import { createInboxReceiver, type HandlerResult, type ReceivedMessage } from './inbox-receiver.ts';
import { createOutboxSender } from './outbox-sender.ts';
import { createLiveTransport, numberedMessage as message, numberOf, tagOf, until } from './testing/live-transport.ts';

/**
 * The transport the workstation, the connector and the hub share (outbox sender, inbox receiver, broker connection),
 * on ActiveMQ Artemis through artemisAdapter: the private broker of npm run test:artemis. The last test kills it.
 */
const env = loadArtemisEnv();
const endpoint = (name: string) => env.users.endpoints.find((user) => user.name === name)!;
const live = createLiveTransport({
  hosts: env.nodes.map((node) => ({ host: '127.0.0.1', port: node.amqpPort })),
  vhost: 'rts',
  adapter,
});
const { store, connect, afterTest } = live;
afterEach(live.endTest);
afterAll(live.close);

const run = () => randomUUID();

/** The hub's side: the uplink read into an inbox; messages of other tests are taken and ignored. */
async function uplinkReader(tag: string, handle: (m: ReceivedMessage) => Promise<HandlerResult>) {
  const hubStore = store();
  const receiver = createInboxReceiver({
    connection: await connect(env.users.hub),
    source: adapter.uplinkSource(),
    sourceName: 'uplink',
    inbox: hubStore.inbox,
    deadLetters: hubStore.deadLetters,
    handle: async (m) => (tagOf(m) === tag ? handle(m) : { outcome: 'processed' }),
    credit: 16,
  });
  afterTest(() => receiver.stop());
  await until(() => receiver.attached);
  return receiver;
}

async function clinicSending(tag: string, count: number) {
  const outboxStore = store();
  const sender = createOutboxSender({
    connection: await connect(endpoint('clinic-a')),
    outbox: outboxStore.outbox,
    maxInFlight: 8,
  });
  afterTest(() => sender.stop());
  for (let n = 1; n <= count; n++) {
    outboxStore.outbox.enqueue({
      messageId: randomUUID(),
      orderKey: 'case-1',
      address: adapter.uplinkTarget('clinic-a'),
      message: message('clinic-a', tag, n),
    });
  }
  sender.wake();
  return outboxStore;
}

describe('transport on ActiveMQ Artemis', () => {
  it('delivers every queued message once, in order, with the sender the broker vouches for, and empties the outbox', async () => {
    const tag = run();
    const seen: number[] = [];
    const senders = new Set<string | undefined>();
    await uplinkReader(tag, async (m) => {
      seen.push(numberOf(m));
      senders.add(adapter.verifiedSender(m.amqp));
      return { outcome: 'processed' };
    });
    const outbox = await clinicSending(tag, 60);
    await until(() => seen.length === 60);
    expect(seen).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
    expect([...senders]).toEqual(['clinic-a']);
    await until(() => outbox.outbox.counts().queued === 0);
    expect(outbox.outbox.counts()).toEqual({ queued: 0, failed: 0 });
  });

  it('gives a message whose handler keeps failing back with a counted retry, so the broker dead-letters it at the limit', async () => {
    const tag = run();
    let attempts = 0;
    await uplinkReader(tag, async () => {
      attempts++;
      throw new Error('transient, for ever');
    });
    await clinicSending(tag, 1);
    // The hub reads the broker's dead letters: the message arrives there after the queue's delivery limit.
    const hub = rhea.create_container({ id: `dead-letters-${tag}` }).connect({
      host: '127.0.0.1',
      port: env.nodes[0]!.amqpPort,
      username: env.users.hub.name,
      password: env.users.hub.password,
      reconnect: false,
    });
    afterTest(() => void hub.close());
    const dead = await new Promise<rhea.Message>((resolve) => {
      hub
        .open_receiver({ source: { address: adapter.deadLetterSource() }, autoaccept: false })
        .on('message', (context: EventContext) => {
          context.delivery!.accept();
          if ((context.message!.application_properties as { run?: string }).run === tag) resolve(context.message!);
        });
    });
    expect(attempts).toBe(env.deliveryLimit);
    expect(dead.message_annotations).toMatchObject({ 'x-opt-ORIG-QUEUE': adapter.uplinkSource() });
  });
});

describe('transport on ActiveMQ Artemis killed with kill -9', () => {
  it('delivers every message of the outbox once after the broker comes back, losing and repeating none', async () => {
    const tag = run();
    const seen = new Map<number, number>();
    await uplinkReader(tag, async (m) => {
      seen.set(numberOf(m), (seen.get(numberOf(m)) ?? 0) + 1);
      return { outcome: 'processed' };
    });
    const outbox = await clinicSending(tag, 300);
    await until(() => seen.size >= 50);
    const stateFile = process.env[ARTEMIS_STATE_ENV]!;
    await killArtemis(stateFile);
    // Killed mid-stream (seen here: after 51 and 59 of 300), with messages in flight both ways.
    expect(seen.size).toBeLessThan(300);
    await restartArtemis(stateFile);
    await until(() => seen.size === 300, 90_000);
    await until(() => outbox.outbox.counts().queued === 0, 30_000);
    expect([...seen.keys()].sort((a, b) => a - b)).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
    expect([...seen.values()].every((handled) => handled === 1)).toBe(true);
    expect(outbox.outbox.counts()).toEqual({ queued: 0, failed: 0 });
  });
});
