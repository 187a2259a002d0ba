import { randomUUID } from 'node:crypto';
import rhea, { type Connection, type EventContext, type Message } from 'rhea';
import { afterEach, describe, expect, it } from 'vitest';
import { artemisAdapter as adapter } from '../../transport/index.ts';
import { ARTEMIS_STATE_ENV, killArtemis, loadArtemisEnv, restartArtemis } from '../../scripts/test-env/index.ts';
import { createArtemisProvisioner, ProvisioningError } from '../index.ts';

/**
 * What the RTS topology on ActiveMQ Artemis guarantees and how the broker settles, measured against the private
 * Artemis of npm run test:artemis (docs/brokers.md carries the table). The last test kills the broker.
 */
const env = loadArtemisEnv();
const open: Connection[] = [];
const endpoint = (name: string) => env.users.endpoints.find((user) => user.name === name)!;

function connect(user: { name: string; password: string } | undefined): Connection {
  const connection = rhea.create_container({ id: `test-${randomUUID()}` }).connect({
    host: '127.0.0.1',
    port: env.nodes[0]!.amqpPort,
    reconnect: false,
    ...(user && { username: user.name, password: user.password }),
  });
  connection.on('error', () => undefined);
  connection.on('connection_error', () => undefined);
  connection.on('disconnected', () => undefined);
  open.push(connection);
  return connection;
}

afterEach(() => {
  for (const connection of open.splice(0)) connection.close();
});

/** Sends one message; resolves with its outcome, or with the condition that refused the link. */
function send(connection: Connection, address: string, message: Message): Promise<string> {
  const sender = connection.open_sender({ target: { address } });
  return new Promise((resolve) => {
    sender.once('sendable', () => sender.send(message));
    sender.once('accepted', () => resolve('accepted'));
    sender.once('rejected', () => resolve('rejected'));
    sender.once('sender_error', () =>
      resolve(`refused ${String(sender.error && (sender.error as { condition?: string }).condition)}`),
    );
  });
}

/**
 * Attaches a receiver; resolves 'attached' or the condition that refused it. A refusing Artemis answers the attach
 * (source and all) and then detaches with the reason, so the answer is only known once a later frame has come: a
 * second attach on the same session, answered in order after the first link's detach.
 */
function attach(connection: Connection, address: string): Promise<string> {
  const receiver = connection.open_receiver({ source: { address }, autoaccept: false });
  return new Promise((resolve) => {
    receiver.once('receiver_error', () =>
      resolve(`refused ${String(receiver.error && (receiver.error as { condition?: string }).condition)}`),
    );
    receiver.once('receiver_open', () => {
      const later = receiver.session.open_receiver({ source: { address }, credit_window: 0 });
      const settled = () => resolve('attached');
      later.once('receiver_open', settled);
      later.once('receiver_error', settled);
    });
  });
}

/** Reads from `address` until `done` says stop, settling each delivery with `settle`; resolves with what came. */
function readUntil(
  connection: Connection,
  address: string,
  settle: (context: EventContext, count: number) => void,
  done: (messages: Message[]) => boolean,
): Promise<Message[]> {
  const messages: Message[] = [];
  const receiver = connection.open_receiver({ source: { address }, autoaccept: false });
  return new Promise((resolve) => {
    receiver.on('message', (context: EventContext) => {
      messages.push(context.message!);
      settle(context, messages.length);
      if (done(messages)) {
        receiver.close();
        resolve(messages);
      }
    });
  });
}

const withId = (id: string) => (messages: Message[]) => messages.some((m) => m.message_id === id);

describe('the RTS topology on Artemis: who may send and read what', () => {
  it('lets an endpoint send only to its own uplink address, and vouches for it whatever the message claims', async () => {
    const clinicA = connect(endpoint('clinic-a'));
    const id = `forged-${randomUUID()}`;
    const forged: Message = {
      message_id: id,
      user_id: 'clinic-b',
      to: adapter.uplinkTarget('clinic-b'),
      message_annotations: { 'x-opt-ORIG-ADDRESS': adapter.uplinkTarget('clinic-b') },
      body: 'claims to be clinic-b',
    };
    expect(await send(clinicA, adapter.uplinkTarget('clinic-a'), forged)).toBe('accepted');
    expect(await send(clinicA, adapter.uplinkTarget('clinic-b'), { body: 'x' })).toBe(
      'refused amqp:unauthorized-access',
    );
    expect(await send(connect(endpoint('clinic-a')), adapter.uplinkSource(), { body: 'x' })).toBe(
      'refused amqp:unauthorized-access',
    );

    const hub = connect(env.users.hub);
    const read = await readUntil(hub, adapter.uplinkSource(), (c) => c.delivery!.accept(), withId(id));
    const message = read.find((m) => m.message_id === id)!;
    expect(Buffer.from(message.user_id as unknown as Buffer).toString()).toBe('clinic-b'); // Artemis does not check user-id
    expect(adapter.verifiedSender(message)).toBe('clinic-a');
  });

  it('lets an endpoint read only its own downlink, and only the hub write to it', async () => {
    expect(await attach(connect(endpoint('clinic-a')), adapter.downlinkSource('clinic-b'))).toBe(
      'refused amqp:unauthorized-access',
    );
    expect(await attach(connect(endpoint('clinic-a')), adapter.downlinkSource('clinic-a'))).toBe('attached');
    expect(await send(connect(endpoint('clinic-a')), adapter.downlinkTarget('clinic-a'), { body: 'x' })).toBe(
      'refused amqp:unauthorized-access',
    );
    expect(await attach(connect(endpoint('clinic-a')), adapter.deadLetterSource())).toBe(
      'refused amqp:unauthorized-access',
    );
    expect(
      await send(connect(env.users.hub), adapter.downlinkTarget('clinic-a'), { body: 'x', message_id: randomUUID() }),
    ).toBe('accepted');
    // Addresses are never created on demand: a downlink nobody provisioned does not exist.
    expect(await send(connect(env.users.hub), adapter.downlinkTarget('nobody'), { body: 'x' })).toBe(
      'refused amqp:not-found',
    );
  });

  it('refuses a connection without a user or with a wrong password', async () => {
    const refused = (connection: Connection) =>
      new Promise<string>((resolve) => {
        connection.once('connection_open', () => resolve('open'));
        connection.once('connection_error', () => resolve('refused'));
        connection.once('disconnected', () => resolve('refused'));
      });
    expect(await refused(connect(undefined))).toBe('refused');
    expect(await refused(connect({ name: 'clinic-a', password: 'wrong' }))).toBe('refused');
  });
});

describe('how Artemis settles (measured; the adapter retries with the outcome that counts)', () => {
  /** Sends one message to clinic-b's downlink and settles its deliveries with `settle` until `stop` deliveries. */
  async function deliveries(settle: (context: EventContext) => void, stop: number) {
    const id = `settle-${randomUUID()}`;
    expect(
      await send(connect(env.users.hub), adapter.downlinkTarget('clinic-b'), {
        message_id: id,
        body: 'x',
        durable: true,
      }),
    ).toBe('accepted');
    const counts: number[] = [];
    await readUntil(
      connect(endpoint('clinic-b')),
      adapter.downlinkSource('clinic-b'),
      (context, n) => {
        counts.push(context.message!.delivery_count ?? 0);
        if (n < stop) settle(context);
        else context.delivery!.accept();
      },
      (messages) => messages.length >= stop,
    );
    return { id, counts };
  }

  async function deadLetters(id: string): Promise<Message[]> {
    return readUntil(connect(env.users.hub), adapter.deadLetterSource(), (c) => c.delivery!.accept(), withId(id));
  }

  it('delivers a released message again without counting it, for ever (so the adapter does not release)', async () => {
    const { counts } = await deliveries((c) => c.delivery!.release(), env.deliveryLimit + 2);
    expect(counts).toEqual(new Array(env.deliveryLimit + 2).fill(0));
  });

  it('counts a retry (modified, delivery-failed) and dead-letters at the delivery limit, naming the queue', async () => {
    const id = `retry-${randomUUID()}`;
    expect(
      await send(connect(env.users.hub), adapter.downlinkTarget('ws-applicant-1'), {
        message_id: id,
        body: 'x',
        durable: true,
      }),
    ).toBe('accepted');
    const counts: number[] = [];
    const reader = connect(endpoint('ws-applicant-1'));
    const receiver = reader.open_receiver({
      source: { address: adapter.downlinkSource('ws-applicant-1') },
      autoaccept: false,
    });
    receiver.on('message', (context: EventContext) => {
      counts.push(context.message!.delivery_count ?? 0);
      adapter.retry(context.delivery!);
    });
    const [dead] = (await deadLetters(id)).filter((m) => m.message_id === id);
    expect(counts).toEqual([0, 1, 2, 3, 4].slice(0, env.deliveryLimit));
    expect(dead!.message_annotations).toMatchObject({ 'x-opt-ORIG-QUEUE': adapter.downlinkSource('ws-applicant-1') });
  });

  it('dead-letters a rejected message at once', async () => {
    const id = `reject-${randomUUID()}`;
    expect(await send(connect(env.users.hub), adapter.downlinkTarget('clinic-b'), { message_id: id, body: 'x' })).toBe(
      'accepted',
    );
    const read = await readUntil(
      connect(endpoint('clinic-b')),
      adapter.downlinkSource('clinic-b'),
      (context) => context.delivery!.reject({ condition: 'rts:test', description: 'bad' }),
      withId(id),
    );
    expect(read.filter((m) => m.message_id === id)).toHaveLength(1);
    expect((await deadLetters(id)).map((m) => m.message_id)).toContain(id);
  });
});

describe("the hub's provisioning through the management address", () => {
  const hosts = env.nodes.map((node) => ({ host: '127.0.0.1', port: node.amqpPort }));
  const provisioner = (password = env.users.admin.password, timeoutMs?: number) =>
    createArtemisProvisioner({
      hosts,
      vhost: 'rts',
      username: env.users.admin.name,
      password,
      ...(timeoutMs && { timeoutMs }),
    });

  it('gives a late endpoint its downlink and the right to read it, twice without harm', async () => {
    // clinic-d may send from the start (its registration), but the broker has no downlink for it yet.
    const id = `registration-${randomUUID()}`;
    expect(
      await send(connect(endpoint('clinic-d')), adapter.uplinkTarget('clinic-d'), { message_id: id, body: id }),
    ).toBe('accepted');
    const read = await readUntil(
      connect(env.users.hub),
      adapter.uplinkSource(),
      (c) => c.delivery!.accept(),
      withId(id),
    );
    expect(adapter.verifiedSender(read.find((m) => m.message_id === id)!)).toBe('clinic-d');
    expect(await send(connect(env.users.hub), adapter.downlinkTarget('clinic-d'), { body: 'x' })).toBe(
      'refused amqp:not-found',
    );

    await provisioner().provision('clinic-d');
    await provisioner().provision('clinic-d');

    const down = `down-${randomUUID()}`;
    expect(
      await send(connect(env.users.hub), adapter.downlinkTarget('clinic-d'), { message_id: down, body: down }),
    ).toBe('accepted');
    const mine = await readUntil(
      connect(endpoint('clinic-d')),
      adapter.downlinkSource('clinic-d'),
      (c) => c.delivery!.accept(),
      withId(down),
    );
    expect(mine.map((m) => m.message_id)).toContain(down);
    expect(await attach(connect(endpoint('clinic-a')), adapter.downlinkSource('clinic-d'))).toBe(
      'refused amqp:unauthorized-access',
    );
    expect(await attach(connect(endpoint('clinic-d')), adapter.downlinkSource('clinic-a'))).toBe(
      'refused amqp:unauthorized-access',
    );
    expect(await send(connect(endpoint('clinic-d')), adapter.downlinkTarget('clinic-d'), { body: 'x' })).toBe(
      'refused amqp:unauthorized-access',
    );
  });

  it('fails with a retryable error when the management user is refused', async () => {
    const failed = await provisioner('wrong', 2_000)
      .provision('clinic-d')
      .catch((error: unknown) => error);
    expect(failed).toBeInstanceOf(ProvisioningError);
    expect(failed).toMatchObject({ permanent: false, unreachable: true });
    expect((failed as Error).message).toMatch(/unauthorized|SASL|auth/i);
  });
});

describe('a broker killed with kill -9', () => {
  it('still holds every durable message it accepted, and what the hub provisioned, once it is back', async () => {
    const ids = Array.from({ length: 20 }, () => `durable-${randomUUID()}`);
    const hub = connect(env.users.hub);
    for (const id of ids) {
      expect(await send(hub, adapter.downlinkTarget('ws-expert-1'), { message_id: id, body: id, durable: true })).toBe(
        'accepted',
      );
    }
    hub.close();
    const stateFile = process.env[ARTEMIS_STATE_ENV]!;
    await killArtemis(stateFile);
    await restartArtemis(stateFile);
    const read = await readUntil(
      connect(endpoint('ws-expert-1')),
      adapter.downlinkSource('ws-expert-1'),
      (c) => c.delivery!.accept(),
      (messages) => ids.every((id) => messages.some((m) => m.message_id === id)),
    );
    expect(read.map((m) => m.message_id)).toEqual(ids);

    // The downlink and its security settings made at run time are in the journal too.
    const id = `after-restart-${randomUUID()}`;
    expect(await send(connect(env.users.hub), adapter.downlinkTarget('clinic-d'), { message_id: id, body: id })).toBe(
      'accepted',
    );
    const mine = await readUntil(
      connect(endpoint('clinic-d')),
      adapter.downlinkSource('clinic-d'),
      (c) => c.delivery!.accept(),
      withId(id),
    );
    expect(mine.map((m) => m.message_id)).toContain(id);
    expect(await attach(connect(endpoint('clinic-a')), adapter.downlinkSource('clinic-d'))).toBe(
      'refused amqp:unauthorized-access',
    );
  });
});
