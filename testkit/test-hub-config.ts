import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrokerEnvState } from '../scripts/test-env/index.ts';
import type { HubConfig } from '../hub/index.ts';
import type { BrokerUnderTest } from './broker-under-test.ts';
import type { TestRegion } from './test-region.ts';

/** Shared by every test hub on PGlite, so that initdb runs once per PGlite release on a machine, not once per hub. */
export const TEST_PGLITE_TEMPLATES = join(tmpdir(), 'rts-test-pglite-templates');

/** A hub configuration file for the private test broker; secrets travel in the returned environment, not the file. */
export function writeTestHubConfig(options: {
  dir: string;
  name: string;
  region: TestRegion;
  broker: BrokerUnderTest;
  database: { kind: 'embedded'; path: string } | { kind: 'postgres'; url: string };
  claimMs?: number;
  /** Port of the operator API (rts hub …). */
  operatorPort?: number;
  /** How often the hub reads its CRL files again (default: the hub's). */
  crlReloadSeconds?: number;
  /** The CRL file this instance reads (default: the region's), e.g. one per instance, replaced at different times. */
  crlFile?: string;
}): { file: string; env: Record<string, string> } {
  const { broker, region } = options;
  const config: HubConfig = {
    instanceId: options.name,
    broker: broker.hubConfig({ hubPassword: 'RTS_HUB_BROKER_PASSWORD', adminPassword: 'RTS_HUB_ADMIN_PASSWORD' }),
    database:
      options.database.kind === 'embedded'
        ? { ...options.database, templates: TEST_PGLITE_TEMPLATES }
        : { kind: 'postgres', url: { env: 'RTS_HUB_DATABASE_URL' } },
    identity: { certificateFile: region.files.hubCertificate, privateKeyFile: region.files.hubKey },
    trust: {
      anchorFiles: [region.files.ca],
      crlFiles: [options.crlFile ?? region.files.crl],
      ...(options.crlReloadSeconds && { crlReloadSeconds: options.crlReloadSeconds }),
    },
    claimMs: options.claimMs ?? 30_000,
    ...(options.operatorPort && { operator: { port: options.operatorPort, token: { env: 'RTS_HUB_OPERATOR_TOKEN' } } }),
  };
  const file = join(options.dir, `${options.name}.json`);
  writeFileSync(file, JSON.stringify(config, null, 2));
  return {
    file,
    env: {
      RTS_HUB_BROKER_PASSWORD: broker.hub.password,
      RTS_HUB_ADMIN_PASSWORD: broker.admin.password,
      RTS_HUB_OPERATOR_TOKEN: `operator-${options.name}`,
      ...(options.database.kind === 'postgres' && { RTS_HUB_DATABASE_URL: options.database.url }),
    },
  };
}

/** The test RabbitMQ's management API, as its administrator. */
async function management(
  broker: BrokerEnvState,
  method: 'GET' | 'PUT' | 'DELETE',
  path: string,
  body?: unknown,
): Promise<Response> {
  const response = await fetch(`http://127.0.0.1:${broker.nodes[0]!.managementPort}/api/${path}`, {
    method,
    headers: {
      authorization: `Basic ${Buffer.from(`${broker.users.admin.name}:${broker.users.admin.password}`).toString('base64')}`,
      'content-type': 'application/json',
    },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  if (!response.ok) throw new Error(`management API ${method} ${path}: ${response.status} ${await response.text()}`);
  return response;
}

/** What the region's administrator does before an endpoint can join: a broker user that may only write the uplink. */
export async function createEndpointUser(broker: BrokerEnvState, id: string, password: string): Promise<void> {
  const put = (path: string, body: unknown) => management(broker, 'PUT', path, body);
  await put(`users/${id}`, { password, tags: '' });
  await put(`permissions/${broker.vhost}/${id}`, { configure: '^$', write: '^rts\\.uplink$', read: '^$' });
  await put(`topic-permissions/${broker.vhost}/${id}`, { exchange: 'rts.uplink', write: `^${id}$`, read: '^$' });
}

/** Empties every queue of the test vhost (suites share one broker, and must not see each other's leftovers), or one. */
export async function purgeTestQueues(broker: BrokerEnvState, only?: string): Promise<void> {
  const queues = only
    ? [{ name: only }]
    : ((await (await management(broker, 'GET', `queues/${broker.vhost}`)).json()) as { name: string }[]);
  for (const q of queues)
    await management(broker, 'DELETE', `queues/${broker.vhost}/${encodeURIComponent(q.name)}/contents`);
}
