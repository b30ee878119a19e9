/**
 * What a command loads, as the built CLI runs it: a sync with rows and one with nothing to do, and `--help` (every
 * command's module is loaded at start). Libraries a local run never uses must not load, nor ones a command uses only
 * on some paths: the Step Functions library's AWS SDK Lambda client, credential providers and validator (deferred by
 * lambdas/local/orchestration/sfn-lazy/), yaml without a YAML file, dotenv without a .env, cli-progress when no bar
 * is drawn. The commands themselves run from the CLI's bundle (scripts/bundle-cli.mjs). Each process's modules are
 * logged by a preloaded hook (test/support/module-log.mjs).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { HIGHWATER, mysqlEnv, NODE, ROOT } from '../support/cli.js';
import { createTestDatabase, type TestDatabase } from '../support/test-db.js';

const LOGGER = join(ROOT, 'test/support/module-log.mjs');
/** Packages no command start, and no local sync without a YAML file, .env or terminal, should load. */
const NOT_LOADED = [
  '@aws-sdk/client-lambda',
  '@aws-sdk/credential-providers',
  'asl-validator',
  'ajv',
  'yaml',
  'dotenv',
  'cli-progress',
];

let db: TestDatabase;
let cwd: string;

beforeAll(async () => {
  db = await createTestDatabase('startmodules');
  cwd = mkdtempSync(join(tmpdir(), 'hw-start-modules-'));
  await db.conn.query(
    `CREATE TABLE items (id INT PRIMARY KEY, label VARCHAR(20), updated_at DATETIME NOT NULL);
     INSERT INTO items VALUES (1, 'a', '2024-01-01 00:00:00'), (2, 'b', '2024-01-02 00:00:00');`,
  );
});
afterAll(async () => {
  await db?.drop();
  rmSync(cwd, { recursive: true, force: true });
});

/**
 * Runs `node …argv` with the module logger preloaded, as a flag (the main thread) or through NODE_OPTIONS (every
 * thread, workers too), and returns its result and the URLs it loaded.
 */
function logModules(
  name: string,
  argv: string[],
  opts: { cwd: string; env?: Record<string, string>; everyThread?: boolean },
): { code: number | null; out: string; err: string; urls: string[] } {
  // In this file's scratch folder, whatever the command's own; a fresh log each run (the logger appends).
  const log = join(cwd, `modules-${name.replace(/\W+/g, '_')}.log`);
  rmSync(log, { force: true });
  const r = spawnSync(NODE, [...(opts.everyThread ? [] : ['--import', LOGGER]), ...argv], {
    cwd: opts.cwd,
    encoding: 'utf8',
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      TMPDIR: process.env.TMPDIR,
      HW_MODULE_LOG: log,
      ...(opts.everyThread ? { NODE_OPTIONS: `--import=${pathToFileURL(LOGGER).href}` } : {}),
      ...opts.env,
    },
  });
  return { code: r.status, out: r.stdout, err: r.stderr, urls: readFileSync(log, 'utf8').split('\n') };
}

/**
 * Runs the CLI with the module logger; returns its output, the packages (under node_modules) it loaded, and the
 * files of the build (under dist/, relative to it) it loaded.
 */
function loadedBy(
  args: string[],
  dir = cwd,
  env: Record<string, string> = mysqlEnv(db),
): { code: number | null; out: string; err: string; packages: Set<string>; built: string[] } {
  const { urls, ...r } = logModules(args.join('-'), [HIGHWATER, ...args], { cwd: dir, env });
  const packages = new Set(
    urls.flatMap((url) => {
      const m = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
      return m?.[1] ? [m[1]] : [];
    }),
  );
  const dist = `${pathToFileURL(join(ROOT, 'dist')).href}/`;
  const built = urls.filter((u) => u.startsWith(dist)).map((u) => u.slice(dist.length));
  return { ...r, packages, built };
}

test('a local sync with rows, and one with nothing to do, load none of them', () => {
  for (const expected of ['committed', 'skipped']) {
    const r = loadedBy(['--json', 'sync', '-t', `${db.database}.items`]);
    expect(r.code, r.err).toBe(0);
    expect((JSON.parse(r.out) as { tables: { status: string }[] }).tables[0]?.status).toBe(expected);
    // What the run needs from node_modules is seen, so the log is complete enough to judge what is missing.
    for (const used of ['aws-local-stepfunctions', 'better-sqlite3']) expect(r.packages).toContain(used);
    expect(NOT_LOADED.filter((p) => r.packages.has(p))).toEqual([]);
    // The commands run from the bundle (scripts/bundle-cli.mjs), with zod, commander and mysql2 inside it.
    expect(r.built).toContain('bin/cli/bundle/main.js');
    expect(r.built).not.toContain('bin/cli/main.js');
    expect(['zod', 'commander', 'mysql2'].filter((p) => r.packages.has(p))).toEqual([]);
  }
});

test("a sync's encode worker loads the bundled part of Arrow beside it, not the whole package", async () => {
  await db.conn.query(
    `CREATE TABLE parts (id INT PRIMARY KEY, label VARCHAR(20), updated_at DATETIME NOT NULL);
     INSERT INTO parts VALUES (1, 'a', '2024-01-01 00:00:00'), (2, 'b', '2024-01-02 00:00:00');`,
  );
  // Through NODE_OPTIONS the logger is preloaded in the worker thread too (its execArgv is empty).
  const { code, out, err, urls } = logModules('worker', [HIGHWATER, '--json', 'sync', '-t', `${db.database}.parts`], {
    cwd,
    env: mysqlEnv(db),
    everyThread: true,
  });
  expect(code, err).toBe(0);
  expect((JSON.parse(out) as { tables: { rowsLoaded: number }[] }).tables[0]?.rowsLoaded).toBe(2);
  // The worker ran (parquet-wasm is its alone) and took Arrow from the bundle.
  expect(urls.some((u) => u.includes('/node_modules/parquet-wasm/'))).toBe(true);
  expect(urls).toContain(pathToFileURL(join(ROOT, 'dist/bin/cli/bundle/arrow.cjs')).href);
  expect(urls.filter((u) => u.includes('/node_modules/apache-arrow/'))).toEqual([]);
});

test('--help loads every command module and none of them', () => {
  const r = loadedBy(['--help']);
  expect(r.code, r.err).toBe(0);
  expect(r.out).toContain('sync');
  expect(NOT_LOADED.filter((p) => r.packages.has(p))).toEqual([]);
});

test('with a .env file, dotenv loads and the sync takes its connection from it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hw-start-modules-env-'));
  try {
    const lines = Object.entries(mysqlEnv(db)).map(([k, v]) => `${k}=${v}`);
    writeFileSync(join(dir, '.env'), `${lines.join('\n')}\n`);
    const r = loadedBy(['--json', 'sync', '-t', `${db.database}.items`], dir, {});
    expect(r.code, r.err).toBe(0);
    expect((JSON.parse(r.out) as { tables: { rowsLoaded: number }[] }).tables[0]?.rowsLoaded).toBe(2);
    expect(r.packages).toContain('dotenv');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('from the TypeScript sources (no bundle beside them) the commands run unbundled', () => {
  const r = logModules('sources', ['--import', 'tsx', join(ROOT, 'bin/highwater.ts'), '--help'], { cwd: ROOT });
  expect(r.code, r.err).toBe(0);
  expect(r.out).toContain('Usage: highwater');
  const urls = r.urls;
  expect(urls).toContain(pathToFileURL(join(ROOT, 'bin/cli/main.ts')).href);
  expect(urls.some((u) => u.includes('/bundle/'))).toBe(false);
});
