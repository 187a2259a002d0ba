import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isEndpointId, type AmqpMessageFields } from '../shared/protocol/index.ts';
import type { ConnectionState } from '../shared/api/index.ts';
import { ProvisioningError } from './broker/endpoint-provisioner.ts';
import * as store from './store/hub-store.ts';
import type { SqlClient } from './store/sql-client.ts';
import { listEntries, showEntry } from './directory/directory-view.ts';
import type { ReloadReport, TrustStatus } from './trust-reloader.ts';
import { createProcessContext, type Outgoing, type ProcessOutcome, type UplinkProcessor } from './uplink-processor.ts';

/**
 * The operator's interface to a running hub instance: JSON over HTTP on loopback, with a bearer token. `rts hub …`
 * speaks it. Read views come from the shared database, so any instance reports on the whole region; replay runs the
 * stored message through this instance's processor. Bodies are never returned (a consult body is ciphertext anyway,
 * but operators need metadata only).
 */
export interface OperatorApiOptions {
  readonly sql: SqlClient;
  readonly processor: UplinkProcessor;
  readonly instanceId: string;
  readonly token: string;
  readonly port: number;
  readonly brokerState: () => ConnectionState;
  /** This instance's CRLs: their state, and reading the files again now. */
  readonly trust: { readonly status: () => TrustStatus; readonly reload: () => Promise<ReloadReport> };
  /** Closes the endpoint's broker connections (rts hub disconnect); whether it had any. */
  readonly disconnect: (endpointId: string) => Promise<boolean>;
  /** Sends what a replay queued, after its commit. */
  readonly send: (outgoing: Outgoing) => void;
  readonly claimMs: number;
}

export interface OperatorApi {
  readonly port: number;
  close(): Promise<void>;
}

/** An instance whose heartbeat is older than this is reported as not running. */
const STALE_HEARTBEAT_MS = 20_000;

class HttpError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

export async function startOperatorApi(options: OperatorApiOptions): Promise<OperatorApi> {
  const { sql } = options;
  const expected = Buffer.from(`Bearer ${options.token}`);

  async function status() {
    const now = new Date();
    const instances = (await store.listInstances(sql)).map((i) => ({
      ...i,
      running: !i.stopped && now.getTime() - new Date(i.heartbeatAt).getTime() < STALE_HEARTBEAT_MS,
    }));
    const broker = options.brokerState();
    const trust = options.trust.status();
    return {
      instance: options.instanceId,
      database: sql.engine,
      broker,
      // With a stale CRL every signed message waits (transient): connected, but not doing its work.
      healthy: broker.status === 'online' && trust.state !== 'stale',
      trust,
      instances,
      directoryVersion: await store.directoryVersion(sql),
      endpoints: (await store.listEndpoints(sql)).length,
      outbox: await store.outboxCounts(sql, now),
      deadLetters: await store.deadLetterCounts(sql),
    };
  }

  async function replay(id: number) {
    let outgoing: Outgoing = { rows: [], bodies: new Map() };
    const outcome = await sql.transaction(async (tx): Promise<ProcessOutcome & { messageId: string }> => {
      const letter = await store.getDeadLetter(tx, id);
      if (!letter) throw new HttpError(404, `no dead letter ${id}`);
      if (letter.state !== 'held') throw new HttpError(409, `dead letter ${id} is already ${letter.state}`);
      const p = letter.properties;
      const fields: AmqpMessageFields = {
        message_id: p.message_id,
        user_id: Buffer.from(p.user_id),
        creation_time: new Date(p.creation_time),
        content_type: p.content_type,
        durable: true,
        application_properties: p.application_properties,
        body: letter.body,
        ...(p.correlation_id !== undefined && { correlation_id: p.correlation_id }),
      };
      // The first arrival was recorded as rejected; the replay is judged afresh.
      await store.forgetMessage(tx, letter.messageId);
      const context = createProcessContext(
        tx,
        { by: options.instanceId, until: new Date(Date.now() + options.claimMs) },
        'replay',
      );
      // Judged with the sender the broker vouched for when it first arrived (the dead letter keeps it): on Artemis the
      // stored user_id is only what the sender wrote.
      const result = await options.processor.process(context, {
        fields,
        stored: { properties: p, body: letter.body },
        ...(letter.sender && { verifiedSender: letter.sender }),
      });
      // A replayed message is in no queue any more: its forwards go to the outbox, which keeps them until sent.
      await options.processor.flush(context, { forwards: true });
      outgoing = context.outgoing;
      await store.resolveDeadLetter(
        tx,
        id,
        'replayed',
        result.outcome === 'rejected'
          ? `replayed: rejected again (${result.reason}), dead letter ${result.deadLetterId}`
          : `replayed: ${result.outcome}`,
        new Date(),
      );
      return { ...result, messageId: letter.messageId };
    });
    options.send(outgoing);
    return outcome;
  }

  async function discard(id: number, note: string) {
    return sql.transaction(async (tx) => {
      const letter = await store.getDeadLetter(tx, id);
      if (!letter) throw new HttpError(404, `no dead letter ${id}`);
      if (letter.state !== 'held') throw new HttpError(409, `dead letter ${id} is already ${letter.state}`);
      await store.resolveDeadLetter(
        tx,
        id,
        'discarded',
        note ? `discarded: ${note.slice(0, 500)}` : 'discarded',
        new Date(),
      );
      return { id, state: 'discarded' };
    });
  }

  async function route(method: string, url: URL, body: Record<string, unknown>): Promise<unknown> {
    const parts = url.pathname.split('/').filter(Boolean);
    const path = parts.join('/');
    const idOf = (text: string | undefined) => {
      const id = Number(text);
      if (!Number.isSafeInteger(id) || id < 1) throw new HttpError(400, `not a dead-letter id: ${text}`);
      return id;
    };
    if (method === 'GET' && path === 'status') return status();
    if (method === 'GET' && path === 'endpoints')
      return store
        .listEndpoints(sql)
        .then((list) => list.map(({ certificate, ...e }) => ({ ...e, hasCertificate: certificate !== null })));
    if (parts[0] === 'endpoints' && parts.length === 3 && parts[2] === 'disconnect' && method === 'POST') {
      const endpointId = decodeURIComponent(parts[1]!);
      if (!isEndpointId(endpointId)) throw new HttpError(400, `not an endpoint id: ${endpointId}`);
      try {
        return { endpointId, hadConnections: await options.disconnect(endpointId) };
      } catch (error) {
        if (error instanceof ProvisioningError) throw new HttpError(502, error.message);
        throw error;
      }
    }
    if (method === 'GET' && path === 'directory') return store.directoryStats(sql);
    if (method === 'GET' && path === 'directory/entries') {
      const limit = Number(url.searchParams.get('limit') ?? 100);
      if (!Number.isSafeInteger(limit) || limit < 1 || limit > 10_000)
        throw new HttpError(400, `limit: a whole number from 1 to 10000, not ${url.searchParams.get('limit')}`);
      const clinic = url.searchParams.get('clinic');
      const after = url.searchParams.get('after');
      return listEntries(sql, { limit, ...(clinic && { publisher: clinic }), ...(after && { after }) });
    }
    if (parts[0] === 'directory' && parts[1] === 'entries' && parts.length === 3 && method === 'GET') {
      const entry = await showEntry(sql, decodeURIComponent(parts[2]!));
      if (!entry) throw new HttpError(404, `no directory entry ${decodeURIComponent(parts[2]!)}`);
      return entry;
    }
    if (method === 'POST' && path === 'trust/reload') {
      const report = await options.trust.reload();
      return { ...report, trust: options.trust.status() };
    }
    if (method === 'GET' && path === 'dead-letters') {
      const state = url.searchParams.get('state');
      if (state && !['held', 'replayed', 'discarded'].includes(state))
        throw new HttpError(400, `unknown state ${state}`);
      const limit = Number(url.searchParams.get('limit') ?? 100);
      return store.listDeadLetters(sql, {
        ...(state && { state: state as 'held' }),
        ...(url.searchParams.get('reason') && { reason: url.searchParams.get('reason')! }),
        limit: Number.isSafeInteger(limit) && limit > 0 ? Math.min(limit, 10_000) : 100,
      });
    }
    if (parts[0] === 'dead-letters' && parts.length === 2 && method === 'GET') {
      const letter = await store.getDeadLetter(sql, idOf(parts[1]));
      if (!letter) throw new HttpError(404, `no dead letter ${parts[1]}`);
      const { body: _body, ...metadata } = letter;
      return metadata;
    }
    if (parts[0] === 'dead-letters' && parts.length === 3 && method === 'POST' && parts[2] === 'replay')
      return replay(idOf(parts[1]));
    if (parts[0] === 'dead-letters' && parts.length === 3 && method === 'POST' && parts[2] === 'discard')
      return discard(idOf(parts[1]), typeof body.note === 'string' ? body.note : '');
    throw new HttpError(404, `no such operation: ${method} /${path}`);
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const reply = (status: number, value: unknown) => {
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(value));
    };
    const presented = Buffer.from(request.headers.authorization ?? '');
    if (presented.length !== expected.length || !timingSafeEqual(presented, expected))
      return reply(401, { error: 'unauthorized: a valid operator token is required' });
    try {
      const chunks: Buffer[] = [];
      for await (const chunk of request) chunks.push(chunk as Buffer);
      const text = Buffer.concat(chunks).toString('utf8');
      const body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
      reply(200, await route(request.method ?? 'GET', new URL(request.url ?? '/', 'http://localhost'), body));
    } catch (error) {
      reply(error instanceof HttpError ? error.status : 500, { error: (error as Error).message });
    }
  }

  const server: Server = createServer((request, response) => void handle(request, response));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // Loopback only: operators reach it on the host (or through their own tunnel), never from the network.
    server.listen(options.port, '127.0.0.1', () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
