import { mkdirSync } from 'node:fs';
import { assertEndpointId } from '../../shared/protocol/index.ts';
import { RABBITMQ_TOPOLOGY as T } from '../../shared/broker/index.ts';
import { buildRabbitmqDefinitions, rabbitPasswordHash } from '../../hub/index.ts';
import { startAmqpListener } from './amqp-listener.ts';
import { createBrokerCore, type Log } from './broker-core.ts';
import { openBrokerStore } from './broker-store.ts';
import { startManagementApi } from './management-api.ts';

/**
 * A single-machine demo broker: an in-process AMQP 1.0 broker for the embedded demo region, never the production path.
 * It speaks the dialect of RabbitMQ 3.10's AMQP 1.0 plugin that the hub and the workstation transport already use
 * (addresses, settlement, refusals, quorum-queue delivery limit and dead-lettering, see amqp-listener.ts and
 * broker-core.ts), serves the subset of RabbitMQ's management API the hub's provisioner calls (management-api.ts), and
 * keeps its queues in an SQLite file in `dataDir`, so that they survive stop() and a new start on the same directory.
 *
 * At every start it loads the RTS topology (buildRabbitmqDefinitions) for vhost `rts`, as RabbitMQ's
 * load_definitions does: exchanges, quorum queues, bindings, and the users given here with their grants. What the
 * management API added since (endpoint users, downlink queues, bindings, permissions) is kept from earlier runs.
 */
export interface DemoBrokerUser {
  readonly name: string;
  readonly password: string;
}

export interface DemoBrokerOptions {
  readonly dataDir: string;
  /** AMQP port on 127.0.0.1; 0 (the default) picks a free one. */
  readonly port?: number;
  /** Management HTTP port on 127.0.0.1; 0 (the default) picks a free one. */
  readonly managementPort?: number;
  /** The management API's administrator (the hub's provisioner uses it). */
  readonly adminUser: string;
  readonly adminPassword: string;
  /** The hub's broker user: reads the uplink, the dead letters and the unroutable queue, writes the downlink exchange. */
  readonly hub?: DemoBrokerUser;
  /** Endpoint users known from the start: each with its downlink queue and the endpoint grants, as in the definitions. */
  readonly users?: readonly DemoBrokerUser[];
  /** Quorum-queue x-delivery-limit of the uplink and the downlinks made at start (RabbitMQ definitions' default: 5). */
  readonly deliveryLimit?: number;
  /** Structured log lines (connections, refusals, dead letters); never message contents. */
  readonly log?: Log;
}

export interface DemoBroker {
  readonly amqpPort: number;
  /** e.g. http://127.0.0.1:15672 */
  readonly managementUrl: string;
  /**
   * A broker user for an endpoint about to join, with the grants a region's administrator gives before registration
   * (as the test kit's createEndpointUser): it may write the uplink under its own routing key and read nothing; the hub
   * grants it its downlink when it registers. Idempotent: an existing user gets the new password.
   */
  addUser(name: string, password: string): Promise<void>;
  stop(): Promise<void>;
}

type Definitions = ReturnType<typeof buildRabbitmqDefinitions>;

function applyDefinitions(
  core: ReturnType<typeof createBrokerCore>,
  definitions: Definitions,
  keep: (user: string) => boolean,
): void {
  for (const v of definitions.vhosts) core.admin.putVhost(v.name);
  for (const u of definitions.users)
    if (keep(u.name)) core.admin.putUser({ name: u.name, passwordHash: u.password_hash, tags: u.tags });
  for (const p of definitions.permissions) if (keep(p.user)) core.admin.putPermission(p.user, p.vhost, p);
  for (const p of definitions.topic_permissions) if (keep(p.user)) core.admin.putTopicPermission(p.user, p.vhost, p);
  for (const e of definitions.exchanges)
    core.admin.putExchange({ vhost: e.vhost, name: e.name, type: e.type, arguments: e.arguments });
  for (const q of definitions.queues)
    core.admin.declareQueue({
      vhost: q.vhost,
      name: q.name,
      durable: q.durable,
      autoDelete: q.auto_delete,
      arguments: q.arguments,
    });
  for (const b of definitions.bindings)
    core.admin.bind({
      vhost: b.vhost,
      source: b.source,
      destination: b.destination,
      routingKey: b.routing_key,
      arguments: b.arguments,
    });
}

export async function startDemoBroker(options: DemoBrokerOptions): Promise<DemoBroker> {
  const log = options.log ?? (() => undefined);
  mkdirSync(options.dataDir, { recursive: true });
  const store = openBrokerStore(options.dataDir);
  let core: ReturnType<typeof createBrokerCore> | undefined;
  try {
    core = createBrokerCore(store, log);
    const hub = options.hub ?? { name: '\u0000no-hub', password: '' };
    const definitions = buildRabbitmqDefinitions({
      admin: { name: options.adminUser, password: options.adminPassword },
      hub,
      endpoints: options.users ?? [],
      ...(options.deliveryLimit !== undefined && { deliveryLimit: options.deliveryLimit }),
    });
    const c = core;
    store.transaction(() => applyDefinitions(c, definitions, (user) => options.hub !== undefined || user !== hub.name));
  } catch (error) {
    core?.close();
    store.close();
    throw error;
  }
  const broker = core;
  let amqp: Awaited<ReturnType<typeof startAmqpListener>> | undefined;
  let management: Awaited<ReturnType<typeof startManagementApi>> | undefined;
  try {
    amqp = await startAmqpListener({ core: broker, port: options.port ?? 0, defaultVhost: T.vhost, log });
    management = await startManagementApi({ core: broker, port: options.managementPort ?? 0, log });
  } catch (error) {
    await amqp?.stop();
    broker.close();
    store.close();
    throw error;
  }
  log({ event: 'started', amqpPort: amqp.port, managementPort: management.port });
  const listener = amqp;
  const api = management;
  let stopped: Promise<void> | undefined;

  return {
    amqpPort: listener.port,
    managementUrl: `http://127.0.0.1:${api.port}`,
    async addUser(name, password) {
      const id = assertEndpointId(name);
      store.transaction(() => {
        broker.admin.putUser({ name: id, passwordHash: rabbitPasswordHash(password), tags: [] });
        broker.admin.putPermission(id, T.vhost, {
          configure: '^$',
          write: `^${T.uplinkExchange.replaceAll('.', '\\.')}$`,
          read: '^$',
        });
        broker.admin.putTopicPermission(id, T.vhost, { exchange: T.uplinkExchange, write: `^${id}$`, read: '^$' });
      });
    },
    stop() {
      stopped ??= (async () => {
        await api.stop();
        // Connections close first: what their sessions held unsettled goes back to its queues (and to disk).
        await listener.stop();
        broker.close();
        store.close();
        log({ event: 'stopped' });
      })();
      return stopped;
    },
  };
}
