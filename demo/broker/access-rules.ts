/**
 * RabbitMQ 3.10's rules, as plain functions: AMQP 1.0 addresses (the AMQP 1.0 plugin's syntax), topic matching, and
 * the internal authorization backend's permission checks (configure/write/read per user and vhost, and topic
 * permissions on the routing key of topic exchanges). The error texts are RabbitMQ's, so that the demo broker's
 * refusals read the same in logs and tests.
 */

export interface Permission {
  readonly configure: string;
  readonly write: string;
  readonly read: string;
}

export interface TopicPermission {
  readonly exchange: string;
  readonly write: string;
  readonly read: string;
}

export type Access = 'configure' | 'write' | 'read';

export interface AmqpError {
  readonly condition: string;
  readonly description: string;
}

const regexCache = new Map<string, RegExp>();

/** RabbitMQ treats an empty pattern as `^$` (nothing but the empty name). Throws on an invalid pattern. */
export function permissionRegex(pattern: string): RegExp {
  const source = pattern === '' ? '^$' : pattern;
  let regex = regexCache.get(source);
  if (!regex) {
    regex = new RegExp(source);
    regexCache.set(source, regex);
  }
  return regex;
}

export function isValidPattern(pattern: string): boolean {
  try {
    permissionRegex(pattern);
    return true;
  } catch {
    return false;
  }
}

/** The default exchange is checked under the name `amq.default`. */
export function resourceName(kind: 'exchange' | 'queue', name: string): string {
  return kind === 'exchange' && name === '' ? 'amq.default' : name;
}

export function resourceAllowed(permission: Permission | undefined, access: Access, name: string): boolean {
  if (!permission) return false;
  return permissionRegex(permission[access]).test(name);
}

/**
 * Topic permissions apply to topic exchanges only, and only when the user has one for that exchange; its pattern
 * may use {username} and {vhost}.
 */
export function topicAllowed(
  permission: TopicPermission | undefined,
  access: 'write' | 'read',
  routingKey: string,
  variables: { username: string; vhost: string },
): boolean {
  if (!permission) return true;
  const pattern = permission[access]
    .replaceAll('{username}', variables.username)
    .replaceAll('{vhost}', variables.vhost);
  return permissionRegex(pattern).test(routingKey);
}

export const refusals = {
  vhost: (user: string): AmqpError => ({
    condition: 'amqp:unauthorized-access',
    description: `Access for user '${user}' was refused: insufficient permissions`,
  }),
  resource: (kind: 'exchange' | 'queue', name: string, vhost: string, user: string): AmqpError => ({
    condition: 'amqp:unauthorized-access',
    description: `ACCESS_REFUSED - access to ${kind} '${resourceName(kind, name)}' in vhost '${vhost}' refused for user '${user}'`,
  }),
  topic: (routingKey: string, exchange: string, vhost: string, user: string): AmqpError => ({
    condition: 'amqp:unauthorized-access',
    description: `ACCESS_REFUSED - access to topic '${routingKey}' in exchange '${exchange}' in vhost '${vhost}' refused for user '${user}'`,
  }),
  userId: (userId: string, user: string): AmqpError => ({
    condition: 'amqp:precondition-failed',
    description: `PRECONDITION_FAILED - user_id property set to '${userId}' but authenticated user was '${user}'`,
  }),
  noExchange: (name: string, vhost: string): AmqpError => ({
    condition: 'amqp:not-found',
    description: `NOT_FOUND - no exchange '${name}' in vhost '${vhost}'`,
  }),
  noQueue: (name: string, vhost: string): AmqpError => ({
    condition: 'amqp:not-found',
    description: `NOT_FOUND - no queue '${name}' in vhost '${vhost}'`,
  }),
  noAddress: (): AmqpError => ({
    condition: 'amqp:invalid-field',
    description: 'Attach rejected: {address_not_utf8_string,undefined}',
  }),
  unknownAddress: (address: string): AmqpError => ({
    condition: 'amqp:invalid-field',
    description: `Attach rejected: {unknown_destination,"${address}"}`,
  }),
  /** RabbitMQ 3.10 crashes in the topic check when the routing key is missing (measured): the session ends so. */
  noRoutingKey: (): AmqpError => ({
    condition: 'amqp:internal-error',
    description: '{badarg,[{re,run,[undefined,...]},{rabbit_auth_backend_internal,check_topic_access,4}]}',
  }),
  /** Only `accepted`, `rejected` and `released` are outcomes RabbitMQ 3.10 takes from a consumer (measured). */
  modified: (deliveryFailed: boolean | undefined, undeliverableHere: boolean | undefined): AmqpError => ({
    condition: 'amqp:invalid-field',
    description: `Unrecognised state: {'v1_0.modified',${String(deliveryFailed ?? 'undefined')},${String(undeliverableHere ?? 'undefined')},undefined}`,
  }),
  /** Declaring addresses (`/queue/NAME`, bare names, exchange sources) are beyond the demo broker. */
  notImplemented: (address: string): AmqpError => ({
    condition: 'amqp:not-implemented',
    description: `the demo broker serves only /amq/queue/NAME sources and /exchange/NAME[/KEY] or /amq/queue/NAME targets, not ${address}`,
  }),
  decode: (detail: string): AmqpError => ({ condition: 'amqp:decode-error', description: detail }),
  internal: (detail: string): AmqpError => ({ condition: 'amqp:internal-error', description: detail }),
} as const;

/** Where a publisher's link points (target address). */
export type Target =
  | { readonly kind: 'exchange'; readonly exchange: string; readonly routingKey?: string }
  | { readonly kind: 'declare'; readonly queue: string }
  | { readonly kind: 'invalid'; readonly address?: string };

/** Where a consumer's link reads (source address). */
export type Source =
  | { readonly kind: 'queue'; readonly queue: string }
  | { readonly kind: 'declare'; readonly queue: string }
  | { readonly kind: 'temporary' }
  | { readonly kind: 'invalid'; readonly address?: string };

function parts(address: string): string[] {
  return address.split('/').slice(1);
}

/**
 * `/exchange/NAME/KEY`, `/exchange/NAME` (key = the message's subject), `/topic/KEY` (amq.topic),
 * `/amq/queue/NAME` (default exchange, key = NAME); `/queue/NAME`, `/queue` and bare names declare a queue.
 */
export function parseTarget(address: string | undefined): Target {
  if (address === undefined) return { kind: 'invalid' };
  if (!address.startsWith('/')) return { kind: 'declare', queue: address };
  const p = parts(address);
  if (p[0] === 'exchange' && p.length === 2 && p[1]) return { kind: 'exchange', exchange: p[1] };
  if (p[0] === 'exchange' && p.length === 3 && p[1]) return { kind: 'exchange', exchange: p[1], routingKey: p[2]! };
  if (p[0] === 'topic' && p.length === 2 && p[1]) return { kind: 'exchange', exchange: 'amq.topic', routingKey: p[1] };
  if (p[0] === 'amq' && p[1] === 'queue' && p.length === 3 && p[2])
    return { kind: 'exchange', exchange: '', routingKey: p[2] };
  if (p[0] === 'queue' && p.length === 2 && p[1]) return { kind: 'declare', queue: p[1] };
  return { kind: 'invalid', address };
}

export function parseSource(address: string | undefined): Source {
  if (address === undefined) return { kind: 'invalid' };
  if (!address.startsWith('/')) return { kind: 'declare', queue: address };
  const p = parts(address);
  if (p[0] === 'amq' && p[1] === 'queue' && p.length === 3 && p[2]) return { kind: 'queue', queue: p[2] };
  if (p[0] === 'queue' && p.length === 2 && p[1]) return { kind: 'declare', queue: p[1] };
  if ((p[0] === 'exchange' && p.length === 3 && p[1]) || (p[0] === 'topic' && p.length === 2 && p[1]))
    return { kind: 'temporary' };
  return { kind: 'invalid', address };
}

/** AMQP 0-9-1 topic matching: words split by '.', '*' is exactly one word, '#' zero or more. */
export function topicMatches(pattern: string, routingKey: string): boolean {
  const p = pattern.split('.');
  const k = routingKey.split('.');
  const memo = new Map<string, boolean>();
  const match = (i: number, j: number): boolean => {
    const key = `${i},${j}`;
    const known = memo.get(key);
    if (known !== undefined) return known;
    let result: boolean;
    if (i === p.length) result = j === k.length;
    else if (p[i] === '#') result = match(i + 1, j) || (j < k.length && match(i, j + 1));
    else result = j < k.length && (p[i] === '*' || p[i] === k[j]) && match(i + 1, j + 1);
    memo.set(key, result);
    return result;
  };
  return match(0, 0);
}
