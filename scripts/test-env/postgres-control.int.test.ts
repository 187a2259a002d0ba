import { connect } from 'node:net';
import { networkInterfaces } from 'node:os';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { loadPostgresEnv, POSTGRES_STATE_ENV } from './postgres-env.ts';

const loaded = loadPostgresEnv();
if (!loaded)
  throw new Error(
    `${POSTGRES_STATE_ENV} is not set: run integration tests through 'npm run test:int' (it starts a private PostgreSQL)`,
  );
const env = loaded;
const open: pg.Client[] = [];

async function client(connectionString: string): Promise<pg.Client> {
  const c = new pg.Client({ connectionString, connectionTimeoutMillis: 5_000 });
  c.on('error', () => undefined);
  open.push(c);
  await c.connect();
  return c;
}

/** Whether anything accepts a TCP connection there. */
function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: 2_000 });
    const done = (accepted: boolean) => {
      socket.destroy();
      resolve(accepted);
    };
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    socket.once('timeout', () => done(false));
  });
}

afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.end().catch(() => undefined)));
});

describe('private PostgreSQL of the test environment', () => {
  it('serves the rts_hub database to the rts superuser over SCRAM', async () => {
    const db = await client(env.url);
    expect((await db.query<{ one: number }>('select 1 as one')).rows).toEqual([{ one: 1 }]);
    const who = await db.query<{ db: string; user: string; superuser: string }>(
      `select current_database() as db, current_user as user, current_setting('is_superuser') as superuser`,
    );
    expect(who.rows).toEqual([{ db: 'rts_hub', user: 'rts', superuser: 'on' }]);
    const methods = await db.query<{ auth_method: string }>('select distinct auth_method from pg_hba_file_rules');
    expect(methods.rows).toEqual([{ auth_method: 'scram-sha-256' }]);
  });

  it('listens on 127.0.0.1 only', async () => {
    const db = await client(env.url);
    expect((await db.query<{ listen_addresses: string }>('show listen_addresses')).rows[0]?.listen_addresses).toBe(
      '127.0.0.1',
    );
    expect((await db.query<{ addr: string }>('select host(inet_server_addr()) as addr')).rows[0]?.addr).toBe(
      '127.0.0.1',
    );
    expect(await accepts('127.0.0.1', env.port)).toBe(true);
    const others = Object.values(networkInterfaces())
      .flat()
      .filter((i) => i && !i.internal)
      .map((i) => i!.address);
    for (const address of ['::1', ...others]) expect(await accepts(address, env.port), address).toBe(false);
  });

  it('refuses a wrong password', async () => {
    const wrong = new URL(env.url);
    wrong.password = 'not-the-password';
    await expect(client(wrong.toString())).rejects.toMatchObject({ code: '28P01' });
  });
});
