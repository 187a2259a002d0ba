import { isIP } from 'node:net';
import rhea, { type Connection, type ConnectionOptions, type EventContext } from 'rhea';
import type { ConnectionState, ConnectionStatus } from '../shared/api/index.ts';
import { plainAmqpProblem } from '../shared/broker/index.ts';
import { asUnsubscribe, createEmitter, errorCodeOf, NO_LOGGER, type Logger } from '../shared/index.ts';
import { rabbitmq3Adapter, type BrokerAdapter } from './broker-adapter.ts';
import { connectGathered } from './gathered-writes.ts';

export interface BrokerHost {
  readonly host: string;
  readonly port: number;
}

export interface BrokerConnectionOptions {
  /** Tried in turn; on failure the next one is used (cluster failover). */
  readonly hosts: readonly BrokerHost[];
  readonly vhost: string;
  readonly username: string;
  /** Read when connecting, so the password lives in the keychain rather than in memory for the whole session. */
  readonly password: () => Promise<string>;
  /** AMQP idle time-out we announce; the broker must send something (heartbeat) at least this often. */
  readonly idleTimeoutMs?: number;
  readonly reconnectDelayMs?: { readonly initial: number; readonly max: number };
  readonly containerId?: string;
  readonly adapter?: BrokerAdapter;
  /** amqps: TLS 1.2+ with the server certificate checked against this CA (PEM) and the host name. */
  readonly tls?: { readonly ca: string; readonly servername?: string };
  /** Connects, drops and reconnects, with the host and attempt count (shared/logger.ts). */
  readonly logger?: Logger;
}

export interface BrokerConnection {
  readonly state: ConnectionState;
  /** The rhea connection links are opened on; present from start() until stop(). It survives reconnects. */
  readonly amqp: Connection | undefined;
  readonly adapter: BrokerAdapter;
  onStateChanged(listener: (state: ConnectionState) => void): () => void;
  /** Each time the connection (re)opens; rhea has re-attached the links that were open. */
  onOpened(listener: () => void): () => void;
  /** Each time it drops: rhea discards unsettled outgoing deliveries without telling, so owners must re-send. */
  onDisconnected(listener: () => void): () => void;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * rhea (3.0.5, `Connection.input`) keeps the frame it was partway through reading when a socket died, and puts it in
 * front of what the next socket brings: the new broker's protocol header then reads as garbage ("Invalid protocol
 * header"), that connection fails too, and delivery stalled. The broker-kill suite paused 31, 37 and 48 s in the three
 * of five runs where the broker died mid-frame, against 5.6 s in the other two. The half-read frame is of the old
 * connection: forget it before rhea reconnects.
 */
function forgetPartialFrame(connection: Connection): void {
  Object.assign(connection, { frame_size: undefined, chunks: null, received_bytes: 0, previous_input: null });
}

/** Exponential back-off with full jitter, so a region's workstations do not all reconnect in the same second. */
export function reconnectDelay(attempt: number, initialMs: number, maxMs: number, random = Math.random): number {
  const ceiling = Math.min(maxMs, initialMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(initialMs / 2 + random() * (ceiling - initialMs / 2));
}

/** SASL and authorization refusals cannot heal by retrying; rhea stops reconnecting on them too. */
function describeError(error: unknown): string {
  if (!error) return 'connection lost';
  if (typeof error === 'object' && error !== null) {
    const { condition, description, message, code } = error as Record<string, unknown>;
    if (typeof condition === 'string')
      return typeof description === 'string' ? `${condition}: ${description}` : condition;
    if (typeof code === 'string' && typeof message === 'string') return `${code}: ${message}`;
    if (typeof message === 'string') return message;
  }
  return typeof error === 'string' ? error : 'unknown error';
}

export function createBrokerConnection(options: BrokerConnectionOptions): BrokerConnection {
  if (options.hosts.length === 0) throw new Error('at least one broker host is required');
  // The last line of defence: configuration (hub config, workstation profile) refuses this earlier, in its own words.
  const plain = options.tls ? undefined : plainAmqpProblem(options.hosts, 'connect with tls');
  if (plain) throw new Error(plain);
  // Not disposed at stop(): a stopped connection can start again, and its owners hear 'stopped' as its last state.
  const stateChanged = createEmitter<ConnectionState>();
  const opened = createEmitter<void>();
  const disconnected = createEmitter<void>();
  const adapter = options.adapter ?? rabbitmq3Adapter;
  const logger = options.logger ?? NO_LOGGER;
  const { initial, max } = options.reconnectDelayMs ?? { initial: 500, max: 30_000 };
  let state: ConnectionState = { status: 'offline', since: new Date().toISOString(), reason: 'not started' };
  let connection: Connection | undefined;
  let attempt = 0;
  let currentHost: BrokerHost = options.hosts[0]!;
  let stopping = false;
  let connecting = false;
  /** rhea reports a refusal (e.g. SASL) as connection_error, then a 'disconnected' without the error. */
  let lastError: string | undefined;

  const hostAt = (n: number): BrokerHost => options.hosts[n % options.hosts.length]!;
  const hostLabel = (h: BrokerHost) => `${h.host}:${h.port}`;

  function setState(status: ConnectionStatus, host: BrokerHost | undefined, reason?: string): void {
    if (state.status === status && state.reason === reason && state.host === (host && hostLabel(host))) return;
    state = {
      status,
      since: new Date().toISOString(),
      ...(host && { host: hostLabel(host) }),
      ...(reason && { reason }),
    };
    stateChanged.fire(state);
  }

  async function start(): Promise<void> {
    if (connection) return;
    stopping = false;
    connecting = false;
    const password = await options.password();
    const container = rhea.create_container(options.containerId ? { id: options.containerId } : {});
    const connectOptions: ConnectionOptions = {
      // Overridden by connection_details on every attempt; rhea's types still require them.
      transport: 'tcp',
      host: currentHost.host,
      port: currentHost.port,
      hostname: adapter.hostname(options.vhost),
      username: options.username,
      password,
      idle_time_out: options.idleTimeoutMs ?? 30_000,
      // A function: rhea calls it before each reconnect; we rotate hosts and pick a jittered delay.
      reconnect: (() => reconnectDelay(attempt, initial, max)) as unknown as boolean,
      connection_details: () => {
        currentHost = hostAt(attempt);
        attempt += 1;
        setState('connecting', currentHost);
        // The first attempt after start() connects; every later one (a failed attempt, a drop) reconnects.
        logger.info(connecting ? 'broker.reconnecting' : 'broker.connecting', {
          host: hostLabel(currentHost),
          attempt,
        });
        connecting = true;
        if (!options.tls) return { host: currentHost.host, port: currentHost.port, connect: connectGathered(false) };
        // An IP address is checked against the certificate's IP SANs; SNI must not carry one.
        const servername = options.tls.servername ?? (isIP(currentHost.host) ? undefined : currentHost.host);
        return {
          host: currentHost.host,
          port: currentHost.port,
          transport: 'tls' as const,
          connect: connectGathered(true),
          options: {
            ca: options.tls.ca,
            minVersion: 'TLSv1.2',
            rejectUnauthorized: true,
            ...(servername && { servername }),
          },
        };
      },
    };
    connection = container.connect(connectOptions);
    connection.on('connection_open', () => {
      logger.info('broker.connected', { host: hostLabel(currentHost), attempts: attempt });
      attempt = 0;
      lastError = undefined;
      setState('online', currentHost);
      opened.fire();
    });
    connection.on('connection_error', (context: EventContext) => {
      lastError = describeError(context.error ?? context.connection.error);
      logger.warn('broker.connection-error', {
        host: hostLabel(currentHost),
        error: errorCodeOf(context.error ?? context.connection.error),
      });
      setState('offline', currentHost, lastError);
    });
    connection.on('disconnected', (context: EventContext) => {
      forgetPartialFrame(context.connection);
      disconnected.fire();
      if (stopping) return;
      logger.warn('broker.disconnected', {
        host: hostLabel(currentHost),
        reconnecting: context.reconnecting === true,
        ...(context.error !== undefined && { error: errorCodeOf(context.error) }),
      });
      const reason = context.error ? describeError(context.error) : (lastError ?? 'connection lost');
      setState(
        context.reconnecting ? 'connecting' : 'offline',
        currentHost,
        context.reconnecting ? `retrying after: ${reason}` : reason,
      );
    });
    // A refused attach or publish ends the session, not the link: without this handler rhea throws.
    connection.on('session_error', (context: EventContext) =>
      logger.warn('broker.session-error', { error: errorCodeOf(context.session?.error) }),
    );
    connection.on('error', (context: EventContext) => {
      logger.warn('broker.error', { host: hostLabel(currentHost), error: errorCodeOf(context.error) });
      setState('offline', currentHost, describeError(context.error));
    });
  }

  async function stop(): Promise<void> {
    stopping = true;
    const current = connection;
    connection = undefined;
    if (!current) return;
    // Cancels a scheduled reconnect too; public in rhea, missing from its typings.
    (current as unknown as { set_reconnect(reconnect: boolean): void }).set_reconnect(false);
    await new Promise<void>((resolve) => {
      if (!current.is_open()) {
        current.close();
        resolve();
        return;
      }
      const timer = setTimeout(resolve, 2_000);
      current.once('connection_close', () => {
        clearTimeout(timer);
        resolve();
      });
      current.close();
    });
    setState('offline', undefined, 'stopped');
    logger.info('broker.stopped');
  }

  return {
    get state() {
      return state;
    },
    get amqp() {
      return connection;
    },
    adapter,
    onStateChanged: asUnsubscribe(stateChanged.event),
    onOpened: asUnsubscribe(opened.event),
    onDisconnected: asUnsubscribe(disconnected.event),
    start,
    stop,
  };
}
