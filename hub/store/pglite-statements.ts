import { parse, protocol, type PGlite } from '@electric-sql/pglite';

/**
 * PGlite's `query` parses and plans a statement anew at every call, in six calls into PostgreSQL (parse, describe,
 * bind, describe, execute, sync). Here a statement is parsed once under a name and then run in one call (bind,
 * describe, execute, sync); PostgreSQL keeps its plan. CPU per statement (bench/pglite-statements.bench.ts): a
 * primary-key select in a transaction 55–62 µs against 133–162, an insert on its own 65–73 against 123–151. The hub
 * runs about ten statements per consult: P2's hub, with 1 KiB attachments, 3.4–4.0 ms of CPU per consult against
 * 4.5–4.7.
 *
 * Both take PGlite's own locks, as its `query` and a transaction's `query` do: `_runExclusiveQuery` and
 * `_runExclusiveTransaction`, which its typings declare but its underscore marks internal. Check them at a PGlite
 * upgrade (without them every hub test fails at once; a lock no longer taken by `query` itself would not).
 */
export interface PgliteStatements {
  /** One statement inside a transaction the caller holds. */
  inTransaction<Row>(text: string, params?: readonly unknown[]): Promise<Row[]>;
  /** One statement on its own, committed when it returns, as PGlite's `query` does it. */
  alone<Row>(text: string, params?: readonly unknown[]): Promise<Row[]>;
}

/** Named statements kept at once; the least recently used is closed past it (the hub's texts are a few dozen). */
const MAX_STATEMENTS = 256;

const { serialize } = protocol;

export function pgliteStatements(db: PGlite): PgliteStatements {
  const statements = new Map<string, { name: string; paramTypes: number[] }>();
  /** Names to close with the next parse: evicted, or dropped after an error (a plan a schema change outdated). */
  const toClose: string[] = [];
  let named = 0;

  const prepared = async (text: string) => {
    const known = statements.get(text);
    if (known) {
      statements.delete(text);
      statements.set(text, known);
      return known;
    }
    if (statements.size >= MAX_STATEMENTS) {
      const [oldest, statement] = statements.entries().next().value!;
      statements.delete(oldest);
      toClose.push(statement.name);
    }
    const name = `rts_${++named}`;
    const closing = toClose.splice(0).map((closed) => serialize.close({ type: 'S', name: closed }));
    const { messages } = await db.execProtocol(
      Buffer.concat([
        ...closing,
        serialize.parse({ name, text }),
        serialize.describe({ type: 'S', name }),
        serialize.sync(),
      ]),
      { syncToFs: false },
    );
    const statement = { name, paramTypes: parse.parseDescribeStatementResults(messages) };
    statements.set(text, statement);
    return statement;
  };

  const run = async <Row>(text: string, params: readonly unknown[] = []): Promise<Row[]> => {
    const statement = await prepared(text);
    // As PGlite's query: each parameter by the serializer of the type PostgreSQL gave it, else as text.
    const values = params.map((value, i) => {
      if (value === null || value === undefined) return null;
      const serializer = db.serializers[statement.paramTypes[i]!];
      if (serializer) return serializer(value);
      if (typeof value === 'string') return value;
      if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') return value.toString();
      return JSON.stringify(value);
    });
    try {
      const { messages } = await db.execProtocol(
        Buffer.concat([
          serialize.bind({ statement: statement.name, values }),
          serialize.describe({ type: 'P' }),
          serialize.execute({}),
          serialize.sync(),
        ]),
        { syncToFs: false },
      );
      return (parse.parseResults(messages, db.parsers)[0]?.rows ?? []) as Row[];
    } catch (error) {
      if (statements.get(text) === statement) {
        statements.delete(text);
        toClose.push(statement.name);
      }
      throw error;
    }
  };

  return {
    inTransaction: (text, params) => db._runExclusiveQuery(() => run(text, params)),
    alone: (text, params) =>
      db._runExclusiveTransaction(() =>
        db._runExclusiveQuery(async () => {
          const rows = await run(text, params);
          await db.syncToFs();
          return rows as never;
        }),
      ),
  };
}
