/**
 * A private PostgreSQL server (the Debian package's binaries) for the Redshift Data API stand-in: its own data dir
 * under the OS temp dir owned by `postgres`, a free port on 127.0.0.1, fsync off, and stopped again by `stop()`.
 * reference/test-stack.md §4: initdb ≈ 1.3 s, start ≈ 0.13 s.
 */
import { execFile } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './free-port.js';

const run = promisify(execFile);
const PG_ROOT = '/usr/lib/postgresql';

export interface PostgresInstance {
  /** `postgresql://postgres@127.0.0.1:PORT/postgres` (trust auth, loopback only). */
  connectionString: string;
  port: number;
  stop(): Promise<void>;
}

/** The newest installed major version's bin dir (the directory name is the version: 15, 16, …). */
export function postgresBinDir(): string {
  const versions = existsSync(PG_ROOT)
    ? readdirSync(PG_ROOT)
        .filter((v) => /^\d+$/.test(v) && existsSync(join(PG_ROOT, v, 'bin', 'initdb')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  const newest = versions[0];
  if (newest === undefined) throw new Error(`no PostgreSQL found under ${PG_ROOT} (apt-get install postgresql)`);
  return join(PG_ROOT, newest, 'bin');
}

async function idOf(flag: '-u' | '-g', user: string): Promise<number> {
  const { stdout } = await run('id', [flag, user]);
  return Number(stdout.trim());
}

/** Runs a PostgreSQL binary as `postgres` when we are root (initdb and postgres refuse to run as root). */
async function asPostgres(bin: string, args: string[]): Promise<void> {
  if (process.getuid?.() === 0) await run('runuser', ['-u', 'postgres', '--', bin, ...args]);
  else await run(bin, args);
}

export async function startPostgres(): Promise<PostgresInstance> {
  const bin = postgresBinDir();
  const dir = mkdtempSync(join(tmpdir(), 'hw-postgres-'));
  chmodSync(dir, 0o700);
  if (process.getuid?.() === 0) chownSync(dir, await idOf('-u', 'postgres'), await idOf('-g', 'postgres'));
  const data = join(dir, 'data');
  const log = join(dir, 'postgres.log');
  await asPostgres(join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-locale']);
  const port = await freePort();
  const serverOptions = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c TimeZone=UTC`;
  try {
    await asPostgres(join(bin, 'pg_ctl'), ['-D', data, '-l', log, '-o', serverOptions, '-w', 'start']);
  } catch (e) {
    const text = existsSync(log) ? readFileSync(log, 'utf8') : '(no log)';
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`PostgreSQL did not start: ${String(e)}\n${text}`);
  }
  let stopped = false;
  return {
    connectionString: `postgresql://postgres@127.0.0.1:${port}/postgres`,
    port,
    async stop() {
      if (stopped) return;
      stopped = true;
      try {
        await asPostgres(join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
