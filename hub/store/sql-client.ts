import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { pgliteStatements } from './pglite-statements.ts';
import { seedFromTemplate } from './pglite-template.ts';

/**
 * The hub's storage speaks PostgreSQL's SQL to one of two engines: a PostgreSQL server (production; several hub
 * instances share it) or PGlite, PostgreSQL compiled to WebAssembly and run in-process (the embedded default: one hub
 * instance, no server to install). One dialect, one schema, one set of queries for both.
 */
export type SqlValue =
  | string
  | number
  | bigint
  | boolean
  | Date
  | Uint8Array
  | null
  | readonly string[]
  | readonly number[]
  | Record<string, unknown>
  | readonly unknown[];

export interface SqlQueryable {
  query<Row = Record<string, unknown>>(text: string, params?: readonly SqlValue[]): Promise<Row[]>;
  /** Several statements without parameters (a migration script). */
  exec(text: string): Promise<void>;
}

export interface SqlClient extends SqlQueryable {
  readonly engine: 'postgres' | 'pglite';
  /** Runs `work` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(work: (tx: SqlQueryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** JSON parameters: pg serializes objects itself but sends arrays as PostgreSQL arrays, so JSON goes as text. */
export const asJson = (value: unknown): string => JSON.stringify(value);

/**
 * Bodies leave the database as hex text (`encode(body, 'hex')`): PGlite reads a bytea column at 3–6 MiB/s, hex text at
 * 30–100 MiB/s (bench/pglite-bytea-probe.ts); for PostgreSQL it makes no difference worth a second code path. They go
 * in as bytea parameters, which both engines take in binary (below).
 */
export const fromHexText = (hex: string): Uint8Array => new Uint8Array(Buffer.from(hex, 'hex'));

/**
 * PGlite's own bytea serializer writes a parameter as escaped text in JavaScript (3–6 MiB/s); handed back as bytes,
 * PGlite binds it in binary, as pg does with a Buffer: a 2 MiB directory update's body 33 → 12 ms, against hex text
 * decoded in SQL (bench/pglite-bytea-probe.ts). Strings still go as text.
 */
const BYTEA_OID = 17;
const bytesAsBinary = { [BYTEA_OID]: (value: unknown) => value as string };

export async function openPostgres(url: string, options: { maxConnections?: number } = {}): Promise<SqlClient> {
  const pool = new pg.Pool({ connectionString: url, max: options.maxConnections ?? 8 });
  // An idle client that loses its server emits 'error' on the pool; without a listener Node would crash the hub.
  pool.on('error', () => undefined);
  // 64-bit integers (bigserial ids, versions) as numbers: they stay far below 2^53 here.
  const types = {
    getTypeParser: (oid: number, format?: 'text' | 'binary'): unknown =>
      oid === 20 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format),
  };
  const run = async <Row>(client: pg.Pool | pg.PoolClient, text: string, params?: readonly SqlValue[]) =>
    (await client.query({ text, values: params as unknown[], types: types })).rows as Row[];
  await run(pool, 'select 1');
  return {
    engine: 'postgres',
    query: (text, params) => run(pool, text, params),
    exec: async (text) => void (await pool.query(text)),
    async transaction(work) {
      const client = await pool.connect();
      try {
        await client.query('begin');
        const result = await work({
          query: (text, params) => run(client, text, params),
          exec: async (text) => void (await client.query(text)),
        });
        await client.query('commit');
        return result;
      } catch (error) {
        await client.query('rollback').catch(() => undefined);
        throw error;
      } finally {
        client.release();
      }
    },
    close: () => pool.end(),
  };
}

/**
 * The embedded database in `dataDir` (a directory, or `memory://`), made if it is not there: by PGlite's initdb, or as
 * a copy of the empty database kept in `templates` when given (pglite-template.ts).
 */
export async function openPglite(dataDir: string, options: { templates?: string } = {}): Promise<SqlClient> {
  if (options.templates !== undefined && !dataDir.includes('://')) await seedFromTemplate(dataDir, options.templates);
  // int8 as a number, for every statement: given per query instead, PGlite copies its whole parser table (318
  // types) into a new object at each one, 100 of a primary-key select's 290 µs of CPU on this machine.
  const db = await PGlite.create(dataDir, { serializers: bytesAsBinary, parsers: { 20: (v: string) => Number(v) } });
  const statements = pgliteStatements(db);
  return {
    engine: 'pglite',
    query: (text, params) => statements.alone(text, params),
    exec: async (text) => void (await db.exec(text)),
    transaction: (work) =>
      db.transaction((tx) =>
        work({
          query: (text, params) => statements.inTransaction(text, params),
          exec: async (text) => void (await tx.exec(text)),
        }),
      ),
    close: () => db.close(),
  };
}
