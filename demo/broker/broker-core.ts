import { createHash, timingSafeEqual } from 'node:crypto';
import { encodeHeader, type ParsedMessage } from './amqp-sections.ts';
import {
  parseSource,
  parseTarget,
  refusals,
  resourceAllowed,
  topicAllowed,
  topicMatches,
  type AmqpError,
  type Permission,
  type Source,
  type Target,
  type TopicPermission,
} from './access-rules.ts';
import type { BindingRow, BrokerStore, ExchangeRow, MessageRow, QueueRow, UserRow } from './broker-store.ts';

/**
 * The demo broker without its protocols: users and their permissions, exchanges, queues with RabbitMQ 3.10
 * quorum-queue semantics, and the messages in them. The AMQP listener and the management API drive it.
 *
 * Message life: published → committed to disk → ready → delivered to one consumer (round-robin among consumers with
 * credit) → unacknowledged until the consumer settles it:
 *   accepted                  → deleted
 *   released, or its session
 *   ended while unsettled     → returned: served again before the queue's other messages, first-acquirer false;
 *                               a quorum queue dead-letters it once it came back more than x-delivery-limit times
 *   rejected                  → dead-lettered (to x-dead-letter-exchange, else dropped)
 */

export interface MessageRecord {
  readonly id: number;
  readonly queue: QueueState;
  readonly exchange: string;
  readonly routingKey: string;
  readonly durable: boolean;
  readonly priority?: number;
  readonly ttl?: number;
  /** Delivered at least once: the next delivery says first-acquirer false. */
  delivered: boolean;
  /** Times it came back to the queue (released or left unsettled); quorum queues count it against the limit. */
  returns: number;
  returnSeq?: number;
  state: 'ready' | 'unacked' | 'gone';
}

export interface Consumer {
  readonly queue: QueueState;
  /** Can take one more delivery now (credit, link open). */
  canTake(): boolean;
  /** Sends one message (header + stored sections). */
  take(bytes: Buffer, record: MessageRecord): void;
  /** Called after a dispatch round: a draining consumer with nothing left to take gives up its credit. */
  idle(): void;
}

export interface QueueState {
  readonly vhost: string;
  readonly name: string;
  readonly durable: boolean;
  readonly autoDelete: boolean;
  readonly arguments: Readonly<Record<string, unknown>>;
  /** Returned messages, served first, in the order they came back. */
  readonly returned: MessageRecord[];
  readonly ready: MessageRecord[];
  readonly unacked: Set<MessageRecord>;
  readonly consumers: Consumer[];
  next: number;
  dispatchScheduled: boolean;
}

interface ExchangeState extends ExchangeRow {
  readonly bindings: BindingRow[];
}

export interface QueueInfo {
  readonly name: string;
  readonly vhost: string;
  readonly durable: boolean;
  readonly auto_delete: boolean;
  readonly exclusive: false;
  readonly arguments: Readonly<Record<string, unknown>>;
  readonly type: 'quorum' | 'classic';
  readonly state: 'running';
  readonly consumers: number;
  readonly messages: number;
  readonly messages_ready: number;
  readonly messages_unacknowledged: number;
}

export type Log = (event: { readonly event: string; readonly [key: string]: unknown }) => void;

const key = (...parts: string[]) => parts.join('\u0000');

/** RabbitMQ's `rabbit_password_hashing_sha256`: base64(salt(4) ‖ SHA-256(salt ‖ password)). */
export function verifyRabbitPassword(hash: string | null, password: string): boolean {
  if (!hash) return false;
  const bytes = Buffer.from(hash, 'base64');
  if (bytes.length !== 36) return false;
  const salt = bytes.subarray(0, 4);
  const digest = createHash('sha256')
    .update(Buffer.concat([salt, Buffer.from(password, 'utf8')]))
    .digest();
  return timingSafeEqual(digest, bytes.subarray(4));
}

/** The exchanges every RabbitMQ vhost has; `''` is the default exchange (routes to the queue named by the key). */
const BUILT_IN_EXCHANGES: readonly { name: string; type: string }[] = [
  { name: '', type: 'direct' },
  { name: 'amq.direct', type: 'direct' },
  { name: 'amq.fanout', type: 'fanout' },
  { name: 'amq.topic', type: 'topic' },
];

function queueType(args: Readonly<Record<string, unknown>>): 'quorum' | 'classic' {
  return args['x-queue-type'] === 'quorum' ? 'quorum' : 'classic';
}

function formatArg(value: unknown): string {
  if (value === undefined) return 'none';
  return `'${typeof value === 'string' ? value : JSON.stringify(value)}'`;
}

export type BrokerCore = ReturnType<typeof createBrokerCore>;

export function createBrokerCore(store: BrokerStore, log: Log = () => undefined) {
  const users = new Map<string, UserRow>();
  const vhosts = new Set<string>();
  const permissions = new Map<string, Permission>();
  const topicPermissions = new Map<string, TopicPermission>();
  const exchanges = new Map<string, ExchangeState>();
  const queues = new Map<string, QueueState>();
  let returnSeq = 0;

  // Disk writes of a tick go into one transaction; what must wait for the commit (settling a publish) runs after it.
  let staged: { run: () => void; after?: (ok: boolean) => void }[] = [];
  let flushScheduled = false;
  let closed = false;

  function stage(run: () => void, after?: (ok: boolean) => void): void {
    staged.push({ run, ...(after && { after }) });
    if (flushScheduled) return;
    flushScheduled = true;
    setImmediate(flush);
  }

  function flush(): void {
    flushScheduled = false;
    const batch = staged;
    staged = [];
    if (batch.length === 0 || closed) return;
    let ok = true;
    try {
      store.transaction(() => {
        for (const op of batch) op.run();
      });
    } catch (error) {
      ok = false;
      log({ event: 'store-error', error: (error as Error).message });
    }
    for (const op of batch) op.after?.(ok);
  }

  function addVhost(name: string): void {
    vhosts.add(name);
    for (const e of BUILT_IN_EXCHANGES) {
      if (!exchanges.has(key(name, e.name)))
        exchanges.set(key(name, e.name), { vhost: name, name: e.name, type: e.type, arguments: {}, bindings: [] });
    }
  }

  function addQueue(row: QueueRow): QueueState {
    const queue: QueueState = {
      ...row,
      returned: [],
      ready: [],
      unacked: new Set(),
      consumers: [],
      next: 0,
      dispatchScheduled: false,
    };
    queues.set(key(row.vhost, row.name), queue);
    return queue;
  }

  function load(): void {
    const state = store.load();
    for (const v of state.vhosts) addVhost(v);
    for (const u of state.users) users.set(u.name, u);
    for (const p of state.permissions) permissions.set(key(p.user, p.vhost), p);
    for (const p of state.topicPermissions) topicPermissions.set(key(p.user, p.vhost, p.exchange), p);
    for (const e of state.exchanges) exchanges.set(key(e.vhost, e.name), { ...e, bindings: [] });
    for (const q of state.queues) addQueue(q);
    for (const b of state.bindings) exchanges.get(key(b.vhost, b.source))?.bindings.push(b);
    const returned: { record: MessageRecord; seq: number }[] = [];
    for (const m of state.messages) {
      const queue = queues.get(key(m.vhost, m.queue));
      if (!queue) continue;
      const record = recordOf(m, queue);
      if (m.returnSeq !== null) returned.push({ record, seq: m.returnSeq });
      else queue.ready.push(record);
      returnSeq = Math.max(returnSeq, m.returnSeq ?? 0);
    }
    for (const { record } of returned.sort((a, b) => a.seq - b.seq)) record.queue.returned.push(record);
  }

  function recordOf(
    m: Pick<
      MessageRow,
      'id' | 'exchange' | 'routingKey' | 'durable' | 'priority' | 'ttl' | 'delivered' | 'returns' | 'returnSeq'
    >,
    queue: QueueState,
  ): MessageRecord {
    return {
      id: m.id,
      queue,
      exchange: m.exchange,
      routingKey: m.routingKey,
      durable: m.durable,
      ...(m.priority !== null && { priority: m.priority }),
      ...(m.ttl !== null && { ttl: m.ttl }),
      delivered: m.delivered,
      returns: m.returns,
      ...(m.returnSeq !== null && { returnSeq: m.returnSeq }),
      state: 'ready',
    };
  }

  // ---- routing --------------------------------------------------------------------------------------------------

  function route(vhost: string, exchangeName: string, routingKey: string, visited = new Set<string>()): QueueState[] {
    const exchange = exchanges.get(key(vhost, exchangeName));
    if (!exchange || visited.has(exchangeName)) return [];
    visited.add(exchangeName);
    if (exchangeName === '') {
      const queue = queues.get(key(vhost, routingKey));
      return queue ? [queue] : [];
    }
    const matches = exchange.bindings.filter((b) => {
      if (exchange.type === 'fanout') return true;
      if (exchange.type === 'topic') return topicMatches(b.routingKey, routingKey);
      return b.routingKey === routingKey;
    });
    const targets = [
      ...new Set(
        matches.map((b) => queues.get(key(vhost, b.destination))).filter((q): q is QueueState => q !== undefined),
      ),
    ];
    const alternate = exchange.arguments['alternate-exchange'];
    if (targets.length === 0 && typeof alternate === 'string') return route(vhost, alternate, routingKey, visited);
    return targets;
  }

  // ---- delivery -------------------------------------------------------------------------------------------------

  function scheduleDispatch(queue: QueueState): void {
    if (queue.dispatchScheduled || closed) return;
    queue.dispatchScheduled = true;
    setImmediate(() => {
      queue.dispatchScheduled = false;
      dispatch(queue);
    });
  }

  function nextConsumer(queue: QueueState): Consumer | undefined {
    const n = queue.consumers.length;
    for (let i = 0; i < n; i++) {
      const index = (queue.next + i) % n;
      const consumer = queue.consumers[index]!;
      if (consumer.canTake()) {
        queue.next = (index + 1) % n;
        return consumer;
      }
    }
    return undefined;
  }

  function dispatch(queue: QueueState): void {
    if (closed) return;
    while (queue.returned.length > 0 || queue.ready.length > 0) {
      const consumer = nextConsumer(queue);
      if (!consumer) break;
      const record = (queue.returned.length > 0 ? queue.returned.shift() : queue.ready.shift())!;
      const tail = store.tail(record.id);
      if (!tail) continue;
      const header = encodeHeader({
        durable: record.durable,
        firstAcquirer: !record.delivered,
        ...(record.priority !== undefined && { priority: record.priority }),
        ...(record.ttl !== undefined && { ttl: record.ttl }),
      });
      if (!record.delivered) {
        record.delivered = true;
        persistState(record);
      }
      record.state = 'unacked';
      queue.unacked.add(record);
      consumer.take(Buffer.concat([header, tail]), record);
    }
    for (const consumer of [...queue.consumers]) consumer.idle();
  }

  function persistState(record: MessageRecord): void {
    const { delivered, returns, returnSeq: seq } = record;
    stage(() => store.updateMessage(record.id, { delivered, returns, ...(seq !== undefined && { returnSeq: seq }) }));
  }

  function insert(
    queues: readonly QueueState[],
    write: (queue: QueueState) => number,
    from: Omit<MessageRow, 'id' | 'vhost' | 'queue'>,
    done?: (ok: boolean) => void,
  ): void {
    const created: MessageRecord[] = [];
    stage(
      () => {
        for (const queue of queues) created.push(recordOf({ ...from, id: write(queue) }, queue));
      },
      (ok) => {
        if (ok) {
          for (const record of created) {
            record.queue.ready.push(record);
            scheduleDispatch(record.queue);
          }
        }
        done?.(ok);
      },
    );
  }

  function deadLetter(record: MessageRecord, reason: string): void {
    const queue = record.queue;
    queue.unacked.delete(record);
    record.state = 'gone';
    const exchange = queue.arguments['x-dead-letter-exchange'];
    const routingKey =
      typeof queue.arguments['x-dead-letter-routing-key'] === 'string'
        ? queue.arguments['x-dead-letter-routing-key']
        : record.routingKey;
    const targets = typeof exchange === 'string' ? route(queue.vhost, exchange, routingKey) : [];
    log({ event: 'dead-letter', queue: queue.name, reason, to: targets.map((t) => t.name) });
    if (targets.length > 0) {
      insert(
        targets,
        (target) =>
          store.copyMessage(record.id, {
            vhost: target.vhost,
            queue: target.name,
            exchange: exchange as string,
            routingKey,
          }),
        {
          exchange: exchange as string,
          routingKey,
          durable: record.durable,
          priority: record.priority ?? null,
          ttl: record.ttl ?? null,
          delivered: false,
          returns: 0,
          returnSeq: null,
        },
      );
    }
    stage(() => store.deleteMessage(record.id));
  }

  const deliveryLimit = (queue: QueueState): number | undefined => {
    const limit = queue.arguments['x-delivery-limit'];
    return queueType(queue.arguments) === 'quorum' && typeof limit === 'number' ? limit : undefined;
  };

  const messages = {
    publish(
      vhost: string,
      exchange: string,
      routingKey: string,
      message: ParsedMessage,
      done: (ok: boolean) => void,
    ): void {
      const targets = route(vhost, exchange, routingKey);
      // Unroutable without an alternate exchange: RabbitMQ drops it and still accepts the transfer (measured).
      insert(
        targets,
        (queue) =>
          store.insertMessage({
            vhost,
            queue: queue.name,
            exchange,
            routingKey,
            durable: message.durable,
            tail: message.tail,
            ...(message.priority !== undefined && { priority: message.priority }),
            ...(message.ttl !== undefined && { ttl: message.ttl }),
          }),
        {
          exchange,
          routingKey,
          durable: message.durable,
          priority: message.priority ?? null,
          ttl: message.ttl ?? null,
          delivered: false,
          returns: 0,
          returnSeq: null,
        },
        done,
      );
    },

    consume(consumer: Consumer): void {
      consumer.queue.consumers.push(consumer);
      scheduleDispatch(consumer.queue);
    },

    cancel(consumer: Consumer): void {
      const list = consumer.queue.consumers;
      const index = list.indexOf(consumer);
      if (index < 0) return;
      list.splice(index, 1);
      if (consumer.queue.next > index) consumer.queue.next -= 1;
      if (consumer.queue.next >= list.length) consumer.queue.next = 0;
    },

    /** The consumer has credit again (or a buffer freed up). */
    wake: (queue: QueueState) => scheduleDispatch(queue),

    ack(record: MessageRecord): void {
      if (record.state !== 'unacked') return;
      record.state = 'gone';
      record.queue.unacked.delete(record);
      stage(() => store.deleteMessage(record.id));
    },

    reject(record: MessageRecord): void {
      if (record.state !== 'unacked') return;
      deadLetter(record, 'rejected');
    },

    /** Released, or unsettled when its session ended. */
    requeue(record: MessageRecord): void {
      if (record.state !== 'unacked') return;
      const queue = record.queue;
      record.returns += 1;
      const limit = deliveryLimit(queue);
      if (limit !== undefined && record.returns > limit) {
        deadLetter(record, 'delivery_limit');
        return;
      }
      queue.unacked.delete(record);
      record.state = 'ready';
      record.returnSeq = ++returnSeq;
      queue.returned.push(record);
      persistState(record);
      scheduleDispatch(queue);
    },
  };

  // ---- authorization (what the AMQP listener asks) ---------------------------------------------------------------

  const authz = {
    authenticate(name: string, password: string): boolean {
      return verifyRabbitPassword(users.get(name)?.passwordHash ?? null, password);
    },

    /** RabbitMQ lets a user into a vhost that exists and in which it has any permission. */
    vhostAllowed: (user: string, vhost: string) => vhosts.has(vhost) && permissions.has(key(user, vhost)),

    /** A consumer's attach: the queue, or why not (the session then ends with it). */
    consumeFrom(
      user: string,
      vhost: string,
      address: string | undefined,
    ): { queue: QueueState } | { error: AmqpError } {
      const source: Source = parseSource(address);
      const permission = permissions.get(key(user, vhost));
      switch (source.kind) {
        case 'invalid':
          return {
            error: source.address === undefined ? refusals.noAddress() : refusals.unknownAddress(source.address),
          };
        case 'declare':
          if (!resourceAllowed(permission, 'configure', source.queue))
            return { error: refusals.resource('queue', source.queue, vhost, user) };
          return { error: refusals.notImplemented(address!) };
        case 'temporary': {
          const name = `amq.gen-${Math.random().toString(36).slice(2, 24)}`;
          if (!resourceAllowed(permission, 'configure', name))
            return { error: refusals.resource('queue', name, vhost, user) };
          return { error: refusals.notImplemented(address!) };
        }
        case 'queue': {
          if (!resourceAllowed(permission, 'read', source.queue))
            return { error: refusals.resource('queue', source.queue, vhost, user) };
          const queue = queues.get(key(vhost, source.queue));
          return queue ? { queue } : { error: refusals.noQueue(source.queue, vhost) };
        }
      }
    },

    /** A publisher's attach: RabbitMQ checks only that the exchange (or queue) exists; permissions come per message. */
    publishTo(
      user: string,
      vhost: string,
      address: string | undefined,
    ): { target: Extract<Target, { kind: 'exchange' }> } | { error: AmqpError } {
      const target = parseTarget(address);
      const permission = permissions.get(key(user, vhost));
      if (target.kind === 'invalid')
        return { error: target.address === undefined ? refusals.noAddress() : refusals.unknownAddress(target.address) };
      if (target.kind === 'declare') {
        if (!resourceAllowed(permission, 'configure', target.queue))
          return { error: refusals.resource('queue', target.queue, vhost, user) };
        return { error: refusals.notImplemented(address!) };
      }
      if (target.exchange === '' && target.routingKey !== undefined && !queues.has(key(vhost, target.routingKey)))
        return { error: refusals.noQueue(target.routingKey, vhost) };
      if (!exchanges.has(key(vhost, target.exchange))) return { error: refusals.noExchange(target.exchange, vhost) };
      return { target };
    },

    /**
     * One message, in RabbitMQ's order: write permission on the exchange, the exchange exists, topic permission on the
     * routing key (topic exchanges), user_id equals the authenticated user.
     */
    checkPublish(
      user: string,
      vhost: string,
      target: Extract<Target, { kind: 'exchange' }>,
      message: ParsedMessage,
    ): { routingKey: string } | { error: AmqpError } {
      if (
        !resourceAllowed(
          permissions.get(key(user, vhost)),
          'write',
          target.exchange === '' ? 'amq.default' : target.exchange,
        )
      ) {
        return { error: refusals.resource('exchange', target.exchange, vhost, user) };
      }
      const exchange = exchanges.get(key(vhost, target.exchange));
      if (!exchange) return { error: refusals.noExchange(target.exchange, vhost) };
      const routingKey = target.routingKey ?? message.subject;
      if (exchange.type === 'topic') {
        const topicPermission = topicPermissions.get(key(user, vhost, target.exchange));
        if (topicPermission && routingKey === undefined) return { error: refusals.noRoutingKey() };
        if (!topicAllowed(topicPermission, 'write', routingKey ?? '', { username: user, vhost })) {
          return { error: refusals.topic(routingKey ?? '', target.exchange, vhost, user) };
        }
      }
      if (message.userId && !message.userId.equals(Buffer.from(user, 'utf8')))
        return { error: refusals.userId(message.userId.toString('utf8'), user) };
      return { routingKey: routingKey ?? '' };
    },
  };

  // ---- administration (definitions and the management API) -----------------------------------------------------

  const admin = {
    user: (name: string) => users.get(name),

    putUser(row: UserRow): 'created' | 'updated' {
      const existed = users.has(row.name);
      store.putUser(row);
      users.set(row.name, row);
      return existed ? 'updated' : 'created';
    },

    deleteUser(name: string): boolean {
      if (!users.has(name)) return false;
      store.deleteUser(name);
      users.delete(name);
      for (const k of [...permissions.keys()]) if (k.startsWith(key(name, ''))) permissions.delete(k);
      for (const k of [...topicPermissions.keys()]) if (k.startsWith(key(name, ''))) topicPermissions.delete(k);
      return true;
    },

    putVhost(name: string): void {
      store.putVhost(name);
      addVhost(name);
    },

    putPermission(user: string, vhost: string, p: Permission): 'created' | 'updated' | 'vhost_or_user_not_found' {
      if (!users.has(user) || !vhosts.has(vhost)) return 'vhost_or_user_not_found';
      const existed = permissions.has(key(user, vhost));
      const row = { user, vhost, configure: p.configure, write: p.write, read: p.read };
      store.putPermission(row);
      permissions.set(key(user, vhost), row);
      return existed ? 'updated' : 'created';
    },

    putTopicPermission(
      user: string,
      vhost: string,
      p: TopicPermission,
    ): 'created' | 'updated' | 'vhost_or_user_not_found' {
      if (!users.has(user) || !vhosts.has(vhost)) return 'vhost_or_user_not_found';
      const existed = topicPermissions.has(key(user, vhost, p.exchange));
      const row = { user, vhost, exchange: p.exchange, write: p.write, read: p.read };
      store.putTopicPermission(row);
      topicPermissions.set(key(user, vhost, p.exchange), row);
      return existed ? 'updated' : 'created';
    },

    putExchange(row: ExchangeRow): void {
      if (exchanges.has(key(row.vhost, row.name))) return;
      store.putExchange(row);
      exchanges.set(key(row.vhost, row.name), { ...row, bindings: [] });
    },

    /** Idempotent like RabbitMQ: the same declaration again is fine, a different one is refused. */
    declareQueue(
      row: QueueRow,
    ): { result: 'created' | 'exists' } | { error: 'vhost_not_found' } | { inequivalent: string } {
      if (!vhosts.has(row.vhost)) return { error: 'vhost_not_found' };
      const existing = queues.get(key(row.vhost, row.name));
      if (existing) {
        const where = `for queue '${row.name}' in vhost '${row.vhost}'`;
        if (existing.durable !== row.durable)
          return {
            inequivalent: `inequivalent arg 'durable' ${where}: received '${String(row.durable)}' but current is '${String(existing.durable)}'`,
          };
        if (existing.autoDelete !== row.autoDelete)
          return {
            inequivalent: `inequivalent arg 'auto_delete' ${where}: received '${String(row.autoDelete)}' but current is '${String(existing.autoDelete)}'`,
          };
        for (const k of new Set([...Object.keys(existing.arguments), ...Object.keys(row.arguments)])) {
          const [was, now] = [existing.arguments[k], row.arguments[k]];
          if (JSON.stringify(was) !== JSON.stringify(now))
            return {
              inequivalent: `inequivalent arg '${k}' ${where}: received ${formatArg(now)} but current is ${formatArg(was)}`,
            };
        }
        return { result: 'exists' };
      }
      store.putQueue(row);
      addQueue(row);
      return { result: 'created' };
    },

    bind(row: BindingRow): 'ok' | { error: string } {
      const exchange = exchanges.get(key(row.vhost, row.source));
      if (!vhosts.has(row.vhost)) return { error: 'vhost_not_found' };
      if (!exchange || row.source === '') return { error: `no exchange '${row.source}' in vhost '${row.vhost}'` };
      if (!queues.has(key(row.vhost, row.destination)))
        return { error: `no queue '${row.destination}' in vhost '${row.vhost}'` };
      const same = (b: BindingRow) =>
        b.destination === row.destination &&
        b.routingKey === row.routingKey &&
        JSON.stringify(b.arguments) === JSON.stringify(row.arguments);
      if (!exchange.bindings.some(same)) {
        store.putBinding(row);
        exchange.bindings.push(row);
      }
      return 'ok';
    },

    queues(vhost?: string): QueueInfo[] {
      return [...queues.values()]
        .filter((q) => vhost === undefined || q.vhost === vhost)
        .sort((a, b) => a.name.localeCompare(b.name))
        .map((q) => ({
          name: q.name,
          vhost: q.vhost,
          durable: q.durable,
          auto_delete: q.autoDelete,
          exclusive: false,
          arguments: q.arguments,
          type: queueType(q.arguments),
          state: 'running',
          consumers: q.consumers.length,
          messages: q.returned.length + q.ready.length + q.unacked.size,
          messages_ready: q.returned.length + q.ready.length,
          messages_unacknowledged: q.unacked.size,
        }));
    },

    vhostExists: (vhost: string) => vhosts.has(vhost),

    /** Removes the ready messages (not those a consumer holds), as a purge of a quorum queue does. */
    purge(vhost: string, name: string): number | undefined {
      const queue = queues.get(key(vhost, name));
      if (!queue) return undefined;
      const purged = [...queue.returned.splice(0), ...queue.ready.splice(0)];
      for (const record of purged) record.state = 'gone';
      if (purged.length > 0) stage(() => purged.forEach((r) => store.deleteMessage(r.id)));
      return purged.length;
    },
  };

  load();

  return {
    messages,
    authz,
    admin,
    /** Writes what is staged now (stop() calls it before closing the store). */
    flush,
    close(): void {
      flush();
      closed = true;
    },
  };
}
