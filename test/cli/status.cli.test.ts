/**
 * `highwater status` as a user runs it: watermark, last run, lag behind the live source and the next scheduled
 * run, after a real sync into the local DuckDB. Spawned CLI, temp working directory, the private MariaDB.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { mysqlEnv, runCli } from '../support/cli.js';
import { createTestDatabase, type TestDatabase } from '../support/test-db.js';

let db: TestDatabase;
let cwd: string;

function hw(args: string[], env: Record<string, string> = {}) {
  return runCli(args, { cwd, env: { ...mysqlEnv(db), ...env } });
}

interface TableJson {
  table: string;
  watermark: { ts: string | null; id: string | null } | null;
  lastRun: { status: string; rows: number; at: string } | null;
  lag: { state: string; seconds?: number; text: string };
}

function statusJson(args: string[] = [], env: Record<string, string> = {}, globals: string[] = []) {
  const r = hw([...globals, 'status', '--json', ...args], env);
  expect(r.code, r.err).toBe(0);
  return JSON.parse(r.out) as {
    mode: string;
    pipelines: {
      pipeline: string;
      notes: string[];
      stateRead: boolean;
      schedule: { next: string | null; description: string; note?: string } | null;
      tables: TableJson[];
    }[];
  };
}

beforeAll(async () => {
  db = await createTestDatabase('statuscli');
  cwd = mkdtempSync(join(tmpdir(), 'hw-status-cli-'));
  await db.conn.query(
    `CREATE TABLE items (id INT PRIMARY KEY, label VARCHAR(20), updated_at DATETIME NOT NULL);
     INSERT INTO items VALUES (1, 'a', '2024-01-01 00:00:00'), (2, 'b', '2024-01-01 00:00:00'), (3, 'c', '2024-01-02 00:00:00');`,
  );
});
afterAll(async () => {
  await db?.drop();
  rmSync(cwd, { recursive: true, force: true });
});

test('before any sync: no state yet, and status does not create the state file', () => {
  const r = hw(['status']);
  expect(r.code, r.err).toBe(0);
  expect(r.out).toContain('mode    single-connection');
  expect(r.out).toContain('config  environment variables and .env');
  expect(r.out).toContain('no state yet');
  expect(existsSync(join(cwd, '.highwater/state.sqlite'))).toBe(false);
});

test('after a real sync: the watermark, the committed run and no lag; then lag once the source moves on', async () => {
  const t = `${db.database}.items`;
  const s = hw(['sync', '-t', t]);
  expect(s.code, s.out + s.err).toBe(0);

  const [p] = statusJson().pipelines;
  expect(p?.pipeline).toBe('default');
  const [row] = p!.tables;
  expect(row).toMatchObject({
    table: t,
    watermark: { ts: '2024-01-02 00:00:00', id: '3' },
    lastRun: { status: 'committed', rows: 3 },
    lag: { state: 'up-to-date' },
  });

  await db.conn.query("INSERT INTO items VALUES (4, 'd', '2024-01-02 01:30:00')");
  const behind = statusJson().pipelines[0]!.tables[0]!;
  expect(behind.lag).toMatchObject({ state: 'behind', seconds: 5400 });

  const text = hw(['status']);
  expect(text.code).toBe(0);
  expect(text.out).toMatch(/pipeline default\s+default → default/);
  expect(text.out).toContain('schedule none');
  expect(text.out).toMatch(
    new RegExp(`${t}\\s+hybrid\\s+2024-01-02 00:00:00 / 3\\s+committed \\S+ \\(3 rows\\)\\s+1h 30m behind`),
  );
});

test('an unreachable source: lag says so, everything else is still shown (exit 0)', () => {
  const r = hw(['status'], { MYSQL_PORT: '1' });
  expect(r.code, r.err).toBe(0);
  expect(r.out).toContain('source unreachable');
  expect(r.out).toContain('2024-01-02 00:00:00 / 3');
  expect(r.out).toContain(`source default unreachable`);
  const j = statusJson([], { MYSQL_PORT: '1' });
  expect(j.pipelines[0]!.tables[0]!.lag.state).toBe('source-unreachable');
});

test('a pipeline with a schedule shows its next fire time; -p limits to it; an unknown -p is exit 1', () => {
  const t = db.database;
  mkdirSync(join(cwd, 'config/pipelines'), { recursive: true });
  writeFileSync(
    join(cwd, 'config/connections.yml'),
    `connections:\n  sources:\n    src:\n      host: ${db.host}\n      port: ${db.port}\n      username: ${db.user}\n      password: ""\n  targets:\n    wh:\n      type: duckdb\n`,
  );
  writeFileSync(
    join(cwd, 'config/pipelines/nightly.yml'),
    `pipeline:\n  source: src\n  target: wh\n  schedule: cron(30 2 * * ? *)\ntables:\n  ${t}.items:\n    cdc_strategy: id_only\n  ${t}.missing: {}\n`,
  );
  writeFileSync(
    join(cwd, 'config/pipelines/odd.yml'),
    'pipeline:\n  source: src\n  target: wh\n  schedule: cron(0 12 * * * *)\ntables: {}\n',
  );
  const j = statusJson(['-p', 'nightly']);
  expect(j.mode).toBe('multi');
  expect(j.pipelines.map((p) => p.pipeline)).toEqual(['nightly']);
  const p = j.pipelines[0]!;
  expect(p.schedule?.next).toMatch(/T02:30:00\.000Z$/);
  expect(new Date(p.schedule!.next!).getTime()).toBeGreaterThan(Date.now());
  expect(p.tables[0]).toMatchObject({
    table: `${t}.items`,
    watermark: null,
    lastRun: null,
    lag: { state: 'never-synced' },
  });

  expect(p.tables[1]).toMatchObject({ table: `${t}.missing`, lag: { state: 'unknown' } });
  expect(p.tables[1]!.lag.text).toMatch(/^unknown: .*missing/);

  const odd = statusJson(['-p', 'odd']).pipelines[0]!;
  expect(odd.schedule).toMatchObject({ description: 'invalid', next: null });
  expect(odd.schedule?.note).toContain('exactly one of day-of-month and day-of-week');

  writeFileSync(join(cwd, 'config/pipelines/broken.yml'), 'pipeline:\n  source: [src\n');
  const all = hw(['status']);
  expect(all.code, all.err).toBe(0);
  expect(all.out).toContain('pipeline nightly');
  expect(all.err).toMatch(/error: pipeline broken: config\/pipelines\/broken\.yml:\d+:\d+: malformed YAML/);

  const unknown = hw(['status', '-p', 'nope']);
  expect(unknown.code).toBe(1);
  expect(unknown.err).toContain('unknown pipeline "nope"; available: default, broken, nightly, odd');
  rmSync(join(cwd, 'config'), { recursive: true, force: true });
});

test('a state store that cannot be read: watermark and last run are "unknown", not "none" (exit 0)', () => {
  const dir = join(cwd, 'dyncfg');
  mkdirSync(join(dir, 'pipelines'), { recursive: true });
  writeFileSync(
    join(dir, 'connections.yml'),
    `connections:\n  sources:\n    src:\n      host: ${db.host}\n      port: ${db.port}\n      username: ${db.user}\n      password: ""\n  targets:\n    wh:\n      type: duckdb\n`,
  );
  writeFileSync(
    join(dir, 'pipelines/dyn.yml'),
    `pipeline:\n  source: src\n  target: wh\n  state:\n    type: dynamodb\n    table: hw-state\n    region: us-east-1\n    endpoint: http://127.0.0.1:1\ntables:\n  ${db.database}.items: {}\n`,
  );
  const env = { AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' };
  const r = hw(['--config-dir', 'dyncfg', 'status', '-p', 'dyn'], env);
  expect(r.code, r.err).toBe(0);
  expect(r.out).toContain('state store unreachable: DynamoDB state table hw-state');
  expect(r.out).toMatch(
    new RegExp(
      `${db.database}\\.items\\s+hybrid\\s+unknown\\s+unknown\\s+watermark unknown \\(source max 2024-01-02 \\d{2}:\\d{2}:\\d{2}\\)`,
    ),
  );
  const j = statusJson(['-p', 'dyn'], env, ['--config-dir', 'dyncfg']);
  expect(j.pipelines[0]).toMatchObject({ stateRead: false });
});
