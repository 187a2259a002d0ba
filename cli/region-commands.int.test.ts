import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import rhea, { type Connection, type EventContext } from 'rhea';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { downlinkQueueName, downlinkReceiveAddress, uplinkSendAddress, vhostHostname } from '../shared/broker/index.ts';
import { verifyEnrolment, type Enrolment } from '../shared/enrolment/index.ts';
import { pemToDer, PEM_LABELS } from '../shared/pki/index.ts';
import { loadBrokerEnv, ctl } from '../scripts/test-env/index.ts';

/**
 * A region made with `rts region` on the private broker: its definitions imported with rabbitmqctl, an endpoint
 * connecting over TLS with nothing but its enrolment file and its password.
 */

const CLI = join(import.meta.dirname, 'rts.ts');
const env = loadBrokerEnv();
const node = env.nodes[0]!;
const open: Connection[] = [];
let root: string;
let dir: string;

function ok(...args: string[]): string {
  const result = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', cwd: root });
  expect(result.stderr).toBe('');
  expect(result.status).toBe(0);
  return result.stdout;
}

const secrets = () => JSON.parse(readFileSync(join(dir, 'secrets.json'), 'utf8')) as Record<string, string>;
const importDefinitions = () => ctl(env, node, ['import_definitions', join(dir, 'broker-definitions.json')]);

async function enrolmentOf(id: string): Promise<Enrolment> {
  const trusted = pemToDer(readFileSync(join(dir, 'ca.pem'), 'utf8'), PEM_LABELS.certificate);
  return verifyEnrolment(readFileSync(join(dir, 'endpoints', id, `${id}.rtsenrol`)), trusted);
}

/** Connects as the enrolment file says, with this user and password; resolves once open, or with the failure. */
function connect(
  enrolment: Enrolment,
  username: string,
  password: string,
): Promise<{ connection: Connection; opened: boolean }> {
  const { host, port } = enrolment.broker.hosts[0]!;
  const connection = rhea.create_container().connect({
    host,
    port,
    transport: 'tls',
    ca: [enrolment.broker.tlsCaPem!],
    rejectUnauthorized: true,
    hostname: vhostHostname(enrolment.broker.vhost),
    username,
    password,
    reconnect: false,
  });
  open.push(connection);
  return new Promise((resolve) => {
    connection.once('connection_open', () => resolve({ connection, opened: true }));
    connection.once('connection_error', () => resolve({ connection, opened: false }));
    connection.once('disconnected', () => resolve({ connection, opened: false }));
  });
}

/** One message to the endpoint's own uplink: 'accepted', or how the broker refused it. */
function publish(connection: Connection, endpointId: string): Promise<string> {
  const sender = connection.open_sender({ target: { address: uplinkSendAddress(endpointId) } });
  return new Promise<string>((resolve) => {
    sender.once('sendable', () => sender.send({ message_id: randomUUID(), body: 'region test' }));
    sender.once('accepted', () => resolve('accepted'));
    sender.once('rejected', () => resolve('rejected'));
    sender.once('sender_error', (context: EventContext) =>
      resolve(`refused ${String((context.sender?.error as { condition?: string } | undefined)?.condition)}`),
    );
    sender.session.once('session_error', (context: EventContext) =>
      resolve(`refused ${String((context.session?.error as { condition?: string } | undefined)?.condition)}`),
    );
    connection.once('connection_error', (context: EventContext) =>
      resolve(`refused ${String((context.connection.error as { condition?: string } | undefined)?.condition)}`),
    );
    connection.once('disconnected', () => resolve('disconnected'));
    setTimeout(() => resolve('no answer in 15 s'), 15_000);
  });
}

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'rts-region-int-'));
  // rabbitmqctl runs as the broker's user, who reads the definitions file from here.
  chmodSync(root, 0o755);
  dir = join(root, 'region');
});

afterAll(() => {
  for (const connection of open) connection.close();
  // The region's hub and administrator share the test broker's user names: give those users their passwords back.
  // '--': a password may begin with '-' (base64url), which rabbitmqctl would read as an option and refuse, leaving the
  // hub and the administrator of every later suite locked out.
  for (const user of [env.users.hub, env.users.admin])
    ctl(env, node, ['change_password', '--', user.name, user.password]);
  for (const user of ['ws-int-1', 'ws-int-2', 'ws-int-3']) {
    ctlQuiet(['delete_user', user]);
    ctlQuiet(['delete_queue', '-p', env.vhost, downlinkQueueName(user)]);
  }
  rmSync(root, { recursive: true, force: true });
});

function ctlQuiet(args: string[]): void {
  try {
    ctl(env, node, args);
  } catch {
    // Already gone.
  }
}

describe('rts region on the private broker', () => {
  it('an endpoint added with rts region connects over TLS from its enrolment file; a second add keeps the hub able to connect', async () => {
    ok(
      'region',
      'create',
      '--dir',
      dir,
      '--name',
      'Int Region',
      '--broker-host',
      `127.0.0.1:${node.tlsPort}`,
      '--broker-ca',
      env.tlsCaFile,
      '--management-url',
      `http://127.0.0.1:${node.managementPort}`,
    );
    ok('region', 'add-endpoint', 'ws-int-1', '--dir', dir, '--kind', 'workstation');
    importDefinitions();
    const enrolment = await enrolmentOf('ws-int-1');
    const first = await connect(enrolment, enrolment.broker.username, secrets()['ws-int-1']!);
    expect(first.opened).toBe(true);
    expect(await publish(first.connection, 'ws-int-1')).toBe('accepted');

    ok('region', 'add-endpoint', 'ws-int-2', '--dir', dir, '--kind', 'workstation');
    importDefinitions();
    expect((await connect(enrolment, 'rts-hub', secrets()['rts-hub']!)).opened).toBe(true);
    expect((await connect(enrolment, 'ws-int-1', secrets()['ws-int-1']!)).opened).toBe(true);
  }, 120_000);

  it('a suspension needs the printed rabbitmqctl lines: an import alone leaves the permissions in place', async () => {
    const enrolment = await enrolmentOf('ws-int-1');
    const printed = ok('region', 'suspend', 'ws-int-1', '--dir', dir);
    importDefinitions();
    const before = await connect(enrolment, 'ws-int-1', secrets()['ws-int-1']!);
    expect(before.opened).toBe(true);
    expect(await publish(before.connection, 'ws-int-1')).toBe('accepted');

    for (const line of printed.split('\n').filter((l) => l.trim().startsWith('rabbitmqctl clear_'))) {
      ctl(env, node, line.trim().split(/\s+/).slice(1));
    }
    const after = await connect(enrolment, 'ws-int-1', secrets()['ws-int-1']!);
    expect(after.opened).toBe(true);
    expect(await publish(after.connection, 'ws-int-1')).toBe('refused amqp:unauthorized-access');
  }, 120_000);

  it('sync-broker gives a new endpoint its user, downlink and grants through the management API, without an import', async () => {
    ok('region', 'add-endpoint', 'ws-int-3', '--dir', dir, '--kind', 'workstation');
    const out = ok('region', 'sync-broker', '--dir', dir);
    expect(out).toContain('ws-int-3: user (password of secrets.json), queue rts.downlink.ws-int-3');
    expect(out).toContain('Left alone: ws-int-1 (suspended).');
    const enrolment = await enrolmentOf('ws-int-3');
    const joined = await connect(enrolment, 'ws-int-3', secrets()['ws-int-3']!);
    expect(joined.opened).toBe(true);
    expect(await publish(joined.connection, 'ws-int-3')).toBe('accepted');
    const attached = await new Promise<string>((resolve) => {
      const receiver = joined.connection.open_receiver({
        source: { address: downlinkReceiveAddress('ws-int-3') },
        credit_window: 0,
      });
      receiver.once('receiver_open', () => resolve('attached'));
      receiver.once('receiver_error', () => resolve('refused'));
      receiver.session.once('session_error', () => resolve('refused'));
    });
    expect(attached).toBe('attached');
    // Another endpoint's downlink stays closed to it.
    expect(
      await new Promise<string>((resolve) => {
        const receiver = joined.connection.open_receiver({
          source: { address: downlinkReceiveAddress('ws-int-2') },
          credit_window: 0,
        });
        receiver.once('receiver_open', () => resolve('attached'));
        receiver.once('receiver_error', () => resolve('refused'));
        receiver.session.once('session_error', () => resolve('refused'));
      }),
    ).toBe('refused');
  }, 120_000);
});
