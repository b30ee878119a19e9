/**
 * `sync --json-output` and the exit-code contract, as Airflow sees them: a spawned CLI in single-connection mode
 * against the private MariaDB. Each failure class is caused for real (a closed port, a table that does not exist,
 * a staging directory that cannot be created, a warehouse file that is not a database).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, expect, test } from 'vitest';
import { mysqlEnv, runCli } from '../support/cli.js';
import { freePort } from '../support/free-port.js';
import { createTestDatabase, type TestDatabase } from '../support/test-db.js';

let db: TestDatabase;
let cwd: string;

function hw(args: string[], env: Record<string, string> = {}) {
  return runCli(args, { cwd, env: { ...mysqlEnv(db), ...env } });
}

const report = (file: string) => JSON.parse(readFileSync(join(cwd, file), 'utf8'));

beforeAll(async () => {
  db = await createTestDatabase('clirep');
  await db.conn.query(
    'CREATE TABLE items (id INT PRIMARY KEY, label VARCHAR(20), updated_at DATETIME NOT NULL); INSERT INTO items VALUES (1, "a", "2024-01-01 00:00:00"), (2, "b", "2024-01-01 00:00:00"), (3, "c", "2024-01-02 00:00:00")',
  );
});
beforeEach(() => {
  if (cwd) rmSync(cwd, { recursive: true, force: true });
  cwd = mkdtempSync(join(tmpdir(), 'hw-clirep-'));
});
afterAll(async () => {
  await db?.drop();
  if (cwd) rmSync(cwd, { recursive: true, force: true });
});

test('a successful run writes the report: execution id, per-table status, rows, files, bytes, duration, watermarks', () => {
  const t = `${db.database}.items`;
  const r = hw(['sync', '-t', t, '--json-output', 'run.json']);
  expect(r.code, r.err).toBe(0);
  expect(r.err).toMatch(/execution default-.*: success/);
  const rep = report('run.json');
  expect(rep).toMatchObject({ pipeline: 'default', status: 'success' });
  expect(rep.executionId).toMatch(/^default-/);
  expect(Date.parse(rep.finishedAt)).toBeGreaterThanOrEqual(Date.parse(rep.startedAt));
  expect(rep.tables).toHaveLength(1);
  const row = rep.tables[0];
  expect(row).toMatchObject({
    table: t,
    status: 'committed',
    rowsExtracted: 3,
    rowsLoaded: 3,
    files: 1,
    watermarkBefore: { ts: null, id: null },
    watermarkAfter: { ts: '2024-01-02 00:00:00', id: '3' },
    exitCode: 0,
    error: null,
  });
  expect(row.bytes).toBeGreaterThan(0);
  expect(row.durationMs).toBeGreaterThan(0);

  // Nothing new: skipped, still exit 0, the watermark before is the one after the first run.
  const again = hw(['sync', '-t', t, '--json-output', 'again.json']);
  expect(again.code).toBe(0);
  expect(report('again.json').tables[0]).toMatchObject({ status: 'skipped', rowsLoaded: 0 });
});

test('the text report and --dry-run say where the window stopped: rows written just now wait, and say why', async () => {
  await db.conn.query(
    'CREATE TABLE fresh (id INT PRIMARY KEY, updated_at DATETIME(3) NOT NULL); INSERT INTO fresh VALUES (1, NOW(3))',
  );
  const t = `${db.database}.fresh`;
  const horizon = /^ {2}horizon: updated_at < \d{4}-\d\d-\d\d \d\d:\d\d:\d\d.* \(server time less clock_skew 15 s\)$/m;
  const dry = hw(['sync', '-t', t, '--dry-run']);
  expect(dry.code, dry.err).toBe(0);
  expect(dry.out).toMatch(horizon);
  const run = hw(['sync', '-t', t]);
  expect(run.code, run.err).toBe(0);
  expect(run.out).toContain(`${t}  skipped: no new rows in the window`);
  expect(run.out).toMatch(horizon);
});

test('exit 3 when one table of several fails; the report names the failed one and keeps the other', () => {
  const r = hw(['sync', '-t', `${db.database}.items`, '-t', `${db.database}.missing`, '--json-output', 'p.json']);
  expect(r.code).toBe(3);
  const rep = report('p.json');
  expect(rep.status).toBe('partial_success');
  const byTable = Object.fromEntries(rep.tables.map((x: { table: string }) => [x.table, x]));
  expect(byTable[`${db.database}.items`]).toMatchObject({ status: 'committed', exitCode: 0 });
  expect(byTable[`${db.database}.missing`].status).toBe('failed');
  expect(byTable[`${db.database}.missing`].error).toContain('missing');
});

test('exit 2 when the source cannot be reached, with the report still written', async () => {
  const port = await freePort();
  const r = hw(['sync', '-t', `${db.database}.items`, '--json-output', 'c.json'], { MYSQL_PORT: String(port) });
  expect(r.code).toBe(2);
  expect(report('c.json')).toMatchObject({ status: 'failed', tables: [{ status: 'failed', exitCode: 2 }] });
  expect(r.out + r.err).not.toContain(db.password || '\u0000never');
});

test('exit 5 when staging cannot be written', () => {
  const home = join(cwd, 'home');
  mkdirSync(home);
  writeFileSync(join(home, 'staging'), 'a file where the staging directory should be');
  const r = hw(['--home', home, 'sync', '-t', `${db.database}.items`, '--json-output', 's.json']);
  expect(r.code, r.err).toBe(5);
  expect(report('s.json').tables[0]).toMatchObject({ status: 'failed', exitCode: 5 });
});

test('exit 6 when the warehouse cannot be opened', () => {
  const home = join(cwd, 'home');
  mkdirSync(home);
  writeFileSync(join(home, 'warehouse.duckdb'), 'this is not a DuckDB file');
  const r = hw(['--home', home, 'sync', '-t', `${db.database}.items`, '--json-output', 'w.json']);
  expect(r.code, r.err).toBe(6);
  expect(report('w.json').tables[0]).toMatchObject({ status: 'failed', exitCode: 6 });
});

test('exit 1 for bad configuration, before anything runs', () => {
  const r = hw(['sync', '-t', 'not-a-table-name']);
  expect(r.code).toBe(1);
  expect(r.err).toContain('not-a-table-name');
  expect(hw(['sync', '-t', `${db.database}.items`, '--limit', 'ten']).code).toBe(1);
});

test('a bare table name is a table of MYSQL_DATABASE; the report and its timings name it as given', () => {
  const r = hw(['sync', '-t', 'items', '--json-output', 'bare.json']);
  expect(r.code, r.err).toBe(0);
  const row = report('bare.json').tables[0];
  expect(row).toMatchObject({ table: 'items', status: 'committed', rowsLoaded: 3 });
  // Every step's time counts towards the table as named (plan sees "items", later steps its schema.table).
  expect(row.durationMs).toBeGreaterThan(0);
  const g = hw(['watermark', 'get', '-t', `${db.database}.items`, '--json']);
  expect(JSON.parse(g.out).watermark.watermark).toEqual({ ts: '2024-01-02 00:00:00', id: '3' });
});
