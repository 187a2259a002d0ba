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
} from '../scripts/test-env/index.ts';
import { artemisAdapter, rabbitmq3Adapter, type BrokerAdapter } from '../transport/index.ts';

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
  readonly hub: User;
  endpoint(endpointId: string): User;
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
    return {
      kind,
      description: 'ActiveMQ Artemis 2.40 (AMQP), NIO journal with datasync, private broker on loopback',
      adapter: artemisAdapter,
      vhost: 'rts',
      hosts: env.nodes.map((node) => ({ host: '127.0.0.1', port: node.amqpPort })),
      hub: env.users.hub,
      endpoint: (endpointId) => {
        const user = env.users.endpoints.find((u) => u.name === endpointId);
        if (!user) throw new Error(`endpoint ${endpointId} is not provisioned in the test broker`);
        return user;
      },
      kill: () => killArtemis(stateFile),
      restart: () => restartArtemis(stateFile),
    };
  }
  if (kind !== 'rabbitmq') throw new Error(`${BROKER_KIND_ENV}=${kind}: use rabbitmq or artemis`);
  const env = loadBrokerEnv();
  const stateFile = process.env[BROKER_STATE_ENV]!;
  return {
    kind,
    description: 'RabbitMQ 3.10 (AMQP 1.0 plugin), quorum queue, private node on loopback',
    adapter: rabbitmq3Adapter,
    vhost: env.vhost,
    hosts: env.nodes.map((node) => ({ host: '127.0.0.1', port: node.amqpPort })),
    hub: env.users.hub,
    endpoint: (endpointId) => endpointCredentials(env, endpointId),
    kill: () => killNode(stateFile, 0),
    restart: () => restartNode(stateFile, 0),
  };
}
