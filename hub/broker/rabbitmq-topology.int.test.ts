import rhea, { type Connection, type EventContext } from 'rhea';
import { afterEach, describe, expect, it } from 'vitest';
import { downlinkReceiveAddress, uplinkSendAddress, vhostHostname, RABBITMQ_TOPOLOGY } from '../../shared/broker/rabbitmq-names.ts';
import { endpointCredentials, loadBrokerEnv } from '../../scripts/test-env/broker-env.ts';

const env = loadBrokerEnv();
const port = env.nodes[0]!.amqpPort;
const open: Connection[] = [];

function connect(username: string | undefined, password: string | undefined): Connection {
  const connection = rhea.create_container().connect({
    host: '127.0.0.1', port, hostname: vhostHostname(env.vhost), reconnect: false,
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
        const error = (context.session?.error ?? context.receiver?.error ?? context.sender?.error ?? context.connection.error ?? context.error) as
          | { condition?: string }
          | undefined;
        resolve({ event, ...(error?.condition && { condition: error.condition }) });
      });
    }
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
      const receiver = hub.open_receiver({ source: { address: `/amq/queue/${RABBITMQ_TOPOLOGY.uplinkQueue}` }, autoaccept: false });
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

  it('refuses a clinic that publishes under another clinic\'s routing key', async () => {
    const clinic = endpointCredentials(env, 'clinic-a');
    const connection = connect(clinic.name, clinic.password);
    const sender = connection.open_sender({ target: { address: uplinkSendAddress('clinic-b') } });
    const outcome = await new Promise<string>((resolve) => {
      sender.once('sendable', () => sender.send({ message_id: 'forged', durable: true, body: 'as clinic-b' }));
      sender.once('accepted', () => resolve('accepted'));
      sender.once('rejected', () => resolve('rejected'));
      connection.once('session_error', (context: EventContext) => resolve(`session_error ${String((context.session?.error as { condition?: string } | undefined)?.condition)}`));
    });
    expect(outcome).toBe('session_error amqp:unauthorized-access');
  });

  it('refuses anonymous logins and the guest account', async () => {
    const anonymous = connect(undefined, undefined);
    expect((await firstOf(anonymous, ['connection_open', 'disconnected', 'connection_error'])).event).not.toBe('connection_open');
    const guest = connect('guest', 'guest');
    expect((await firstOf(guest, ['connection_open', 'disconnected', 'connection_error'])).event).not.toBe('connection_open');
  });
});
