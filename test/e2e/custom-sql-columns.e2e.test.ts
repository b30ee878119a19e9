/**
 * custom_sql's select list defines the warehouse table: end to end on real MariaDB and DuckDB (the harness), over
 * two rounds of inserts and updates. A query selecting some of the table's columns (the `shop.customers` pattern of
 * pipelines/pipelines/sales.yml) gets exactly those columns, an expression column (`REPLACE(…) AS email`) its
 * computed values, and a join's arithmetic column the type MySQL gives the expression (DECIMAL with its scale).
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { RunReport } from '../../lambdas/domain/manifests.js';
import { createHarness, type Harness } from '../support/harness.js';
import { mysqlCells, warehouseCells, warehouseColumns } from '../support/warehouse-file.js';

let h: Harness;
const fq = (table: string) => `${h.db.database}.${table}`;

/** The keyset part every query below shares (the sales.yml pattern), for a table aliased `alias` or not. */
function keyset(alias = ''): string {
  const c = (name: string) => `${alias}${name}`;
  return (
    `WHERE (${c('updated_at')}, ${c('id')}) > (:last_timestamp, :last_id) AND ${c('updated_at')} <= :upper_timestamp ` +
    `ORDER BY ${c('updated_at')}, ${c('id')} LIMIT :limit`
  );
}

const PLAIN = `SELECT id, email, country, updated_at FROM {table_name} ${keyset()}`;
const REPLACED = `SELECT id, REPLACE(email, '@', ' at ') AS email, country, updated_at FROM {table_name} ${keyset()}`;
const JOINED =
  'SELECT o.id, o.customer_id, c.country, o.amount * 2 AS doubled, o.amount * 1.5 AS boosted, o.updated_at ' +
  `FROM {table_name} AS o JOIN customers AS c ON c.id = o.customer_id ${keyset('o.')}`;

/** What each query returns in MySQL without its window: every row the warehouse should hold. */
const ORACLE = {
  customers: 'SELECT id, email, country, updated_at FROM customers',
  contacts: "SELECT id, REPLACE(email, '@', ' at ') AS email, country, updated_at FROM contacts",
  orders:
    'SELECT o.id, o.customer_id, c.country, o.amount * 2 AS doubled, o.amount * 1.5 AS boosted, o.updated_at ' +
    'FROM orders AS o JOIN customers AS c ON c.id = o.customer_id',
};

function entry(table: string, query: string): string {
  return `  ${fq(table)}:
    cdc_strategy: custom_sql
    primary_key: [id]
    custom_query: >-
      ${query}`;
}

function ok(report: RunReport): RunReport['tables'][number] {
  expect(report.tables.map((t) => t.error)).toEqual([null]);
  expect(report.status).toBe('success');
  return report.tables[0]!;
}

async function expectLikeQuery(table: keyof typeof ORACLE, columns: readonly string[]): Promise<void> {
  const source = await mysqlCells(h.db.conn, ORACLE[table], columns);
  expect(source.length).toBeGreaterThan(0);
  expect(await warehouseCells(h.home, table, columns)).toEqual(source);
}

beforeAll(async () => {
  h = await createHarness('customcols');
  const people = (table: string) =>
    `CREATE TABLE ${table} (id INT PRIMARY KEY, name VARCHAR(40) NOT NULL, email VARCHAR(80) NOT NULL,
       country CHAR(2) NOT NULL, phone VARCHAR(20) NULL, notes TEXT NULL, updated_at DATETIME NOT NULL);
     INSERT INTO ${table} VALUES
       (1, 'Ann', 'ann@example.com', 'FR', '+33 1', 'vip', '2024-01-01 00:00:00'),
       (2, 'Bob', 'bob@example.org', 'DE', NULL, NULL, '2024-01-01 00:00:00'),
       (3, 'Cy', 'cy@mail.example', 'US', '+1 2', 'x', '2024-01-02 00:00:00'),
       (4, 'Di', 'di@example.com', 'FR', NULL, 'y', '2024-01-03 00:00:00');`;
  await h.db.conn.query(
    `${people('customers')}
     ${people('contacts')}
     CREATE TABLE orders (id INT PRIMARY KEY, customer_id INT NOT NULL, amount DECIMAL(10,2) NOT NULL,
       status VARCHAR(10) NOT NULL, updated_at DATETIME NOT NULL);
     INSERT INTO orders VALUES (1, 1, 12.34, 'new', '2024-01-05 00:00:00'), (2, 2, 0.05, 'paid', '2024-01-05 00:00:00'),
       (3, 1, 99999999.99, 'new', '2024-01-06 00:00:00'), (4, 3, -7.50, 'void', '2024-01-07 00:00:00');`,
  );
  h.writePipeline([entry('customers', PLAIN), entry('contacts', REPLACED), entry('orders', JOINED)].join('\n'));
});
afterAll(async () => h?.cleanup());

/** Round 2 for a people table: two new rows, an email changed, and a change only to a column the query leaves out. */
async function secondRound(table: string): Promise<void> {
  await h.db.conn.query(
    `INSERT INTO ${table} VALUES (5, 'Ed', 'ed@example.net', 'ES', NULL, NULL, '2024-02-01 00:00:00'),
       (6, 'Flo', 'flo@example.com', 'IT', '+39', 'z', '2024-02-02 00:00:00');
     UPDATE ${table} SET email = 'ann@new.example', updated_at = '2024-02-03 00:00:00' WHERE id = 1;
     UPDATE ${table} SET notes = 'changed', updated_at = '2024-02-04 00:00:00' WHERE id = 2;`,
  );
}

const SELECTED = ['id', 'email', 'country', 'updated_at'];

test.each([
  ['customers', 'the selected columns as they are'],
  ['contacts', "an expression column, REPLACE(email, '@', ' at ') AS email"],
] as const)(
  '%s: a custom_query selecting some columns (%s) — exactly those columns, over two rounds',
  async (table, _what) => {
    const first = ok(await h.sync([fq(table)]));
    expect(first).toMatchObject({ status: 'committed', rowsExtracted: 4, rowsLoaded: 4 });
    const columns = await warehouseColumns(h.home, table);
    expect(columns.map((c) => c.name)).toEqual(SELECTED);
    expect(columns.map((c) => c.type)).toEqual(['INTEGER', 'VARCHAR', 'VARCHAR', 'TIMESTAMP']);
    await expectLikeQuery(table, SELECTED);

    await secondRound(table);
    const second = ok(await h.sync([fq(table)]));
    expect(second).toMatchObject({ status: 'committed', rowsExtracted: 4, rowsLoaded: 4 });
    expect(second.watermarkAfter).toEqual({ ts: '2024-02-04 00:00:00', id: '2' });
    // Still exactly the selected columns: name, phone and notes never reach the warehouse.
    expect((await warehouseColumns(h.home, table)).map((c) => c.name)).toEqual(SELECTED);
    await expectLikeQuery(table, SELECTED);
    const emails = await warehouseCells(h.home, table, ['id', 'email']);
    expect(emails[0]).toEqual(['1', table === 'contacts' ? 'ann at new.example' : 'ann@new.example']);
    expect(emails).toHaveLength(6);
  },
);

test('a custom_query joining a second table: arithmetic columns get the DECIMAL type MySQL gives the expression', async () => {
  // MySQL's own type for each expression, read from a table it creates from the query.
  await h.db.conn.query(`CREATE TABLE expr_types AS ${ORACLE.orders} LIMIT 0`);
  const [typed] = (await h.db.conn.query(
    `SELECT COLUMN_NAME AS name, NUMERIC_PRECISION AS p, NUMERIC_SCALE AS s FROM information_schema.COLUMNS
       WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'expr_types' AND COLUMN_NAME IN ('doubled', 'boosted')`,
  )) as unknown as [{ name: string; p: number; s: number }[]];
  const mysqlType = Object.fromEntries(typed.map((t) => [t.name, `DECIMAL(${t.p},${t.s})`]));
  expect(typed.find((t) => t.name === 'doubled')?.s).toBe(2);
  expect(typed.find((t) => t.name === 'boosted')?.s).toBe(3);

  const first = ok(await h.sync([fq('orders')]));
  expect(first).toMatchObject({ status: 'committed', rowsExtracted: 4, rowsLoaded: 4 });
  const columns = await warehouseColumns(h.home, 'orders');
  const all = ['id', 'customer_id', 'country', 'doubled', 'boosted', 'updated_at'];
  expect(columns.map((c) => c.name)).toEqual(all);
  const type = Object.fromEntries(columns.map((c) => [c.name, c.type]));
  expect(type.doubled).toMatch(/^DECIMAL\(\d+,2\)$/);
  expect(type.boosted).toMatch(/^DECIMAL\(\d+,3\)$/);
  expect({ doubled: type.doubled, boosted: type.boosted }).toEqual(mysqlType);
  await expectLikeQuery('orders', all);
  expect(await warehouseCells(h.home, 'orders', ['id', 'doubled', 'boosted'])).toEqual([
    ['1', '24.68', '18.510'],
    ['2', '0.10', '0.075'],
    ['3', '199999999.98', '149999999.985'],
    ['4', '-15.00', '-11.250'],
  ]);

  await h.db.conn.query(
    `INSERT INTO orders VALUES (5, 4, 1.01, 'new', '2024-02-01 00:00:00');
     UPDATE orders SET amount = 3.33, updated_at = '2024-02-02 00:00:00' WHERE id = 2;`,
  );
  const second = ok(await h.sync([fq('orders')]));
  expect(second).toMatchObject({ status: 'committed', rowsExtracted: 2, rowsLoaded: 2 });
  expect((await warehouseColumns(h.home, 'orders')).map((c) => c.type)).toEqual(columns.map((c) => c.type));
  await expectLikeQuery('orders', all);
});
