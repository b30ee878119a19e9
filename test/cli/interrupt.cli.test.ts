/**
 * Interrupting `highwater sync` with real signals: the CLI runs as one process (spawnCli: `node --import tsx`, so
 * the signal reaches it and not a tsx parent) on a 300,000-row table, and is signalled once its progress shows on
 * stderr. SIGINT and SIGTERM end the run (failed, lease released, one line, exit 130/143); SIGKILL leaves the
 * lease, which the next sync on this host takes over at once (lease_seconds is an hour). Every rerun ends with the
 * warehouse equal to the source.
 */
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { hostname } from 'node:os';
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { LeaseView } from '../../bin/cli/commands/lease.js';
import type { Lease, RunRecord } from '../../lambdas/ports/index.js';
import { runCli, spawnCli } from '../support/cli.js';
import { createHarness, type Harness } from '../support/harness.js';

const ROWS = 300_000;

let h: Harness;
let big: string;

function args(...rest: string[]): string[] {
  return ['--config-dir', h.configDir, '--home', h.home, ...rest];
}

function hw(...rest: string[]) {
  return runCli(args(...rest), { cwd: h.dir });
}

interface Started {
  child: ChildProcessWithoutNullStreams;
  stderr: () => string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts `highwater sync` on the big table and resolves once it reports an extracted chunk on stderr. */
async function startSync(): Promise<Started> {
  const child = spawnCli(args('sync', '-p', 'test', '-t', big), { cwd: h.dir });
  let err = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    err += d;
  });
  child.stdout.resume();
  const exit = once(child, 'exit').then(([code, signal]) => ({
    code: code as number | null,
    signal: signal as NodeJS.Signals | null,
  }));
  const started = Date.now();
  while (!/chunk \d+ done/.test(err)) {
    const ended = await Promise.race([exit.then(() => true), new Promise((r) => setTimeout(() => r(false), 20))]);
    if (ended) throw new Error(`sync ended before any chunk was extracted:\n${err}`);
    if (Date.now() - started > 60_000) throw new Error(`no progress after 60 s:\n${err}`);
  }
  return { child, stderr: () => err, exit };
}

async function state<T>(fn: (s: Awaited<ReturnType<Awaited<ReturnType<Harness['runtime']>>['state']>>) => Promise<T>) {
  const rt = await h.runtime();
  try {
    return await fn(await rt.state(rt.pipeline('test')));
  } finally {
    await rt.close();
  }
}

const runs = (): Promise<RunRecord[]> => state((s) => s.listRuns(h.stateKey(big)));
const lease = (): Promise<Lease | undefined> => state((s) => s.getLease(h.stateKey(big)));

/** Source and warehouse agree row for row: every id, label and timestamp, compared as one digest. */
async function expectInStep(): Promise<void> {
  const digest = (rows: { line: string }[]) => {
    const hash = createHash('sha256');
    for (const r of rows) hash.update(`${r.line}\n`);
    return { rows: rows.length, sha256: hash.digest('hex') };
  };
  const [src] = (await h.db.conn.query(
    "SELECT CONCAT(id, ':', label, ':', DATE_FORMAT(updated_at, '%Y-%m-%d %H:%i:%s')) AS line FROM big ORDER BY id",
  )) as unknown as [{ line: string }[]];
  const rt = await h.runtime();
  try {
    const w = await rt.warehouse(rt.pipeline('test'));
    const dst = await w.query<{ line: string }>(
      "SELECT CAST(id AS VARCHAR) || ':' || label || ':' || strftime(updated_at, '%Y-%m-%d %H:%M:%S') AS line FROM public.big ORDER BY id",
    );
    expect(dst).toHaveLength(ROWS);
    expect(digest(dst)).toEqual(digest(src));
  } finally {
    await rt.close();
  }
}

/** Changes every row, so the next sync has the whole table to read again. */
async function touchEveryRow(tag: string): Promise<void> {
  await h.db.conn.query(`UPDATE big SET label = CONCAT(label, '-${tag}'), updated_at = updated_at + INTERVAL 1 DAY`);
}

beforeAll(async () => {
  h = await createHarness('sig');
  big = `${h.db.database}.big`;
  await h.db.conn.query(
    `CREATE TABLE big (id INT PRIMARY KEY, label VARCHAR(40) NOT NULL, updated_at DATETIME NOT NULL);
     INSERT INTO big SELECT seq, CONCAT('row-', seq), '2024-01-01 00:00:00' + INTERVAL (seq DIV 100) SECOND
       FROM seq_1_to_${ROWS};`,
  );
  // lease_seconds of an hour: a lease left behind would block every rerun for that long.
  h.writePipeline(`  ${big}:\n    cdc_strategy: hybrid\n    chunk_rows: 10000\n    lag: 0`, { leaseSeconds: 3600 });
}, 120_000);
afterAll(async () => h?.cleanup());

test.each([
  ['SIGINT', 130],
  ['SIGTERM', 143],
] as const)(
  '%s: the run is marked failed, its lease released, one line, exit %i; a rerun ends in step',
  async (signal, code) => {
    if (signal === 'SIGTERM') await touchEveryRow('t');
    const before = (await runs()).length;
    const s = await startSync();
    const printed = s.stderr().length;
    s.child.kill(signal);
    expect(await s.exit).toEqual({ code, signal: null });

    const after = s
      .stderr()
      .slice(printed)
      .split('\n')
      .filter((l) => l.includes('interrupted'));
    expect(after).toHaveLength(1);
    const match = new RegExp(
      `^interrupted \\(${signal}\\): ${big} run (\\S+) marked failed, lease released; the next sync reads its window again$`,
    ).exec(after[0]!);
    expect(match, s.stderr()).not.toBeNull();
    const runId = match![1]!;
    // It was the last thing printed: no failure reports of the steps it stopped.
    expect(s.stderr().trimEnd().endsWith(after[0]!)).toBe(true);

    expect(await lease()).toBeUndefined();
    const ledger = await runs();
    expect(ledger).toHaveLength(before + 1);
    const killed = ledger.find((r) => r.runId === runId);
    expect(killed?.status).toBe('failed');
    expect(killed?.error).toBe(`interrupted by ${signal}`);
    expect(ledger.filter((r) => r.status === 'extracting')).toEqual([]);

    const rerun = hw('sync', '-p', 'test', '-t', big);
    expect(rerun.code, rerun.err).toBe(0);
    await expectInStep();
    expect((await runs()).at(-1)?.status).toBe('committed');
  },
);

test('SIGKILL: the lease stays, and an immediate rerun takes it over, marks the killed run failed and ends in step', async () => {
  await touchEveryRow('k');
  const s = await startSync();
  const pid = s.child.pid!;
  s.child.kill('SIGKILL');
  expect(await s.exit).toEqual({ code: null, signal: 'SIGKILL' });

  // Nothing could clean up: the lease is the killed process's, for the next hour.
  const left = await lease();
  expect(left?.owner).toMatchObject({ host: hostname(), pid });
  expect(Date.parse(left!.expiresAt)).toBeGreaterThan(Date.now() + 3000_000);
  const listed = JSON.parse(hw('lease', 'list', '--json').out) as LeaseView[];
  expect(listed.map((l) => [l.run, l.pid, l.process, l.alive])).toEqual([[left!.holder, pid, 'dead', false]]);
  expect((await runs()).find((r) => r.runId === left!.holder)?.status).toBe('extracting');

  const started = Date.now();
  const rerun = hw('sync', '-p', 'test', '-t', big);
  expect(rerun.code, rerun.err).toBe(0);
  // No waiting for the lease's hour (a refused rerun would have exited 3 at once): it took as long as a sync takes.
  expect(Date.now() - started).toBeLessThan(600_000);
  await expectInStep();

  const killed = (await runs()).find((r) => r.runId === left!.holder);
  expect(killed?.status).toBe('failed');
  expect(killed?.error).toContain(`process ${pid} on ${hostname()} is gone`);
  expect(killed?.error).toContain('its window will be read again');
  expect((await runs()).filter((r) => r.status === 'extracting')).toEqual([]);
  expect(await lease()).toBeUndefined();
});
