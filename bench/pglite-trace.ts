/**
 * A diagnostic preload for the hub child (node --import ./bench/pglite-trace.ts hub/main.ts …): times every PGlite
 * statement and transaction without touching hub code, and writes a summary as JSON to $RTS_BENCH_SQL_TRACE when the
 * process exits. Times are from the call to its result; inside a transaction PGlite holds its exclusive lock, so a
 * statement's time there is its own; outside, it includes waiting for a running transaction. `engineMs` is the time the
 * thread spent inside PostgreSQL itself (PGlite's synchronous protocol calls, WebAssembly), whatever waited around it;
 * the encoding of parameters and decoding of rows in JavaScript are outside it. Also usable on a bench process that
 * runs the hub inline (`node --import ./bench/pglite-trace.ts bench/p1-directory-sync.bench.ts …`).
 */
import { writeFileSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';

interface Stat {
  count: number;
  ms: number;
  maxMs: number;
  rows: number;
  inTx: number;
}
const stats = new Map<string, Stat>();
const engineMs = new Map<string, number>();
const transactions = { count: 0, ms: 0, maxMs: 0, statements: 0 };
const started = performance.now();

const keyOf = (sql: string) => sql.replace(/\s+/g, ' ').trim().slice(0, 140);
function record(sql: string, ms: number, rows: number, inTx: boolean): void {
  const key = keyOf(sql);
  let s = stats.get(key);
  if (!s) stats.set(key, (s = { count: 0, ms: 0, maxMs: 0, rows: 0, inTx: 0 }));
  s.count += 1;
  s.ms += ms;
  s.maxMs = Math.max(s.maxMs, ms);
  s.rows += rows;
  if (inTx) s.inTx += 1;
}

type Queryable = {
  query: (sql: string, ...rest: unknown[]) => Promise<{ rows?: unknown[] }>;
  exec: (sql: string, ...rest: unknown[]) => Promise<unknown>;
};

/** The hub's SQL client uses only query and exec of a transaction. */
function timed(target: Queryable, inTx: boolean, onStatement?: () => void): Queryable {
  const query = target.query.bind(target);
  const exec = target.exec.bind(target);
  return {
    query: async (sql: string, ...rest: unknown[]) => {
      const t0 = performance.now();
      const result = await query(sql, ...rest);
      record(sql, performance.now() - t0, result.rows?.length ?? 0, inTx);
      onStatement?.();
      return result;
    },
    exec: async (sql: string, ...rest: unknown[]) => {
      const t0 = performance.now();
      const result = await exec(sql, ...rest);
      record(sql, performance.now() - t0, 0, inTx);
      onStatement?.();
      return result;
    },
  };
}

const proto = PGlite.prototype as unknown as Queryable & {
  transaction: (work: (tx: Queryable) => Promise<unknown>) => Promise<unknown>;
  execProtocolRawSync: (message: Uint8Array) => Uint8Array;
};

// The statement that protocol messages belong to: named by its Parse ('P') or simple Query ('Q') message, which carry
// the SQL text, and kept for the Bind, Execute and Sync that follow it under PGlite's exclusive lock.
let engineStatement = '(none)';
const utf8 = new TextDecoder();
const originalExecProtocolRawSync = proto.execProtocolRawSync;
proto.execProtocolRawSync = function (this: unknown, message: Uint8Array) {
  if (message[0] === 0x50) {
    const nameEnd = message.indexOf(0, 5);
    engineStatement = keyOf(utf8.decode(message.subarray(nameEnd + 1, message.indexOf(0, nameEnd + 1))));
  } else if (message[0] === 0x51) engineStatement = keyOf(utf8.decode(message.subarray(5, message.length - 1)));
  const t0 = performance.now();
  try {
    return originalExecProtocolRawSync.call(this, message);
  } finally {
    engineMs.set(engineStatement, (engineMs.get(engineStatement) ?? 0) + performance.now() - t0);
  }
};
const originalQuery = proto.query;
const originalExec = proto.exec;
const originalTransaction = proto.transaction;
proto.query = async function (this: Queryable, sql: string, ...rest: unknown[]) {
  const t0 = performance.now();
  const result = await originalQuery.call(this, sql, ...rest);
  record(`[outside tx] ${sql}`, performance.now() - t0, result.rows?.length ?? 0, false);
  return result;
};
proto.exec = async function (this: Queryable, sql: string, ...rest: unknown[]) {
  const t0 = performance.now();
  const result = await originalExec.call(this, sql, ...rest);
  record(`[outside tx] ${sql}`, performance.now() - t0, 0, false);
  return result;
};
proto.transaction = async function (this: Queryable, work: (tx: Queryable) => Promise<unknown>) {
  const t0 = performance.now();
  let statements = 0;
  try {
    return await originalTransaction.call(this, (tx: Queryable) => work(timed(tx, true, () => void (statements += 1))));
  } finally {
    const ms = performance.now() - t0;
    transactions.count += 1;
    transactions.ms += ms;
    transactions.maxMs = Math.max(transactions.maxMs, ms);
    transactions.statements += statements;
  }
};

process.on('exit', () => {
  const file = process.env.RTS_BENCH_SQL_TRACE;
  if (!file) return;
  const rows = [...stats]
    .sort((a, b) => b[1].ms - a[1].ms)
    .map(([sql, s]) => ({ sql, ...s, ms: Math.round(s.ms), maxMs: Math.round(s.maxMs) }));
  writeFileSync(
    file,
    JSON.stringify(
      {
        wallMs: Math.round(performance.now() - started),
        transactions: { ...transactions, ms: Math.round(transactions.ms), maxMs: Math.round(transactions.maxMs) },
        statements: rows,
        engineMs: Math.round([...engineMs.values()].reduce((a, b) => a + b, 0)),
        engine: [...engineMs].sort((a, b) => b[1] - a[1]).map(([sql, ms]) => ({ sql, ms: Math.round(ms) })),
      },
      null,
      1,
    ),
  );
});
