/**
 * A diagnostic preload for the hub child (node --import ./bench/pglite-trace.ts hub/main.ts …): times PGlite's work
 * without touching hub code, and writes a summary as JSON to $RTS_BENCH_SQL_TRACE when the process exits (`%p` in the
 * name becomes the process id, for a run of several processes; a process that used no PGlite writes nothing).
 * `engine` is the time the thread spent inside PostgreSQL itself (PGlite's synchronous protocol calls, WebAssembly) per
 * statement, with how many times it ran: the hub's statements run by name (hub/store/pglite-statements.ts) and are
 * counted there. `statements` times what still goes through PGlite's own query, exec and transaction (migrations,
 * scripts), from the call to its result; the encoding of parameters and decoding of rows in JavaScript are outside
 * `engine`. Also usable on a bench process that runs the hub inline
 * (`node --import ./bench/pglite-trace.ts bench/p1-directory-sync.bench.ts …`).
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
// the SQL text, or by the Bind ('B') of a statement parsed under a name before (hub/store/pglite-statements.ts); kept
// for the Execute and Sync that follow it under PGlite's exclusive lock. Each Bind or Query counts as one run.
let engineStatement = '(none)';
const namedStatements = new Map<string, string>();
const engineRuns = new Map<string, number>();
const utf8 = new TextDecoder();
const cString = (bytes: Uint8Array, from: number): [string, number] => {
  const end = bytes.indexOf(0, from);
  return [utf8.decode(bytes.subarray(from, end)), end + 1];
};
function followStatements(message: Uint8Array): void {
  const view = new DataView(message.buffer, message.byteOffset, message.byteLength);
  for (let at = 0; at + 5 <= message.byteLength; at += 1 + view.getInt32(at + 1)) {
    const type = message[at];
    if (type === 0x50) {
      const [name, next] = cString(message, at + 5);
      engineStatement = keyOf(cString(message, next)[0]);
      if (name) namedStatements.set(name, engineStatement);
    } else if (type === 0x42) {
      const [, next] = cString(message, at + 5);
      const [name] = cString(message, next);
      if (name) engineStatement = namedStatements.get(name) ?? name;
      engineRuns.set(engineStatement, (engineRuns.get(engineStatement) ?? 0) + 1);
    } else if (type === 0x51) {
      engineStatement = keyOf(utf8.decode(message.subarray(at + 5, at + view.getInt32(at + 1))));
      engineRuns.set(engineStatement, (engineRuns.get(engineStatement) ?? 0) + 1);
    }
  }
}
const originalExecProtocolRawSync = proto.execProtocolRawSync;
proto.execProtocolRawSync = function (this: unknown, message: Uint8Array) {
  followStatements(message);
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
  // Every process of a run loads this preload; only one that used PGlite writes, or the last to exit would win.
  if (!file || engineMs.size === 0) return;
  const rows = [...stats]
    .sort((a, b) => b[1].ms - a[1].ms)
    .map(([sql, s]) => ({ sql, ...s, ms: Math.round(s.ms), maxMs: Math.round(s.maxMs) }));
  writeFileSync(
    file.replaceAll('%p', String(process.pid)),
    JSON.stringify(
      {
        wallMs: Math.round(performance.now() - started),
        transactions: { ...transactions, ms: Math.round(transactions.ms), maxMs: Math.round(transactions.maxMs) },
        statements: rows,
        engineMs: Math.round([...engineMs.values()].reduce((a, b) => a + b, 0)),
        engine: [...engineMs]
          .sort((a, b) => b[1] - a[1])
          .map(([sql, ms]) => ({ sql, ms: Math.round(ms), runs: engineRuns.get(sql) ?? 0 })),
      },
      null,
      1,
    ),
  );
});
