import { RABBITMQ_TOPOLOGY as T, downlinkQueueName } from '../../shared/broker/index.ts';
import { downlinkQueueDefinition, endpointPermissions } from './rabbitmq-definitions.ts';
import { ProvisioningError, type EndpointProvisioner } from './endpoint-provisioner.ts';

export interface ManagementApiOptions {
  /** e.g. http://127.0.0.1:15672 */
  readonly url: string;
  readonly username: string;
  readonly password: string;
  readonly deliveryLimit?: number;
  readonly timeoutMs?: number;
}

/** Resolves with the parsed answer of a GET, nothing for the others. */
export type ManagementCall = (
  method: 'GET' | 'PUT' | 'POST' | 'DELETE',
  path: string,
  body?: unknown,
) => Promise<unknown>;

/**
 * One request to RabbitMQ 3.x's management HTTP API (path below /api/, already encoded) as `options.username`; an
 * unreachable API or a refusal is a ProvisioningError. `rts region sync-broker` uses it too.
 */
export function managementApiCall(options: ManagementApiOptions): ManagementCall {
  const auth = `Basic ${Buffer.from(`${options.username}:${options.password}`).toString('base64')}`;
  return async (method, path, body) => {
    let response: Response;
    try {
      response = await fetch(new URL(`/api/${path}`, options.url), {
        method,
        headers: {
          authorization: auth,
          'content-type': 'application/json',
          // What the closed connection's client is told (DELETE connections/…).
          ...(method === 'DELETE' && { 'x-reason': 'closed by the RTS hub operator' }),
        },
        ...(body !== undefined && { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
      });
    } catch (error) {
      // fetch says only "fetch failed"; the reason (ECONNREFUSED, a TLS error) is its cause.
      const cause = (error as { cause?: { code?: unknown; message?: unknown } }).cause;
      const reason =
        typeof cause?.code === 'string' ? cause.code : typeof cause?.message === 'string' ? cause.message : undefined;
      throw new ProvisioningError(
        `broker management API unreachable: ${(error as Error).message}${reason ? ` (${reason})` : ''}`,
        false,
        true,
      );
    }
    if (response.ok) return method === 'GET' ? ((await response.json()) as unknown) : undefined;
    const text = (await response.text()).slice(0, 200);
    // 4xx other than auth/timeouts: the request itself is wrong for this endpoint (e.g. no such user).
    const permanent = response.status === 400 || response.status === 404;
    throw new ProvisioningError(`broker management API ${method} ${path}: ${response.status} ${text}`, permanent);
  };
}

/** RabbitMQ 3.x, through its management HTTP API. */
export function createRabbitmqProvisioner(options: ManagementApiOptions): EndpointProvisioner {
  const call = managementApiCall(options);
  const vhost = encodeURIComponent(T.vhost);

  return {
    async provision(endpointId) {
      const queue = downlinkQueueDefinition(endpointId, options.deliveryLimit);
      const grants = endpointPermissions(endpointId);
      await call('PUT', `queues/${vhost}/${encodeURIComponent(queue.name)}`, {
        durable: true,
        auto_delete: false,
        arguments: queue.arguments,
      });
      await call(
        'POST',
        `bindings/${vhost}/e/${encodeURIComponent(T.downlinkExchange)}/q/${encodeURIComponent(downlinkQueueName(endpointId))}`,
        { routing_key: endpointId, arguments: {} },
      );
      const { configure, write, read } = grants.permission;
      await call('PUT', `permissions/${vhost}/${encodeURIComponent(endpointId)}`, { configure, write, read });
      const topic = grants.topicPermission;
      await call('PUT', `topic-permissions/${vhost}/${encodeURIComponent(endpointId)}`, {
        exchange: topic.exchange,
        write: topic.write,
        read: topic.read,
      });
    },
    async disconnect(endpointId) {
      const path = `connections/username/${encodeURIComponent(endpointId)}`;
      const open = await call('GET', path);
      await call('DELETE', path);
      return Array.isArray(open) && open.length > 0;
    },
  };
}
