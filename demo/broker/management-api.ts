import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { rabbitPasswordHash } from '../../hub/index.ts';
import { isValidPattern } from './access-rules.ts';
import type { BrokerCore, Log } from './broker-core.ts';

/**
 * The part of RabbitMQ's management HTTP API that the hub's provisioner and the test helpers use, with RabbitMQ
 * 3.10's status codes and error bodies (measured): 201 when something was created, 204 when it existed (and was
 * updated), 400 for a refused request, 401 for a failed login or a user without the administrator tag, 404 otherwise.
 *   PUT    /api/users/:user                          {password, tags}
 *   PUT    /api/permissions/:vhost/:user             {configure, write, read}
 *   PUT    /api/topic-permissions/:vhost/:user       {exchange, write, read}
 *   PUT    /api/queues/:vhost/:queue                 {durable, auto_delete, arguments}
 *   POST   /api/bindings/:vhost/e/:exchange/q/:queue {routing_key, arguments}
 *   GET    /api/queues  and  /api/queues/:vhost      [{name, messages, …}]
 *   DELETE /api/queues/:vhost/:queue/contents
 * Message counts are current (RabbitMQ's lag by up to its 5 s statistics interval).
 */

export interface ManagementApi {
  readonly port: number;
  stop(): Promise<void>;
}

class HttpError extends Error {
  readonly status: number;
  readonly body: { error: string; reason: unknown };
  constructor(status: number, error: string, reason: unknown) {
    super(`${status} ${error}`);
    this.status = status;
    this.body = { error, reason };
  }
}

const notFound = () => new HttpError(404, 'Object Not Found', 'Not Found');
const badRequest = (reason: unknown) => new HttpError(400, 'bad_request', reason);
const MAX_BODY_BYTES = 1024 * 1024;

async function readJson(request: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, 'bad_request', 'body too large');
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return {};
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw badRequest('failed_to_parse_json');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badRequest('not_json_object');
  return body as Record<string, unknown>;
}

const text = (body: Record<string, unknown>, field: string, fallback?: string): string => {
  const value = body[field] ?? fallback;
  if (typeof value !== 'string') throw badRequest(`${field} missing or not a string`);
  return value;
};

function tagsOf(value: unknown): string[] {
  if (Array.isArray(value)) return value.filter((t): t is string => typeof t === 'string' && t !== '');
  if (typeof value === 'string')
    return value
      .split(',')
      .map((t) => t.trim())
      .filter((t) => t !== '');
  return [];
}

export async function startManagementApi(options: {
  core: BrokerCore;
  port: number;
  log: Log;
}): Promise<ManagementApi> {
  const { core, log } = options;

  function authenticate(request: IncomingMessage): void {
    const header = request.headers.authorization ?? '';
    const match = /^Basic (.+)$/i.exec(header);
    const decoded = match ? Buffer.from(match[1]!, 'base64').toString('utf8') : '';
    const colon = decoded.indexOf(':');
    const [name, password] = colon < 0 ? ['', ''] : [decoded.slice(0, colon), decoded.slice(colon + 1)];
    if (!name || !core.authz.authenticate(name, password)) throw new HttpError(401, 'not_authorized', 'Login failed');
    const tags = core.admin.user(name)?.tags ?? [];
    if (!tags.includes('administrator')) {
      const management = tags.some((t) => ['management', 'policymaker', 'monitoring'].includes(t));
      throw new HttpError(401, 'not_authorised', management ? 'Not administrator user' : 'Not management user');
    }
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const segments = url.pathname
      .split('/')
      .slice(1)
      .map((s) => decodeURIComponent(s));
    if (segments[0] !== 'api') throw notFound();
    const path = segments.slice(1);
    const method = request.method ?? 'GET';
    const route = `${method} ${path[0] ?? ''}/${path.length}`;
    authenticate(request);
    const done = (status: number, body?: unknown, headers: Record<string, string> = {}) => {
      const payload = body === undefined ? '' : JSON.stringify(body);
      response.writeHead(status, {
        ...(body !== undefined && { 'content-type': 'application/json' }),
        ...(status !== 204 && { 'content-length': String(Buffer.byteLength(payload)) }),
        ...headers,
      });
      response.end(payload);
    };
    const created = (result: 'created' | 'updated') => done(result === 'created' ? 201 : 204);

    switch (route) {
      case 'PUT users/2': {
        const body = await readJson(request);
        const password = body.password;
        const passwordHash =
          typeof password === 'string'
            ? rabbitPasswordHash(password)
            : typeof body.password_hash === 'string'
              ? body.password_hash
              : null;
        created(core.admin.putUser({ name: path[1]!, passwordHash, tags: tagsOf(body.tags) }));
        return;
      }
      case 'PUT permissions/3': {
        const body = await readJson(request);
        const permission = { configure: text(body, 'configure'), write: text(body, 'write'), read: text(body, 'read') };
        for (const pattern of Object.values(permission))
          if (!isValidPattern(pattern)) throw badRequest(['invalid_regexp', pattern]);
        const result = core.admin.putPermission(path[2]!, path[1]!, permission);
        if (result === 'vhost_or_user_not_found') throw badRequest(result);
        created(result);
        return;
      }
      case 'PUT topic-permissions/3': {
        const body = await readJson(request);
        const permission = { exchange: text(body, 'exchange'), write: text(body, 'write'), read: text(body, 'read') };
        for (const pattern of [permission.write, permission.read])
          if (!isValidPattern(pattern)) throw badRequest(['invalid_regexp', pattern]);
        const result = core.admin.putTopicPermission(path[2]!, path[1]!, permission);
        if (result === 'vhost_or_user_not_found') throw badRequest(result);
        created(result);
        return;
      }
      case 'PUT queues/3': {
        const body = await readJson(request);
        const args = body.arguments ?? {};
        if (typeof args !== 'object' || args === null || Array.isArray(args))
          throw badRequest('arguments must be an object');
        const result = core.admin.declareQueue({
          vhost: path[1]!,
          name: path[2]!,
          durable: body.durable !== false,
          autoDelete: body.auto_delete === true,
          arguments: args as Record<string, unknown>,
        });
        if ('error' in result) throw new HttpError(404, 'not_found', result.error);
        if ('inequivalent' in result) throw badRequest(result.inequivalent);
        created(result.result === 'created' ? 'created' : 'updated');
        return;
      }
      case 'POST bindings/6': {
        if (path[2] !== 'e' || path[4] !== 'q') throw notFound();
        const body = await readJson(request);
        const routingKey = typeof body.routing_key === 'string' ? body.routing_key : '';
        const args =
          typeof body.arguments === 'object' && body.arguments !== null
            ? (body.arguments as Record<string, unknown>)
            : {};
        const result = core.admin.bind({
          vhost: path[1]!,
          source: path[3]!,
          destination: path[5]!,
          routingKey,
          arguments: args,
        });
        if (result !== 'ok') throw new HttpError(404, 'not_found', result.error);
        // RabbitMQ answers with the binding's "properties key" (routing key, `~` when empty) relative to the queue.
        done(201, undefined, {
          location: `${encodeURIComponent(path[5]!)}/${routingKey === '' ? '~' : encodeURIComponent(routingKey)}`,
        });
        return;
      }
      case 'GET queues/1':
        done(200, core.admin.queues());
        return;
      case 'GET queues/2':
        if (!core.admin.vhostExists(path[1]!)) throw new HttpError(404, 'not_found', 'vhost_not_found');
        done(200, core.admin.queues(path[1]));
        return;
      case 'DELETE queues/4': {
        if (path[3] !== 'contents') throw notFound();
        const purged = core.admin.purge(path[1]!, path[2]!);
        if (purged === undefined) throw notFound();
        done(204);
        return;
      }
      default:
        throw notFound();
    }
  }

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      const httpError =
        error instanceof HttpError ? error : new HttpError(500, 'internal_server_error', (error as Error).message);
      if (!(error instanceof HttpError)) log({ event: 'management-error', error: (error as Error).message });
      if (response.headersSent) {
        response.destroy();
        return;
      }
      response.writeHead(httpError.status, {
        'content-type': 'application/json',
        ...(httpError.status === 401 && { 'www-authenticate': 'Basic realm="RabbitMQ Management"' }),
      });
      response.end(JSON.stringify(httpError.body));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
