import { readFileSync } from 'node:fs';

/** What `rabbitmq.ts start` records: everything a test needs to reach the private broker, and to stop it by pid. */
export interface BrokerNodeState {
  name: string;
  dir: string;
  amqpPort: number;
  /** amqps listener; its certificate is issued by `tlsCaFile` for 127.0.0.1 and localhost. */
  tlsPort: number;
  managementPort: number;
  distPort: number;
  pid?: number;
  launcherPid?: number;
}

export interface BrokerEnvState {
  dir: string;
  homeDir: string;
  definitionsFile: string;
  vhost: string;
  tlsCaFile: string;
  epmd: { port: number; pid: number };
  nodes: BrokerNodeState[];
  users: {
    admin: { name: string; password: string };
    hub: { name: string; password: string };
    endpoints: { name: string; password: string }[];
  };
}

export const BROKER_STATE_ENV = 'RTS_TEST_BROKER_STATE';

/**
 * The private broker of this test run. Tests never fall back to a broker started by hand: without the state file
 * they fail and say how to run them.
 */
export function loadBrokerEnv(): BrokerEnvState {
  const file = process.env[BROKER_STATE_ENV];
  if (!file) {
    throw new Error(
      `${BROKER_STATE_ENV} is not set: run integration tests through 'npm run test:int' (it starts a private broker)`,
    );
  }
  return JSON.parse(readFileSync(file, 'utf8')) as BrokerEnvState;
}

export function endpointCredentials(env: BrokerEnvState, endpointId: string): { name: string; password: string } {
  const user = env.users.endpoints.find((u) => u.name === endpointId);
  if (!user) throw new Error(`endpoint ${endpointId} is not provisioned in the test broker`);
  return user;
}
