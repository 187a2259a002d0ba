import { randomUUID } from 'node:crypto';
import type { Bundle } from '@medplum/fhirtypes';
import rhea, { type Connection, type EventContext, type Message, type Sender } from 'rhea';
import type { CmsSigner } from '../shared/cms/index.ts';
import { sealMessage, PROTOCOL_VERSION, type ApplicationProperties } from '../shared/protocol/index.ts';
import { buildEndpointRegister, buildSnapshotRequest } from '../shared/protocol/fhir/index.ts';
import { bodyBytes, rabbitmq3Adapter, type BrokerAdapter } from '../transport/index.ts';
import type { BrokerUnderTest } from './broker-under-test.ts';

/**
 * A bare endpoint for hub tests: sends to the uplink as its broker user and collects everything from its downlink.
 * It uses rhea directly (not the workstation's transport) so that tests can also send what a real endpoint never would.
 */
export interface ReceivedMessage {
  readonly messageId: string;
  readonly correlationId?: string;
  readonly userId: string;
  readonly properties: Record<string, string | number>;
  readonly body: Uint8Array;
  /** The rhea message, for re-opening with the codec. */
  readonly raw: Message;
}

export interface TestEndpoint {
  readonly id: string;
  readonly received: ReceivedMessage[];
  /** Sends raw AMQP fields; resolves with the broker's settlement. */
  sendRaw(message: Message): Promise<string>;
  /** Seals a payload as this endpoint and sends it; resolves with the message id. */
  send(
    properties: ApplicationProperties,
    payload: (messageId: string, timestamp: Date) => Bundle,
    signer: CmsSigner,
    recipients?: readonly Uint8Array[],
  ): Promise<string>;
  waitFor(predicate: (m: ReceivedMessage) => boolean, what: string, timeoutMs?: number): Promise<ReceivedMessage>;
  waitForCount(
    predicate: (m: ReceivedMessage) => boolean,
    count: number,
    what: string,
    timeoutMs?: number,
  ): Promise<ReceivedMessage[]>;
  /**
   * False once the broker ended the endpoint's session or connection, and its links with it (RabbitMQ 3's AMQP 1.0
   * plugin ends the session when its connection is closed through the management API; Artemis closes the connection).
   */
  attached(): boolean;
  close(): void;
}

export async function connectTestEndpoint(options: {
  host?: string;
  port: number;
  vhost: string;
  id: string;
  password: string;
  receive?: boolean;
  /** The broker's addresses (default RabbitMQ's). */
  adapter?: BrokerAdapter;
}): Promise<TestEndpoint> {
  const adapter = options.adapter ?? rabbitmq3Adapter;
  const connection: Connection = rhea
    .create_container({ id: `test-${options.id}-${randomUUID().slice(0, 6)}` })
    .connect({
      host: options.host ?? '127.0.0.1',
      port: options.port,
      hostname: adapter.hostname(options.vhost),
      username: options.id,
      password: options.password,
      reconnect: false,
    });
  connection.on('error', () => undefined);
  connection.on('session_error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    connection.once('connection_open', () => resolve());
    connection.once('disconnected', (context: EventContext) =>
      reject(new Error(`${options.id}: cannot connect: ${String(context.error ?? 'disconnected')}`)),
    );
  });
  let open = true;
  for (const ended of ['disconnected', 'connection_close', 'session_close', 'session_error'])
    connection.on(ended, () => (open = false));
  const received: ReceivedMessage[] = [];
  const waiters = new Set<() => void>();
  if (options.receive ?? true) {
    const receiver = connection.open_receiver({
      source: { address: adapter.downlinkSource(options.id) },
      credit_window: 200,
    });
    receiver.on('message', (context: EventContext) => {
      const m = context.message!;
      const userId = m.user_id as unknown;
      received.push({
        messageId: String(m.message_id),
        ...(typeof m.correlation_id === 'string' && { correlationId: m.correlation_id }),
        userId:
          userId instanceof Uint8Array
            ? Buffer.from(userId).toString('utf8')
            : typeof userId === 'string'
              ? userId
              : '',
        properties: (m.application_properties ?? {}) as Record<string, string | number>,
        body: bodyBytes(m.body) as Uint8Array,
        raw: { ...m, body: bodyBytes(m.body) },
      });
      for (const wake of waiters) wake();
    });
    await new Promise<void>((resolve) => receiver.once('receiver_open', () => resolve()));
  }
  const sender: Sender = connection.open_sender({ target: { address: adapter.uplinkTarget(options.id) } });
  await new Promise<void>((resolve) => sender.once('sendable', () => resolve()));

  const settlements = new Map<unknown, (outcome: string) => void>();
  for (const outcome of ['accepted', 'rejected', 'released']) {
    sender.on(outcome, (context: EventContext) => {
      settlements.get(context.delivery)?.(outcome);
      settlements.delete(context.delivery);
    });
  }
  const sendRaw = (message: Message) =>
    new Promise<string>((resolve) => settlements.set(sender.send(message), resolve));

  const waitForCount = (predicate: (m: ReceivedMessage) => boolean, count: number, what: string, timeoutMs = 20_000) =>
    new Promise<ReceivedMessage[]>((resolve, reject) => {
      const check = () => {
        const found = received.filter(predicate);
        if (found.length < count) return;
        waiters.delete(check);
        clearTimeout(timer);
        resolve(found);
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(
          new Error(
            `${options.id}: timed out waiting for ${count} × ${what}; got ${received.filter(predicate).length}; all: ${received.map((m) => `${m.properties.rtsType}${m.properties.rtsReceipt ? `:${m.properties.rtsReceipt}` : ''}${m.properties.rtsReason ? `:${m.properties.rtsReason}` : ''}`).join(', ')}`,
          ),
        );
      }, timeoutMs);
      waiters.add(check);
      check();
    });

  return {
    id: options.id,
    received,
    attached: () => open,
    sendRaw,
    async send(properties, payload, signer, recipients) {
      const messageId = randomUUID();
      const creationTime = new Date();
      const fields = await sealMessage({
        messageId,
        creationTime,
        userId: options.id,
        properties,
        payload: payload(messageId, creationTime),
        signer,
        ...(recipients && { recipientCertificates: recipients }),
      });
      const body: unknown = rhea.message.data_section(Buffer.from(fields.body));
      const outcome = await sendRaw({ ...fields, user_id: Buffer.from(options.id), body } as unknown as Message);
      if (outcome !== 'accepted') throw new Error(`${options.id}: the broker ${outcome} ${properties.rtsType}`);
      return messageId;
    },
    waitFor: async (predicate, what, timeoutMs) => (await waitForCount(predicate, 1, what, timeoutMs))[0]!,
    waitForCount,
    close: () => connection.close(),
  };
}

/** A test endpoint on the broker under test, as its broker user. */
export function connectEndpointTo(
  broker: BrokerUnderTest,
  id: string,
  options: { receive?: boolean } = {},
): Promise<TestEndpoint> {
  return connectTestEndpoint({
    port: broker.hosts[0]!.port,
    vhost: broker.vhost,
    adapter: broker.adapter,
    password: broker.endpoint(id).password,
    id,
    ...options,
  });
}

/** A clinic system's registration (`<id> system` of `<id> Health`), signed with its certificate. */
export function registerClinicSystem(endpoint: TestEndpoint, signer: CmsSigner): Promise<string> {
  const id = endpoint.id;
  return endpoint.send(
    { rtsType: 'endpoint.register', rtsVersion: PROTOCOL_VERSION, rtsSender: id },
    (messageId, timestamp) =>
      buildEndpointRegister(
        { messageId, timestamp, sender: id },
        { kind: 'clinic-system', name: `${id} system`, organization: `${id} Health` },
      ),
    signer,
  );
}

/** A snapshot request with no known version, signed with `signer`. */
export function requestSnapshotAs(endpoint: TestEndpoint, signer: CmsSigner): Promise<string> {
  return endpoint.send(
    { rtsType: 'directory.snapshot-request', rtsVersion: PROTOCOL_VERSION, rtsSender: endpoint.id },
    (messageId, timestamp) => buildSnapshotRequest({ messageId, timestamp, sender: endpoint.id }, {}),
    signer,
  );
}
