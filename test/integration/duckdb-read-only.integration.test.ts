/**
 * `highwater query`'s way into the warehouse: a real DuckDB file opened read-only with external access off. Writes,
 * files outside it and settings are refused and the file is left as it was; results stop at the row limit.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { ConfigError, WarehouseError } from '../../lambdas/errors.js';
import { queryWarehouse } from '../../lambdas/local/engine/warehouse-query.js';

let dir: string;
let path: string;
const digest = () => createHash('sha256').update(readFileSync(path)).digest('hex');

/** The error a query fails with (the test fails when it does not). */
async function failure(sql: string, file = path): Promise<Error> {
  try {
    await queryWarehouse(file, sql, 10);
  } catch (e) {
    return e as Error;
  }
  throw new Error(`${sql} did not fail`);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hw-ro-'));
  path = join(dir, 'warehouse.duckdb');
  const db = await DuckDBInstance.create(path);
  const c = await db.connect();
  await c.run(`CREATE SCHEMA s; CREATE TABLE s.t AS SELECT range AS id, 'row ' || range AS label,
    (range / 4)::DECIMAL(10,2) AS amount, TIMESTAMPTZ '2024-01-01 00:00:00+00' + INTERVAL (range) MINUTE AS seen
    FROM range(2500)`);
  c.closeSync();
  db.closeSync();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test('a SELECT reads exact values; the row limit stops the read and says more followed', async () => {
  const r = await queryWarehouse(path, 'SELECT id, label, amount, seen FROM s.t ORDER BY id', 3);
  expect(r.columns).toEqual([
    { name: 'id', type: 'BIGINT' },
    { name: 'label', type: 'VARCHAR' },
    { name: 'amount', type: 'DECIMAL(10,2)' },
    { name: 'seen', type: 'TIMESTAMP WITH TIME ZONE' },
  ]);
  expect(r.rows).toEqual([
    [0, 'row 0', '0.00', '2024-01-01 00:00:00+00'],
    [1, 'row 1', '0.25', '2024-01-01 00:01:00+00'],
    [2, 'row 2', '0.50', '2024-01-01 00:02:00+00'],
  ]);
  expect(r).toMatchObject({ rowCount: 3, truncated: true });
  const all = await queryWarehouse(path, 'SELECT id FROM s.t', 10_000);
  expect(all).toMatchObject({ rowCount: 2500, truncated: false });
});

test('writes, other files, settings and several statements are refused, naming the problem; the file is unchanged', async () => {
  const before = digest();
  const refused = failure;
  const create = await refused('CREATE TABLE s.u (a INT)');
  expect(create).toBeInstanceOf(ConfigError);
  expect(create.message).toContain('read-only');
  expect((create as ConfigError).suggestion).toContain('opened read-only');
  expect((await refused('DELETE FROM s.t')).message).toContain('read-only');
  expect((await refused('UPDATE s.t SET label = NULL')).message).toContain('read-only');
  const copy = await refused(`COPY s.t TO '${join(dir, 'out.csv')}'`);
  expect(copy.message).toContain('file system operations are disabled');
  expect((await refused("SELECT * FROM read_csv('/etc/passwd')")).message).toContain('disabled');
  expect((await refused(`ATTACH '${join(dir, 'other.duckdb')}' AS o`)).message).toContain('disabled');
  expect((await refused('SET enable_external_access = true')).message).toContain('locked');
  const two = await refused('SELECT 1; DROP TABLE s.t');
  expect(two).toBeInstanceOf(ConfigError);
  expect(two.message).toBe('query must be exactly one SQL statement, got 2');
  const syntax = await refused('SELEC 1');
  expect(syntax).toBeInstanceOf(ConfigError);
  expect(syntax.message).toMatch(/^query failed: Parser Error: syntax error at or near "SELEC"/);
  expect((await refused('SELECT * FROM s.missing')).message).toContain('Catalog Error');
  expect((await refused('   ')).message).toBe('query: the SQL statement is empty');
  expect(digest()).toBe(before);
  expect(readFileSync(path).length).toBeGreaterThan(0);
});

test('a missing warehouse file is named, not created', async () => {
  const missing = join(dir, 'none.duckdb');
  const e = await failure('SELECT 1', missing);
  expect(e).toBeInstanceOf(ConfigError);
  expect(e.message).toContain(`warehouse ${missing} does not exist yet`);
  expect(() => readFileSync(missing)).toThrow();
});

test('a warehouse file another process holds open for writing is reported as locked', async () => {
  // DuckDB's lock is per process: the writer here is this test's own child process.
  const { spawn } = await import('node:child_process');
  const child = spawn(
    process.execPath,
    [
      '-e',
      `const {DuckDBInstance}=require(${JSON.stringify(createRequire(import.meta.url).resolve('@duckdb/node-api'))});DuckDBInstance.create(${JSON.stringify(path)}).then(()=>{process.stdout.write('open\\n');setInterval(()=>{},1000)})`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  try {
    await new Promise<void>((done) => child.stdout.once('data', () => done()));
    const e = await failure('SELECT 1');
    expect(e).toBeInstanceOf(WarehouseError);
    expect(e.message).toContain('is locked');
  } finally {
    child.kill('SIGKILL');
  }
});
