import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import pg from 'pg';

/** What `postgres.ts start` records: how tests reach the private PostgreSQL, and what stops and removes it. */
export interface PostgresState {
  /** The postmaster itself, not a wrapper: signalling it stops the server. */
  pid: number;
  /** On 127.0.0.1 only. */
  port: number;
  /** The cluster (initdb); also holds the server log (server.log) and the unix socket. Removed when stopped. */
  dataDir: string;
  /** postgres://rts:PASSWORD@127.0.0.1:PORT/rts_hub; rts is the server's superuser and logs in with SCRAM. */
  url: string;
}

export const POSTGRES_STATE_ENV = 'RTS_TEST_POSTGRES_STATE';

/**
 * The private PostgreSQL of this test run (scripts/with-test-env.sh starts it), or undefined outside such a run.
 * Tests never fall back to a server started by hand.
 */
export function loadPostgresEnv(): PostgresState | undefined {
  const file = process.env[POSTGRES_STATE_ENV];
  if (!file) return undefined;
  return JSON.parse(readFileSync(file, 'utf8')) as PostgresState;
}

/** A new, empty database on the private server, for one suite or one benchmark run; returns its URL. */
export async function createTestDatabase(state: PostgresState, prefix: string): Promise<string> {
  const name = `${prefix}_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
  const client = new pg.Client({ connectionString: state.url });
  await client.connect();
  try {
    await client.query(`create database ${name}`);
  } finally {
    await client.end();
  }
  const url = new URL(state.url);
  url.pathname = `/${name}`;
  return url.toString();
}
