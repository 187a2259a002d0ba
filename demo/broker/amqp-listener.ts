import type { AddressInfo, Server, Socket } from 'node:net';
import rhea, {
  type Connection,
  type Delivery,
  type EventContext,
  type Receiver,
  type Sender,
  type Session,
} from 'rhea';
import { MessageDecodeError, parseMessage } from './amqp-sections.ts';
import { refusals, type AmqpError, type Target } from './access-rules.ts';
import type { BrokerCore, Consumer, Log, MessageRecord } from './broker-core.ts';
import {
  authenticatedUser,
  deliveryLimit,
  destroySocket,
  interceptFrames,
  isDraining,
  linkCredit,
  mirrorSenderSettleMode,
  receiveRawMessages,
  remoteOutcome,
  requestProcessing,
  sessionOfFrame,
  terminusAddress,
  type Frame,
} from './rhea-internals.ts';

/**
 * AMQP 1.0 on rhea's container, in the dialect of RabbitMQ 3.10's AMQP 1.0 plugin (measured against it, see
 * broker-semantics.int.test.ts):
 *   - SASL PLAIN only; a wrong password is answered after RabbitMQ's 3 s delay; no ANONYMOUS.
 *   - The open frame's hostname `vhost:NAME` selects the vhost (anything else: the default vhost); a user without
 *     permissions there is let in, and the connection is closed with amqp:unauthorized-access at its first begin.
 *   - Refusals end the session (never just the link), without an attach reply when the attach itself is refused:
 *     reading a queue without read permission, an unknown exchange or queue, and per message: writing an exchange
 *     without write permission, a routing key the topic permissions refuse, a user_id that is not the user's own.
 *   - Consumers settle with accepted, released or rejected; `modified` ends the session (amqp:invalid-field).
 *   - Unsettled deliveries belong to the session: a detached link's stay with it (and may still be settled) until
 *     the session ends, when they return to their queue as redeliveries.
 *   - Delivery annotations make RabbitMQ 3.10 drop the publisher's connection; so does the demo broker.
 */

export interface AmqpListenerOptions {
  readonly core: BrokerCore;
  readonly port: number;
  readonly defaultVhost: string;
  readonly log: Log;
}

export interface AmqpListener {
  readonly port: number;
  stop(): Promise<void>;
}

/** RabbitMQ answers a failed SASL login after this long (measured: 3 s). */
const AUTH_FAILURE_DELAY_MS = 3_000;
/** Link credit a publisher gets, and is topped up to (RabbitMQ 3.10 grants 65536). */
const PUBLISHER_CREDIT = 65_536;
const OUTCOMES = ['amqp:accepted:list', 'amqp:rejected:list', 'amqp:released:list'];

interface ConnectionState {
  readonly connection: Connection;
  readonly user: string;
  readonly vhost: string;
  closing: boolean;
  readonly sessions: Set<SessionState>;
}

interface SessionState {
  readonly session: Session;
  readonly owner: ConnectionState;
  ended: boolean;
  /** Deliveries to consumers not yet settled, in delivery order; they outlive a detached link. */
  readonly unacked: Map<Delivery, MessageRecord>;
  readonly consumers: Set<Consumer>;
}

type ExchangeTarget = Extract<Target, { kind: 'exchange' }>;

export async function startAmqpListener(options: AmqpListenerOptions): Promise<AmqpListener> {
  const { core, log } = options;
  const connections = new Map<Connection, ConnectionState>();
  const sessions = new WeakMap<Session, SessionState>();
  const consumers = new WeakMap<Sender, Consumer>();
  const publishers = new WeakMap<Receiver, ExchangeTarget>();
  const sockets = new Set<Socket>();
  let stopping = false;

  const container = rhea.create_container({ id: 'rts-demo-broker' });
  (
    container.sasl_server_mechanisms as {
      enable_plain(check: (user: string, password: string) => Promise<boolean>): void;
    }
  ).enable_plain(async (user, password) => {
    if (!stopping && core.authz.authenticate(user, password)) return true;
    log({ event: 'login-refused', user });
    await new Promise((resolve) => setTimeout(resolve, stopping ? 0 : AUTH_FAILURE_DELAY_MS).unref());
    return false;
  });

  function sessionState(session: Session): SessionState | undefined {
    return sessions.get(session);
  }

  /** Returns what the session held to its queues and forgets its consumers; idempotent. */
  function release(state: SessionState): void {
    state.ended = true;
    for (const consumer of state.consumers) core.messages.cancel(consumer);
    state.consumers.clear();
    const held = [...state.unacked.values()];
    state.unacked.clear();
    for (const record of held) core.messages.requeue(record);
    state.owner.sessions.delete(state);
  }

  function endSession(state: SessionState, error: AmqpError): void {
    if (state.ended) return;
    log({ event: 'session-ended', user: state.owner.user, condition: error.condition, description: error.description });
    release(state);
    state.session.close(error);
  }

  function forget(owner: ConnectionState): void {
    for (const state of [...owner.sessions]) release(state);
    connections.delete(owner.connection);
  }

  function closeConnection(owner: ConnectionState, error: AmqpError): void {
    if (owner.closing) return;
    owner.closing = true;
    log({ event: 'connection-closed', user: owner.user, condition: error.condition, description: error.description });
    forget(owner);
    owner.connection.close(error);
  }

  /** Frames of a closing connection or an ended session are dropped: the peer may send them until it sees the end. */
  function dropped(owner: ConnectionState, frame: Frame): boolean {
    if (owner.closing) return true;
    const session = sessionOfFrame(owner.connection, frame);
    const state = session && sessionState(session);
    return state?.ended === true;
  }

  function checkAttach(owner: ConnectionState, frame: Frame): boolean {
    if (dropped(owner, frame)) return false;
    const session = sessionOfFrame(owner.connection, frame);
    const state = session && sessionState(session);
    if (!state) return true;
    // role true: the peer receives, so the broker's end of the link sends (a consumer).
    const result =
      frame.performative.role === true
        ? core.authz.consumeFrom(owner.user, owner.vhost, terminusAddress(frame.performative.source))
        : core.authz.publishTo(owner.user, owner.vhost, terminusAddress(frame.performative.target));
    if ('error' in result) {
      endSession(state, result.error);
      return false;
    }
    return true;
  }

  container.on('connection_open', (context: EventContext) => {
    const connection = context.connection;
    const user = authenticatedUser(connection);
    const hostname = connection.hostname;
    const vhost = hostname?.startsWith('vhost:') ? hostname.slice('vhost:'.length) : options.defaultVhost;
    if (!user || stopping) {
      connection.close({ condition: 'amqp:unauthorized-access', description: 'not authenticated' });
      return;
    }
    const owner: ConnectionState = { connection, user, vhost, closing: false, sessions: new Set() };
    connections.set(connection, owner);
    log({ event: 'connection-open', user, vhost });
    receiveRawMessages(connection);
    interceptFrames(connection, 'begin', () => {
      if (owner.closing) return false;
      if (core.authz.vhostAllowed(user, vhost)) return true;
      closeConnection(owner, refusals.vhost(user));
      return false;
    });
    interceptFrames(connection, 'attach', (frame) => checkAttach(owner, frame));
    for (const name of ['flow', 'transfer', 'disposition', 'detach'] as const)
      interceptFrames(connection, name, (frame) => !dropped(owner, frame));
  });

  container.on('session_open', (context: EventContext) => {
    const owner = connections.get(context.connection);
    if (!owner || !context.session) return;
    const state: SessionState = {
      session: context.session,
      owner,
      ended: false,
      unacked: new Map(),
      consumers: new Set(),
    };
    sessions.set(context.session, state);
    owner.sessions.add(state);
  });

  // A consumer attached: the broker's end of the link is a sender.
  container.on('sender_open', (context: EventContext) => {
    const sender = context.sender!;
    const state = sessionState(sender.session);
    if (!state || state.ended) return;
    const address = (sender.source as { address?: string } | undefined)?.address;
    const resolved = core.authz.consumeFrom(state.owner.user, state.owner.vhost, address);
    if ('error' in resolved) {
      endSession(state, resolved.error);
      return;
    }
    sender.set_source({ address, outcomes: OUTCOMES } as Parameters<Sender['set_source']>[0]);
    const presettled = mirrorSenderSettleMode(sender);
    const queue = resolved.queue;
    /** Deliveries handed to rhea on this link (it starts at delivery count 0), drained credit included. */
    let handedOver = 0;
    const consumer: Consumer = {
      queue,
      canTake: () => !state.ended && sender.is_open() && sender.sendable() && handedOver < deliveryLimit(sender),
      take(bytes, record) {
        handedOver += 1;
        const delivery = sender.send(bytes, undefined, 0);
        if (presettled) core.messages.ack(record);
        else state.unacked.set(delivery, record);
      },
      idle() {
        if (!isDraining(sender) || !sender.is_open() || linkCredit(sender) <= 0) return;
        if (queue.returned.length + queue.ready.length > 0 || handedOver >= deliveryLimit(sender)) return;
        handedOver = deliveryLimit(sender);
        sender.set_drained(true);
        requestProcessing(sender.connection);
      },
    };
    consumers.set(sender, consumer);
    state.consumers.add(consumer);
    core.messages.consume(consumer);
  });

  const wake = (context: EventContext) => {
    const consumer = context.sender && consumers.get(context.sender);
    if (consumer) core.messages.wake(consumer.queue);
  };
  container.on('sendable', wake);
  container.on('sender_flow', wake);
  container.on('sender_draining', wake);

  // The consumer detached: no more deliveries to it; what it holds unsettled stays with its session.
  container.on('sender_close', (context: EventContext) => {
    const consumer = context.sender && consumers.get(context.sender);
    const state = context.sender && sessionState(context.sender.session);
    if (!consumer) return;
    core.messages.cancel(consumer);
    state?.consumers.delete(consumer);
  });

  function settle(context: EventContext, outcome: 'accepted' | 'released' | 'rejected' | 'modified' | 'settled'): void {
    const delivery = context.delivery;
    const state = delivery && sessionState(delivery.link.session);
    const record = delivery && state?.unacked.get(delivery);
    if (!delivery || !state || !record) return;
    if (outcome === 'modified') {
      const { deliveryFailed, undeliverableHere } = remoteOutcome(delivery);
      endSession(state, refusals.modified(deliveryFailed, undeliverableHere));
      return;
    }
    state.unacked.delete(delivery);
    if (outcome === 'released') core.messages.requeue(record);
    else if (outcome === 'rejected') core.messages.reject(record);
    // accepted, or settled without an outcome
    else core.messages.ack(record);
  }
  for (const outcome of ['accepted', 'released', 'rejected', 'modified', 'settled'] as const) {
    container.on(outcome, (context: EventContext) => settle(context, outcome));
  }

  // A publisher attached: the broker's end of the link is a receiver.
  container.on('receiver_open', (context: EventContext) => {
    const receiver = context.receiver!;
    const state = sessionState(receiver.session);
    if (!state || state.ended) return;
    const address = (receiver.target as { address?: string } | undefined)?.address;
    const resolved = core.authz.publishTo(state.owner.user, state.owner.vhost, address);
    if ('error' in resolved) {
      endSession(state, resolved.error);
      return;
    }
    receiver.set_target({ address: address! });
    receiver.set_source({} as Parameters<Receiver['set_source']>[0]);
    publishers.set(receiver, resolved.target);
    receiver.add_credit(PUBLISHER_CREDIT);
  });

  container.on('message', (context: EventContext) => {
    const receiver = context.receiver!;
    const delivery = context.delivery!;
    const state = sessionState(receiver.session);
    const target = publishers.get(receiver);
    if (!state || state.ended || !target) return;
    if (linkCredit(receiver) < PUBLISHER_CREDIT / 2) receiver.add_credit(PUBLISHER_CREDIT - linkCredit(receiver));
    const { user, vhost } = state.owner;
    const bytes = context.message as unknown;
    let parsed;
    try {
      if (!Buffer.isBuffer(bytes)) throw new MessageDecodeError('message not received as bytes');
      parsed = parseMessage(bytes);
    } catch (error) {
      endSession(state, refusals.decode((error as Error).message));
      return;
    }
    if (parsed.hasDeliveryAnnotations) {
      log({
        event: 'connection-dropped',
        user,
        reason: 'delivery annotations (RabbitMQ 3.10 drops such a connection)',
      });
      forget(state.owner);
      destroySocket(state.owner.connection);
      return;
    }
    const checked = core.authz.checkPublish(user, vhost, target, parsed);
    if ('error' in checked) {
      endSession(state, checked.error);
      return;
    }
    core.messages.publish(vhost, target.exchange, checked.routingKey, parsed, (stored) => {
      // Never a disposition on a session that has ended meanwhile: the publisher re-sends what it did not see settled.
      if (state.ended) return;
      if (stored) delivery.accept();
      else endSession(state, refusals.internal('the message could not be stored'));
    });
  });

  container.on('session_close', (context: EventContext) => {
    const state = context.session && sessionState(context.session);
    if (state) release(state);
  });
  const connectionGone = (context: EventContext) => {
    const owner = connections.get(context.connection);
    if (owner) forget(owner);
  };
  container.on('connection_close', connectionGone);
  container.on('disconnected', connectionGone);
  container.on('protocol_error', (error: unknown) =>
    log({ event: 'protocol-error', error: String((error as Error)?.message ?? error) }),
  );
  container.on('error', (error: unknown) =>
    log({ event: 'amqp-error', error: String((error as Error)?.message ?? error) }),
  );

  const server: Server = container.listen({
    port: options.port,
    host: '127.0.0.1',
    container_id: 'rts-demo-broker',
    idle_time_out: 60_000,
    properties: {
      product: 'RTS demo broker',
      information: 'single-machine demo; speaks the AMQP 1.0 dialect of RabbitMQ 3.10',
    },
    sender_options: { treat_modified_as_released: false, autosettle: true },
    receiver_options: { autoaccept: false, credit_window: 0 },
  } as Parameters<typeof container.listen>[0]);
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const port = (server.address() as AddressInfo).port;

  return {
    port,
    async stop() {
      stopping = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const owner of [...connections.values()]) {
        closeConnection(owner, {
          condition: 'amqp:connection:forced',
          description: "broker forced connection closure with reason 'shutdown'",
        });
      }
      // Lets the close frames go out, then ends every socket.
      await new Promise((resolve) => setTimeout(resolve, 50));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}
