import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrokerAdapter } from '../broker-adapter.ts';
import { createBrokerConnection, type BrokerConnection } from '../broker-connection.ts';
import { openDatabase } from '../sqlite-database.ts';
import { createSqliteTransportStore } from '../sqlite-transport-store.ts';
import type { ReceivedMessage } from '../inbox-receiver.ts';
import type { StoredMessage, TransportStore } from '../transport-store.ts';

const KEY = 'a-test-store-key-of-at-least-32-chars';

/** Polls `condition` every 20 ms; fails after `timeoutMs`. */
export async function until(condition: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Message `n` of test run `tag` from `sender`: a receipt-shaped message whose properties carry both. */
export function numberedMessage(sender: string, tag: string, n: number): StoredMessage {
  return {
    properties: {
      message_id: randomUUID(),
      user_id: sender,
      creation_time: Date.now(),
      content_type: 'application/pkcs7-mime; smime-type=signed-data',
      application_properties: { rtsType: 'receipt', rtsVersion: '1.0', rtsSender: sender, n, run: tag },
    },
    body: new TextEncoder().encode(`message ${n}`),
  };
}
export const tagOf = (m: ReceivedMessage) => (m.amqp.application_properties as { run?: string }).run;
export const numberOf = (m: ReceivedMessage) => Number((m.amqp.application_properties as { n: number }).n);

/**
 * What the transport's tests on a real broker share: throw-away stores and broker connections, each closed by
 * `endTest` (with whatever else the test hands to `afterTest`); `close` removes the stores' directory. A test file
 * makes one and gives `endTest` to afterEach, `close` to afterAll.
 */
export function createLiveTransport(broker: {
  readonly hosts: readonly { host: string; port: number }[];
  readonly vhost: string;
  readonly adapter: BrokerAdapter;
}) {
  const dir = mkdtempSync(join(tmpdir(), 'rts-transport-'));
  const cleanups: (() => Promise<void> | void)[] = [];
  const afterTest = (cleanup: () => Promise<void> | void) => void cleanups.push(cleanup);
  return {
    afterTest,
    endTest: async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    },
    close: () => rmSync(dir, { recursive: true, force: true }),
    store: (): TransportStore => {
      const store = createSqliteTransportStore(openDatabase(join(dir, `${randomUUID()}.db`), KEY));
      afterTest(() => store.close());
      return store;
    },
    connect: async (user: { name: string; password: string }): Promise<BrokerConnection> => {
      const connection = createBrokerConnection({
        hosts: [...broker.hosts],
        vhost: broker.vhost,
        adapter: broker.adapter,
        username: user.name,
        password: async () => user.password,
        reconnectDelayMs: { initial: 50, max: 500 },
      });
      afterTest(() => connection.stop());
      await connection.start();
      await until(() => connection.state.status === 'online');
      return connection;
    },
  };
}
