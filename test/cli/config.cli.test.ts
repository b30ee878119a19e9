/**
 * `highwater config …` as a user runs it: spawned CLI, temp working directories, the private MariaDB as the source.
 * Output and exit codes are the contract.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { mysqlEnv, runCli } from '../support/cli.js';
import { createTestDatabase, type TestDatabase } from '../support/test-db.js';

let db: TestDatabase;
const dirs: string[] = [];

function tempDir(files: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'hw-config-cli-'));
  dirs.push(dir);
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), text);
  }
  return dir;
}

function hw(cwd: string, args: string[], env: Record<string, string> = {}) {
  return runCli(args, { cwd, env: { ...mysqlEnv(db), ...env } });
}

/** `${NAME}` as written in YAML. */
const ref = (name: string) => `\${${name}}`;

function connections(port: number, password = ref('MYSQL_PASSWORD')): string {
  return `connections:
  sources:
    src:
      host: ${db.host}
      port: ${port}
      database: ${db.database}
      username: ${db.user}
      password: "${password}"
  targets:
    wh:
      type: duckdb
`;
}

beforeAll(async () => {
  db = await createTestDatabase('cfgcli');
  await db.conn.query(
    `CREATE TABLE items (id INT PRIMARY KEY, label VARCHAR(20), updated_at DATETIME NOT NULL);
     INSERT INTO items VALUES (1, 'a', '2024-01-01 00:00:00'), (2, 'b', '2024-01-02 00:00:00');
     CREATE TABLE events (code VARCHAR(10) PRIMARY KEY, happened_at DATETIME NOT NULL);`,
  );
});
afterAll(async () => {
  await db?.drop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('config setup and reset switch between the two modes', () => {
  test('setup writes config/ from the examples; sync then runs in multi-connection mode; reset goes back', () => {
    const cwd = tempDir();
    const items = `${db.database}.items`;
    const before = hw(cwd, ['sync', '-t', items, '--dry-run']);
    expect(before.code, before.err).toBe(0);
    expect(before.out).toContain('🔄 v1.0.0 Compatibility Mode');

    const setup = hw(cwd, ['config', 'setup']);
    expect(setup.code, setup.err).toBe(0);
    expect(setup.out).toContain('wrote config/connections.yml');
    // Only connections that work here are live (default, and the local DuckDB example); the rest wait in examples/.
    expect(setup.out).toContain('wrote config/examples/pipelines/sales.yml');
    expect(existsSync(join(cwd, 'config/pipelines/sales.yml'))).toBe(false);
    const health = hw(cwd, ['connections', 'health']);
    expect(health.code, health.out + health.err).toBe(0);
    expect(setup.out).toContain('MYSQL_HOST');
    expect(setup.out).toContain('highwater config validate-pipeline default');
    const file = readFileSync(join(cwd, 'config/connections.yml'), 'utf8');
    expect(file.split('\n')[0]).toBe('# yaml-language-server: $schema=./connections.schema.json');
    expect(file).toContain(`password: ${ref('MYSQL_PASSWORD')}`);
    expect(readFileSync(join(cwd, 'config/pipelines/default.yml'), 'utf8').split('\n')[0]).toBe(
      '# yaml-language-server: $schema=../pipeline.schema.json',
    );
    expect(JSON.parse(readFileSync(join(cwd, 'config/pipeline.schema.json'), 'utf8')).title).toContain('pipelines');

    const after = hw(cwd, ['sync', '-t', items, '--dry-run']);
    expect(after.code, after.err).toBe(0);
    expect(after.out).toContain('📋 Using default pipeline configuration');
    expect(after.out).toContain('Multi-connection mode:');
    expect(after.out).not.toContain('Compatibility Mode');

    const again = hw(cwd, ['config', 'setup']);
    expect(again.code).toBe(1);
    expect(again.err).toContain('config/connections.yml');
    expect(again.err).toContain('--force');

    const forced = hw(cwd, ['config', 'setup', '--force', '--json']);
    expect(forced.code, forced.err).toBe(0);
    expect(JSON.parse(forced.out)).toMatchObject({
      mode: 'multi',
      prefilledFrom: expect.arrayContaining(['MYSQL_HOST']),
    });
    expect(readdirSync(join(cwd, 'config')).some((f) => f.startsWith('connections.yml.bak-'))).toBe(true);

    // Not on a terminal, reset goes ahead without --yes (nothing is deleted), as the guide runs it.
    const reset = hw(cwd, ['config', 'reset']);
    expect(reset.code, reset.err).toBe(0);
    expect(reset.out).toMatch(/moved config\/connections\.yml to config\/connections\.yml\.bak-\d{8}T\d{6}Z/);
    expect(reset.out).toContain('🔄 v1.0.0 Compatibility Mode');
    expect(reset.err).toContain('left config/pipelines alone');
    expect(existsSync(join(cwd, 'config/connections.yml'))).toBe(false);
    expect(existsSync(join(cwd, 'config/pipelines/default.yml'))).toBe(true);
    const status = hw(cwd, ['config', 'status', '--json']);
    expect(JSON.parse(status.out).mode).toBe('single');
    expect(hw(cwd, ['sync', '-t', items, '--dry-run']).out).toContain('🔄 v1.0.0 Compatibility Mode');

    const nothing = hw(cwd, ['config', 'reset']);
    expect(nothing.code).toBe(0);
    expect(nothing.out).toContain('nothing to reset');

    // Setup again after a reset (or `rm config/connections.yml`): the user's pipelines are kept, not replaced.
    writeFileSync(
      join(cwd, 'config/pipelines/default.yml'),
      `${readFileSync(join(cwd, 'config/pipelines/default.yml'), 'utf8')}# mine\n`,
    );
    const back = hw(cwd, ['config', 'setup']);
    expect(back.code, back.err).toBe(0);
    expect(back.out).toContain('wrote config/connections.yml');
    expect(back.out).toContain('kept config/pipelines/default.yml');
    expect(readFileSync(join(cwd, 'config/pipelines/default.yml'), 'utf8')).toContain('# mine');
    expect(hw(cwd, ['sync', '-t', items, '--dry-run']).out).toContain('📋 Using default pipeline configuration');
  });

  test('reset --pipelines moves the pipelines directory aside too', () => {
    const cwd = tempDir();
    expect(hw(cwd, ['config', 'setup']).code).toBe(0);
    const r = hw(cwd, ['config', 'reset', '--yes', '--pipelines', '--json']);
    expect(r.code, r.err).toBe(0);
    const report = JSON.parse(r.out);
    expect(report.mode).toBe('single');
    expect(report.moved.map((m: { from: string }) => m.from)).toEqual(['config/connections.yml', 'config/pipelines']);
    expect(existsSync(join(cwd, 'config/pipelines'))).toBe(false);
  });
});

describe('config setup and reset under ENABLE_MULTI_SCHEMA=true', () => {
  test('setup works although the forced mode cannot load yet; reset warns that the variable still forces it', () => {
    const cwd = tempDir();
    const forced = { ENABLE_MULTI_SCHEMA: 'true' };
    expect(hw(cwd, ['config', 'status'], forced).code).toBe(1); // forced multi without connections.yml
    const setup = hw(cwd, ['config', 'setup'], forced);
    expect(setup.code, setup.err).toBe(0);
    expect(setup.out).toContain('Multi-connection mode: forced by ENABLE_MULTI_SCHEMA=true');
    const reset = hw(cwd, ['config', 'reset', '--yes'], forced);
    expect(reset.code, reset.err).toBe(0);
    expect(reset.err).toContain('ENABLE_MULTI_SCHEMA=true still forces multi-connection mode');
    expect(reset.out).toContain('the configuration does not load now');
  });
});

describe('config status, list-pipelines, show-pipeline', () => {
  test('status and list-pipelines describe the configuration, and name a pipeline file that does not load', () => {
    const cwd = tempDir({
      'config/connections.yml': connections(db.port),
      'config/pipelines/orders.yml': `pipeline:\n  source: src\n  target: wh\n  schedule: rate(5 minutes)\n  sync_frequency: hourly\ntables:\n  ${db.database}.items: {}\n`,
      'config/pipelines/broken.yml': 'pipeline:\n  source: src\n  target: [wh\ntables: {}\n',
    });
    const s = hw(cwd, ['config', 'status']);
    expect(s.code, s.err).toBe(0);
    expect(s.out).toMatch(/mode\s+multi-connection/);
    expect(s.out).toContain('config/connections.yml defines 1 source (src) and 1 target (wh)');
    expect(s.out).toMatch(/pipelines\s+default, broken \(invalid\), orders/);
    expect(s.out).toMatch(/files\s+INVALID/);
    expect(s.out).toMatch(/pipeline broken: config\/pipelines\/broken\.yml:\d+:\d+: malformed YAML/);
    expect(s.err).toMatch(/warning: config\/pipelines\/orders\.yml:5:\d+: .*sync_frequency/);

    const j = JSON.parse(hw(cwd, ['config', 'status', '--json']).out);
    expect(j).toMatchObject({ mode: 'multi', sources: ['src'], targets: ['wh'], valid: false });
    expect(j.pipelines.find((p: { name: string }) => p.name === 'orders')).toMatchObject({ valid: true });

    const l = hw(cwd, ['config', 'list-pipelines']);
    expect(l.code).toBe(0);
    expect(l.out).toMatch(/orders\s+src → wh\s+1\s+rate\(5 minutes\)\s+config\/pipelines\/orders\.yml/);
    expect(l.out).toMatch(/broken\s+INVALID/);
    expect(l.err).toContain('pipeline broken: config/pipelines/broken.yml:');
    const lj = JSON.parse(hw(cwd, ['--json', 'config', 'list-pipelines']).out);
    expect(lj.map((p: { name: string }) => p.name)).toEqual(['default', 'broken', 'orders']);
    expect(lj[2]).toMatchObject({ source: 'src', target: 'wh', tables: 1, schedule: 'rate(5 minutes)' });
  });

  test('show-pipeline prints every table with strategy and columns, never a literal password', () => {
    const secret = 'L1teral-Pw-9f3k';
    const cwd = tempDir({
      'config/connections.yml': connections(db.port, secret),
      'config/pipelines/orders.yml': `pipeline:\n  source: src\n  target: wh\ntables:\n  ${db.database}.items:\n    cdc_timestamp_column: updated_at\n  ${db.database}.events:\n    cdc_strategy: timestamp_only\n    cdc_timestamp_column: happened_at\n`,
    });
    const s = hw(cwd, ['config', 'show-pipeline', 'orders']);
    expect(s.code, s.err).toBe(0);
    // The YAML's own keys, as the files write them.
    expect(s.out).toContain(`  ${db.database}.items:\n    cdc_strategy: hybrid`);
    expect(s.out).toContain('cdc_strategy: timestamp_only');
    expect(s.out).toContain('cdc_timestamp_column: happened_at');
    expect(s.out).toContain('max_workers: 4');
    expect(s.out).not.toMatch(/maxWorkers|timestampColumn|lagSeconds/);
    expect(s.out).toContain('password: "***"');
    expect(s.out).toMatch(/state:\n\s+type: local/);
    expect(s.out + s.err).not.toContain(secret);
    const j = hw(cwd, ['config', 'show-pipeline', 'orders', '--json']);
    expect(j.out).not.toContain(secret);
    const view = JSON.parse(j.out);
    expect(view.connections.sources.src.password).toBe('***');
    expect(Object.keys(view.tables)).toHaveLength(2);
    expect(view.tables[`${db.database}.items`]).toMatchObject({
      cdc_strategy: 'hybrid',
      cdc_timestamp_column: 'updated_at',
      cdc_id_column: 'id',
      lag: '0s',
    });

    const unknown = hw(cwd, ['config', 'show-pipeline', 'nope']);
    expect(unknown.code).toBe(1);
    expect(unknown.err).toContain('unknown pipeline "nope"; available: default, orders');
  });
});

describe('config validate-pipeline', () => {
  let cwd: string;
  beforeAll(() => {
    const t = db.database;
    cwd = tempDir({
      'config/connections.yml': connections(db.port),
      'config/pipelines/good.yml': `pipeline:\n  source: src\n  target: wh\ntables:\n  ${t}.items: {}\n  ${t}.events:\n    cdc_strategy: full_sync\n`,
      'config/pipelines/badcol.yml': `pipeline:\n  source: src\n  target: wh\ntables:\n  ${t}.items:\n    cdc_timestamp_column: modified_at\n  ${t}.events:\n    cdc_strategy: id_only\n    cdc_id_column: code\n  ${t}.missing: {}\n`,
      'config/pipelines/badsched.yml': `pipeline:\n  source: src\n  target: wh\n  schedule: cron(0 12 * * * *)\ntables: {}\n`,
      'config/pipelines/broken.yml': 'pipeline:\n  source: src\n  target: [wh\ntables: {}\n',
      'down/connections.yml': connections(1),
      'down/pipelines/good.yml': `pipeline:\n  source: src\n  target: wh\ntables:\n  ${t}.items: {}\n`,
      'onlybroken/connections.yml': 'invalid: yaml: content\n',
      'nosecret/connections.yml': connections(db.port, ref('HW_UNSET_PASSWORD')),
      'nosecret/pipelines/good.yml': `pipeline:\n  source: src\n  target: wh\ntables:\n  ${t}.items: {}\n`,
    });
  });

  test('a good pipeline is valid (exit 0), checked against the live source', () => {
    const r = hw(cwd, ['config', 'validate-pipeline', 'good']);
    expect(r.code, r.out + r.err).toBe(0);
    expect(r.out).toContain(`ok  ${db.database}.items (hybrid)`);
    expect(r.out).toContain('pipeline good is valid');
    const j = JSON.parse(hw(cwd, ['config', 'validate-pipeline', 'good', '--json']).out);
    expect(j).toMatchObject({ valid: true, liveChecks: 'done', problems: [] });
    expect(j.tables).toHaveLength(2);
  });

  test('a missing column, a wrongly typed id and a missing table: exit 1, each naming pipeline, table and column', () => {
    const t = db.database;
    const r = hw(cwd, ['config', 'validate-pipeline', 'badcol']);
    expect(r.code).toBe(1);
    expect(r.out).toContain(
      `error: pipeline badcol, table ${t}.items, column modified_at: cdc_timestamp_column "modified_at" does not exist`,
    );
    expect(r.out).toContain(`error: pipeline badcol, table ${t}.events, column code: id_only needs an integer`);
    expect(r.out).toContain(`error: pipeline badcol, table ${t}.missing: table ${t}.missing does not exist`);
    expect(r.out).toContain('pipeline badcol is INVALID (3 errors)');
    const j = JSON.parse(hw(cwd, ['config', 'validate-pipeline', 'badcol', '--json']).out);
    expect(j.valid).toBe(false);
    expect(j.problems[0]).toMatchObject({ table: `${t}.items`, column: 'modified_at' });
  });

  test('an invalid schedule and a YAML syntax error are errors naming the file (exit 1)', () => {
    const s = hw(cwd, ['config', 'validate-pipeline', 'badsched']);
    expect(s.code).toBe(1);
    expect(s.out).toContain('config/pipelines/badsched.yml: pipeline.schedule:');
    const b = hw(cwd, ['config', 'validate-pipeline', 'broken']);
    expect(b.code).toBe(1);
    expect(b.out).toMatch(/error: pipeline broken: config\/pipelines\/broken\.yml:\d+:\d+: malformed YAML/);
    const c = hw(cwd, ['--config-dir', 'onlybroken', 'config', 'validate-pipeline', 'default']);
    expect(c.code).toBe(1);
    expect(c.out).toContain('onlybroken/connections.yml:1:10: malformed YAML');
  });

  test('an unknown pipeline is exit 1 naming the known ones', () => {
    const r = hw(cwd, ['config', 'validate-pipeline', 'nope']);
    expect(r.code).toBe(1);
    expect(r.err).toContain('unknown pipeline "nope"; available: default, badcol, badsched, broken, good');
  });

  test('an unreachable source skips the live checks with a warning (exit 0), or exit 2 with --require-source', () => {
    const r = hw(cwd, ['--config-dir', 'down', 'config', 'validate-pipeline', 'good']);
    expect(r.code, r.out + r.err).toBe(0);
    expect(r.err).toContain('live checks against the source were skipped');
    expect(r.err).toContain(`${db.host}:1`);
    const strict = hw(cwd, ['--config-dir', 'down', 'config', 'validate-pipeline', 'good', '--require-source']);
    expect(strict.code).toBe(2);
    expect(strict.err).toContain('--require-source');
    const j = JSON.parse(hw(cwd, ['--config-dir', 'down', 'config', 'validate-pipeline', 'good', '--json']).out);
    expect(j).toMatchObject({ valid: true, liveChecks: 'skipped' });
  });

  test('a password variable that is not set here, or no MYSQL_HOST: live checks skipped, saying why', () => {
    const r = hw(cwd, ['--config-dir', 'nosecret', 'config', 'validate-pipeline', 'good', '--require-source']);
    expect(r.code).toBe(2);
    expect(r.err).toContain('environment variable HW_UNSET_PASSWORD is not set');
    const single = hw(cwd, ['--config-dir', 'nowhere', 'config', 'validate-pipeline', 'default'], { MYSQL_HOST: '' });
    expect(single.code, single.err).toBe(0);
    expect(single.err).toContain('live checks against the source were skipped: MYSQL_HOST is not set');
  });
});
