/**
 * The first five minutes, as a new user meets them (issue 13): the spawned CLI against a real MariaDB — the
 * project found from a subdirectory, every table of a pipeline in depends_on order, patterns, errors that say what
 * to change (once, with the right exit code, as JSON under --json), input refused before any work starts, and
 * destroying commands that ask the same way.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type CliResult, mysqlEnv, runCli } from '../support/cli.js';
import { createTestDatabase, type TestDatabase } from '../support/test-db.js';

let db: TestDatabase;
let root: string;

function project(files: Record<string, string>): string {
  const dir = mkdtempSync(join(root, 'p-'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

function connections(): string {
  return `connections:
  sources:
    shop:
      host: ${db.host}
      port: ${db.port}
      username: ${db.user}
      password: "${db.password}"
      database: ${db.database}
  targets:
    wh:
      type: duckdb
`;
}

function sales(extra = ''): string {
  return `pipeline:
  source: shop
  target: wh
tables:
  events:
    cdc_strategy: id_only
    depends_on: customers
  customers:
    cdc_strategy: full_sync
${extra}`;
}

/** The CLI with no MYSQL_* unless given: multi-connection tests see only their config. */
function hw(cwd: string, args: string[], env: Record<string, string> = {}): CliResult {
  return runCli(args, { cwd, env });
}

beforeAll(async () => {
  db = await createTestDatabase('first');
  await db.conn.query(`
    CREATE TABLE customers (id INT PRIMARY KEY, name VARCHAR(20) NOT NULL);
    CREATE TABLE events (id INT AUTO_INCREMENT PRIMARY KEY, kind VARCHAR(10) NOT NULL);
    CREATE TABLE orders (id INT AUTO_INCREMENT PRIMARY KEY, amount DECIMAL(8,2), updated_at DATETIME NOT NULL);
    INSERT INTO orders (amount, updated_at) VALUES (1.5, '2024-01-01 10:00:00'), (2.5, '2024-02-01 10:00:00');
    INSERT INTO customers VALUES (1, 'ann'), (2, 'bo');
    INSERT INTO events (kind) VALUES ('a'), ('b'), ('c');`);
  root = mkdtempSync(join(tmpdir(), 'hw-first-'));
});

afterAll(async () => {
  await db?.drop();
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('the project from a subdirectory, every table of a pipeline', () => {
  test('sync pipeline -p P from a subdirectory uses the project above: its config, its home, depends_on first', () => {
    const dir = project({ 'config/connections.yml': connections(), 'config/pipelines/sales.yml': sales() });
    const sub = join(dir, 'reports', '2026');
    mkdirSync(sub, { recursive: true });
    const r = hw(sub, ['sync', 'pipeline', '-p', 'sales']);
    expect(r.code, r.out + r.err).toBe(0);
    expect(r.out).toContain(`Config: ${join(dir, 'config', 'connections.yml')}; home: ${join(dir, '.highwater')}`);
    expect(existsSync(join(dir, '.highwater'))).toBe(true);
    expect(readdirSync(sub)).toEqual([]);
    const order = r.out.split('\n').filter((l) => / {2}committed:/.test(l));
    expect(order.map((l) => l.split(' ')[0])).toEqual([`${db.database}.customers`, `${db.database}.events`]);

    // The second run, from the project's root, continues from the same watermark: nothing new for events.
    const again = JSON.parse(hw(dir, ['sync', 'pipeline', '-p', 'sales', '-t', `${db.database}.events`, '--json']).out);
    expect(again.tables[0]).toMatchObject({ table: `${db.database}.events`, rowsExtracted: 0 });
  });

  test("-t takes patterns ('db.ev*'), from the pipeline's tables or, on the default pipeline, from the source", () => {
    const dir = project({ 'config/connections.yml': connections(), 'config/pipelines/sales.yml': sales() });
    const r = JSON.parse(hw(dir, ['sync', 'pipeline', '-p', 'sales', '-t', `${db.database}.ev*`, '--json']).out);
    expect(r.tables.map((t: { table: string }) => t.table)).toEqual([`${db.database}.events`]);
    const none = hw(dir, ['sync', 'pipeline', '-p', 'sales', '-t', `${db.database}.zz*`]);
    expect(none.code).toBe(1);
    expect(none.err).toContain(
      `matches no table of pipeline sales (its tables: ${db.database}.events, ${db.database}.customers)`,
    );

    const single = project({});
    const s = hw(single, ['sync', '-t', `${db.database}.ord*`, '--json'], mysqlEnv(db));
    expect(s.code, s.out + s.err).toBe(0);
    expect(JSON.parse(s.out).tables.map((t: { table: string }) => t.table)).toEqual([`${db.database}.orders`]);
  });

  test('depends_on naming an unknown table, or forming a cycle, is exit 1 with the file and line', () => {
    const unknown = project({
      'config/connections.yml': connections(),
      'config/pipelines/sales.yml': sales().replace('depends_on: customers', 'depends_on: nope'),
    });
    const u = hw(unknown, ['config', 'validate-pipeline', 'sales']);
    expect(u.code).toBe(1);
    expect(u.out).toMatch(/config\/pipelines\/sales\.yml:\d+:\d+: tables\.events\.depends_on: "nope" is not a table/);
    const cycle = project({
      'config/connections.yml': connections(),
      'config/pipelines/sales.yml': sales('    depends_on: events\n'),
    });
    const c = hw(cycle, ['sync', 'pipeline', '-p', 'sales']);
    expect(c.code).toBe(1);
    expect(c.err).toMatch(/sales\.yml:\d+:\d+: .*depends_on forms a cycle/);
  });
});

describe('connections discover', () => {
  test("lists a source's tables with estimates, keys and a strategy; --write makes a pipeline that syncs", () => {
    const dir = project({ 'config/connections.yml': connections() });
    const d = JSON.parse(hw(dir, ['connections', 'discover', 'shop', '--json']).out);
    const byName = Object.fromEntries(d.tables.map((t: { name: string }) => [t.name, t]));
    expect(byName[`${db.database}.orders`]).toMatchObject({
      primaryKey: ['id'],
      suggestion: { strategy: 'hybrid', timestampColumn: 'updated_at', idColumn: 'id' },
    });
    expect(byName[`${db.database}.events`].suggestion.strategy).toBe('id_only');
    const w = hw(dir, ['connections', 'discover', 'shop', '--write', 'found']);
    expect(w.code, w.err).toBe(0);
    expect(w.out).toContain('added 3 table(s)');
    expect(hw(dir, ['connections', 'discover', 'shop', '--write', 'found']).out).toContain('already lists every table');
    const r = hw(dir, ['sync', 'pipeline', '-p', 'found']);
    expect(r.code, r.out + r.err).toBe(0);
    expect(r.out.match(/ {2}committed:/g)).toHaveLength(3);
  });
});

describe('errors people can act on', () => {
  test('a missing cursor column: exit 1, said once, with the YAML key and id_only for an append-only table', () => {
    const r = hw(project({}), ['sync', '-t', `${db.database}.events`], mysqlEnv(db));
    expect(r.code).toBe(1);
    const said = (r.out + r.err).match(/column "updated_at" \(cdc_timestamp_column\) does not exist/g);
    expect(said).toHaveLength(1);
    expect(r.out).toContain(`${db.database}.events  FAILED: column "updated_at"`);
    expect(r.out).toContain('cdc_strategy: id_only');
    expect(r.err).not.toMatch(/^error:/m);
  });

  test('a wrong MYSQL_PASSWORD: exit 2 without retries, naming the connection and the variables', () => {
    const r = hw(project({}), ['sync', '-t', `${db.database}.orders`], {
      ...mysqlEnv(db),
      MYSQL_PASSWORD: 'not-the-password',
    });
    expect(r.code).toBe(2);
    expect(r.err).not.toContain('retrying');
    expect(r.out).toContain('source default');
    expect(r.out).toContain('access denied');
    expect(r.out).toContain('MYSQL_USER and MYSQL_PASSWORD');
    expect(r.out + r.err).not.toContain('not-the-password');
  });

  test('under --json a failure is a JSON object on stdout', () => {
    const r = hw(project({}), ['--json', 'sync', 'pipeline', '-p', 'nope'], mysqlEnv(db));
    expect(r.code).toBe(1);
    expect(JSON.parse(r.out)).toMatchObject({ ok: false, exitCode: 1, error: { name: 'ConfigError' } });
    expect(r.err).toBe('');
  });
});

describe('input checked before work starts', () => {
  test('--json-output to a directory or a missing directory fails before the run: nothing is synced', () => {
    const dir = project({});
    const asDir = hw(dir, ['sync', '-t', `${db.database}.orders`, '--json-output', dir], mysqlEnv(db));
    expect(asDir.code).toBe(1);
    expect(asDir.err).toContain('is a directory');
    const missing = hw(
      dir,
      ['sync', '-t', `${db.database}.orders`, '--json-output', 'no/such/dir/r.json'],
      mysqlEnv(db),
    );
    expect(missing.code).toBe(1);
    expect(missing.err).toContain('does not exist');
    expect(existsSync(join(dir, '.highwater'))).toBe(false);
  });

  test('watermark set refuses a date that does not exist and an id that is not an integer', () => {
    const dir = project({});
    const t = `${db.database}.orders`;
    const ts = hw(dir, ['watermark', 'set', '-t', t, '--timestamp', '2025-13-45'], mysqlEnv(db));
    expect(ts.code).toBe(1);
    expect(ts.err).toContain('--timestamp "2025-13-45" has month 13');
    const id = hw(dir, ['watermark', 'set', '-t', t, '--id', 'abc'], mysqlEnv(db));
    expect(id.code).toBe(1);
    expect(id.err).toContain(`--id "abc" is not an integer, and ${t}.id (cdc_id_column) is int`);
    const get = hw(dir, ['watermark', 'get', '-t', t, '--json'], mysqlEnv(db));
    expect(JSON.parse(get.out).watermark).toBeNull();
  });

  test('a YAML alias bomb and an oversized file are refused at once, naming the file', () => {
    const levels = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
    for (let i = 1; i < 12; i++) {
      const prev = String.fromCharCode(96 + i);
      levels.push(
        `${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9).fill(`*${prev}`).join(',')}]`,
      );
    }
    const dir = project({
      'config/connections.yml': connections(),
      'config/pipelines/bomb.yml': `pipeline:\n  source: shop\n  target: wh\nnotes:\n  ${levels.join('\n  ')}\n`,
      'config/pipelines/big.yml': `pipeline:\n  description: "${'x'.repeat(1024 * 1024)}"\n`,
    });
    const bomb = hw(dir, ['config', 'validate-pipeline', 'bomb']);
    expect(bomb.code).toBe(1);
    expect(bomb.out).toContain('config/pipelines/bomb.yml: refused: Excessive alias count');
    const big = hw(dir, ['config', 'validate-pipeline', 'big']);
    expect(big.code).toBe(1);
    expect(big.out).toMatch(/config\/pipelines\/big\.yml is \d+ bytes; configuration files are at most 1048576 bytes/);
  });
});

describe('commands that destroy ask the same way', () => {
  test('without a terminal: watermark reset and s3clean clean --force need --yes; loaded files are cleaned unasked', async () => {
    const dir = project({});
    const env = mysqlEnv(db);
    const t = `${db.database}.orders`;
    expect(hw(dir, ['sync', '-t', t], env).code).toBe(0);
    await db.conn.query("INSERT INTO orders (amount, updated_at) VALUES (9.5, '2024-05-01 10:00:00')");
    expect(hw(dir, ['sync', '-t', t, '--backup-only'], env).code).toBe(0);

    const loaded = hw(dir, ['s3clean', 'clean', '-t', t], env);
    expect(loaded.code, loaded.err).toBe(0);
    const force = hw(dir, ['s3clean', 'clean', '-t', t, '--force'], env);
    expect(force.code).toBe(1);
    expect(force.err).toContain('s3clean clean --force needs --yes when not run from a terminal');
    const listed = JSON.parse(hw(dir, ['s3clean', 'list', '-t', t, '--json'], env).out);
    expect(listed.files.length).toBeGreaterThan(0);
    expect(hw(dir, ['s3clean', 'clean', '-t', t, '--force', '--yes'], env).code).toBe(0);
    expect(JSON.parse(hw(dir, ['s3clean', 'list', '-t', t, '--json'], env).out).files).toEqual([]);

    const reset = hw(dir, ['watermark', 'reset', '-t', t], env);
    expect(reset.code).toBe(1);
    expect(reset.err).toContain('watermark reset needs --yes when not run from a terminal');
    expect(JSON.parse(hw(dir, ['watermark', 'get', '-t', t, '--json'], env).out).watermark).not.toBeNull();
    expect(hw(dir, ['watermark', 'reset', '-t', t, '-y'], env).code).toBe(0);
    expect(JSON.parse(hw(dir, ['watermark', 'get', '-t', t, '--json'], env).out).watermark).toBeNull();
  });
});
