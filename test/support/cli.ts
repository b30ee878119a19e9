/**
 * The CLI as a user runs it, for tests: a spawned `highwater` (the built dist/bin/highwater.js) with a minimal environment,
 * its exit code, stdout and stderr. `runCli` blocks (fine against MariaDB and other processes); `runCliAsync` does
 * not, for tests whose stand-ins (fauxqs, the Redshift Data API stand-in) answer from the test process itself.
 * `spawnCli` starts the CLI as one process, for tests that send it signals.
 */
import { type ChildProcessWithoutNullStreams, spawn, spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import type { TestDatabase } from './test-db.js';

export const ROOT = resolve(import.meta.dirname, '../..');
/**
 * The built CLI, as `npx highwater` and a global install run it (global-setup.ts builds dist/ first when a source is
 * newer): a spawn takes half the time of transpiling the sources with tsx on every start.
 */
export const HIGHWATER = join(ROOT, 'dist/bin/highwater.js');
/** The command that runs the CLI as one process: this node and the built bin. */
export const NODE = process.execPath;
export const CLI_ARGS: readonly string[] = [HIGHWATER];

export interface CliResult {
  code: number | null;
  out: string;
  err: string;
}

export interface CliOptions {
  cwd: string;
  /** Added to PATH and HOME (nothing else of this process's environment is passed on). */
  env?: Record<string, string | undefined>;
}

function childEnv(env: CliOptions['env']): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: process.env.HOME, TMPDIR: process.env.TMPDIR, ...env };
}

export function runCli(args: string[], opts: CliOptions): CliResult {
  const r = spawnSync(NODE, [...CLI_ARGS, ...args], {
    cwd: opts.cwd,
    encoding: 'utf8',
    env: childEnv(opts.env),
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** Runs `command` (e.g. `bash`, with its own args) without blocking this process. */
export function spawnAsync(command: string, args: string[], opts: CliOptions): Promise<CliResult> {
  const child = spawn(command, args, { cwd: opts.cwd, env: childEnv(opts.env) });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    out += d;
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    err += d;
  });
  return new Promise((done) => child.on('close', (code) => done({ code, out, err })));
}

export function runCliAsync(args: string[], opts: CliOptions): Promise<CliResult> {
  return spawnAsync(NODE, [...CLI_ARGS, ...args], opts);
}

/**
 * Starts the CLI as a single process, `node dist/bin/highwater.js …`, and hands it back running. The tsx
 * CLI would run the script in a child process of its own: a signal sent to tsx (SIGKILL above all, which it cannot
 * relay) would then not reach the CLI. Here the child's pid is the CLI's.
 */
export function spawnCli(args: string[], opts: CliOptions): ChildProcessWithoutNullStreams {
  return spawn(process.execPath, [HIGHWATER, ...args], {
    cwd: opts.cwd,
    env: childEnv(opts.env),
  });
}

/** Single-connection mode's source: the MYSQL_* variables for a test database. */
export function mysqlEnv(db: TestDatabase): Record<string, string> {
  return {
    MYSQL_HOST: db.host,
    MYSQL_PORT: String(db.port),
    MYSQL_USER: db.user,
    MYSQL_PASSWORD: db.password,
    MYSQL_DATABASE: db.database,
  };
}
