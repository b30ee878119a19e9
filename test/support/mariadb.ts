/**
 * A private MariaDB server for the test run: its own data directory under the OS temp dir, its own free port,
 * started from the Debian binaries and killed at the end. Nothing depends on the machine's shared server.
 */
import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { chmodSync, chownSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import mysql from 'mysql2/promise';
import { freePort } from './free-port.js';

const run = promisify(execFile);

export interface MariaDbInstance {
  host: string;
  port: number;
  user: string;
  password: string;
  /** The server's process, whose CPU time the bench reads to start each measurement on a quiet server. */
  pid: number;
  stop(): Promise<void>;
}

function mysqlUid(): { uid: number; gid: number } | undefined {
  try {
    // Root may not run mariadbd as itself; the Debian package's `mysql` user owns the data dir.
    const out = execFileSync('id', ['-u', 'mysql']).toString().trim();
    const gid = execFileSync('id', ['-g', 'mysql']).toString().trim();
    return { uid: Number(out), gid: Number(gid) };
  } catch {
    return undefined;
  }
}

async function waitForServer(port: number, proc: ChildProcess, logFile: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`mariadbd exited with ${proc.exitCode}; see ${logFile}`);
    try {
      const c = await mysql.createConnection({ host: '127.0.0.1', port, user: 'root', password: '' });
      await c.end();
      return;
    } catch (e) {
      lastError = e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`mariadbd did not accept connections within 30 s: ${String(lastError)}; see ${logFile}`);
}

/** `extraArgs`: more mariadbd options, e.g. a server-wide `--sql-mode` a test needs. */
export async function startMariaDb(extraArgs: readonly string[] = []): Promise<MariaDbInstance> {
  const dir = mkdtempSync(join(tmpdir(), 'hw-mariadb-'));
  chmodSync(dir, 0o755);
  const owner = process.getuid?.() === 0 ? mysqlUid() : undefined;
  if (owner) chownSync(dir, owner.uid, owner.gid);
  const userArgs = owner ? ['--user=mysql'] : [];
  await run('mariadb-install-db', [
    '--no-defaults',
    ...userArgs,
    `--datadir=${dir}/data`,
    '--auth-root-authentication-method=normal',
    '--skip-test-db',
  ]);
  const port = await freePort();
  const logFile = join(dir, 'error.log');
  const proc = spawn(
    'mariadbd',
    [
      '--no-defaults',
      ...userArgs,
      `--datadir=${dir}/data`,
      '--bind-address=127.0.0.1',
      `--port=${port}`,
      `--socket=${dir}/mysqld.sock`,
      `--pid-file=${dir}/mysqld.pid`,
      `--log-error=${logFile}`,
      '--skip-log-bin',
      '--skip-name-resolve',
      '--innodb-buffer-pool-size=256M',
      '--innodb-flush-log-at-trx-commit=2',
      '--character-set-server=utf8mb4',
      '--collation-server=utf8mb4_general_ci',
      '--max-connections=500',
      ...extraArgs,
    ],
    { stdio: 'ignore', detached: false },
  );
  await waitForServer(port, proc, logFile);
  return {
    host: '127.0.0.1',
    port,
    user: 'root',
    password: '',
    pid: proc.pid ?? 0,
    async stop() {
      if (proc.exitCode === null) {
        const exited = new Promise((r) => proc.once('exit', r));
        proc.kill('SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
        if (proc.exitCode === null) proc.kill('SIGKILL');
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
