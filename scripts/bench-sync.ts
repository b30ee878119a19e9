/**
 * The whole-sync measurements of `npm run bench`, each through the `highwater` command as a user runs it (npm's
 * bin, bin/highwater, starting the built CLI in its own process; single-connection mode), so start-up, planning,
 * extraction, the DuckDB load, the commit and staging clean-up all count, and the peak RSS is the whole process's:
 *   (c) a full sync of the table into an empty home;
 *   (i) an incremental sync after 1% of the rows were changed (updated_at moved a minute back from now);
 *   (n) a sync with nothing to do, right after;
 *   (v) `highwater --version`.
 * Extraction inside (c) is the run's own extract step time (`highwater runs --json`), for the comparison with the
 * isolated extract worker.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import mysqlPromise from 'mysql2/promise';
import { z } from 'zod';

export interface Server {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
  /** The server's process id, when the bench started the server: see settle(). */
  pid?: number;
}

/** What mysql2 connects with (it warns about, and will refuse, an option it does not know, such as `pid`). */
export function connectionOptions(server: Server): Omit<Server, 'pid'> {
  const { host, port, user, password, database } = server;
  return { host, port, user, password, database };
}

/**
 * CPU seconds (user + system) from /proc/<pid>/stat: the process's own (fields 14 and 15), or with `reaped` those
 * of its children it has waited for (fields 16 and 17); undefined when it cannot be read.
 */
function cpuSeconds(pid: number | 'self', reaped = false): number | undefined {
  try {
    // The fields after the command name (which may hold spaces, so split after its closing parenthesis).
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const at = reaped ? 13 : 11;
    return (Number(fields[at]) + Number(fields[at + 1])) / 100;
  } catch {
    return undefined;
  }
}

const QUIET_WINDOW_MS = 500;
const QUIET_CPU_SECONDS = 0.02;
const SETTLE_TIMEOUT_MS = 60_000;

/**
 * Waits until the bench's MariaDB has gone quiet: no more than 20 ms of CPU in half a second. After the bench's
 * own bulk writes (the table load, the 1% UPDATE) InnoDB goes on purging old row versions and flushing pages in the
 * background; measured after the 1% UPDATE of 10M rows, it kept one of the two cores busy for about 0.5 s, and an
 * incremental sync started at once took 0.25 s longer than one started a second later. Each measurement starts on
 * a quiet server, as a scheduled run between a workload's ordinary writes does. A server not quiet within a minute
 * is measured anyway, with a warning.
 */
export async function settle(server: Server): Promise<void> {
  if (server.pid === undefined) return;
  const deadline = performance.now() + SETTLE_TIMEOUT_MS;
  let before = cpuSeconds(server.pid);
  while (before !== undefined) {
    await new Promise((r) => setTimeout(r, QUIET_WINDOW_MS));
    const now = cpuSeconds(server.pid);
    if (now === undefined || now - before <= QUIET_CPU_SECONDS) return;
    if (performance.now() > deadline) {
      console.error(`  (the server was still busy after ${SETTLE_TIMEOUT_MS / 1000} s; measuring anyway)`);
      return;
    }
    before = now;
  }
}

// The command as npm installs it: the launcher (bin/highwater) that starts the built CLI under its V8 flags.
const CLI = join(import.meta.dirname, '..', 'bin', 'highwater');

export interface CliRun {
  seconds: number;
  /** The process's peak RSS (VmHWM), read while it ran. */
  peakRssMb: number;
  /** CPU seconds (user + system) of the process, every thread, at the kernel's 10 ms resolution. */
  cpuSeconds: number;
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Linux's high-water mark of the process's resident set, in kB; undefined once it has exited. */
function peakKb(pid: number): number | undefined {
  try {
    const m = /VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Runs `highwater …args` with `env` added, timing the whole process and sampling its peak RSS every 10 ms. */
export async function runCli(args: string[], env: NodeJS.ProcessEnv): Promise<CliRun> {
  // The command's CPU: what this process's reaped children used grows by it once the command is reaped (the bench
  // waits for no other child meanwhile; its MariaDB runs until the end).
  const reapedBefore = cpuSeconds('self', true) ?? 0;
  const t0 = performance.now();
  // The launcher execs node in its own process, keeping its pid: the peak sampled is the command's own. The `node` it
  // starts is this one.
  const child = spawn(CLI, args, {
    env: { ...process.env, ...env, PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}`, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const closed = new Promise<void>((resolve) => child.on('close', () => resolve()));
  let peak = 0;
  const sample = setInterval(() => {
    if (child.pid !== undefined) peak = Math.max(peak, peakKb(child.pid) ?? 0);
  }, 10);
  // The last sample before exit: 'exit' fires before the process is reaped, so /proc still has it.
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (c) => {
      if (child.pid !== undefined) peak = Math.max(peak, peakKb(child.pid) ?? 0);
      resolve(c);
    });
  });
  clearInterval(sample);
  await closed;
  const seconds = (performance.now() - t0) / 1000;
  const cpu = Math.max(0, (cpuSeconds('self', true) ?? 0) - reapedBefore);
  return { seconds, peakRssMb: Math.round(peak / 1024), cpuSeconds: round(cpu, 2), code, stdout, stderr };
}

export function round(n: number, digits: number): number {
  return Math.round(n * 10 ** digits) / 10 ** digits;
}

function cliEnv(server: Server, home: string): NodeJS.ProcessEnv {
  return {
    MYSQL_HOST: server.host,
    MYSQL_PORT: String(server.port),
    MYSQL_USER: server.user,
    MYSQL_PASSWORD: server.password,
    MYSQL_DATABASE: server.database,
    HIGHWATER_HOME: home,
  };
}

const TableReportSchema = z.object({
  status: z.string(),
  rowsLoaded: z.number(),
  rowsExtracted: z.number(),
  error: z.string().nullable(),
  skipped: z.string().nullable().optional(),
});
const SyncReportSchema = z.object({ status: z.string(), tables: z.array(TableReportSchema) });
const RunsSchema = z.object({
  runs: z.array(
    z.object({
      status: z.string(),
      rowsExtracted: z.number(),
      steps: z.record(z.string(), z.object({ durationMs: z.number() }).nullable()),
    }),
  ),
});

export interface SyncRun {
  seconds: number;
  peakRssMb: number;
  /** CPU seconds of the command (every thread) and, when the bench started the server, of MariaDB meanwhile. */
  cpuSeconds: number;
  serverCpuSeconds?: number;
  status: string;
  rowsLoaded: number;
  rowsExtracted: number;
}

/** `highwater --json sync -t db.table` in `home`; throws with its output unless it exits 0. */
export async function syncViaCli(server: Server, home: string, table: string): Promise<SyncRun> {
  await settle(server);
  const serverBefore = server.pid === undefined ? undefined : cpuSeconds(server.pid);
  const r = await runCli(['--json', 'sync', '-t', `${server.database}.${table}`], cliEnv(server, home));
  const serverAfter = server.pid === undefined ? undefined : cpuSeconds(server.pid);
  if (r.code !== 0) throw new Error(`highwater sync exited ${r.code}: ${r.stdout}\n${r.stderr}`);
  const report = SyncReportSchema.parse(JSON.parse(r.stdout));
  const t = report.tables[0];
  if (!t) throw new Error(`highwater sync reported no table: ${r.stdout}`);
  return {
    seconds: r.seconds,
    peakRssMb: r.peakRssMb,
    cpuSeconds: r.cpuSeconds,
    serverCpuSeconds:
      serverBefore !== undefined && serverAfter !== undefined ? round(serverAfter - serverBefore, 2) : undefined,
    status: t.status,
    rowsLoaded: t.rowsLoaded,
    rowsExtracted: t.rowsExtracted,
  };
}

export interface RunSteps {
  rows: number;
  /** Seconds of each step of the run (plan, extract, load, commit), from the ledger. */
  steps: Record<string, number>;
}

/** The newest committed run's rows and step times, from the ledger (`highwater runs --json`). */
export async function lastRunSteps(server: Server, home: string): Promise<RunSteps> {
  const r = await runCli(['--json', 'runs'], cliEnv(server, home));
  if (r.code !== 0) throw new Error(`highwater runs exited ${r.code}: ${r.stderr}`);
  const run = RunsSchema.parse(JSON.parse(r.stdout)).runs.find((x) => x.status === 'committed');
  if (!run?.steps.extract) throw new Error(`no committed run with an extract step time: ${r.stdout.slice(0, 500)}`);
  const steps = Object.fromEntries(
    Object.entries(run.steps).flatMap(([k, v]) => (v ? [[k, Math.round(v.durationMs) / 1000]] : [])),
  );
  return { rows: run.rowsExtracted, steps };
}

export function stepsText(s: RunSteps): string {
  return Object.entries(s.steps)
    .map(([k, v]) => `${k} ${v} s`)
    .join(', ');
}

/**
 * Changes 1% of the rows (every 100th id, shifted by `round` so repeats change other rows): updated_at a minute
 * before the server's clock (inside the default commit horizon of 15 s skew), and the amount. Returns how many.
 */
export async function changeOnePercent(server: Server, table: string, round: number): Promise<number> {
  const conn = await mysqlPromise.createConnection(connectionOptions(server));
  try {
    const [res] = await conn.query(
      `UPDATE \`${table}\` SET updated_at = NOW(3) - INTERVAL 1 MINUTE, amount = amount + 1 WHERE id % 100 = ?`,
      [round % 100],
    );
    return (res as { affectedRows: number }).affectedRows;
  } finally {
    await conn.end();
  }
}

/** `highwater --version`, the median of `times` starts. */
export async function versionSeconds(times: number): Promise<number> {
  const secs: number[] = [];
  for (let i = 0; i < times; i++) {
    const r = await runCli(['--version'], {});
    if (r.code !== 0) throw new Error(`highwater --version exited ${r.code}: ${r.stderr}`);
    secs.push(r.seconds);
  }
  secs.sort((a, b) => a - b);
  return secs[Math.floor(secs.length / 2)]!;
}
