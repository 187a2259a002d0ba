import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { loadArtemisEnv } from '../scripts/test-env/index.ts';
import { artemisAdapter as adapter } from './broker-adapter.ts';
import { createInboxReceiver } from './inbox-receiver.ts';
import { createOutboxSender } from './outbox-sender.ts';
import { createLiveTransport, numberedMessage, numberOf, tagOf, until } from './testing/live-transport.ts';

/**
 * Two live groups serving at once, as the source system ran its brokers: two Artemis brokers in a symmetric cluster
 * (scripts/with-artemis.sh --groups 2), endpoints on either. A message sent to one group reaches a consumer on the
 * other (message-load-balancing ON_DEMAND, redistribution-delay 0), keeping the address that vouches for its sender.
 */
const env = loadArtemisEnv();
if (env.nodes.length < 2) throw new Error('this suite needs two live groups: scripts/with-artemis.sh --groups 2');
const endpoint = (name: string) => env.users.endpoints.find((user) => user.name === name)!;
const onGroup = (index: number) =>
  createLiveTransport({ hosts: [{ host: '127.0.0.1', port: env.nodes[index]!.amqpPort }], vhost: 'rts', adapter });
const groups = [onGroup(0), onGroup(1)];
afterEach(async () => {
  for (const group of groups) await group.endTest();
});
afterAll(() => {
  for (const group of groups) group.close();
});

const COUNT = 300;

/** `count` messages from `sender`'s outbox on one group to `address`; returns the outbox to watch it empty. */
async function sending(group: (typeof groups)[number], sender: string, address: string, tag: string) {
  const store = group.store();
  const outbox = createOutboxSender({
    connection: await group.connect(sender === 'rts-hub' ? env.users.hub : endpoint(sender)),
    outbox: store.outbox,
    maxInFlight: 16,
  });
  group.afterTest(() => outbox.stop());
  for (let n = 1; n <= COUNT; n++) {
    store.outbox.enqueue({
      messageId: randomUUID(),
      orderKey: 'one',
      address,
      message: numberedMessage(sender, tag, n),
    });
  }
  outbox.wake();
  return store;
}

/** Reads `source` on one group into an inbox, recording this run's numbers and vouched senders. */
async function reading(
  group: (typeof groups)[number],
  reader: { name: string; password: string },
  source: string,
  tag: string,
) {
  const store = group.store();
  const seen: number[] = [];
  const senders = new Set<string | undefined>();
  const receiver = createInboxReceiver({
    connection: await group.connect(reader),
    source,
    sourceName: 'test',
    inbox: store.inbox,
    deadLetters: store.deadLetters,
    handle: async (m) => {
      if (tagOf(m) === tag) {
        seen.push(numberOf(m));
        senders.add(adapter.verifiedSender(m.amqp));
      }
      return { outcome: 'processed' };
    },
    credit: 32,
  });
  group.afterTest(() => receiver.stop());
  await until(() => receiver.attached);
  return { seen, senders };
}

describe('two live Artemis groups serving at once', () => {
  it("carries an endpoint's uplink on one group to the hub on the other, once each, in order, vouched for", async () => {
    const tag = randomUUID();
    const hub = await reading(groups[0]!, env.users.hub, adapter.uplinkSource(), tag);
    const outbox = await sending(groups[1]!, 'clinic-a', adapter.uplinkTarget('clinic-a'), tag);
    await until(() => hub.seen.length >= COUNT);
    expect(hub.seen).toEqual(Array.from({ length: COUNT }, (_, i) => i + 1));
    expect([...hub.senders]).toEqual(['clinic-a']);
    await until(() => outbox.outbox.counts().queued === 0);
  });

  it("carries the hub's downlink on one group to the endpoint reading on the other, once each, in order", async () => {
    const tag = randomUUID();
    const clinic = await reading(groups[1]!, endpoint('clinic-b'), adapter.downlinkSource('clinic-b'), tag);
    const outbox = await sending(groups[0]!, 'rts-hub', adapter.downlinkTarget('clinic-b'), tag);
    await until(() => clinic.seen.length >= COUNT);
    expect(clinic.seen).toEqual(Array.from({ length: COUNT }, (_, i) => i + 1));
    await until(() => outbox.outbox.counts().queued === 0);
  });
});
