import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { binaryTextArray, pgliteStatements } from './pglite-statements.ts';
import { openPglite, type SqlClient } from './sql-client.ts';

/** The statements PostgreSQL keeps for this session, by text (the look-up itself is one of them). */
const preparedTexts = async (sql: SqlClient): Promise<string[]> =>
  (
    await sql.query<{ statement: string }>(
      "select statement from pg_prepared_statements where statement not like '%pg_prepared_statements%'",
    )
  ).map((row) => row.statement);

describe('PGlite statements run by name', () => {
  // One database for the file (each takes 1.4 s to make); each test gets its table anew.
  let sql: SqlClient;
  beforeAll(async () => {
    sql = await openPglite('memory://');
  });
  afterAll(() => sql.close());
  beforeEach(() =>
    sql.exec(`drop table if exists t;
      create table t (id text primary key, n bigint, body bytea, at timestamptz, tags text[], doc jsonb)`),
  );

  it("reads and writes every kind of value the hub uses, as PGlite's own query does", async () => {
    const at = new Date('2026-12-07T06:00:00Z');
    const inserted = await sql.query<{ id: string }>(
      'insert into t (id, n, body, at, tags, doc) values ($1, $2, $3, $4, $5, $6) returning id',
      ['a', 2 ** 40, new Uint8Array([0, 1, 255]), at, ['x', 'y'], { k: [1, 'two'] }],
    );
    expect(inserted).toEqual([{ id: 'a' }]);
    await sql.query('insert into t (id, n, body) values ($1, $2, $3)', ['b', null, null]);
    const rows = await sql.query('select id, n, body, at, tags, doc from t order by id');
    expect(rows).toEqual([
      { id: 'a', n: 2 ** 40, body: new Uint8Array([0, 1, 255]), at, tags: ['x', 'y'], doc: { k: [1, 'two'] } },
      { id: 'b', n: null, body: null, at: null, tags: null, doc: null },
    ]);
    expect(await sql.query('select id from t where id = any($1::text[]) order by id', [['b', 'a']])).toEqual([
      { id: 'a' },
      { id: 'b' },
    ]);
    expect(await sql.query('update t set n = n + 1 where id = $1', ['zzz'])).toEqual([]);
  });

  it('parses a statement once, however often it runs, in a transaction or alone', async () => {
    const text = 'select n from t where id = $1';
    await sql.query('insert into t (id, n) values ($1, $2)', ['a', 1]);
    for (let i = 0; i < 3; i++) expect(await sql.query(text, ['a'])).toEqual([{ n: 1 }]);
    await sql.transaction(async (tx) => expect(await tx.query(text, ['a'])).toEqual([{ n: 1 }]));
    expect((await preparedTexts(sql)).filter((s) => s === text)).toHaveLength(1);
  });

  it('keeps a failed statement from what follows: the error is PostgreSQL’s, the next statement runs', async () => {
    const insert = 'insert into t (id) values ($1)';
    await sql.query(insert, ['a']);
    await expect(sql.query(insert, ['a'])).rejects.toMatchObject({ code: '23505' });
    expect(await sql.query('select count(*)::int as n from t')).toEqual([{ n: 1 }]);
    await sql.query(insert, ['b']);
    expect((await preparedTexts(sql)).filter((s) => s === insert)).toHaveLength(1);
  });

  it('rolls back with its transaction', async () => {
    await expect(
      sql.transaction(async (tx) => {
        await tx.query('insert into t (id) values ($1)', ['a']);
        throw new Error('the work fails');
      }),
    ).rejects.toThrow('the work fails');
    expect(await sql.query('select id from t')).toEqual([]);
  });

  it('runs a statement again after the table it reads changed shape', async () => {
    const text = 'select * from t where id = $1';
    await sql.query('insert into t (id) values ($1)', ['a']);
    await sql.query(text, ['a']);
    await sql.exec('alter table t add column extra text');
    // PostgreSQL may refuse the first run ("cached plan must not change result type"); the next one is parsed anew.
    await sql.query(text, ['a']).catch(() => undefined);
    expect(await sql.query(text, ['a'])).toEqual([expect.objectContaining({ id: 'a', extra: null })]);
  });

  it('keeps at most 256 statements, closing the least recently used', async () => {
    for (let i = 0; i < 300; i++) await sql.query(`select ${i} as n`);
    const kept = await preparedTexts(sql);
    expect(kept.length).toBeLessThanOrEqual(257);
    expect(kept).toContain('select 299 as n');
    expect(kept).not.toContain('select 0 as n');
  });

  it('sends a text[] in binary, and PostgreSQL reads every element as written', async () => {
    // What the text format must quote or escape, a null, the word NULL, the empty string, and more than one byte a
    // character.
    const values = ['plain', 'with "quotes", {braces} and \\ backslash', null, 'NULL', '', ' spaced ', 'æøå 👩‍⚕️'];
    expect(await sql.query('select $1::text[] as v', [values])).toEqual([{ v: values }]);
    expect(await sql.query('select array_position($1::text[], null) as at', [values])).toEqual([{ at: 3 }]);
    expect(await sql.query('select cardinality($1::text[]) as n', [[]])).toEqual([{ n: 0 }]);
    await sql.query('insert into t (id, tags) select u, array[u] from unnest($1::text[]) as u', [['b', 'a']]);
    expect(await sql.query('select id, tags from t order by id')).toEqual([
      { id: 'a', tags: ['a'] },
      { id: 'b', tags: ['b'] },
    ]);
  });
});

describe('a text[] parameter in binary', () => {
  let db: PGlite;
  beforeAll(async () => {
    db = await PGlite.create();
  });
  afterAll(() => db.close());

  it('is what the statement binds: format 1, the array in array_recv layout', async () => {
    const execProtocol = vi.spyOn(db, 'execProtocol');
    const statements = pgliteStatements(db);
    expect(await statements.alone('select $1::text[] as v, $2::text as s', [['a', null], 'x'])).toEqual([
      { v: ['a', null], s: 'x' },
    ]);
    const bind = execProtocol.mock.calls.map(([message]) => Buffer.from(message)).find((m) => m[0] === 0x42);
    expect(bind).toBeDefined();
    // B, length, the portal's and the statement's names, then the parameters' formats: binary, text.
    let at = 5;
    at = bind!.indexOf(0, at) + 1;
    at = bind!.indexOf(0, at) + 1;
    expect([bind!.readInt16BE(at), bind!.readInt16BE(at + 2), bind!.readInt16BE(at + 4)]).toEqual([2, 1, 0]);
    const array = Buffer.from(binaryTextArray(['a', null]));
    expect(bind!.includes(array)).toBe(true);
    // One dimension, with a null, of text (oid 25), two elements from 1; 'a', then the null's length -1.
    expect([...array.subarray(0, 20)]).toEqual([0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 25, 0, 0, 0, 2, 0, 0, 0, 1]);
    expect([...array.subarray(20)]).toEqual([0, 0, 0, 1, 0x61, 0xff, 0xff, 0xff, 0xff]);
  });
});
