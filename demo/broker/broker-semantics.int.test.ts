import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import rhea, { type Connection, type Delivery, type EventContext, type Message, type Receiver } from 'rhea';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadBrokerEnv, killNode, restartNode, type BrokerEnvState } from '../../scripts/test-env/index.ts';
import { createRabbitmqProvisioner, loadHubConfig, startHub, type HubService } from '../../hub/index.ts';
import {
  connectTestEndpoint,
  purgeTestQueues,
  rabbitmqAsBrokerUnderTest,
  writeTestHubConfig,
  createTestRegion,
  type ReceivedMessage,
  type TestEndpoint,
  type TestRegion,
} from '../../testkit/index.ts';
import { downlinkReceiveAddress, uplinkSendAddress, vhostHostname } from '../../shared/broker/index.ts';
import { buildEndpointRegister } from '../../shared/protocol/fhir/index.ts';
import { PROTOCOL_VERSION } from '../../shared/protocol/index.ts';
import { startDemoBroker, type DemoBroker } from './demo-broker.ts';
import { amqpTypes, receiveRawMessages } from './rhea-internals.ts';

/**
 * One set of scenarios against the private RabbitMQ 3.10 of the test environment and against the demo broker, so
 * that the demo never hides a behaviour RabbitMQ would show, and vice versa. The expectations are RabbitMQ's,
 * measured; where RabbitMQ surprises (modified ends the session, a detached link keeps its unsettled deliveries,
 * delivery-count stays unset) the scenario says so.
 */

const rabbit = loadBrokerEnv();
const ENDPOINTS = ['clinic-a', 'clinic-b', 'ws-expert-1', 'ws-applicant-1'];
const DELIVERY_LIMIT = 5;

interface User {
  readonly name: string;
  readonly password: string;
}

interface BrokerUnderTest {
  readonly name: string;
  /** The broker's coordinates in the shape the test helpers (purgeTestQueues, writeTestHubConfig) take. */
  env(): BrokerEnvState;
  start(): Promise<void>;
  restart(): Promise<void>;
  stop(): Promise<void>;
}

function envOf(base: {
  dir: string;
  amqpPort: number;
  managementPort: number;
  users: BrokerEnvState['users'];
}): BrokerEnvState {
  return {
    dir: base.dir,
    homeDir: base.dir,
    definitionsFile: '',
    vhost: 'rts',
    tlsCaFile: '',
    epmd: { port: 0, pid: 0 },
    nodes: [
      {
        name: 'demo',
        dir: base.dir,
        amqpPort: base.amqpPort,
        tlsPort: 0,
        managementPort: base.managementPort,
        distPort: 0,
      },
    ],
    users: base.users,
  };
}

function rabbitmqUnderTest(): BrokerUnderTest {
  const stateFile = process.env.RTS_TEST_BROKER_STATE!;
  return {
    name: 'RabbitMQ 3.10',
    env: () => rabbit,
    start: async () => undefined,
    async restart() {
      await killNode(stateFile);
      await restartNode(stateFile);
    },
    stop: async () => undefined,
  };
}

function demoUnderTest(): BrokerUnderTest {
  const password = () => randomBytes(12).toString('base64url');
  const users = {
    admin: { name: 'rts-admin', password: password() },
    hub: { name: 'rts-hub', password: password() },
    endpoints: ENDPOINTS.map((name) => ({ name, password: password() })),
  };
  let dir = '';
  let broker: DemoBroker | undefined;
  let state: BrokerEnvState | undefined;
  const launch = async (port?: number) => {
    broker = await startDemoBroker({
      dataDir: join(dir, 'data'),
      ...(port && { port }),
      adminUser: users.admin.name,
      adminPassword: users.admin.password,
      hub: users.hub,
      deliveryLimit: DELIVERY_LIMIT,
    });
    state = envOf({
      dir,
      amqpPort: broker.amqpPort,
      managementPort: Number(new URL(broker.managementUrl).port),
      users,
    });
  };
  return {
    name: 'demo broker',
    env: () => state!,
    async start() {
      dir = mkdtempSync(join(tmpdir(), 'rts-demo-broker-'));
      await launch();
      // Endpoints join as in a region: a broker user with the pre-registration grants; their downlinks come from the
      // hub's provisioner (below, for both brokers).
      for (const e of users.endpoints) await broker!.addUser(e.name, e.password);
    },
    async restart() {
      const port = broker!.amqpPort;
      await broker!.stop();
      await launch(port);
    },
    async stop() {
      await broker?.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// ---- a bare AMQP client --------------------------------------------------------------------------------------------

const open: Connection[] = [];

function connectAs(env: BrokerEnvState, user: User | undefined, options: { raw?: boolean } = {}): Promise<Connection> {
  const connection = rhea.create_container().connect({
    host: '127.0.0.1',
    port: env.nodes[0]!.amqpPort,
    hostname: vhostHostname(env.vhost),
    reconnect: false,
    ...(user && { username: user.name, password: user.password }),
  });
  connection.on('error', () => undefined);
  connection.on('session_error', () => undefined);
  connection.on('connection_error', () => undefined);
  connection.on('protocol_error', () => undefined);
  open.push(connection);
  if (options.raw) receiveRawMessages(connection);
  return new Promise((resolve, reject) => {
    // A SASL refusal is reported as a connection error (with its condition), then a disconnect.
    let refusal: string | undefined;
    connection.once('connection_error', (context: EventContext) => {
      refusal = (context.error as { condition?: string } | undefined)?.condition;
    });
    connection.once('connection_open', () => resolve(connection));
    connection.once('disconnected', (context: EventContext) => {
      reject(
        new Error(
          `refused: ${refusal ?? (context.error as { message?: string } | undefined)?.message ?? 'disconnected'}`,
        ),
      );
    });
  });
}

/** What became of one transfer: its outcome, or how the broker ended the session or connection. */
function publish(connection: Connection, address: string, message: Message | Buffer): Promise<string> {
  return new Promise((resolve) => {
    const sender = connection.open_sender({ target: { address } });
    const timer = setTimeout(() => resolve('no answer'), 10_000);
    const done = (outcome: string) => {
      clearTimeout(timer);
      resolve(outcome);
    };
    sender.once('sendable', () => {
      if (Buffer.isBuffer(message)) sender.send(message, undefined, 0);
      else sender.send(message);
    });
    for (const outcome of ['accepted', 'rejected', 'released']) sender.once(outcome, () => done(outcome));
    sender.session.once('session_error', (context: EventContext) =>
      done(`session ended: ${(context.session?.error as { condition?: string } | undefined)?.condition}`),
    );
    connection.once('disconnected', () => done('disconnected'));
  });
}

interface Received {
  readonly id: string;
  readonly firstAcquirer: boolean;
  readonly deliveryCount: unknown;
  readonly raw: Buffer;
  readonly delivery: Delivery;
}

/** Splits raw message bytes into sections: [descriptor code, bytes]. */
function sections(raw: Buffer): [number, Buffer][] {
  const reader = new amqpTypes.Reader(raw);
  const out: [number, Buffer][] = [];
  while (reader.position < raw.length) {
    const start = reader.position;
    const section = reader.read();
    out.push([Number(section.descriptor!.value), raw.subarray(start, reader.position)]);
  }
  return out;
}

function decoded(raw: Buffer): Message {
  return rhea.message.decode(raw) as unknown as Message;
}

/**
 * A consumer of one queue (raw connection). Messages of other tests (suites share RabbitMQ) are accepted and
 * ignored; ours are collected, unsettled.
 */
function consume(connection: Connection, queue: string, credit: number, ours: (id: string) => boolean) {
  const got: Received[] = [];
  const receiver: Receiver = connection.open_receiver({
    source: { address: `/amq/queue/${queue}` },
    autoaccept: false,
    credit_window: 0,
  });
  receiver.on('message', (context: EventContext) => {
    const raw = context.message as unknown as Buffer;
    const message = decoded(raw);
    const id = String(message.message_id);
    if (!ours(id)) {
      context.delivery!.accept();
      receiver.add_credit(1);
      return;
    }
    got.push({
      id,
      firstAcquirer: message.first_acquirer === true,
      deliveryCount: message.delivery_count,
      raw,
      delivery: context.delivery!,
    });
  });
  const attached = new Promise<void>((resolve) => receiver.once('receiver_open', () => resolve()));
  void attached.then(() => receiver.add_credit(credit));
  return {
    receiver,
    got,
    attached,
    async next(count = 1, timeoutMs = 10_000): Promise<Received[]> {
      const deadline = Date.now() + timeoutMs;
      while (got.length < count && Date.now() < deadline) await sleep(20);
      if (got.length < count) throw new Error(`${queue}: ${got.length} of ${count} messages within ${timeoutMs} ms`);
      return got.slice(0, count);
    },
  };
}

/** Resolves with the first of these events, and the error condition it carried. */
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

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function richMessage(id: string, user: string): Buffer {
  const typed = (value: unknown) => ({ toRheaTyped: () => value });
  const body = rhea.message.encode({
    durable: true,
    message_annotations: { 'x-opt-rts-trace': 'a1' },
    message_id: id,
    user_id: Buffer.from(user),
    creation_time: new Date(1_700_000_000_000),
    content_type: 'application/pkcs7-mime',
    correlation_id: 'corr-1',
    subject: 'consult.request',
    group_id: 'g',
    group_sequence: 2,
    application_properties: {
      rtsType: 'consult.request',
      rtsVersion: '1.0',
      rtsSender: user,
      rtsBatchIndex: 1,
      rtsUrgent: true,
      small: typed(amqpTypes.wrap_ubyte(3)),
    },
    body: rhea.message.data_section(Buffer.from([0, 1, 2, 0xfe, 0xff])),
  });
  // rhea would encode a footer before the body; RabbitMQ keeps one where it belongs, after it.
  const types = rhea.types as any;
  const writer = new types.Writer();
  writer.write(types.described_nc(types.wrap_ulong(0x78), types.wrap_map({ 'x-opt-digest': 'abc' })));
  return Buffer.concat([body, writer.toBuffer() as Buffer]);
}

// ---- the scenarios -------------------------------------------------------------------------------------------------

describe.each([
  ['RabbitMQ 3.10', rabbitmqUnderTest()],
  ['the demo broker', demoUnderTest()],
] as const)('broker semantics on %s', (_name, broker) => {
  let env: BrokerEnvState;
  const endpoint = (id: string) => env.users.endpoints.find((u) => u.name === id)!;
  const hub = () => env.users.hub;
  let run = '';
  const ours = (id: string) => id.startsWith(run);

  beforeAll(async () => {
    await broker.start();
    env = broker.env();
    const provisioner = createRabbitmqProvisioner({
      url: `http://127.0.0.1:${env.nodes[0]!.managementPort}`,
      username: env.users.admin.name,
      password: env.users.admin.password,
      deliveryLimit: DELIVERY_LIMIT,
    });
    // As the hub does when an endpoint registers; twice, since a repeated registration provisions again.
    for (const id of ENDPOINTS) await provisioner.provision(id);
    for (const id of ENDPOINTS) await provisioner.provision(id);
    await purgeTestQueues(env);
  }, 120_000);

  afterEach(async () => {
    for (const c of open.splice(0)) c.close();
    await sleep(100);
    run = '';
  });

  afterAll(async () => {
    await broker.stop();
  });

  const newRun = (label: string) => {
    run = `${label}-${randomUUID().slice(0, 8)}-`;
    return run;
  };

  it('delivers a durable uplink message to the hub with its sections intact, and accepted removes it', async () => {
    const id = `${newRun('intact')}1`;
    const clinic = await connectAs(env, endpoint('clinic-a'));
    const sent = richMessage(id, 'clinic-a');
    expect(await publish(clinic, uplinkSendAddress('clinic-a'), sent)).toBe('accepted');

    const hubConnection = await connectAs(env, hub(), { raw: true });
    const consumer = consume(hubConnection, 'rts.uplink', 10, ours);
    const [received] = await consumer.next();
    const header = decoded(sections(received!.raw)[0]![1]);
    expect(header).toMatchObject({ durable: true, first_acquirer: true });
    // RabbitMQ 3.10 leaves delivery-count unset.
    expect(header.delivery_count ?? 0).toBe(0);
    // Message annotations, properties, application properties, body: byte for byte.
    const tail = (raw: Buffer) =>
      Buffer.concat(
        sections(raw)
          .filter(([code]) => code !== 0x70 && code !== 0x71)
          .map(([, bytes]) => bytes),
      );
    expect(tail(received!.raw).equals(tail(sent))).toBe(true);
    const m = decoded(received!.raw);
    expect(m.message_annotations).toEqual({ 'x-opt-rts-trace': 'a1' });
    expect(Buffer.from(m.user_id as unknown as Uint8Array).toString()).toBe('clinic-a');
    expect(m.application_properties).toEqual({
      rtsType: 'consult.request',
      rtsVersion: '1.0',
      rtsSender: 'clinic-a',
      rtsBatchIndex: 1,
      rtsUrgent: true,
      small: 3,
    });
    received!.delivery.accept();
    await sleep(300);
    hubConnection.close();

    const again = consume(await connectAs(env, hub(), { raw: true }), 'rts.uplink', 10, ours);
    await sleep(1_000);
    expect(again.got).toEqual([]);
  });

  it('redelivers a released message before the others, with first-acquirer false', async () => {
    const prefix = newRun('release');
    const clinic = await connectAs(env, endpoint('clinic-a'));
    for (const n of [1, 2])
      expect(
        await publish(clinic, uplinkSendAddress('clinic-a'), { message_id: `${prefix}${n}`, durable: true, body: 'x' }),
      ).toBe('accepted');
    const consumer = consume(await connectAs(env, hub(), { raw: true }), 'rts.uplink', 1, ours);
    const [first] = await consumer.next(1);
    expect(first).toMatchObject({ id: `${prefix}1`, firstAcquirer: true });
    first!.delivery.release();
    consumer.receiver.add_credit(1);
    const [, again] = await consumer.next(2);
    expect(again).toMatchObject({ id: `${prefix}1`, firstAcquirer: false });
    again!.delivery.accept();
    consumer.receiver.add_credit(1);
    const [, , second] = await consumer.next(3);
    expect(second).toMatchObject({ id: `${prefix}2`, firstAcquirer: true });
    second!.delivery.accept();
  });

  it('dead-letters a rejected message to rts.deadletter instead of redelivering it', async () => {
    const id = `${newRun('reject')}1`;
    const clinic = await connectAs(env, endpoint('clinic-a'));
    expect(await publish(clinic, uplinkSendAddress('clinic-a'), { message_id: id, durable: true, body: 'bad' })).toBe(
      'accepted',
    );
    const hubConnection = await connectAs(env, hub(), { raw: true });
    const uplink = consume(hubConnection, 'rts.uplink', 10, ours);
    const [received] = await uplink.next();
    received!.delivery.reject({ condition: 'rts:rejected', description: 'test' });
    const dead = consume(hubConnection, 'rts.deadletter', 10, ours);
    const [letter] = await dead.next();
    expect(letter).toMatchObject({ id, firstAcquirer: true });
    expect(decoded(letter!.raw).body).toBe('bad');
    letter!.delivery.accept();
    await sleep(1_000);
    expect(uplink.got).toHaveLength(1);
  });

  it("ends the consumer's session on a modified outcome (amqp:invalid-field); the message comes back", async () => {
    const id = `${newRun('modified')}1`;
    const clinic = await connectAs(env, endpoint('clinic-a'));
    expect(await publish(clinic, uplinkSendAddress('clinic-a'), { message_id: id, durable: true, body: 'x' })).toBe(
      'accepted',
    );
    const hubConnection = await connectAs(env, hub(), { raw: true });
    const ended = firstOf(hubConnection, ['session_error']);
    const consumer = consume(hubConnection, 'rts.uplink', 10, ours);
    const [received] = await consumer.next();
    received!.delivery.modified({ delivery_failed: true });
    expect(await ended).toEqual({ event: 'session_error', condition: 'amqp:invalid-field' });
    const again = consume(await connectAs(env, hub(), { raw: true }), 'rts.uplink', 10, ours);
    expect((await again.next())[0]).toMatchObject({ id, firstAcquirer: false });
    again.got[0]!.delivery.accept();
  });

  it("redelivers what was unsettled when the consumer's connection was lost", async () => {
    const id = `${newRun('lost')}1`;
    const clinic = await connectAs(env, endpoint('clinic-a'));
    expect(await publish(clinic, uplinkSendAddress('clinic-a'), { message_id: id, durable: true, body: 'x' })).toBe(
      'accepted',
    );
    const first = await connectAs(env, hub(), { raw: true });
    expect((await consume(first, 'rts.uplink', 10, ours).next())[0]).toMatchObject({ id, firstAcquirer: true });
    (first as unknown as { socket: { destroy(): void } }).socket.destroy();
    const again = consume(await connectAs(env, hub(), { raw: true }), 'rts.uplink', 10, ours);
    expect((await again.next())[0]).toMatchObject({ id, firstAcquirer: false });
    again.got[0]!.delivery.accept();
  });

  it("keeps a detached link's unsettled deliveries with its session: still settleable, back in the queue when it ends", async () => {
    const prefix = newRun('detach');
    const clinic = await connectAs(env, endpoint('clinic-a'));
    for (const n of [1, 2])
      expect(
        await publish(clinic, uplinkSendAddress('clinic-a'), { message_id: `${prefix}${n}`, durable: true, body: 'x' }),
      ).toBe('accepted');
    const holder = await connectAs(env, hub(), { raw: true });
    const held = consume(holder, 'rts.uplink', 2, ours);
    const [one, two] = await held.next(2);
    held.receiver.close();
    await sleep(300);
    const other = consume(await connectAs(env, hub(), { raw: true }), 'rts.uplink', 10, ours);
    await sleep(1_500);
    expect(other.got).toEqual([]);
    one!.delivery.accept();
    await sleep(300);
    holder.close();
    const [back] = await other.next(1);
    expect(back).toMatchObject({ id: two!.id, firstAcquirer: false });
    await sleep(1_000);
    expect(other.got.map((r) => r.id)).toEqual([two!.id]);
    back!.delivery.accept();
  });

  it(`dead-letters a message to rts.deadletter after 1 + x-delivery-limit (${DELIVERY_LIMIT}) deliveries`, async () => {
    const id = `${newRun('limit')}1`;
    const clinic = await connectAs(env, endpoint('clinic-a'));
    expect(
      await publish(clinic, uplinkSendAddress('clinic-a'), { message_id: id, durable: true, body: 'again and again' }),
    ).toBe('accepted');
    const hubConnection = await connectAs(env, hub(), { raw: true });
    const consumer = consume(hubConnection, 'rts.uplink', 0, ours);
    await consumer.attached;
    let deliveries = 0;
    for (;;) {
      consumer.receiver.add_credit(1);
      const deadline = Date.now() + 2_000;
      while (consumer.got.length === deliveries && Date.now() < deadline) await sleep(20);
      if (consumer.got.length === deliveries) break;
      consumer.got[deliveries]!.delivery.release();
      deliveries += 1;
    }
    expect(deliveries).toBe(1 + DELIVERY_LIMIT);
    expect(consumer.got.map((r) => r.firstAcquirer)).toEqual([true, ...Array<boolean>(DELIVERY_LIMIT).fill(false)]);
    const dead = consume(hubConnection, 'rts.deadletter', 10, ours);
    expect((await dead.next())[0]).toMatchObject({ id, firstAcquirer: true });
    dead.got[0]!.delivery.accept();
  });

  it('routes the downlink by binding, and what matches no binding to rts.unroutable', async () => {
    const prefix = newRun('downlink');
    const hubConnection = await connectAs(env, hub(), { raw: true });
    expect(
      await publish(hubConnection, '/exchange/rts.downlink/clinic-b', {
        message_id: `${prefix}b`,
        user_id: 'rts-hub',
        durable: true,
        body: 'for b',
      }),
    ).toBe('accepted');
    expect(
      await publish(hubConnection, '/exchange/rts.downlink/nobody', {
        message_id: `${prefix}nobody`,
        durable: true,
        body: 'for nobody',
      }),
    ).toBe('accepted');
    const b = consume(await connectAs(env, endpoint('clinic-b'), { raw: true }), 'rts.downlink.clinic-b', 10, ours);
    expect((await b.next())[0]!.id).toBe(`${prefix}b`);
    const a = consume(await connectAs(env, endpoint('clinic-a'), { raw: true }), 'rts.downlink.clinic-a', 10, ours);
    const unroutable = consume(hubConnection, 'rts.unroutable', 10, ours);
    expect((await unroutable.next())[0]!.id).toBe(`${prefix}nobody`);
    await sleep(500);
    expect(a.got).toEqual([]);
    for (const r of [...b.got, ...unroutable.got]) r.delivery.accept();
  });

  it('shares a queue between consumers one message at a time, round-robin', async () => {
    const prefix = newRun('rr');
    const consumers = [];
    for (let i = 0; i < 2; i++) {
      const consumer = consume(await connectAs(env, hub(), { raw: true }), 'rts.uplink', 10, ours);
      await consumer.attached;
      consumers.push(consumer);
    }
    await sleep(500);
    const clinic = await connectAs(env, endpoint('clinic-a'));
    for (let n = 0; n < 6; n++)
      expect(
        await publish(clinic, uplinkSendAddress('clinic-a'), { message_id: `${prefix}${n}`, durable: true, body: 'x' }),
      ).toBe('accepted');
    await sleep(1_000);
    const [one, two] = consumers.map((c) => c.got.map((r) => r.id));
    expect(one).toHaveLength(3);
    expect(two).toHaveLength(3);
    expect([...one!, ...two!].sort()).toEqual([0, 1, 2, 3, 4, 5].map((n) => `${prefix}${n}`));
    for (const c of consumers) for (const r of c.got) r.delivery.accept();
  });

  it("refuses an endpoint that attaches to another endpoint's queue: the session ends, amqp:unauthorized-access", async () => {
    const clinic = await connectAs(env, endpoint('clinic-a'));
    const refusal = firstOf(clinic, ['session_error', 'receiver_open']);
    clinic.open_receiver({ source: { address: downlinkReceiveAddress('clinic-b') } });
    expect(await refusal).toEqual({ event: 'session_error', condition: 'amqp:unauthorized-access' });
    // Its own queue, on a new session of the same connection: fine.
    const own = firstOf(clinic, ['session_error', 'receiver_open']);
    clinic.open_receiver({ source: { address: downlinkReceiveAddress('clinic-a') } });
    expect(await own).toEqual({ event: 'receiver_open' });
  });

  it("refuses a publish under another endpoint's routing key, to the downlink exchange, or with a forged user_id", async () => {
    const prefix = newRun('refused');
    const clinic = await connectAs(env, endpoint('clinic-a'));
    expect(
      await publish(clinic, uplinkSendAddress('clinic-b'), { message_id: `${prefix}1`, durable: true, body: 'as b' }),
    ).toBe('session ended: amqp:unauthorized-access');
    expect(
      await publish(clinic, '/exchange/rts.downlink/clinic-b', {
        message_id: `${prefix}2`,
        durable: true,
        body: 'to b',
      }),
    ).toBe('session ended: amqp:unauthorized-access');
    expect(
      await publish(clinic, uplinkSendAddress('clinic-a'), {
        message_id: `${prefix}3`,
        user_id: Buffer.from('clinic-b'),
        durable: true,
        body: 'forged',
      } as unknown as Message),
    ).toBe('session ended: amqp:precondition-failed');
    expect(await publish(clinic, '/exchange/no-such-exchange/x', { message_id: `${prefix}4`, body: 'x' })).toBe(
      'session ended: amqp:not-found',
    );
    expect(
      await publish(clinic, uplinkSendAddress('clinic-a'), {
        message_id: `${prefix}5`,
        user_id: Buffer.from('clinic-a'),
        durable: true,
        body: 'own',
      } as unknown as Message),
    ).toBe('accepted');
    const uplink = consume(await connectAs(env, hub(), { raw: true }), 'rts.uplink', 10, ours);
    await uplink.next(1);
    await sleep(500);
    expect(uplink.got.map((r) => r.id)).toEqual([`${prefix}5`]);
    uplink.got[0]!.delivery.accept();
    const b = consume(await connectAs(env, endpoint('clinic-b'), { raw: true }), 'rts.downlink.clinic-b', 10, ours);
    await sleep(500);
    expect(b.got).toEqual([]);
  });

  it('carries a 4 MiB message intact', async () => {
    const id = `${newRun('large')}1`;
    const payload = randomBytes(4 * 1024 * 1024);
    const clinic = await connectAs(env, endpoint('clinic-a'));
    expect(
      await publish(clinic, uplinkSendAddress('clinic-a'), {
        message_id: id,
        durable: true,
        body: rhea.message.data_section(payload),
      }),
    ).toBe('accepted');
    const consumer = consume(await connectAs(env, hub(), { raw: true }), 'rts.uplink', 10, ours);
    const [received] = await consumer.next(1, 30_000);
    const body = decoded(received!.raw).body as { content: Buffer };
    expect(Buffer.compare(body.content, payload)).toBe(0);
    received!.delivery.accept();
  });

  it('lets in a user without permissions in the vhost, and closes its connection at its first session', async () => {
    const user = { name: `noperm-${randomUUID().slice(0, 8)}`, password: 'noperm-secret' };
    const created = await fetch(`http://127.0.0.1:${env.nodes[0]!.managementPort}/api/users/${user.name}`, {
      method: 'PUT',
      body: JSON.stringify({ password: user.password, tags: '' }),
      headers: {
        authorization: `Basic ${Buffer.from(`${env.users.admin.name}:${env.users.admin.password}`).toString('base64')}`,
        'content-type': 'application/json',
      },
    });
    expect(created.status).toBe(201);
    const connection = await connectAs(env, user);
    const closed = firstOf(connection, ['connection_error', 'receiver_open']);
    connection.open_receiver({ source: { address: '/amq/queue/rts.uplink' } });
    expect(await closed).toEqual({ event: 'connection_error', condition: 'amqp:unauthorized-access' });
  });

  it('refuses a wrong password, an unknown user and an anonymous login', async () => {
    // At once: each broker answers a refusal after a delay of its own (2–3 s).
    await Promise.all([
      expect(connectAs(env, { name: 'clinic-a', password: 'wrong' })).rejects.toThrow(
        /refused: amqp:unauthorized-access/,
      ),
      expect(connectAs(env, { name: 'nobody', password: 'x' })).rejects.toThrow(/refused/),
      expect(connectAs(env, undefined)).rejects.toThrow(/refused/),
    ]);
  });

  it('answers the management API like RabbitMQ: idempotent provisioning, refused redeclaration, 404 for the unknown', async () => {
    const api = (method: string, path: string, body?: unknown, user: User = env.users.admin) =>
      fetch(`http://127.0.0.1:${env.nodes[0]!.managementPort}/api/${path}`, {
        method,
        headers: {
          authorization: `Basic ${Buffer.from(`${user.name}:${user.password}`).toString('base64')}`,
          'content-type': 'application/json',
        },
        ...(body !== undefined && { body: JSON.stringify(body) }),
      });
    const queue = {
      durable: true,
      auto_delete: false,
      arguments: {
        'x-queue-type': 'quorum',
        'x-delivery-limit': DELIVERY_LIMIT,
        'x-dead-letter-exchange': 'rts.dlx',
        'x-dead-letter-routing-key': 'rts.downlink.clinic-a',
      },
    };
    expect((await api('PUT', 'queues/rts/rts.downlink.clinic-a', queue)).status).toBe(204);
    const refused = await api('PUT', 'queues/rts/rts.downlink.clinic-a', {
      ...queue,
      arguments: { ...queue.arguments, 'x-delivery-limit': 9 },
    });
    expect(refused.status).toBe(400);
    expect(await refused.json()).toEqual({
      error: 'bad_request',
      reason: `inequivalent arg 'x-delivery-limit' for queue 'rts.downlink.clinic-a' in vhost 'rts': received '9' but current is '${DELIVERY_LIMIT}'`,
    });
    expect(
      (
        await api('POST', 'bindings/rts/e/rts.downlink/q/rts.downlink.clinic-a', {
          routing_key: 'clinic-a',
          arguments: {},
        })
      ).status,
    ).toBe(201);
    expect((await api('PUT', 'permissions/rts/no-such-user', { configure: '', write: '', read: '' })).status).toBe(400);
    expect((await api('GET', 'no/such/thing')).status).toBe(404);
    expect((await api('GET', 'queues/rts', undefined, { name: 'rts-admin', password: 'wrong' })).status).toBe(401);
    expect((await api('GET', 'queues/rts', undefined, env.users.hub)).status).toBe(401);
    const names = ((await (await api('GET', 'queues/rts')).json()) as { name: string }[]).map((q) => q.name);
    expect(names).toEqual(
      expect.arrayContaining([
        'rts.uplink',
        'rts.deadletter',
        'rts.unroutable',
        ...ENDPOINTS.map((e) => `rts.downlink.${e}`),
      ]),
    );
  });

  it('keeps a durable message across a broker restart', async () => {
    const id = `${newRun('restart')}1`;
    const clinic = await connectAs(env, endpoint('clinic-a'));
    const sent = richMessage(id, 'clinic-a');
    expect(await publish(clinic, uplinkSendAddress('clinic-a'), sent)).toBe('accepted');
    for (const c of open.splice(0)) c.close();
    await broker.restart();
    env = broker.env();
    const consumer = consume(await connectAs(env, hub(), { raw: true }), 'rts.uplink', 10, ours);
    const [received] = await consumer.next(1, 30_000);
    const tail = (raw: Buffer) =>
      Buffer.concat(
        sections(raw)
          .filter(([code]) => code !== 0x70)
          .map(([, bytes]) => bytes),
      );
    expect(tail(received!.raw).equals(tail(sent))).toBe(true);
    received!.delivery.accept();
  }, 180_000);
});

// ---- the real hub on the demo broker --------------------------------------------------------------------------------

describe('the real hub on the demo broker', () => {
  let dir: string;
  let demo: DemoBroker;
  let hubService: HubService | undefined;
  let region: TestRegion;
  const endpoints: TestEndpoint[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rts-demo-hub-'));
    const users = {
      admin: { name: 'rts-admin', password: 'admin-secret' },
      hub: { name: 'rts-hub', password: 'hub-secret' },
      endpoints: [],
    };
    demo = await startDemoBroker({
      dataDir: join(dir, 'broker'),
      adminUser: users.admin.name,
      adminPassword: users.admin.password,
      hub: users.hub,
    });
    region = await createTestRegion(join(dir, 'pki'));
    const env = envOf({
      dir,
      amqpPort: demo.amqpPort,
      managementPort: Number(new URL(demo.managementUrl).port),
      users,
    });
    const config = writeTestHubConfig({
      dir,
      name: 'hub-on-demo',
      region,
      broker: rabbitmqAsBrokerUnderTest(env),
      database: { kind: 'embedded', path: join(dir, 'hub-db') },
    });
    hubService = await startHub({ config: loadHubConfig(config.file, config.env), version: 'test' });
  }, 120_000);

  afterAll(async () => {
    for (const e of endpoints) e.close();
    await hubService?.stop();
    await demo?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lets a clinic register: downlink provisioned through the management API, registration accepted, snapshot sent', async () => {
    const clinic = await region.clinic('clinic-a');
    await demo.addUser('clinic-a', 'clinic-a-secret');
    const port = demo.amqpPort;
    // Before registering it has no downlink, so it only sends.
    const sender = await connectTestEndpoint({
      port,
      vhost: 'rts',
      id: 'clinic-a',
      password: 'clinic-a-secret',
      receive: false,
    });
    endpoints.push(sender);
    const messageId = await sender.send(
      { rtsType: 'endpoint.register', rtsVersion: PROTOCOL_VERSION, rtsSender: 'clinic-a' },
      (id, timestamp) =>
        buildEndpointRegister(
          { messageId: id, timestamp, sender: 'clinic-a' },
          { kind: 'clinic-system', name: 'clinic-a system', organization: 'clinic-a Health' },
        ),
      clinic,
    );
    // The hub provisions the downlink (queue, binding, grants) while it processes the registration.
    const deadline = Date.now() + 30_000;
    for (;;) {
      const probe = await (async () => {
        const connection = rhea.create_container().connect({
          host: '127.0.0.1',
          port,
          hostname: vhostHostname('rts'),
          username: 'clinic-a',
          password: 'clinic-a-secret',
          reconnect: false,
        });
        connection.on('error', () => undefined);
        connection.on('session_error', () => undefined);
        const result = firstOf(connection, ['session_error', 'receiver_open']);
        connection.once('connection_open', () =>
          connection.open_receiver({ source: { address: downlinkReceiveAddress('clinic-a') }, credit_window: 0 }),
        );
        const outcome = await result;
        connection.close();
        return outcome.event;
      })();
      if (probe === 'receiver_open') break;
      if (Date.now() > deadline) throw new Error('the downlink of clinic-a was not provisioned');
      await sleep(200);
    }
    const receiver = await connectTestEndpoint({ port, vhost: 'rts', id: 'clinic-a', password: 'clinic-a-secret' });
    endpoints.push(receiver);
    const isType = (type: string) => (m: ReceivedMessage) => m.properties.rtsType === type;
    const receipt = await receiver.waitFor(
      (m) => m.properties.rtsType === 'receipt' && m.correlationId === messageId,
      'registration receipt',
      30_000,
    );
    expect(receipt.properties.rtsReceipt).toBe('processed');
    const notice = await receiver.waitFor(isType('hub.notice'), 'registration notice');
    expect(notice.properties.rtsNotice).toBe('registration-accepted');
    expect(notice.userId).toBe('rts-hub');
    const snapshot = await receiver.waitFor(isType('directory.snapshot'), 'snapshot');
    expect(snapshot.properties).toMatchObject({ rtsDirectoryVersion: 0, rtsToEndpoint: 'clinic-a' });
  }, 90_000);
});
