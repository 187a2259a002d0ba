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

const TEXT_OID = 25;
const TEXT_ARRAY_OID = 1009;

/**
 * A `text[]` parameter in PostgreSQL's binary array format (`array_recv`: dimensions, then each element's length and
 * UTF-8 bytes), which PGlite's bind sends as binary because it is bytes. The text format quotes and escapes every
 * element and PostgreSQL reads it back a character at a time: for a batch of 1,000 directory resources (1.5 MB) 30–32
 * ms of CPU against 9–11 (bench/pglite-statements.bench.ts). An empty array has no dimensions.
 */
export function binaryTextArray(values: readonly (string | null)[]): Uint8Array {
  const encoded = values.map((value) => (value === null ? null : Buffer.from(value, 'utf8')));
  const header = values.length === 0 ? 12 : 20;
  const out = Buffer.allocUnsafe(header + encoded.reduce((size, bytes) => size + 4 + (bytes?.length ?? 0), 0));
  out.writeInt32BE(values.length === 0 ? 0 : 1, 0);
  out.writeInt32BE(encoded.includes(null) ? 1 : 0, 4);
  out.writeInt32BE(TEXT_OID, 8);
  if (values.length > 0) {
    out.writeInt32BE(values.length, 12);
    out.writeInt32BE(1, 16);
  }
  let at = header;
  for (const bytes of encoded) {
    out.writeInt32BE(bytes === null ? -1 : bytes.length, at);
    at += 4;
    if (bytes) at += bytes.copy(out, at);
  }
  return out;
}

const isTextList = (value: unknown): value is (string | null)[] =>
  Array.isArray(value) && value.every((item) => item === null || typeof item === 'string');

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
    // As PGlite's query (but text[] in binary): each parameter by the serializer of the type PostgreSQL gave it, else
    // as text.
    const values = params.map((value, i) => {
      if (value === null || value === undefined) return null;
      if (statement.paramTypes[i] === TEXT_ARRAY_OID && isTextList(value)) return binaryTextArray(value);
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
