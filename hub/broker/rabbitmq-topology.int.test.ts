import { randomUUID } from 'node:crypto';
import rhea, { type Connection, type EventContext, type Message } from 'rhea';
import { afterEach, describe, expect, it } from 'vitest';
import {
  downlinkQueueName,
  downlinkReceiveAddress,
  uplinkSendAddress,
  vhostHostname,
  RABBITMQ_TOPOLOGY,
} from '../../shared/broker/index.ts';
import { endpointCredentials, loadBrokerEnv } from '../../scripts/test-env/index.ts';

const env = loadBrokerEnv();
const port = env.nodes[0]!.amqpPort;
const open: Connection[] = [];

function connect(username: string | undefined, password: string | undefined): Connection {
  const connection = rhea.create_container().connect({
    host: '127.0.0.1',
    port,
    hostname: vhostHostname(env.vhost),
    reconnect: false,
    ...(username !== undefined && { username, password }),
  });
  connection.on('error', () => undefined);
  connection.on('session_error', () => undefined);
  open.push(connection);
  return connection;
}

/** Resolves with the first of these events on the connection, and the error condition it carried. */
function firstOf(connection: Connection, events: string[]): Promise<{ event: string; condition?: string }> {
  return new Promise((resolve) => {
    for (const event of events) {
      connection.once(event, (context: EventContext) => {
        const error = (context.session?.error ??
          context.receiver?.error ??
          context.sender?.error ??
          context.connection.error ??
          context.error) as { condition?: string } | undefined;
        resolve({ event, ...(error?.condition && { condition: error.condition }) });
      });
    }
  });
}

/** Sends one message; resolves with its settlement, or with the error that ended the session instead. */
function publish(connection: Connection, address: string, message: Message): Promise<string> {
  const sender = connection.open_sender({ target: { address } });
  return new Promise<string>((resolve) => {
    sender.once('sendable', () => sender.send(message));
    sender.once('accepted', () => resolve('accepted'));
    sender.once('rejected', () => resolve('rejected'));
    sender.session.once('session_error', (context: EventContext) =>
      resolve(`session_error ${String((context.session?.error as { condition?: string } | undefined)?.condition)}`),
    );
  });
}

/** The hub reads the uplink until it meets `last`; resolves with the ids it read, `last` included. */
function hubReadsUntil(last: string): Promise<string[]> {
  const hub = connect(env.users.hub.name, env.users.hub.password);
  const seen: string[] = [];
  return new Promise((resolve) => {
    const receiver = hub.open_receiver({
      source: { address: `/amq/queue/${RABBITMQ_TOPOLOGY.uplinkQueue}` },
      autoaccept: false,
    });
    receiver.on('message', (context: EventContext) => {
      const id = String(context.message?.message_id);
      context.delivery?.accept();
      seen.push(id);
      if (id === last) resolve(seen);
    });
  });
}

afterEach(() => {
  for (const c of open.splice(0)) c.close();
});

describe('RTS topology on the private broker', () => {
  it('lets a clinic publish to the uplink under its own routing key, and the hub reads it', async () => {
    const clinic = endpointCredentials(env, 'clinic-a');
    const connection = connect(clinic.name, clinic.password);
    const sender = connection.open_sender({ target: { address: uplinkSendAddress('clinic-a') } });
    const messageId = `probe-${Date.now()}`;
    const outcome = await new Promise<string>((resolve) => {
      sender.once('sendable', () => {
        sender.send({ message_id: messageId, durable: true, body: 'hello hub' });
      });
      sender.once('accepted', () => resolve('accepted'));
      sender.once('rejected', () => resolve('rejected'));
      connection.once('session_error', () => resolve('session_error'));
    });
    expect(outcome).toBe('accepted');

    const hub = connect(env.users.hub.name, env.users.hub.password);
    const received = await new Promise<unknown>((resolve) => {
      const receiver = hub.open_receiver({
        source: { address: `/amq/queue/${RABBITMQ_TOPOLOGY.uplinkQueue}` },
        autoaccept: false,
      });
      receiver.on('message', (context: EventContext) => {
        if (context.message?.message_id !== messageId) return;
        context.delivery?.accept();
        resolve(context.message.body);
      });
    });
    expect(received).toBe('hello hub');
  });

  it("refuses a clinic that attaches to another clinic's downlink queue", async () => {
    const clinic = endpointCredentials(env, 'clinic-a');
    const connection = connect(clinic.name, clinic.password);
    const refusal = firstOf(connection, ['session_error', 'receiver_error', 'receiver_open']);
    connection.open_receiver({ source: { address: downlinkReceiveAddress('clinic-b') } });
    expect(await refusal).toEqual({ event: 'session_error', condition: 'amqp:unauthorized-access' });
  });

  it('lets a clinic read its own downlink queue', async () => {
    const clinic = endpointCredentials(env, 'clinic-a');
    const connection = connect(clinic.name, clinic.password);
    const result = firstOf(connection, ['session_error', 'receiver_error', 'receiver_open']);
    connection.open_receiver({ source: { address: downlinkReceiveAddress('clinic-a') } });
    expect(await result).toEqual({ event: 'receiver_open' });
  });

  it("refuses a clinic that publishes under another clinic's routing key", async () => {
    const clinic = endpointCredentials(env, 'clinic-a');
    const connection = connect(clinic.name, clinic.password);
    const sender = connection.open_sender({ target: { address: uplinkSendAddress('clinic-b') } });
    const outcome = await new Promise<string>((resolve) => {
      sender.once('sendable', () => sender.send({ message_id: 'forged', durable: true, body: 'as clinic-b' }));
      sender.once('accepted', () => resolve('accepted'));
      sender.once('rejected', () => resolve('rejected'));
      connection.once('session_error', (context: EventContext) =>
        resolve(`session_error ${String((context.session?.error as { condition?: string } | undefined)?.condition)}`),
      );
    });
    expect(outcome).toBe('session_error amqp:unauthorized-access');
  });

  it("refuses a message whose user_id is another clinic's, and it never reaches the hub", async () => {
    const clinic = endpointCredentials(env, 'clinic-a');
    const forged = `forged-${randomUUID()}`;
    const outcome = await publish(connect(clinic.name, clinic.password), uplinkSendAddress('clinic-a'), {
      message_id: forged,
      user_id: Buffer.from('clinic-b'),
      durable: true,
      body: 'as clinic-b',
    } as unknown as Message);
    expect(outcome).toBe('session_error amqp:precondition-failed');
    // The uplink is one FIFO queue: had the forged message been queued, the hub would read it before this one.
    const marker = `own-${randomUUID()}`;
    expect(
      await publish(connect(clinic.name, clinic.password), uplinkSendAddress('clinic-a'), {
        message_id: marker,
        user_id: Buffer.from('clinic-a'),
        durable: true,
        body: 'own',
      } as unknown as Message),
    ).toBe('accepted');
    const read = await hubReadsUntil(marker);
    expect(read).not.toContain(forged);
  });

  // Only the hub reads these: a clinic could otherwise take every clinic's traffic, or their refused messages.
  it.each([
    ['the uplink queue', `/amq/queue/${RABBITMQ_TOPOLOGY.uplinkQueue}`],
    ['the dead-letter queue', `/amq/queue/${RABBITMQ_TOPOLOGY.deadLetterQueue}`],
    ['the unroutable queue', `/amq/queue/${RABBITMQ_TOPOLOGY.unroutableQueue}`],
    ["another clinic's downlink by its plain queue name", `/queue/${downlinkQueueName('clinic-b')}`],
    ['a queue of its own making', '/queue/clinic-a-private'],
  ])('refuses a clinic that attaches a receiver to %s', async (_what, address) => {
    const clinic = endpointCredentials(env, 'clinic-a');
    const connection = connect(clinic.name, clinic.password);
    const refusal = firstOf(connection, ['session_error', 'receiver_open']);
    connection.open_receiver({ source: { address } });
    expect(await refusal).toEqual({ event: 'session_error', condition: 'amqp:unauthorized-access' });
  });

  // Only the hub writes downlinks, after checking the sender; a clinic cannot go around it, nor forge dead letters.
  it.each([
    [
      "another clinic's downlink through the downlink exchange",
      `/exchange/${RABBITMQ_TOPOLOGY.downlinkExchange}/clinic-b`,
    ],
    ["another clinic's downlink queue through the default exchange", `/amq/queue/${downlinkQueueName('clinic-b')}`],
    ['the dead-letter exchange', `/exchange/${RABBITMQ_TOPOLOGY.deadLetterExchange}/${downlinkQueueName('clinic-b')}`],
    ['the uplink under a wildcard routing key', `/exchange/${RABBITMQ_TOPOLOGY.uplinkExchange}/clinic-a.#`],
  ])('refuses a clinic that publishes to %s, and clinic-b receives nothing', async (_what, address) => {
    const a = endpointCredentials(env, 'clinic-a');
    const id = `around-hub-${randomUUID()}`;
    expect(await publish(connect(a.name, a.password), address, { message_id: id, durable: true, body: 'for b' })).toBe(
      'session_error amqp:unauthorized-access',
    );
    const b = endpointCredentials(env, 'clinic-b');
    const seen: string[] = [];
    connect(b.name, b.password)
      .open_receiver({ source: { address: downlinkReceiveAddress('clinic-b') } })
      .on('message', (context: EventContext) => {
        seen.push(String(context.message?.message_id));
      });
    await new Promise((r) => setTimeout(r, 500));
    expect(seen).not.toContain(id);
  });

  it('refuses anonymous logins and the guest account', async () => {
    const anonymous = connect(undefined, undefined);
    expect((await firstOf(anonymous, ['connection_open', 'disconnected', 'connection_error'])).event).not.toBe(
      'connection_open',
    );
    const guest = connect('guest', 'guest');
    expect((await firstOf(guest, ['connection_open', 'disconnected', 'connection_error'])).event).not.toBe(
      'connection_open',
    );
    const wrongPassword = connect('clinic-a', 'not-the-password');
    expect((await firstOf(wrongPassword, ['connection_open', 'disconnected', 'connection_error'])).event).not.toBe(
      'connection_open',
    );
  });
});
