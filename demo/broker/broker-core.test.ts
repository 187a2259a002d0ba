import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import rhea from 'rhea';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { rabbitPasswordHash } from '../../hub/index.ts';
import { parseMessage } from './amqp-sections.ts';
import {
  createBrokerCore,
  verifyRabbitPassword,
  type BrokerCore,
  type Consumer,
  type MessageRecord,
  type QueueState,
} from './broker-core.ts';
import { openBrokerStore, type BrokerStore } from './broker-store.ts';

const tick = () => new Promise((resolve) => setImmediate(() => setImmediate(resolve)));

let dir: string;
let store: BrokerStore;
let core: BrokerCore;

function open(): void {
  store = openBrokerStore(dir);
  core = createBrokerCore(store);
}

function close(): void {
  core.close();
  store.close();
}

function topology(): void {
  const a = core.admin;
  a.putVhost('rts');
  a.putUser({ name: 'admin', passwordHash: rabbitPasswordHash('secret'), tags: ['administrator'] });
  a.putPermission('admin', 'rts', { configure: '.*', write: '.*', read: '.*' });
  a.putUser({ name: 'clinic-a', passwordHash: rabbitPasswordHash('a'), tags: [] });
  a.putPermission('clinic-a', 'rts', { configure: '^$', write: '^up$', read: '^d\\.a$' });
  a.putTopicPermission('clinic-a', 'rts', { exchange: 'up', write: '^{username}$', read: '^$' });
  for (const [name, type, args] of [
    ['up', 'topic', {}],
    ['down', 'direct', { 'alternate-exchange': 'lost' }],
    ['lost', 'fanout', {}],
    ['dlx', 'topic', {}],
  ] as const) {
    a.putExchange({ vhost: 'rts', name, type, arguments: args });
  }
  const quorum = (args: Record<string, unknown> = {}) => ({ 'x-queue-type': 'quorum', ...args });
  a.declareQueue({
    vhost: 'rts',
    name: 'up',
    durable: true,
    autoDelete: false,
    arguments: quorum({ 'x-delivery-limit': 2, 'x-dead-letter-exchange': 'dlx', 'x-dead-letter-routing-key': 'up' }),
  });
  a.declareQueue({ vhost: 'rts', name: 'dead', durable: true, autoDelete: false, arguments: quorum() });
  a.declareQueue({ vhost: 'rts', name: 'lostq', durable: true, autoDelete: false, arguments: quorum() });
  a.declareQueue({
    vhost: 'rts',
    name: 'd.a',
    durable: true,
    autoDelete: false,
    arguments: quorum({ 'x-delivery-limit': 2 }),
  });
  a.declareQueue({
    vhost: 'rts',
    name: 'plain',
    durable: true,
    autoDelete: false,
    arguments: { 'x-delivery-limit': 2 },
  });
  for (const [source, destination, routingKey] of [
    ['up', 'up', '#'],
    ['down', 'd.a', 'a'],
    ['lost', 'lostq', ''],
    ['dlx', 'dead', '#'],
    ['down', 'plain', 'plain'],
  ]) {
    expect(
      a.bind({ vhost: 'rts', source: source!, destination: destination!, routingKey: routingKey!, arguments: {} }),
    ).toBe('ok');
  }
}

function queue(name: string): QueueState {
  const found = core.authz.consumeFrom('admin', 'rts', `/amq/queue/${name}`);
  if ('error' in found) throw new Error(found.error.description);
  return found.queue;
}

async function publish(exchange: string, routingKey: string, id: string): Promise<boolean> {
  const message = parseMessage(rhea.message.encode({ durable: true, message_id: id, body: id }));
  const stored = new Promise<boolean>((resolve) =>
    core.messages.publish('rts', exchange, routingKey, message, resolve),
  );
  return stored;
}

interface Taken {
  readonly id: string;
  readonly firstAcquirer: boolean;
  readonly record: MessageRecord;
}

function consumer(name: string, capacity: number): Consumer & { taken: Taken[]; capacity: number } {
  const taken: Taken[] = [];
  const c = {
    queue: queue(name),
    taken,
    capacity,
    canTake: () => taken.length < c.capacity,
    take(bytes: Buffer, record: MessageRecord) {
      const m = rhea.message.decode(bytes);
      taken.push({ id: String(m.message_id), firstAcquirer: m.first_acquirer === true, record });
    },
    idle: () => undefined,
  };
  core.messages.consume(c);
  return c;
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'rts-demo-core-'));
  open();
  topology();
});

afterEach(() => {
  close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the demo broker core', () => {
  it('verifies RabbitMQ sha256 password hashes', () => {
    expect(verifyRabbitPassword(rabbitPasswordHash('secret'), 'secret')).toBe(true);
    expect(verifyRabbitPassword(rabbitPasswordHash('secret'), 'Secret')).toBe(false);
    expect(verifyRabbitPassword(null, '')).toBe(false);
    expect(core.authz.authenticate('admin', 'secret')).toBe(true);
    expect(core.authz.authenticate('nobody', 'secret')).toBe(false);
  });

  it('routes topic and direct exchanges, falls back to the alternate exchange, and accepts (drops) the unroutable', async () => {
    expect(await publish('up', 'clinic-a', 'u1')).toBe(true);
    expect(await publish('down', 'a', 'd1')).toBe(true);
    expect(await publish('down', 'nobody', 'l1')).toBe(true);
    expect(await publish('dlx', 'x', 'x1')).toBe(true);
    expect(await publish('lost', 'anything', 'l2')).toBe(true);
    expect(await publish('amq.direct', 'nowhere', 'gone')).toBe(true);
    const count = (name: string) => core.admin.queues('rts').find((q) => q.name === name)!.messages;
    expect([count('up'), count('d.a'), count('lostq'), count('dead')]).toEqual([1, 1, 2, 1]);
  });

  it("delivers round-robin, one consumer per message, within each consumer's credit", async () => {
    const one = consumer('up', 10);
    const two = consumer('up', 1);
    for (const id of ['m1', 'm2', 'm3', 'm4']) await publish('up', 'k', id);
    await tick();
    expect(one.taken.map((t) => t.id)).toEqual(['m1', 'm3', 'm4']);
    expect(two.taken.map((t) => t.id)).toEqual(['m2']);
  });

  it('serves returned messages first, in the order they came back, with first-acquirer false', async () => {
    const c = consumer('up', 3);
    for (const id of ['m1', 'm2', 'm3', 'm4']) await publish('up', 'k', id);
    await tick();
    const [m1, m2] = c.taken;
    core.messages.requeue(m2!.record);
    core.messages.requeue(m1!.record);
    c.capacity = 6;
    await tick();
    expect(c.taken.map((t) => `${t.id}${t.firstAcquirer ? '' : '*'}`)).toEqual(['m1', 'm2', 'm3', 'm2*', 'm1*', 'm4']);
  });

  it("dead-letters a quorum queue's message once it came back more than x-delivery-limit times; a classic queue never", async () => {
    const up = consumer('up', 100);
    const plain = consumer('plain', 100);
    await publish('up', 'clinic-a', 'limited');
    await publish('down', 'plain', 'classic');
    for (let i = 0; i < 4; i++) {
      await tick();
      for (const c of [up, plain]) core.messages.requeue(c.taken[c.taken.length - 1]!.record);
    }
    await tick();
    expect(up.taken.map((t) => t.id)).toEqual(['limited', 'limited', 'limited']);
    expect(plain.taken).toHaveLength(5);
    const dead = consumer('dead', 10);
    await tick();
    expect(dead.taken.map((t) => [t.id, t.firstAcquirer])).toEqual([['limited', true]]);
    expect(dead.taken[0]!.record.routingKey).toBe('up');
  });

  it('dead-letters a rejected message, and drops it where the queue has no dead-letter exchange', async () => {
    const up = consumer('up', 10);
    const da = consumer('d.a', 10);
    await publish('up', 'k', 'r1');
    await publish('down', 'a', 'r2');
    await tick();
    core.messages.reject(up.taken[0]!.record);
    core.messages.reject(da.taken[0]!.record);
    await tick();
    expect(
      core.admin
        .queues('rts')
        .filter((q) => q.messages > 0)
        .map((q) => q.name),
    ).toEqual(['dead']);
  });

  it('keeps messages, their order and their redelivery state across a restart', async () => {
    for (const id of ['m1', 'm2', 'm3']) await publish('up', 'k', id);
    const c = consumer('up', 2);
    await tick();
    core.messages.requeue(c.taken[1]!.record);
    core.messages.cancel(c);
    await tick();
    close();
    open();
    const after = consumer('up', 10);
    await tick();
    // m2 came back (first); m1 was delivered and never settled (a crash): redelivered after it, as delivered before.
    expect(after.taken.map((t) => `${t.id}${t.firstAcquirer ? '' : '*'}`)).toEqual(['m2*', 'm1*', 'm3']);
  });

  it('purges ready messages only', async () => {
    const c = consumer('up', 1);
    for (const id of ['m1', 'm2', 'm3']) await publish('up', 'k', id);
    await tick();
    expect(core.admin.purge('rts', 'up')).toBe(2);
    expect(core.admin.queues('rts').find((q) => q.name === 'up')).toMatchObject({
      messages: 1,
      messages_ready: 0,
      messages_unacknowledged: 1,
    });
    core.messages.ack(c.taken[0]!.record);
    expect(core.admin.purge('rts', 'nope')).toBeUndefined();
  });

  it('declares queues idempotently and refuses a different declaration', () => {
    const row = {
      vhost: 'rts',
      name: 'up',
      durable: true,
      autoDelete: false,
      arguments: {
        'x-queue-type': 'quorum',
        'x-delivery-limit': 2,
        'x-dead-letter-exchange': 'dlx',
        'x-dead-letter-routing-key': 'up',
      },
    };
    expect(core.admin.declareQueue(row)).toEqual({ result: 'exists' });
    expect(core.admin.declareQueue({ ...row, arguments: { ...row.arguments, 'x-delivery-limit': 3 } })).toEqual({
      inequivalent:
        "inequivalent arg 'x-delivery-limit' for queue 'up' in vhost 'rts': received '3' but current is '2'",
    });
    expect(core.admin.declareQueue({ ...row, name: 'new' })).toEqual({ result: 'created' });
    expect(core.admin.declareQueue({ ...row, vhost: 'nope' })).toEqual({ error: 'vhost_not_found' });
  });

  it("checks a publish in RabbitMQ's order: exchange write, topic, user_id", () => {
    const message = (fields: Record<string, unknown>) => parseMessage(rhea.message.encode({ body: 'x', ...fields }));
    const check = (exchange: string, routingKey: string | undefined, fields: Record<string, unknown> = {}) => {
      const result = core.authz.checkPublish(
        'clinic-a',
        'rts',
        { kind: 'exchange', exchange, ...(routingKey !== undefined && { routingKey }) },
        message(fields),
      );
      return 'error' in result ? result.error.condition : result.routingKey;
    };
    expect(check('up', 'clinic-a')).toBe('clinic-a');
    expect(check('up', 'clinic-b')).toBe('amqp:unauthorized-access');
    expect(check('down', 'a')).toBe('amqp:unauthorized-access');
    expect(check('up', 'clinic-a', { user_id: Buffer.from('clinic-b') })).toBe('amqp:precondition-failed');
    expect(check('up', 'clinic-b', { user_id: Buffer.from('clinic-b') })).toBe('amqp:unauthorized-access');
    expect(check('up', undefined, { subject: 'clinic-a' })).toBe('clinic-a');
    expect(check('up', undefined)).toBe('amqp:internal-error');
    expect(core.authz.vhostAllowed('clinic-a', 'rts')).toBe(true);
    expect(core.authz.vhostAllowed('clinic-a', 'other')).toBe(false);
    const refused = core.authz.consumeFrom('clinic-a', 'rts', '/amq/queue/up');
    expect('error' in refused && refused.error.description).toBe(
      "ACCESS_REFUSED - access to queue 'up' in vhost 'rts' refused for user 'clinic-a'",
    );
  });
});
