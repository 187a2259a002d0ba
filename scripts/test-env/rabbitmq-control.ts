/**
 * A private RabbitMQ (one node, or a cluster for failover suites) on loopback ports, with the RTS topology loaded from
 * one definitions file. Everything it starts is recorded in a state file and stopped by pid. Fault suites use
 * killNode/restartNode to crash and revive a node with its data. The command line is rabbitmq.ts.
 */
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { buildRabbitmqDefinitions } from '../../hub/index.ts';
import type { BrokerEnvState, BrokerNodeState } from './broker-env.ts';
import { freeLoopbackPort as freePort } from './free-port.ts';
import { isAlive, startDetached, waitForExit } from './process-liveness.ts';

/** Endpoints every test environment provisions; suites that need more provision them through the admin user. */
const TEST_ENDPOINTS = ['clinic-a', 'clinic-b', 'clinic-c', 'ws-expert-1', 'ws-applicant-1'];
const RABBITMQ_BIN = '/usr/lib/rabbitmq/bin';
const BOOT_TIMEOUT_S = 120;

const isRoot = process.getuid?.() === 0;

function rabbitmqIds(): { uid: number; gid: number } | undefined {
  if (!isRoot) return undefined;
  const uid = spawnSync('id', ['-u', 'rabbitmq'], { encoding: 'utf8' });
  const gid = spawnSync('id', ['-g', 'rabbitmq'], { encoding: 'utf8' });
  if (uid.status !== 0) throw new Error('user rabbitmq missing: install the Debian package rabbitmq-server');
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

/** As root, the Erlang VM must run as `rabbitmq` (the Debian scripts refuse root); otherwise as the current user. */
function asBrokerUser(command: string, args: string[]): [string, string[]] {
  return isRoot ? ['runuser', ['-u', 'rabbitmq', '--', command, ...args]] : [command, args];
}

function nodeEnv(state: BrokerEnvState, node: BrokerNodeState): NodeJS.ProcessEnv {
  const erlArgs = '-kernel inet_dist_use_interface {127,0,0,1}';
  return {
    PATH: process.env.PATH,
    LANG: 'C.UTF-8',
    HOME: state.homeDir,
    ERL_EPMD_PORT: String(state.epmd.port),
    ERL_EPMD_ADDRESS: '127.0.0.1',
    RABBITMQ_NODENAME: node.name,
    RABBITMQ_MNESIA_BASE: join(node.dir, 'mnesia'),
    RABBITMQ_LOG_BASE: join(node.dir, 'log'),
    RABBITMQ_PID_FILE: join(node.dir, 'rabbit.pid'),
    RABBITMQ_CONFIG_FILE: join(node.dir, 'rabbitmq.conf'),
    RABBITMQ_ENABLED_PLUGINS_FILE: join(state.dir, 'enabled_plugins'),
    RABBITMQ_DIST_PORT: String(node.distPort),
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: erlArgs,
    RABBITMQ_CTL_ERL_ARGS: erlArgs,
  };
}

export function ctl(state: BrokerEnvState, node: BrokerNodeState, args: string[], timeoutMs = 60_000) {
  const [command, argv] = asBrokerUser(join(RABBITMQ_BIN, 'rabbitmqctl'), ['-n', node.name, ...args]);
  const result = spawnSync(command, argv, { env: nodeEnv(state, node), encoding: 'utf8', timeout: timeoutMs });
  if (result.status !== 0) {
    throw new Error(`rabbitmqctl ${args.join(' ')} failed (${result.status}): ${result.stderr || result.stdout}`);
  }
  return result.stdout;
}

function nodeConfig(state: BrokerEnvState, node: BrokerNodeState, loadDefinitionsAtBoot: boolean): string {
  const lines = [
    `listeners.tcp.1 = 127.0.0.1:${node.amqpPort}`,
    `listeners.ssl.1 = 127.0.0.1:${node.tlsPort}`,
    `ssl_options.cacertfile = ${join(state.dir, 'tls', 'ca.pem')}`,
    `ssl_options.certfile = ${join(state.dir, 'tls', 'server.pem')}`,
    `ssl_options.keyfile = ${join(state.dir, 'tls', 'server.key')}`,
    `ssl_options.verify = verify_none`,
    `ssl_options.fail_if_no_peer_cert = false`,
    `management.tcp.ip = 127.0.0.1`,
    `management.tcp.port = ${node.managementPort}`,
    // Anonymous AMQP 1.0 clients would otherwise log in as guest.
    `amqp1_0.default_user = none`,
    `amqp1_0.default_vhost = rts`,
    `log.file.level = warning`,
    `log.console = false`,
  ];
  if (loadDefinitionsAtBoot) lines.push(`load_definitions = ${state.definitionsFile}`);
  if (state.nodes.length > 1) {
    lines.push('cluster_formation.peer_discovery_backend = classic_config');
    state.nodes.forEach((n, i) => lines.push(`cluster_formation.classic_config.nodes.${i + 1} = ${n.name}`));
  }
  return lines.join('\n') + '\n';
}

/** A throw-away CA and a server certificate for 127.0.0.1 and localhost, made with the openssl CLI. */
function makeTlsCertificates(dir: string): string {
  mkdirSync(dir, { recursive: true });
  const openssl = (...args: string[]) => {
    const result = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`openssl ${args[0]} failed: ${result.stderr}`);
  };
  openssl(
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
    '-days',
    '30',
    '-subj',
    '/CN=RTS test broker CA',
  );
  openssl(
    'req',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    'server.key',
    '-out',
    'server.csr',
    '-subj',
    '/CN=localhost',
  );
  writeFileSync(
    join(dir, 'server.ext'),
    'subjectAltName = IP:127.0.0.1, DNS:localhost\nextendedKeyUsage = serverAuth\n',
  );
  openssl(
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'server.pem',
    '-days',
    '30',
    '-extfile',
    'server.ext',
  );
  return join(dir, 'ca.pem');
}

/**
 * Its ports are found free before the nodes start, and another process (a node's own outgoing connections among them:
 * they take ports from the same range) can take one in between: on 7 Dec a node failed so, `eaddrinuse` in its log.
 * The broker is then started again on new ports.
 */
export async function startBroker(stateFile: string, nodeCount: number, attempts = 3): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startBrokerOnce(stateFile, nodeCount);
    } catch (error) {
      if (!(error instanceof PortTakenError) || attempt >= attempts) throw error;
      console.error(`rabbitmq: a port was taken before the broker could listen on it; starting again on new ports`);
    }
  }
}

class PortTakenError extends Error {}

async function startBrokerOnce(stateFile: string, nodeCount: number): Promise<void> {
  if (existsSync(stateFile)) throw new Error(`${stateFile} exists: stop that broker first`);
  const ids = rabbitmqIds();
  // Under /tmp, not the work tree: the broker user must be able to traverse to it, which a private clone may forbid.
  const dir = mkdtempSync('/tmp/rts-rabbitmq-');
  chmodSync(dir, 0o755);
  const homeDir = join(dir, 'home');
  mkdirSync(homeDir);
  writeFileSync(join(homeDir, '.erlang.cookie'), randomBytes(24).toString('hex'), { mode: 0o400 });

  const nodes: BrokerNodeState[] = [];
  for (let i = 1; i <= nodeCount; i++) {
    const name = `rts${i}-${process.pid}@localhost`;
    const nodeDir = join(dir, `node${i}`);
    mkdirSync(join(nodeDir, 'log'), { recursive: true });
    mkdirSync(join(nodeDir, 'mnesia'), { recursive: true });
    nodes.push({
      name,
      dir: nodeDir,
      amqpPort: await freePort(),
      tlsPort: await freePort(),
      managementPort: await freePort(),
      distPort: await freePort(),
    });
  }
  const password = () => randomBytes(18).toString('base64url');
  const users = {
    admin: { name: 'rts-admin', password: password() },
    hub: { name: 'rts-hub', password: password() },
    endpoints: TEST_ENDPOINTS.map((name) => ({ name, password: password() })),
  };
  const state: BrokerEnvState = {
    dir,
    homeDir,
    nodes,
    users,
    definitionsFile: join(dir, 'definitions.json'),
    epmd: { port: await freePort(), pid: 0 },
    vhost: 'rts',
    tlsCaFile: makeTlsCertificates(join(dir, 'tls')),
  };
  writeFileSync(join(dir, 'enabled_plugins'), '[rabbitmq_amqp1_0,rabbitmq_management].\n');
  writeFileSync(state.definitionsFile, JSON.stringify(buildRabbitmqDefinitions({ ...users }), null, 2));
  for (const node of nodes) writeFileSync(join(node.dir, 'rabbitmq.conf'), nodeConfig(state, node, nodeCount === 1));
  if (ids) spawnSync('chown', ['-R', `${ids.uid}:${ids.gid}`, dir]);

  // Our own epmd, loopback only, so that stopping it cannot disturb another Erlang system on the machine.
  const epmdArgs = ['-address', '127.0.0.1', '-port', String(state.epmd.port)];
  state.epmd.pid = startDetached('epmd', epmdArgs, { PATH: process.env.PATH }, join(dir, 'epmd.log'));
  writeFileSync(stateFile, JSON.stringify(state, null, 2));

  const started = Date.now();
  for (const node of nodes) {
    const [cmd, args] = asBrokerUser(join(RABBITMQ_BIN, 'rabbitmq-server'), []);
    node.launcherPid = startDetached(cmd, args, nodeEnv(state, node), join(node.dir, 'log', 'startup.log'));
  }
  writeFileSync(stateFile, JSON.stringify(state, null, 2));
  try {
    for (const node of nodes) {
      ctl(
        state,
        node,
        ['wait', '--timeout', String(BOOT_TIMEOUT_S), join(node.dir, 'rabbit.pid')],
        BOOT_TIMEOUT_S * 1000 + 5000,
      );
      node.pid = Number(readFileSync(join(node.dir, 'rabbit.pid'), 'utf8').trim());
    }
    if (nodeCount > 1) {
      ctl(
        state,
        nodes[0]!,
        ['await_online_nodes', String(nodeCount), '--timeout', String(BOOT_TIMEOUT_S)],
        BOOT_TIMEOUT_S * 1000 + 5000,
      );
      // Imported only once every member is up, or quorum queues get a single replica.
      ctl(state, nodes[0]!, ['import_definitions', state.definitionsFile]);
    }
    ctl(state, nodes[0]!, ['list_users']);
  } catch (error) {
    writeFileSync(stateFile, JSON.stringify(state, null, 2));
    for (const node of nodes) printLogTail(node);
    const portTaken = nodes.some(logsMention('eaddrinuse'));
    await stopBroker(stateFile);
    throw portTaken ? new PortTakenError(String(error), { cause: error }) : error;
  }
  writeFileSync(stateFile, JSON.stringify(state, null, 2));
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  console.log(`rabbitmq: ${nodeCount} node(s) up in ${seconds}s, amqp ports ${nodes.map((n) => n.amqpPort).join(',')}`);
}

/** Each log file a node wrote, with its text. */
function nodeLogs(node: BrokerNodeState): { file: string; text: string }[] {
  const logDir = join(node.dir, 'log');
  return (existsSync(logDir) ? readdirSync(logDir) : []).map((file) => ({
    file,
    text: readFileSync(join(logDir, file), 'utf8'),
  }));
}

const logsMention = (text: string) => (node: BrokerNodeState) => nodeLogs(node).some((log) => log.text.includes(text));

/** The broker's own words on why it did not start, before its folder is removed. */
function printLogTail(node: BrokerNodeState): void {
  for (const { file, text } of nodeLogs(node)) {
    const lines = text.trimEnd().split('\n').slice(-30);
    console.error(`--- ${node.name} ${file} (last ${lines.length} lines)\n${lines.join('\n')}`);
  }
}

export async function stopBroker(stateFile: string): Promise<void> {
  if (!existsSync(stateFile)) return;
  const state = JSON.parse(readFileSync(stateFile, 'utf8')) as BrokerEnvState;
  const pids: number[] = [];
  for (const node of state.nodes) {
    const pidFile = join(node.dir, 'rabbit.pid');
    if (!node.pid && existsSync(pidFile)) node.pid = Number(readFileSync(pidFile, 'utf8').trim()) || undefined;
    for (const pid of [node.pid, node.launcherPid]) if (pid) pids.push(pid);
  }
  // A test broker's data is thrown away, so there is nothing to shut down in order (SIGTERM would take ~6 s).
  for (const pid of [...pids, state.epmd.pid]) {
    if (pid && isAlive(pid)) process.kill(pid, 'SIGKILL');
  }
  await waitForExit([...pids, state.epmd.pid], 5_000);
  rmSync(state.dir, { recursive: true, force: true });
  rmSync(stateFile, { force: true });
  console.log('rabbitmq: stopped');
}

function readState(stateFile: string): BrokerEnvState {
  return JSON.parse(readFileSync(stateFile, 'utf8')) as BrokerEnvState;
}

function nodeAt(state: BrokerEnvState, index: number): BrokerNodeState {
  const node = state.nodes[index];
  if (!node) throw new Error(`no broker node ${index + 1}`);
  return node;
}

/** kill -9 of one node: no shutdown, as in a crash or power cut. */
export async function killNode(stateFile: string, index = 0): Promise<void> {
  const state = readState(stateFile);
  const node = nodeAt(state, index);
  for (const pid of [node.pid, node.launcherPid]) if (pid && isAlive(pid)) process.kill(pid, 'SIGKILL');
  await waitForExit(
    [node.pid ?? 0, node.launcherPid ?? 0].filter((p) => p > 0),
    10_000,
  );
}

/** Starts a killed node again on the same data, ports and cookie, and waits until it serves. */
export async function restartNode(stateFile: string, index = 0): Promise<number> {
  const state = readState(stateFile);
  const node = nodeAt(state, index);
  const started = Date.now();
  rmSync(join(node.dir, 'rabbit.pid'), { force: true });
  const [cmd, args] = asBrokerUser(join(RABBITMQ_BIN, 'rabbitmq-server'), []);
  node.launcherPid = startDetached(cmd, args, nodeEnv(state, node), join(node.dir, 'log', 'startup.log'));
  ctl(
    state,
    node,
    ['wait', '--timeout', String(BOOT_TIMEOUT_S), join(node.dir, 'rabbit.pid')],
    BOOT_TIMEOUT_S * 1000 + 5000,
  );
  node.pid = Number(readFileSync(join(node.dir, 'rabbit.pid'), 'utf8').trim());
  writeFileSync(stateFile, JSON.stringify(state, null, 2));
  return Date.now() - started;
}
