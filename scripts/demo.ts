/**
 * `npm run demo`: a real local sync against the MySQL server on this machine. Creates the `highwater_demo`
 * database, syncs it into DuckDB, changes rows (inserts, and updates that tie on one timestamp), syncs again,
 * and prints source and warehouse side by side. Connection: DEMO_MYSQL_HOST/PORT/USER/PASSWORD (default root@127.0.0.1:3306).
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import { loadConfig, modeBanner } from '../lambdas/engine/config/index.js';
import { runLocal } from '../lambdas/local/orchestration/local-runner.js';
import { createRuntime } from '../lambdas/local/runtime.js';

const DB = 'highwater_demo';
const conn = {
  host: process.env.DEMO_MYSQL_HOST ?? '127.0.0.1',
  port: Number(process.env.DEMO_MYSQL_PORT ?? 3306),
  user: process.env.DEMO_MYSQL_USER ?? 'root',
  password: process.env.DEMO_MYSQL_PASSWORD ?? '',
};
const home = join(process.cwd(), '.highwater', 'demo');
const tables = [`${DB}.customers`, `${DB}.orders`];

async function setUpSource(db: mysql.Connection): Promise<void> {
  await db.query(`DROP DATABASE IF EXISTS ${DB}`);
  await db.query(`CREATE DATABASE ${DB} CHARACTER SET utf8mb4`);
  await db.query(`USE ${DB}`);
  // Recursive CTEs are capped at 1,000 rows by default (MySQL: cte_max_recursion_depth; MariaDB: max_recursive_iterations).
  await db.query('SET SESSION cte_max_recursion_depth = 100000').catch(() => undefined);
  await db.query('SET SESSION max_recursive_iterations = 100000').catch(() => undefined);
  await db.query(`CREATE TABLE customers (
    id INT UNSIGNED NOT NULL PRIMARY KEY, name VARCHAR(100) NOT NULL, email VARCHAR(200), country CHAR(2),
    updated_at DATETIME NOT NULL)`);
  await db.query(`CREATE TABLE orders (
    id BIGINT NOT NULL PRIMARY KEY, customer_id INT UNSIGNED NOT NULL, status ENUM('new','paid','shipped') NOT NULL,
    amount DECIMAL(15,4) NOT NULL, note TEXT NULL, attrs JSON NULL, created_at DATETIME(6) NOT NULL,
    updated_at DATETIME(6) NOT NULL)`);
  await db.query(`INSERT INTO customers
    WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < 2000)
    SELECT n, CONCAT('Customer ', n), CONCAT('c', n, '@example.com'), ELT(1 + n % 3, 'CA', 'US', 'FR'),
           '2025-01-01 00:00:00' + INTERVAL n MINUTE FROM s`);
  await db.query(`INSERT INTO orders
    WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < 50000)
    SELECT n, 1 + n % 2000, ELT(1 + n % 3, 'new', 'paid', 'shipped'), (n * 7919 % 100000) / 100 - 250,
           IF(n % 5 = 0, NULL, CONCAT('note ', n, ' ✓')), JSON_OBJECT('n', n),
           '2025-01-01 00:00:00' + INTERVAL n SECOND, '2025-01-01 00:00:00' + INTERVAL n SECOND FROM s`);
}

async function changeSource(db: mysql.Connection): Promise<void> {
  // Updates and inserts that all share one timestamp: the keyset (updated_at, id) must not lose any of the tie.
  const tie = '2025-06-01 12:00:00';
  await db.query('UPDATE orders SET status = ?, amount = amount + 1, updated_at = ? WHERE id % 97 = 0', [
    'shipped',
    tie,
  ]);
  await db.query(
    `INSERT INTO orders
    WITH RECURSIVE s(n) AS (SELECT 50001 UNION ALL SELECT n + 1 FROM s WHERE n < 51000)
    SELECT n, 1 + n % 2000, 'new', 10.5, NULL, NULL, ?, ? FROM s`,
    [tie, tie],
  );
  await db.query('UPDATE customers SET email = NULL, updated_at = ? WHERE id <= 25', [tie]);
}

async function sync(label: string): Promise<void> {
  const env = {
    ...process.env,
    MYSQL_HOST: conn.host,
    MYSQL_PORT: String(conn.port),
    MYSQL_USER: conn.user,
    MYSQL_PASSWORD: conn.password,
    MYSQL_DATABASE: DB,
  };
  const config = await loadConfig({ cwd: process.cwd(), configDir: join(home, 'no-config'), home, env });
  for (const line of modeBanner(config, 'default')) console.log(line);
  const rt = createRuntime(config, env);
  try {
    const report = await runLocal(rt, { pipeline: 'default', tables, options: { maxWorkers: 2 } });
    for (const t of report.tables) {
      console.log(
        `  ${label}: ${t.table} ${t.status}, ${t.rowsExtracted} rows extracted, ${t.rowsLoaded} loaded in ${((t.durationMs ?? 0) / 1000).toFixed(2)} s${t.error ? ` — ${t.error}` : ''}`,
      );
    }
    if (report.status !== 'success') throw new Error(`demo sync ${label} failed`);
  } finally {
    await rt.close();
  }
}

async function compare(db: mysql.Connection): Promise<void> {
  const env = { ...process.env, MYSQL_HOST: conn.host, MYSQL_DATABASE: DB };
  const config = await loadConfig({ cwd: process.cwd(), configDir: join(home, 'no-config'), home, env });
  const rt = createRuntime(config, env);
  try {
    const wh = await rt.warehouse(rt.pipeline('default'));
    console.log('\n  table                      source rows   warehouse rows   source sum    warehouse sum');
    for (const [t, sumCol] of [
      ['customers', 'id'],
      ['orders', 'amount'],
    ] as const) {
      const [[src]] = (await db.query(
        `SELECT COUNT(*) AS n, CAST(SUM(${sumCol}) AS CHAR) AS s FROM ${DB}.${t}`,
      )) as unknown as [[{ n: number; s: string }]];
      const [dst] = await wh.query<{ n: unknown; s: unknown }>(
        `SELECT COUNT(*) AS n, CAST(SUM(${sumCol}) AS VARCHAR) AS s FROM public.${t}`,
      );
      console.log(
        `  ${`${DB}.${t}`.padEnd(26)} ${String(src.n).padStart(11)}   ${String(dst?.n).padStart(14)}   ${String(src.s).padStart(11)}   ${String(dst?.s).padStart(13)}`,
      );
      if (String(src.n) !== String(dst?.n)) throw new Error(`${t}: counts differ`);
    }
  } finally {
    await rt.close();
  }
}

async function main(): Promise<void> {
  rmSync(home, { recursive: true, force: true });
  const db = await mysql.createConnection({ ...conn, multipleStatements: false });
  try {
    console.log(`Creating ${DB} on ${conn.host}:${conn.port} (2,000 customers, 50,000 orders)…`);
    await setUpSource(db);
    console.log('\nFirst sync:');
    await sync('first');
    console.log('\nChanging rows: 1,000 inserts and ~540 updates, all on one timestamp…');
    await changeSource(db);
    console.log('\nSecond sync:');
    await sync('second');
    await compare(db);
    console.log(`\nWarehouse: ${join(home, 'warehouse.duckdb')}`);
  } finally {
    await db.end();
  }
}

main().catch((e: unknown) => {
  console.error(`demo failed: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
