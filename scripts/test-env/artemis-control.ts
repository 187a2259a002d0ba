/**
 * A private ActiveMQ Artemis on a loopback port, with the RTS topology in its broker.xml (hub/broker/
 * artemis-configuration.ts, the file an administrator is given too). It runs from the distribution scripts/setup.sh
 * fetched from Maven Central, on the machine's Java; everything it starts is recorded in a state file and stopped by
 * pid. Fault tests use killArtemis/restartArtemis to crash and revive it with its journal. The command line is
 * artemis.ts.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import rhea from 'rhea';
import { artemisBrokerXml, buildArtemisConfiguration } from '../../hub/index.ts';
import { freeLoopbackPort } from './free-port.ts';
import { isAlive, startDetached, waitForExit } from './process-liveness.ts';

/** The version scripts/setup.sh installs; keep the two in step. */
export const ARTEMIS_VERSION = '2.40.0';
export const ARTEMIS_HOME = resolve(import.meta.dirname, '../../.tools', `apache-artemis-${ARTEMIS_VERSION}`);
/** Endpoints with a broker user: the RabbitMQ one's, and clinic-d. */
const TEST_ENDPOINTS = ['clinic-a', 'clinic-b', 'clinic-c', 'clinic-d', 'ws-expert-1', 'ws-applicant-1'];
/**
 * Endpoints with a user and an uplink but no downlink until the hub provisions it (artemis-provisioner.ts): clinic-c
 * joins late in the hub suites, clinic-d in the provisioning test (which must find it unprovisioned whatever ran first).
 */
const JOIN_LATE = ['clinic-c', 'clinic-d'];
/** Seen on this machine: up 3.2–4.4 s after `artemis run` (JVM start, then the journal); a loaded machine is slower. */
const BOOT_TIMEOUT_MS = 90_000;
const STOP_TIMEOUT_MS = 30_000;

export const ARTEMIS_STATE_ENV = 'RTS_TEST_ARTEMIS_STATE';

export interface ArtemisNodeState {
  /** The instance (bin, etc, data, log). */
  instance: string;
  amqpPort: number;
  /** The replication link of a pair (core protocol, loopback). */
  corePort?: number;
  pid?: number;
}

export interface ArtemisEnvState {
  /** Everything of these brokers. */
  dir: string;
  /** One broker, or a primary and its backup (which opens its AMQP port only once it has taken over). */
  nodes: ArtemisNodeState[];
  deliveryLimit: number;
  users: {
    admin: { name: string; password: string };
    hub: { name: string; password: string };
    endpoints: { name: string; password: string }[];
  };
}

export function loadArtemisEnv(): ArtemisEnvState {
  const file = process.env[ARTEMIS_STATE_ENV];
  if (!file) {
    throw new Error(
      `${ARTEMIS_STATE_ENV} is not set: run Artemis tests through 'npm run test:artemis' (it starts one)`,
    );
  }
  return JSON.parse(readFileSync(file, 'utf8')) as ArtemisEnvState;
}

const password = () => randomBytes(18).toString('base64url');
const readState = (file: string) => JSON.parse(readFileSync(file, 'utf8')) as ArtemisEnvState;
const writeState = (file: string, state: ArtemisEnvState) =>
  writeFileSync(file, JSON.stringify(state, null, 2), { mode: 0o600 });
const logFile = (node: ArtemisNodeState) => join(node.instance, 'log', 'run.out');

function logTail(node: ArtemisNodeState): string {
  const file = logFile(node);
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').slice(-30).join('\n') : '(no log)';
}

/** True when the admin user gets an AMQP connection open (a listening port alone can still be refusing). */
function amqpOpens(state: ArtemisEnvState, node: ArtemisNodeState): Promise<boolean> {
  return new Promise((done) => {
    const connection = rhea.create_container({ id: 'rts-test-env' }).connect({
      host: '127.0.0.1',
      port: node.amqpPort,
      username: state.users.admin.name,
      password: state.users.admin.password,
      reconnect: false,
    });
    const timer = setTimeout(() => finish(false), 5_000);
    const finish = (open: boolean) => {
      clearTimeout(timer);
      connection.removeAllListeners();
      connection.on('error', () => undefined);
      connection.close();
      done(open);
    };
    connection.once('connection_open', () => finish(true));
    connection.once('connection_error', () => finish(false));
    connection.once('disconnected', () => finish(false));
    connection.on('error', () => undefined);
  });
}

/** Resolves once `ready` says so; fails with the node's log if it exits or takes too long. */
async function waitFor(node: ArtemisNodeState, pid: number, ready: () => Promise<boolean> | boolean): Promise<void> {
  const deadline = Date.now() + BOOT_TIMEOUT_MS;
  for (;;) {
    if (await ready()) return;
    if (!isAlive(pid)) throw new Error(`artemis: exited while starting:\n${logTail(node)}`);
    if (Date.now() > deadline) throw new Error(`artemis: not up after ${BOOT_TIMEOUT_MS} ms:\n${logTail(node)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A backup is ready once it holds a copy of the primary's journal (AMQ221024 "is synchronized with primary"). */
const backupSynchronized = (node: ArtemisNodeState) => () =>
  existsSync(logFile(node)) && readFileSync(logFile(node), 'utf8').includes('AMQ221024');

const launch = (dir: string, node: ArtemisNodeState): number =>
  startDetached(
    join(node.instance, 'bin', 'artemis'),
    ['run'],
    { PATH: process.env.PATH, HOME: dir, LANG: 'C.UTF-8' },
    logFile(node),
  );

/**
 * Creates the instances, writes the topology and starts the broker — with `pair`, a primary and then a backup that
 * replicates it; the state file is written before anything starts, so that stop finds whatever did.
 */
export async function startArtemis(
  stateFile: string,
  options: { pair?: boolean; groups?: number; deliveryLimit?: number } = {},
): Promise<ArtemisEnvState> {
  if (!existsSync(join(ARTEMIS_HOME, 'bin', 'artemis'))) {
    throw new Error(
      `artemis: ${ARTEMIS_HOME} is missing: run scripts/setup.sh (it fetches Artemis from Maven Central)`,
    );
  }
  const dir = mkdtempSync('/tmp/rts-artemis-');
  const deliveryLimit = options.deliveryLimit ?? 5;
  const groups = options.groups ?? 1;
  if (options.pair && groups > 1) throw new Error('artemis: --pair and --groups together are not supported');
  const count = options.pair ? 2 : groups;
  const clustered = options.pair || groups > 1;
  const nodes: ArtemisNodeState[] = [];
  for (let i = 0; i < count; i++) {
    nodes.push({
      instance: join(dir, `node-${i + 1}`),
      amqpPort: await freeLoopbackPort(),
      ...(clustered && { corePort: await freeLoopbackPort() }),
    });
  }
  const state: ArtemisEnvState = {
    dir,
    nodes,
    deliveryLimit,
    users: {
      admin: { name: 'rts-admin', password: password() },
      hub: { name: 'rts-hub', password: password() },
      endpoints: TEST_ENDPOINTS.map((name) => ({ name, password: password() })),
    },
  };
  writeState(stateFile, state);
  const configuration = buildArtemisConfiguration(
    { ...state.users, deliveryLimit },
    TEST_ENDPOINTS.filter((id) => !JOIN_LATE.includes(id)),
  );
  const clusterPassword = password();
  nodes.forEach((node, i) => {
    // `artemis create` lays out bin/, etc/ (JAAS login, JVM profile) and data/; broker.xml and the users are ours.
    const created = spawnSync(
      join(ARTEMIS_HOME, 'bin', 'artemis'),
      [
        'create',
        '--silent',
        '--force',
        '--no-autotune',
        '--no-web',
        '--require-login',
        '--user=rts-admin',
        `--password=${state.users.admin.password}`,
        '--host=127.0.0.1',
        '--nio',
        '--java-memory=512M',
        node.instance,
      ],
      { encoding: 'utf8', env: { PATH: process.env.PATH, HOME: dir, LANG: 'C.UTF-8' }, timeout: 120_000 },
    );
    if (created.status !== 0) throw new Error(`artemis create failed: ${created.stderr || created.stdout}`);
    const peer = options.pair ? nodes[1 - i] : undefined;
    const others = nodes.filter((other) => other !== node);
    writeFileSync(
      join(node.instance, 'etc', 'broker.xml'),
      artemisBrokerXml(
        {
          name: `rts-test-${i + 1}`,
          acceptors: [`tcp://127.0.0.1:${node.amqpPort}?protocols=AMQP;amqpCredits=1000;amqpLowCredits=300`],
          ...(peer && {
            pair: {
              role: i === 0 ? 'primary' : 'backup',
              corePort: node.corePort!,
              peerCorePort: peer.corePort!,
              clusterUser: 'rts-cluster',
              clusterPassword,
            },
          }),
          ...(groups > 1 && {
            group: {
              corePort: node.corePort!,
              peerCorePorts: others.map((other) => other.corePort!),
              clusterUser: 'rts-cluster',
              clusterPassword,
            },
          }),
        },
        configuration,
      ),
    );
    writeFileSync(join(node.instance, 'etc', 'artemis-users.properties'), configuration.usersProperties, {
      mode: 0o600,
    });
    writeFileSync(join(node.instance, 'etc', 'artemis-roles.properties'), configuration.rolesProperties);
  });
  for (const [i, node] of nodes.entries()) {
    node.pid = launch(dir, node);
    writeState(stateFile, state);
    await waitFor(node, node.pid, i === 0 || !options.pair ? () => amqpOpens(state, node) : backupSynchronized(node));
  }
  return state;
}

/** kill -9 node `index` (the primary by default), keeping its journal: what a crash leaves. */
export async function killArtemis(stateFile: string, index = 0): Promise<void> {
  const pid = readState(stateFile).nodes[index]?.pid;
  if (pid && isAlive(pid)) process.kill(pid, 'SIGKILL');
  if (pid) await waitForExit([pid], STOP_TIMEOUT_MS);
}

/** Starts node `index` again on its journal; resolves with how long it took to accept AMQP connections. */
export async function restartArtemis(stateFile: string, index = 0): Promise<number> {
  const state = readState(stateFile);
  const node = state.nodes[index];
  if (!node) throw new Error(`artemis: no node ${index + 1}`);
  const started = Date.now();
  node.pid = launch(state.dir, node);
  writeState(stateFile, state);
  await waitFor(node, node.pid, () => amqpOpens(state, node));
  return Date.now() - started;
}

/** Stops every node by pid (TERM, then KILL) and removes everything they had. */
export async function stopArtemis(stateFile: string): Promise<void> {
  if (!existsSync(stateFile)) return;
  const state = readState(stateFile);
  for (const { pid } of state.nodes) {
    if (pid && isAlive(pid)) {
      process.kill(pid, 'SIGTERM');
      if (!(await waitForExit([pid], STOP_TIMEOUT_MS))) process.kill(pid, 'SIGKILL');
    }
  }
  rmSync(state.dir, { recursive: true, force: true });
  rmSync(stateFile, { force: true });
}
