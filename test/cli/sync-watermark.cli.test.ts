/**
 * The CLI as a user runs it: a spawned `highwater` process in single-connection mode (environment variables),
 * against the private MariaDB, with a temp home. Output and exit codes are the contract.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { mysqlEnv, runCli } from '../support/cli.js';
import { createTestDatabase, type TestDatabase } from '../support/test-db.js';

let db: TestDatabase;
let cwd: string;

function hw(...args: string[]) {
  return runCli(args, { cwd, env: mysqlEnv(db) });
}

beforeAll(async () => {
  db = await createTestDatabase('cli');
  cwd = mkdtempSync(join(tmpdir(), 'hw-cli-'));
  await db.conn.query(
    'CREATE TABLE items (id INT PRIMARY KEY, label VARCHAR(20), updated_at DATETIME NOT NULL); INSERT INTO items VALUES (1, "a", "2024-01-01 00:00:00"), (2, "b", "2024-01-01 00:00:00"), (3, "c", "2024-01-02 00:00:00")',
  );
});
afterAll(async () => {
  await db?.drop();
  rmSync(cwd, { recursive: true, force: true });
});

test('sync prints the compatibility banner, syncs, and exits 0; watermark get shows where it stopped', () => {
  const t = `${db.database}.items`;
  const dry = hw('sync', '-t', t, '--dry-run');
  expect(dry.code).toBe(0);
  expect(dry.out).toContain('🔄 v1.0.0 Compatibility Mode');
  expect(dry.out).toContain('CREATE TABLE "public"."items"');
  expect(dry.out).toMatch(/params \[/);

  const s = hw('sync', '-t', t, '--json');
  const report = JSON.parse(s.out);
  expect(report.status, s.err).toBe('success');
  expect(report.tables[0].rowsLoaded).toBe(3);
  expect(s.code).toBe(0);

  const g = hw('watermark', 'get', '-t', t, '--json');
  expect(g.code).toBe(0);
  expect(JSON.parse(g.out).watermark.watermark).toEqual({ ts: '2024-01-02 00:00:00', id: '3' });
});

test('watermark set keeps the half that is left out, and refuses a malformed timestamp with exit 1', () => {
  const t = `${db.database}.items`;
  expect(hw('watermark', 'set', '-t', t, '--timestamp', '2024-01-01 00:00:00', '--id', '1').code).toBe(0);
  const s = hw('watermark', 'set', '-t', t, '--timestamp', '2024-01-01 12:00:00');
  expect(s.code).toBe(0);
  expect(s.err).toContain('kept the current id 1');
  const bad = hw('watermark', 'set', '-t', t, '--timestamp', 'yesterday');
  expect(bad.code).toBe(1);
  expect(bad.err).toContain('--timestamp "yesterday"');
  const reset = hw('watermark', 'reset', '-t', t);
  expect(reset.code).toBe(1);
  expect(reset.err).toContain('--yes');
  expect(hw('watermark', 'reset', '-t', t, '--yes').code).toBe(0);
  expect(hw('watermark', 'list').out).toContain('no watermarks yet');
});

test('failures exit non-zero with the reason: unknown table, missing column, unreachable host', () => {
  const missing = hw('sync', '-t', `${db.database}.nope`);
  expect(missing.code).toBe(1);
  expect(missing.out + missing.err).toContain(`${db.database}.nope`);

  const injected = hw('sync', '-t', `${db.database}.items;DROP TABLE items`);
  expect(injected.code).toBe(1);

  const r = runCli(['sync', '-t', `${db.database}.items`], {
    cwd,
    env: {
      MYSQL_HOST: '127.0.0.1',
      MYSQL_PORT: '1',
      MYSQL_USER: 'root',
      MYSQL_PASSWORD: 's3cret-pw',
      MYSQL_DATABASE: 'x',
    },
  });
  expect(r.code).toBe(2);
  expect(r.out + r.err).toContain('127.0.0.1:1');
  expect(r.out + r.err).not.toContain('s3cret-pw');
});
