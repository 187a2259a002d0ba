import { join } from 'node:path';
import { migrate, openDatabase, type SqliteDatabase } from '../../transport/index.ts';

/**
 * The demo broker's disk: one SQLite file (WAL, synchronous=FULL) holding what RabbitMQ keeps in its metadata store
 * and its quorum queues' logs: users, permissions, exchanges, queues, bindings and the messages of every queue.
 * A message row is committed before the publisher's transfer is settled `accepted`.
 */

export interface UserRow {
  readonly name: string;
  readonly passwordHash: string | null;
  readonly tags: readonly string[];
}
export interface PermissionRow {
  readonly user: string;
  readonly vhost: string;
  readonly configure: string;
  readonly write: string;
  readonly read: string;
}
export interface TopicPermissionRow {
  readonly user: string;
  readonly vhost: string;
  readonly exchange: string;
  readonly write: string;
  readonly read: string;
}
export interface ExchangeRow {
  readonly vhost: string;
  readonly name: string;
  readonly type: string;
  readonly arguments: Record<string, unknown>;
}
export interface QueueRow {
  readonly vhost: string;
  readonly name: string;
  readonly durable: boolean;
  readonly autoDelete: boolean;
  readonly arguments: Record<string, unknown>;
}
export interface BindingRow {
  readonly vhost: string;
  readonly source: string;
  readonly destination: string;
  readonly routingKey: string;
  readonly arguments: Record<string, unknown>;
}

export interface MessageRow {
  readonly id: number;
  readonly vhost: string;
  readonly queue: string;
  readonly exchange: string;
  readonly routingKey: string;
  readonly durable: boolean;
  readonly priority: number | null;
  readonly ttl: number | null;
  readonly delivered: boolean;
  readonly returns: number;
  readonly returnSeq: number | null;
}

export interface NewMessage {
  readonly vhost: string;
  readonly queue: string;
  readonly exchange: string;
  readonly routingKey: string;
  readonly durable: boolean;
  readonly priority?: number;
  readonly ttl?: number;
  readonly tail: Buffer;
}

const MIGRATIONS = [
  {
    version: 1,
    sql: `
    create table vhosts (name text primary key);
    create table users (name text primary key, password_hash text, tags text not null);
    create table permissions (user text not null, vhost text not null, configure text not null, write text not null, read text not null, primary key (user, vhost));
    create table topic_permissions (user text not null, vhost text not null, exchange text not null, write text not null, read text not null, primary key (user, vhost, exchange));
    create table exchanges (vhost text not null, name text not null, type text not null, arguments text not null, primary key (vhost, name));
    create table queues (vhost text not null, name text not null, durable integer not null, auto_delete integer not null, arguments text not null, primary key (vhost, name));
    create table bindings (vhost text not null, source text not null, destination text not null, routing_key text not null, arguments text not null, primary key (vhost, source, destination, routing_key, arguments));
    create table messages (
      id integer primary key,
      vhost text not null, queue text not null, exchange text not null, routing_key text not null,
      durable integer not null, priority integer, ttl integer,
      delivered integer not null default 0, returns integer not null default 0, return_seq integer,
      tail blob not null
    );
    create index messages_by_queue on messages (vhost, queue, id);
  `,
  },
];

export type BrokerStore = ReturnType<typeof openBrokerStore>;

export function openBrokerStore(dataDir: string) {
  const db: SqliteDatabase = openDatabase(join(dataDir, 'demo-broker.sqlite'), undefined);
  migrate(db, 'demo-broker', MIGRATIONS);
  const json = (value: unknown) => JSON.stringify(value ?? {});
  const parse = (text: string) => JSON.parse(text) as Record<string, unknown>;

  const s = {
    putVhost: db.prepare('insert into vhosts (name) values (?) on conflict do nothing'),
    putUser: db.prepare(
      'insert into users (name, password_hash, tags) values (?, ?, ?) on conflict(name) do update set password_hash = excluded.password_hash, tags = excluded.tags',
    ),
    deleteUser: db.prepare('delete from users where name = ?'),
    deleteUserPermissions: db.prepare('delete from permissions where user = ?'),
    deleteUserTopicPermissions: db.prepare('delete from topic_permissions where user = ?'),
    putPermission: db.prepare(
      'insert into permissions (user, vhost, configure, write, read) values (?, ?, ?, ?, ?) on conflict(user, vhost) do update set configure = excluded.configure, write = excluded.write, read = excluded.read',
    ),
    putTopicPermission: db.prepare(
      'insert into topic_permissions (user, vhost, exchange, write, read) values (?, ?, ?, ?, ?) on conflict(user, vhost, exchange) do update set write = excluded.write, read = excluded.read',
    ),
    putExchange: db.prepare(
      'insert into exchanges (vhost, name, type, arguments) values (?, ?, ?, ?) on conflict(vhost, name) do nothing',
    ),
    putQueue: db.prepare(
      'insert into queues (vhost, name, durable, auto_delete, arguments) values (?, ?, ?, ?, ?) on conflict(vhost, name) do nothing',
    ),
    deleteQueue: db.prepare('delete from queues where vhost = ? and name = ?'),
    deleteQueueBindings: db.prepare('delete from bindings where vhost = ? and destination = ?'),
    deleteQueueMessages: db.prepare('delete from messages where vhost = ? and queue = ?'),
    putBinding: db.prepare(
      'insert into bindings (vhost, source, destination, routing_key, arguments) values (?, ?, ?, ?, ?) on conflict do nothing',
    ),
    insertMessage: db.prepare(
      'insert into messages (vhost, queue, exchange, routing_key, durable, priority, ttl, tail) values (?, ?, ?, ?, ?, ?, ?, ?)',
    ),
    copyMessage: db.prepare(
      'insert into messages (vhost, queue, exchange, routing_key, durable, priority, ttl, tail) select ?, ?, ?, ?, durable, priority, ttl, tail from messages where id = ?',
    ),
    deleteMessage: db.prepare('delete from messages where id = ?'),
    updateMessage: db.prepare('update messages set delivered = ?, returns = ?, return_seq = ? where id = ?'),
    tail: db.prepare('select tail from messages where id = ?').pluck(),
  };

  return {
    transaction<T>(work: () => T): T {
      return db.transaction(work)();
    },
    putVhost: (name: string) => void s.putVhost.run(name),
    putUser: (u: UserRow) => void s.putUser.run(u.name, u.passwordHash, JSON.stringify(u.tags)),
    deleteUser(name: string) {
      s.deleteUserPermissions.run(name);
      s.deleteUserTopicPermissions.run(name);
      s.deleteUser.run(name);
    },
    putPermission: (p: PermissionRow) => void s.putPermission.run(p.user, p.vhost, p.configure, p.write, p.read),
    putTopicPermission: (p: TopicPermissionRow) =>
      void s.putTopicPermission.run(p.user, p.vhost, p.exchange, p.write, p.read),
    putExchange: (e: ExchangeRow) => void s.putExchange.run(e.vhost, e.name, e.type, json(e.arguments)),
    putQueue: (q: QueueRow) =>
      void s.putQueue.run(q.vhost, q.name, q.durable ? 1 : 0, q.autoDelete ? 1 : 0, json(q.arguments)),
    deleteQueue(vhost: string, name: string) {
      s.deleteQueueBindings.run(vhost, name);
      s.deleteQueueMessages.run(vhost, name);
      s.deleteQueue.run(vhost, name);
    },
    putBinding: (b: BindingRow) =>
      void s.putBinding.run(b.vhost, b.source, b.destination, b.routingKey, json(b.arguments)),
    insertMessage: (m: NewMessage) =>
      Number(
        s.insertMessage.run(
          m.vhost,
          m.queue,
          m.exchange,
          m.routingKey,
          m.durable ? 1 : 0,
          m.priority ?? null,
          m.ttl ?? null,
          m.tail,
        ).lastInsertRowid,
      ),
    copyMessage: (fromId: number, to: { vhost: string; queue: string; exchange: string; routingKey: string }) =>
      Number(s.copyMessage.run(to.vhost, to.queue, to.exchange, to.routingKey, fromId).lastInsertRowid),
    deleteMessage: (id: number) => void s.deleteMessage.run(id),
    updateMessage: (id: number, state: { delivered: boolean; returns: number; returnSeq?: number }) =>
      void s.updateMessage.run(state.delivered ? 1 : 0, state.returns, state.returnSeq ?? null, id),
    tail: (id: number) => s.tail.get(id) as Buffer | undefined,

    load() {
      const users = (
        db.prepare('select name, password_hash as passwordHash, tags from users').all() as {
          name: string;
          passwordHash: string | null;
          tags: string;
        }[]
      ).map((u): UserRow => ({ name: u.name, passwordHash: u.passwordHash, tags: JSON.parse(u.tags) as string[] }));
      const vhosts = db.prepare('select name from vhosts').pluck().all() as string[];
      const permissions = db
        .prepare('select user, vhost, configure, write, read from permissions')
        .all() as PermissionRow[];
      const topicPermissions = db
        .prepare('select user, vhost, exchange, write, read from topic_permissions')
        .all() as TopicPermissionRow[];
      const exchanges = (
        db.prepare('select vhost, name, type, arguments from exchanges').all() as {
          vhost: string;
          name: string;
          type: string;
          arguments: string;
        }[]
      ).map((e): ExchangeRow => ({ ...e, arguments: parse(e.arguments) }));
      const queues = (
        db.prepare('select vhost, name, durable, auto_delete as autoDelete, arguments from queues').all() as {
          vhost: string;
          name: string;
          durable: number;
          autoDelete: number;
          arguments: string;
        }[]
      ).map((q): QueueRow => ({
        vhost: q.vhost,
        name: q.name,
        durable: q.durable === 1,
        autoDelete: q.autoDelete === 1,
        arguments: parse(q.arguments),
      }));
      const bindings = (
        db.prepare('select vhost, source, destination, routing_key as routingKey, arguments from bindings').all() as {
          vhost: string;
          source: string;
          destination: string;
          routingKey: string;
          arguments: string;
        }[]
      ).map((b): BindingRow => ({ ...b, arguments: parse(b.arguments) }));
      const messages = (
        db
          .prepare(
            `select id, vhost, queue, exchange, routing_key as routingKey, durable, priority, ttl, delivered, returns, return_seq as returnSeq
        from messages order by id`,
          )
          .all() as (Omit<MessageRow, 'durable' | 'delivered'> & { durable: number; delivered: number })[]
      ).map((m): MessageRow => ({ ...m, durable: m.durable === 1, delivered: m.delivered === 1 }));
      return { users, vhosts, permissions, topicPermissions, exchanges, queues, bindings, messages };
    },

    close: () => db.close(),
  };
}
