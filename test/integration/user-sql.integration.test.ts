/**
 * The judged text is what runs: for each accepted hostile-looking custom_query or additional_where, the
 * normalised SQL runs on the suite's real MariaDB (through the production source adapter, bound parameters and
 * all) and returns what its parse tree says; the user's raw text, given to MariaDB's own lexer, agrees. The raw
 * texts that the old check let through show why: a trailing `-- c` swallows the wrapping parenthesis, and
 * `1=0) OR (1=1` escapes it.
 */
import mysql from 'node-sql-parser/build/mysql.js';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createMysqlSource } from '../../lambdas/adapters/mysql/index.js';
import { prepareAdditionalWhere, prepareCustomSql } from '../../lambdas/engine/strategies/sql/user-sql.js';
import type { SourceReader } from '../../lambdas/ports/index.js';
import { createTestDatabase, type TestDatabase } from '../support/test-db.js';

let db: TestDatabase;
let source: SourceReader;
let table: string;

beforeAll(async () => {
  db = await createTestDatabase('csql');
  table = `\`${db.database}\`.\`orders\``;
  await db.conn.query(`
    CREATE TABLE orders (id INT NOT NULL PRIMARY KEY, status VARCHAR(10) NOT NULL, note VARCHAR(50) NULL);
    INSERT INTO orders VALUES (1, 'paid', 'a -- b'), (2, 'unpaid', NULL), (3, 'paid', '#x');`);
  source = createMysqlSource({
    host: db.host,
    port: db.port,
    user: db.user,
    password: db.password,
    database: db.database,
  });
});

afterAll(async () => {
  await source?.close();
  await db?.drop();
});

type Expr = { type: string; [k: string]: unknown };

/** The value of a constant expression, read off the parse tree (numbers, strings, unary/binary + - *, LENGTH). */
function constant(e: Expr): number | string {
  switch (e.type) {
    case 'number':
      return e.value as number;
    case 'single_quote_string':
      return e.value as string;
    case 'unary_expr':
      if (e.operator === '-') return -constant(e.expr as Expr);
      break;
    case 'binary_expr': {
      const [l, r] = [Number(constant(e.left as Expr)), Number(constant(e.right as Expr))];
      if (e.operator === '+') return l + r;
      if (e.operator === '-') return l - r;
      if (e.operator === '*') return l * r;
      break;
    }
    case 'function': {
      const name = (e.name as { name: { value: string }[] }).name[0]!.value.toUpperCase();
      const args = (e.args as { value: Expr[] }).value;
      if (name === 'LENGTH') return String(constant(args[0]!)).length;
      break;
    }
  }
  throw new Error(`not a constant this test can evaluate: ${JSON.stringify(e)}`);
}

/** What the parse tree of `sql` says its only column is. */
function treeSays(sql: string): number | string {
  const ast = new mysql.Parser().astify(sql, { database: 'mysql' }) as unknown as { columns: { expr: Expr }[] };
  expect(ast.columns).toHaveLength(1);
  return constant(ast.columns[0]!.expr);
}

async function rawRows(sql: string): Promise<Record<string, unknown>[]> {
  const [rows] = await db.conn.query(sql);
  return rows as Record<string, unknown>[];
}

const ids = (rows: Record<string, unknown>[]) => rows.map((r) => Number(r.id));

describe('custom_query: the normalised text returns what its parse tree says', () => {
  /** [query, what the tree says, what raw MariaDB returns when it differs] */
  const cases: [string, number | string, number?][] = [
    ['SELECT 1--1 AS x', 2],
    ['SELECT 1---1 AS x', 0],
    ["SELECT 1--length('abc') AS x", 4],
    ['SELECT 1 /*M! + 1 */ AS x', 2],
    ['SELECT 1 /*M!100000 + 1 */ AS x', 2],
    ['SELECT 1 /*! + 1 */ AS x', 2],
    ['SELECT 1 /*!50100 + 1 */ AS x', 2],
    // MySQL ≥ 5.7 runs this one and MariaDB skips it (it ignores /*!50700…99999): unwrapped, it runs everywhere.
    ['SELECT 1 /*!50700 + 1 */ AS x', 2, 1],
    ['SELECT 1 # c\n + 1 AS x', 2],
    ['SELECT 1 -- c\n + 1 AS x', 2],
    ['SELECT 1 --\t+ 1\n AS x', 1],
    ['SELECT 1 /* + 1 */ AS x', 1],
    ["SELECT LENGTH('a -- b # c /* d */ :last_id') AS x", 27],
  ];
  for (const [query, expected, rawOnMariaDb = expected] of cases) {
    test(JSON.stringify(query), async () => {
      const { sql, placeholders } = prepareCustomSql(query, table, 'test');
      expect(placeholders).toEqual([]);
      expect(treeSays(sql)).toBe(expected);
      const [row] = await source.query<{ x: unknown }>(sql);
      expect(Number(row!.x)).toBe(expected);
      // MariaDB's own lexer reads the user's text the same way.
      const [raw] = await rawRows(query);
      expect(Number(raw!.x)).toBe(rawOnMariaDb);
    });
  }

  test('an escaped quote keeps SLEEP inside the string: one column, no sleep', async () => {
    const query = "SELECT 'a\\', SLEEP(1), \\'b' AS x";
    const { sql } = prepareCustomSql(query, table, 'test');
    expect(sql).toBe(query);
    expect(treeSays(sql)).toBe("a\\', SLEEP(1), \\'b"); // the parser keeps escapes as written
    const started = Date.now();
    const rows = await source.query<{ x: unknown }>(sql);
    expect(Date.now() - started).toBeLessThan(900);
    expect(rows).toEqual([{ x: "a', SLEEP(1), 'b" }]);
  });

  test('placeholders are bound in order; `:last_id` inside a string stays text', async () => {
    const { sql, placeholders } = prepareCustomSql(
      "SELECT id, :last_id + 1 AS x, ':last_id' AS y FROM {table_name} WHERE id > {last_id} -- after the watermark",
      table,
      'test',
    );
    expect(placeholders).toEqual(['last_id', 'last_id']);
    const rows = await source.query(`${sql} ORDER BY id`, ['1', '1']);
    expect(rows.map((r) => [Number(r.id), Number(r.x), r.y])).toEqual([
      [2, 2, ':last_id'],
      [3, 2, ':last_id'],
    ]);
  });

  test('wrapped the way the engine wraps it, a query ending in a comment keeps the closing parenthesis', async () => {
    const query = "SELECT id FROM {table_name} WHERE status = 'paid' -- only paid";
    const { sql } = prepareCustomSql(query, table, 'test');
    expect(ids(await source.query(`SELECT id FROM (${sql}) AS \`hw_q\` ORDER BY id`))).toEqual([1, 3]);
    const raw = query.replace('{table_name}', table);
    await expect(rawRows(`SELECT id FROM (${raw}) AS \`hw_q\` ORDER BY id`)).rejects.toThrow(/syntax/);
  });
});

describe('additional_where: the wrapped normalised condition filters as written', () => {
  const wrapped = (w: string) => `SELECT id FROM ${table} WHERE (${w}) ORDER BY id`;

  test('a trailing `-- c` is gone, so `(<condition>)` keeps its parenthesis', async () => {
    const text = "status = 'paid' -- note";
    const w = prepareAdditionalWhere(text, 'test');
    expect(w).toBe("status = 'paid'");
    expect(ids(await source.query(wrapped(w)))).toEqual([1, 3]);
    // The raw text swallows the closing parenthesis.
    await expect(rawRows(wrapped(text))).rejects.toThrow(/syntax/);
  });

  test('`1=0) OR (1=1` is refused; wrapped raw, it would have returned every row', async () => {
    expect(() => prepareAdditionalWhere('1=0) OR (1=1', 'test')).toThrow(/does not parse/);
    const raw = `SELECT id FROM ${table} WHERE (status = 'none') AND (1=0) OR (1=1) ORDER BY id`;
    expect(ids(await rawRows(raw))).toEqual([1, 2, 3]);
  });

  /** [condition, the rows it selects, the rows raw MariaDB selects when they differ] */
  const cases: [string, number[], number[]?][] = [
    ["note = 'a -- b' # c", [1]],
    ["note = '#x' /* c */", [3]],
    ["status = 'paid' /*M! AND id > 1 */", [3]],
    ["status = 'paid' /*!50100 AND id < 3 */", [1]],
    ["status = 'paid' /*!50700 AND id < 3 */", [1], [1, 3]], // MariaDB skips /*!50700…99999 */, MySQL runs it
    ['id > 0--1', [2, 3]],
    ["REPLACE(status, 'un', '') = 'paid' AND id IN (SELECT id FROM orders WHERE note IS NOT NULL)", [1, 3]],
  ];
  for (const [text, expected, rawOnMariaDb = expected] of cases) {
    test(JSON.stringify(text), async () => {
      const w = prepareAdditionalWhere(text, 'test');
      expect(ids(await source.query(wrapped(w)))).toEqual(expected);
      // MariaDB reads the raw text the same way (given a line break before the closing parenthesis).
      expect(ids(await rawRows(`SELECT id FROM ${table} WHERE (${text}\n) ORDER BY id`))).toEqual(rawOnMariaDb);
    });
  }
});
