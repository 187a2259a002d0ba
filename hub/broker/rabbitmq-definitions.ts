import { createHash, randomBytes } from 'node:crypto';
import { assertEndpointId } from '../../shared/protocol/index.ts';
import { RABBITMQ_TOPOLOGY as T, downlinkQueueName } from '../../shared/broker/index.ts';

/**
 * Builds a RabbitMQ definitions document (for `rabbitmqctl import_definitions` or `load_definitions`) holding the
 * whole RTS topology: vhost, exchanges, quorum queues with a delivery limit and dead-lettering, and one user per
 * endpoint whose permissions let it write only to the uplink under its own routing key and read only its own downlink.
 */
export interface BrokerUser {
  readonly name: string;
  readonly password: string;
}

export interface TopologyOptions {
  readonly endpoints: readonly BrokerUser[];
  readonly hub: BrokerUser;
  /** Provisions queues and users through the management API; never used by endpoints. */
  readonly admin: BrokerUser;
  /** Deliveries of one message before the broker dead-letters it (quorum queue `x-delivery-limit`). */
  readonly deliveryLimit?: number;
}

const DEFAULT_DELIVERY_LIMIT = 5;

/** RabbitMQ's `rabbit_password_hashing_sha256`: base64(salt ‖ SHA-256(salt ‖ password)) with a 4-byte salt. */
export function rabbitPasswordHash(password: string, salt: Buffer = randomBytes(4)): string {
  const digest = createHash('sha256')
    .update(Buffer.concat([salt, Buffer.from(password, 'utf8')]))
    .digest();
  return Buffer.concat([salt, digest]).toString('base64');
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function exact(name: string): string {
  return `^${escapeRegex(name)}$`;
}

function user(u: BrokerUser, tags: string[] = []) {
  return {
    name: u.name,
    password_hash: rabbitPasswordHash(u.password),
    hashing_algorithm: 'rabbit_password_hashing_sha256',
    tags,
  };
}

function quorumQueue(name: string, args: Record<string, unknown>) {
  return { name, vhost: T.vhost, durable: true, auto_delete: false, arguments: { 'x-queue-type': 'quorum', ...args } };
}

export function downlinkQueueDefinition(endpointId: string, deliveryLimit = DEFAULT_DELIVERY_LIMIT) {
  const name = downlinkQueueName(endpointId);
  return quorumQueue(name, {
    'x-delivery-limit': deliveryLimit,
    'x-dead-letter-exchange': T.deadLetterExchange,
    'x-dead-letter-routing-key': name,
  });
}

export function endpointPermissions(endpointId: string) {
  return {
    permission: {
      user: endpointId,
      vhost: T.vhost,
      configure: '^$',
      write: exact(T.uplinkExchange),
      read: exact(downlinkQueueName(endpointId)),
    },
    topicPermission: {
      user: endpointId,
      vhost: T.vhost,
      exchange: T.uplinkExchange,
      write: exact(endpointId),
      read: '^$',
    },
  };
}

export function buildRabbitmqDefinitions(options: TopologyOptions) {
  const deliveryLimit = options.deliveryLimit ?? DEFAULT_DELIVERY_LIMIT;
  const endpointIds = options.endpoints.map((e) => assertEndpointId(e.name));
  const endpointGrants = endpointIds.map(endpointPermissions);
  const exchange = (name: string, type: string, args: Record<string, unknown> = {}) => ({
    name,
    vhost: T.vhost,
    type,
    durable: true,
    auto_delete: false,
    internal: false,
    arguments: args,
  });
  const binding = (source: string, destination: string, routingKey: string) => ({
    source,
    vhost: T.vhost,
    destination,
    destination_type: 'queue',
    routing_key: routingKey,
    arguments: {},
  });

  return {
    users: [user(options.admin, ['administrator']), user(options.hub), ...options.endpoints.map((e) => user(e))],
    vhosts: [{ name: T.vhost }],
    permissions: [
      { user: options.admin.name, vhost: T.vhost, configure: '.*', write: '.*', read: '.*' },
      {
        user: options.hub.name,
        vhost: T.vhost,
        configure: '^$',
        write: exact(T.downlinkExchange),
        read: `^(${escapeRegex(T.uplinkQueue)}|${escapeRegex(T.deadLetterQueue)}|${escapeRegex(T.unroutableQueue)})$`,
      },
      ...endpointGrants.map((g) => g.permission),
    ],
    topic_permissions: endpointGrants.map((g) => g.topicPermission),
    exchanges: [
      exchange(T.uplinkExchange, 'topic'),
      exchange(T.downlinkExchange, 'direct', { 'alternate-exchange': T.unroutableExchange }),
      exchange(T.deadLetterExchange, 'topic'),
      exchange(T.unroutableExchange, 'fanout'),
    ],
    queues: [
      quorumQueue(T.uplinkQueue, {
        'x-delivery-limit': deliveryLimit,
        'x-dead-letter-exchange': T.deadLetterExchange,
        'x-dead-letter-routing-key': T.uplinkQueue,
      }),
      quorumQueue(T.deadLetterQueue, {}),
      quorumQueue(T.unroutableQueue, {}),
      ...endpointIds.map((id) => downlinkQueueDefinition(id, deliveryLimit)),
    ],
    bindings: [
      binding(T.uplinkExchange, T.uplinkQueue, '#'),
      binding(T.deadLetterExchange, T.deadLetterQueue, '#'),
      binding(T.unroutableExchange, T.unroutableQueue, ''),
      ...endpointIds.map((id) => binding(T.downlinkExchange, downlinkQueueName(id), id)),
    ],
  };
}
