import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import type { ConnectionState } from '../shared/api/index.ts';
import { endpointCredentials, loadBrokerEnv, createFreePortHost } from '../scripts/test-env/index.ts';
import { createBrokerConnection, type BrokerConnection } from './broker-connection.ts';

const env = loadBrokerEnv();
const broker = { host: '127.0.0.1', port: env.nodes[0]!.amqpPort };
const clinic = endpointCredentials(env, 'clinic-a');
const started: BrokerConnection[] = [];

function connection(overrides: Partial<Parameters<typeof createBrokerConnection>[0]> = {}): BrokerConnection {
  const c = createBrokerConnection({
    hosts: [broker],
    vhost: env.vhost,
    username: clinic.name,
    password: async () => clinic.password,
    reconnectDelayMs: { initial: 50, max: 200 },
    ...overrides,
  });
  started.push(c);
  return c;
}

function waitFor(c: BrokerConnection, predicate: (s: ConnectionState) => boolean): Promise<ConnectionState> {
  if (predicate(c.state)) return Promise.resolve(c.state);
  return new Promise((resolve) => {
    const off = c.onStateChanged((s) => {
      if (!predicate(s)) return;
      off();
      resolve(s);
    });
  });
}

afterEach(async () => {
  await Promise.all(started.splice(0).map((c) => c.stop()));
});

describe('broker connection', () => {
  it('goes online with the endpoint credentials and reports the host', async () => {
    const c = connection();
    const seen: string[] = [];
    c.onStateChanged((s) => seen.push(s.status));
    await c.start();
    const state = await waitFor(c, (s) => s.status === 'online');
    expect(state.host).toBe(`${broker.host}:${broker.port}`);
    expect(seen).toEqual(['connecting', 'online']);
  });

  it('goes offline with the reason when the broker refuses the password, and stops retrying', async () => {
    const c = connection({ password: async () => 'wrong-password' });
    await c.start();
    const state = await waitFor(c, (s) => s.status === 'offline');
    expect(state.reason).toMatch(/unauthorized|auth|sasl/i);
    await new Promise((r) => setTimeout(r, 500));
    expect(c.state.status).toBe('offline');
  });

  it('fails over to the next host when the first one is down', async () => {
    const dead = await createFreePortHost();
    const c = connection({ hosts: [dead, broker] });
    await c.start();
    const state = await waitFor(c, (s) => s.status === 'online');
    expect(state.host).toBe(`${broker.host}:${broker.port}`);
  });
});

describe('broker connection over TLS', () => {
  const tlsHost = { host: '127.0.0.1', port: env.nodes[0]!.tlsPort };
  const ca = readFileSync(env.tlsCaFile, 'utf8');

  it('goes online over amqps when the server certificate chains to the configured CA', async () => {
    const c = connection({ hosts: [tlsHost], tls: { ca } });
    await c.start();
    expect(await waitFor(c, (s) => s.status === 'online')).toMatchObject({ host: `127.0.0.1:${tlsHost.port}` });
  });

  it('refuses a server whose certificate does not chain to the configured CA, and says why', async () => {
    // The public web's CAs: a real trust store that does not contain the broker's CA.
    const otherCa = readFileSync('/etc/ssl/certs/ca-certificates.crt', 'utf8');
    const c = connection({ hosts: [tlsHost], tls: { ca: otherCa }, reconnectDelayMs: { initial: 5_000, max: 5_000 } });
    await c.start();
    const state = await waitFor(c, (s) => s.reason !== undefined && s.status !== 'online');
    expect(state.reason).toMatch(/certificate|self.signed|verify/i);
  });
});
