import {
  endpointCredentials,
  killArtemis,
  killNode,
  loadArtemisEnv,
  loadBrokerEnv,
  restartArtemis,
  restartNode,
  ARTEMIS_STATE_ENV,
  BROKER_STATE_ENV,
  type BrokerEnvState,
} from '../scripts/test-env/index.ts';
import { createArtemisManagement, type HubConfig } from '../hub/index.ts';
import { downlinkQueueName } from '../shared/broker/index.ts';
import { artemisAdapter, rabbitmq3Adapter, type BrokerAdapter } from '../transport/index.ts';
import { createEndpointUser, purgeTestQueues } from './test-hub-config.ts';

/** Which private broker a suite runs on: `RTS_BROKER=rabbitmq` (the default) or `RTS_BROKER=artemis`. */
export const BROKER_KIND_ENV = 'RTS_BROKER';

type User = { readonly name: string; readonly password: string };

/** The private broker of this run, whichever it is, as the suites that run on both need it. */
export interface BrokerUnderTest {
  readonly kind: 'rabbitmq' | 'artemis';
  /** One line for a report: which broker, how it keeps messages. */
  readonly description: string;
  readonly adapter: BrokerAdapter;
  readonly vhost: string;
  readonly hosts: readonly { readonly host: string; readonly port: number }[];
  /** The test environment's RabbitMQ, for suites that need what only it has (its TLS listener); absent on Artemis. */
  readonly rabbitmq?: BrokerEnvState;
  readonly hub: User;
  /** The region's administrator: provisions endpoints (the hub's `broker.management`). */
  readonly admin: User;
  endpoint(endpointId: string): User;
  /** The `broker` of a hub configuration for this broker; its passwords are read from `env`. */
  hubConfig(env: { hubPassword: string; adminPassword: string }): HubConfig['broker'];
  /**
   * Gives an endpoint's user back only what the administrator gives before the hub provisions it (a test may have
   * changed it). Artemis: nothing to do, its users file keeps the role and the hub grants the rights.
   */
  resetEndpointUser(endpointId: string): Promise<void>;
  /**
   * Empties every queue (suites share one broker, and must not see each other's leftovers), or only the downlink of
   * `endpointId` (as if its messages had been lost).
   */
  purge(endpointId?: string): Promise<void>;
  /** kill -9 the broker (the first node of a cluster, the primary of a pair), keeping its data. */
  kill(): Promise<void>;
  /** Starts it again on the same data; resolves with how long that took, in ms. */
  restart(): Promise<number>;
}

export function loadBrokerUnderTest(): BrokerUnderTest {
  const kind = process.env[BROKER_KIND_ENV] ?? 'rabbitmq';
  if (kind === 'artemis') {
    const env = loadArtemisEnv();
    const stateFile = process.env[ARTEMIS_STATE_ENV]!;
    const hosts = env.nodes.map((node) => ({ host: '127.0.0.1', port: node.amqpPort }));
    return {
      kind,
      description: 'ActiveMQ Artemis 2.40 (AMQP), NIO journal with datasync, private broker on loopback',
      adapter: artemisAdapter,
      vhost: 'rts',
      hosts,
      hub: env.users.hub,
      admin: env.users.admin,
      endpoint: (endpointId) => {
        const user = env.users.endpoints.find((u) => u.name === endpointId);
        if (!user) throw new Error(`endpoint ${endpointId} has no user in the test broker`);
        return user;
      },
      hubConfig: (passwords) => ({
        kind: 'artemis',
        hosts,
        vhost: 'rts',
        username: env.users.hub.name,
        password: { env: passwords.hubPassword },
        credit: 200,
        management: { username: env.users.admin.name, password: { env: passwords.adminPassword } },
      }),
      resetEndpointUser: async () => undefined,
      async purge(endpointId) {
        const management = await createArtemisManagement({
          hosts,
          vhost: 'rts',
          username: env.users.admin.name,
          password: env.users.admin.password,
        });
        try {
          const queues = endpointId
            ? [artemisAdapter.downlinkSource(endpointId)]
            : ((await management.read('broker', 'queueNames')) as string[]).filter((name) => name.startsWith('rts.'));
          for (const queue of queues) await management.invoke(`queue.${queue}`, 'removeAllMessages', []);
        } finally {
          await management.close();
        }
      },
      kill: () => killArtemis(stateFile),
      restart: () => restartArtemis(stateFile),
    };
  }
  if (kind !== 'rabbitmq') throw new Error(`${BROKER_KIND_ENV}=${kind}: use rabbitmq or artemis`);
  return rabbitmqAsBrokerUnderTest(loadBrokerEnv(), process.env[BROKER_STATE_ENV]);
}

/** A RabbitMQ of the test environment (or one like it, e.g. the demo broker: no state file, so no kill and restart). */
export function rabbitmqAsBrokerUnderTest(env: BrokerEnvState, stateFile?: string): BrokerUnderTest {
  return {
    kind: 'rabbitmq',
    description: 'RabbitMQ 3.10 (AMQP 1.0 plugin), quorum queue, private node on loopback',
    rabbitmq: env,
    adapter: rabbitmq3Adapter,
    vhost: env.vhost,
    hosts: env.nodes.map((node) => ({ host: '127.0.0.1', port: node.amqpPort })),
    hub: env.users.hub,
    admin: env.users.admin,
    endpoint: (endpointId) => endpointCredentials(env, endpointId),
    hubConfig: (passwords) => ({
      kind: 'rabbitmq',
      hosts: env.nodes.map((n) => ({ host: '127.0.0.1', port: n.amqpPort })),
      vhost: env.vhost,
      username: env.users.hub.name,
      password: { env: passwords.hubPassword },
      credit: 200,
      management: {
        url: `http://127.0.0.1:${env.nodes[0]!.managementPort}`,
        username: env.users.admin.name,
        password: { env: passwords.adminPassword },
      },
    }),
    resetEndpointUser: (endpointId) =>
      createEndpointUser(env, endpointId, endpointCredentials(env, endpointId).password),
    purge: (endpointId) => purgeTestQueues(env, endpointId && downlinkQueueName(endpointId)),
    kill: () => killNode(stateFileOf(stateFile), 0),
    restart: () => restartNode(stateFileOf(stateFile), 0),
  };
}

function stateFileOf(stateFile: string | undefined): string {
  if (!stateFile) throw new Error('this broker is not one the test environment started: it cannot be killed');
  return stateFile;
}
