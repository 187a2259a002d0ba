/**
 * A private ActiveMQ Artemis on a loopback port, with the RTS topology in its broker.xml (hub/broker/
 * artemis-configuration.ts, the file an administrator is given too). It runs from the distribution scripts/setup.sh
 * fetched from Maven Central, on the machine's Java; everything it starts is recorded in a state file and stopped by
 * pid. Fault tests use killArtemis/restartArtemis to crash and revive it with its journal. The command line is
 * artemis.ts.
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import rhea from 'rhea';
import { artemisBrokerXml, buildArtemisConfiguration } from '../../hub/index.ts';
import { freeLoopbackPort } from './free-port.ts';
import { isAlive } from './process-liveness.ts';

/** The version scripts/setup.sh installs; keep the two in step. */
export const ARTEMIS_VERSION = '2.40.0';
export const ARTEMIS_HOME = resolve(import.meta.dirname, '../../.tools', `apache-artemis-${ARTEMIS_VERSION}`);
/** Endpoints the private broker provisions, as the RabbitMQ one does. */
const TEST_ENDPOINTS = ['clinic-a', 'clinic-b', 'clinic-c', 'ws-expert-1', 'ws-applicant-1'];
/** Seen on this machine: up 3.2–4.4 s after `artemis run` (JVM start, then the journal); a loaded machine is slower. */
const BOOT_TIMEOUT_MS = 90_000;
const STOP_TIMEOUT_MS = 30_000;

export const ARTEMIS_STATE_ENV = 'RTS_TEST_ARTEMIS_STATE';

export interface ArtemisEnvState {
  /** Everything of this broker: the instance (bin, etc, data, log). */
  dir: string;
  instance: string;
  amqpPort: number;
  pid?: number;
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
const writeState = (file: string, state: ArtemisEnvState) =>
  writeFileSync(file, JSON.stringify(state, null, 2), { mode: 0o600 });

function logTail(state: ArtemisEnvState): string {
  const file = join(state.instance, 'log', 'run.out');
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').slice(-30).join('\n') : '(no log)';
}

/** True when the admin user gets an AMQP connection open (a listening port alone can still be refusing). */
function amqpOpens(state: ArtemisEnvState): Promise<boolean> {
  return new Promise((done) => {
    const connection = rhea.create_container({ id: 'rts-test-env' }).connect({
      host: '127.0.0.1',
      port: state.amqpPort,
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

/** Resolves once the broker opens AMQP connections; fails with its log if it exits or takes too long. */
async function waitUntilUp(state: ArtemisEnvState, pid: number): Promise<void> {
  const deadline = Date.now() + BOOT_TIMEOUT_MS;
  for (;;) {
    if (await amqpOpens(state)) return;
    if (!isAlive(pid)) throw new Error(`artemis: exited while starting:\n${logTail(state)}`);
    if (Date.now() > deadline) throw new Error(`artemis: not up after ${BOOT_TIMEOUT_MS} ms:\n${logTail(state)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function launch(state: ArtemisEnvState): number {
  const out = openSync(join(state.instance, 'log', 'run.out'), 'a');
  const child = spawn(join(state.instance, 'bin', 'artemis'), ['run'], {
    detached: true,
    stdio: ['ignore', out, out],
    env: { PATH: process.env.PATH, HOME: state.dir, LANG: 'C.UTF-8' },
  });
  closeSync(out);
  child.unref();
  if (!child.pid) throw new Error('artemis: could not start');
  return child.pid;
}

/** Creates the instance, writes the topology and starts the broker; the state file is written before the start. */
export async function startArtemis(stateFile: string, deliveryLimit = 5): Promise<ArtemisEnvState> {
  if (!existsSync(join(ARTEMIS_HOME, 'bin', 'artemis'))) {
    throw new Error(
      `artemis: ${ARTEMIS_HOME} is missing: run scripts/setup.sh (it fetches Artemis from Maven Central)`,
    );
  }
  const dir = mkdtempSync('/tmp/rts-artemis-');
  const instance = join(dir, 'instance');
  const state: ArtemisEnvState = {
    dir,
    instance,
    amqpPort: await freeLoopbackPort(),
    deliveryLimit,
    users: {
      admin: { name: 'rts-admin', password: password() },
      hub: { name: 'rts-hub', password: password() },
      endpoints: TEST_ENDPOINTS.map((name) => ({ name, password: password() })),
    },
  };
  writeState(stateFile, state);
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
      instance,
    ],
    { encoding: 'utf8', env: { PATH: process.env.PATH, HOME: dir, LANG: 'C.UTF-8' }, timeout: 120_000 },
  );
  if (created.status !== 0) throw new Error(`artemis create failed: ${created.stderr || created.stdout}`);
  const configuration = buildArtemisConfiguration({ ...state.users, deliveryLimit });
  writeFileSync(
    join(instance, 'etc', 'broker.xml'),
    artemisBrokerXml(
      {
        name: 'rts-test',
        acceptors: [`tcp://127.0.0.1:${state.amqpPort}?protocols=AMQP;amqpCredits=1000;amqpLowCredits=300`],
      },
      configuration,
    ),
  );
  writeFileSync(join(instance, 'etc', 'artemis-users.properties'), configuration.usersProperties, { mode: 0o600 });
  writeFileSync(join(instance, 'etc', 'artemis-roles.properties'), configuration.rolesProperties);
  state.pid = launch(state);
  writeState(stateFile, state);
  await waitUntilUp(state, state.pid);
  return state;
}

async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid)) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}

/** kill -9, keeping the journal: what a crash leaves. */
export async function killArtemis(stateFile: string): Promise<void> {
  const state = JSON.parse(readFileSync(stateFile, 'utf8')) as ArtemisEnvState;
  if (state.pid && isAlive(state.pid)) process.kill(state.pid, 'SIGKILL');
  if (state.pid) await waitForExit(state.pid, STOP_TIMEOUT_MS);
}

/** Starts the broker again on the same instance and journal; resolves with how long it took to accept connections. */
export async function restartArtemis(stateFile: string): Promise<number> {
  const state = JSON.parse(readFileSync(stateFile, 'utf8')) as ArtemisEnvState;
  const started = Date.now();
  state.pid = launch(state);
  writeState(stateFile, state);
  await waitUntilUp(state, state.pid);
  return Date.now() - started;
}

/** Stops the broker by pid (TERM, then KILL) and removes everything it had. */
export async function stopArtemis(stateFile: string): Promise<void> {
  if (!existsSync(stateFile)) return;
  const state = JSON.parse(readFileSync(stateFile, 'utf8')) as ArtemisEnvState;
  if (state.pid && isAlive(state.pid)) {
    process.kill(state.pid, 'SIGTERM');
    if (!(await waitForExit(state.pid, STOP_TIMEOUT_MS))) process.kill(state.pid, 'SIGKILL');
  }
  rmSync(state.dir, { recursive: true, force: true });
  rmSync(stateFile, { force: true });
}
