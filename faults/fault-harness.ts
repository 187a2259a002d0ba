import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { loadBrokerUnderTest, type BrokerUnderTest } from '../testkit/index.ts';
import {
  createBrokerConnection,
  createInboxReceiver,
  createOutboxSender,
  newMessageId,
  openDatabase,
  createSqliteTransportStore,
  type BrokerConnection,
  type HandlerResult,
  type InboxReceiver,
  type ReceivedMessage,
  type OutboxSender,
  type SqliteDatabase,
  type StoredMessage,
  type TransportStore,
} from '../transport/index.ts';

/**
 * Producer and consumer for the fault suites, built from the real transport: an endpoint's outbox sender on the uplink,
 * and an inbox receiver (as the hub) whose handler's effect is a row in an `effects` table, committed in the same
 * transaction as the inbox record. `effects` has no unique constraint on purpose: a message applied twice would show
 * as a duplicate there.
 */
export const STORE_KEY = 'fault-suite-store-key-0123456789abcdef';

/** RabbitMQ, or ActiveMQ Artemis with RTS_BROKER=artemis (run under scripts/with-artemis.sh). */
export const broker: BrokerUnderTest = loadBrokerUnderTest();

export async function connect(
  user: { name: string; password: string },
  hosts = broker.hosts,
): Promise<BrokerConnection> {
  const connection = createBrokerConnection({
    hosts,
    vhost: broker.vhost,
    adapter: broker.adapter,
    username: user.name,
    password: async () => user.password,
    reconnectDelayMs: { initial: 100, max: 1_000 },
    idleTimeoutMs: 10_000,
  });
  await connection.start();
  await until(() => connection.state.status === 'online', 60_000, 'broker connection');
  return connection;
}

export async function until(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Message n of a run, as the producer queues it: its body is n's byte repeated, its kind what the consumer does. */
export function uplinkMessage(
  endpointId: string,
  run: string,
  n: number,
  bodyBytes: number,
  kind: 'good' | 'poison' | 'crash' = 'good',
): StoredMessage {
  const id = newMessageId();
  return {
    properties: {
      message_id: id,
      user_id: endpointId,
      creation_time: Date.now(),
      content_type: 'application/pkcs7-mime; smime-type=signed-data',
      application_properties: { rtsType: 'receipt', rtsVersion: '1.0', rtsSender: endpointId, run, n, kind },
    },
    body: new Uint8Array(bodyBytes).fill(n % 251),
  };
}

export interface Producer {
  readonly store: TransportStore;
  readonly sender: OutboxSender;
  readonly connection: BrokerConnection;
  /** Queues `count` messages of this run in one transaction. */
  queue(
    count: number,
    options?: { poisonEvery?: number; crashEvery?: number; bodyBytes?: number; orderKeys?: number },
  ): void;
  confirmed(): number;
  sent(): number;
  close(): Promise<void>;
}

export async function createProducer(
  dir: string,
  run: string,
  endpointId = 'clinic-a',
  maxInFlight = 128,
): Promise<Producer> {
  const store = createSqliteTransportStore(openDatabase(join(dir, `producer-${randomUUID()}.db`), STORE_KEY));
  const connection = await connect(broker.endpoint(endpointId));
  const sender = createOutboxSender({ connection, outbox: store.outbox, maxInFlight });
  let queued = 0;
  return {
    store,
    sender,
    connection,
    queue(count, options = {}) {
      const entries = [];
      for (let i = 0; i < count; i++) {
        const n = queued++;
        const kind =
          options.poisonEvery && n % options.poisonEvery === options.poisonEvery - 1
            ? 'poison'
            : options.crashEvery && n % options.crashEvery === options.crashEvery - 1
              ? 'crash'
              : 'good';
        const message = uplinkMessage(endpointId, run, n, options.bodyBytes ?? 1024, kind);
        entries.push({
          messageId: message.properties.message_id,
          orderKey: `key-${n % (options.orderKeys ?? 32)}`,
          address: broker.adapter.uplinkTarget(endpointId),
          message,
        });
      }
      store.outbox.enqueueMany(entries);
      sender.wake();
    },
    sent: () => queued,
    confirmed: () => {
      const counts = store.outbox.counts();
      return queued - counts.queued - counts.failed;
    },
    async close() {
      sender.stop();
      await connection.stop();
      store.close();
    },
  };
}

export interface Consumer {
  readonly db: SqliteDatabase;
  readonly store: TransportStore;
  /** Effects of this run committed by this consumer (duplicates included), counted as they commit: cheap to poll. */
  committed(): number;
  close(): Promise<void>;
}

export interface EffectCounts {
  readonly rows: number;
  readonly distinct: number;
  readonly longestPauseMs: number;
}

/** Counts in an effects table: what the application saw (rows) and how many different messages that was. */
export function effectCounts(db: SqliteDatabase, run: string): EffectCounts {
  const row = db
    .prepare('select count(*) as rows, count(distinct message_id) as distinct_ids from effects where run = ?')
    .get(run) as { rows: number; distinct_ids: number };
  const times = (db.prepare('select at from effects where run = ? order by at').all(run) as { at: number }[]).map(
    (r) => r.at,
  );
  let longestPauseMs = 0;
  for (let i = 1; i < times.length; i++) longestPauseMs = Math.max(longestPauseMs, times[i]! - times[i - 1]!);
  return { rows: row.rows, distinct: row.distinct_ids, longestPauseMs };
}

export function openConsumerDatabase(path: string): { db: SqliteDatabase; store: TransportStore } {
  const db = openDatabase(path, STORE_KEY);
  const store = createSqliteTransportStore(db);
  db.exec(
    'create table if not exists effects (message_id text not null, run text not null, n integer not null, at integer not null)',
  );
  return { db, store };
}

/** The hub side: consumes the uplink; poison messages are rejected for good, crashing ones always throw. */
export async function createConsumer(path: string, run: string, credit = 64): Promise<Consumer> {
  const { db, store } = openConsumerDatabase(path);
  const connection = await connect(broker.hub);
  const insert = db.prepare('insert into effects (message_id, run, n, at) values (?, ?, ?, ?)');
  let committed = 0;
  const handle = async (message: ReceivedMessage): Promise<HandlerResult> => {
    const props = message.amqp.application_properties as { run?: string; n?: number; kind?: string };
    if (props.run !== run) return { outcome: 'processed' };
    if (props.kind === 'poison')
      return { outcome: 'rejected', reason: 'schema-invalid', detail: 'poison message of the fault suite' };
    if (props.kind === 'crash') throw new Error('handler crashes on this message');
    return {
      outcome: 'processed',
      effect: () => void insert.run(message.messageId, run, props.n ?? -1, Date.now()),
      afterCommit: () => void (committed += 1),
    };
  };
  const receiver: InboxReceiver = createInboxReceiver({
    connection,
    source: broker.adapter.uplinkSource(),
    sourceName: 'uplink',
    inbox: store.inbox,
    deadLetters: store.deadLetters,
    handle,
    credit,
  });
  return {
    db,
    store,
    committed: () => committed,
    async close() {
      await receiver.stop();
      await connection.stop();
      db.close();
    },
  };
}

export interface SuiteResult {
  readonly sent: number;
  readonly confirmed: number;
  readonly delivered: number;
  readonly lost: number;
  readonly duplicates: number;
  readonly extra?: Readonly<Record<string, number>>;
}

/** The one line each suite ends with, and whether it met the requirement (0 lost, 0 duplicates). */
export function report(suite: string, result: SuiteResult): boolean {
  const extra = Object.entries(result.extra ?? {})
    .map(([k, v]) => ` ${k}=${v}`)
    .join('');
  console.log(
    `${suite}: sent=${result.sent} confirmed=${result.confirmed} delivered=${result.delivered} lost=${result.lost} duplicates=${result.duplicates}${extra}`,
  );
  return result.lost === 0 && result.duplicates === 0 && result.confirmed === result.sent;
}
