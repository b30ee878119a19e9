/**
 * Local scheduling with real processes and real signals: `highwater run --every` and `highwater daemon` run as one
 * process each (spawnCli) on the harness's config (private MariaDB, local staging, SQLite ledger, DuckDB), no AWS.
 * A run prints one line on stdout; SIGTERM during a run ends it as an interrupted sync does (failed, lease released,
 * exit 143), and between runs exits at once; the next process reads the interrupted window again.
 */
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { CLI_NODE_FLAGS } from '../../bin/cli/node-flags.js';
import { runCli, spawnCli } from '../support/cli.js';
import { createHarness, type Harness } from '../support/harness.js';

const ROWS = 40_000;

let h: Harness;
let events: string;

const args = (...rest: string[]) => ['--config-dir', h.configDir, '--home', h.home, ...rest];

interface Running {
  child: ChildProcessWithoutNullStreams;
  out: () => string;
  err: () => string;
  /** Resolves once `pattern` matches the stream's text after offset `from`; fails if the process ends first. */
  waitFor(stream: 'out' | 'err', pattern: RegExp, from?: number): Promise<RegExpExecArray>;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function start(...rest: string[]): Running {
  const child = spawnCli(args(...rest), { cwd: h.dir });
  const text = { out: '', err: '' };
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    text.out += d;
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    text.err += d;
  });
  let ended = false;
  const exit = once(child, 'exit').then(([code, signal]) => {
    ended = true;
    return { code: code as number | null, signal: signal as NodeJS.Signals | null };
  });
  return {
    child,
    out: () => text.out,
    err: () => text.err,
    exit,
    async waitFor(stream, pattern, from = 0) {
      // A guard against a hung process, not a timing assertion: each wait is for something the process prints.
      const deadline = Date.now() + 150_000;
      for (;;) {
        const m = pattern.exec(text[stream].slice(from));
        if (m) return m;
        if (ended) throw new Error(`exited before ${pattern} on ${stream}:\n${text.out}\n${text.err}`);
        if (Date.now() > deadline) throw new Error(`no ${pattern} on ${stream}:\n${text.out}\n${text.err}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    },
  };
}

async function count(): Promise<number> {
  return (await h.warehouseRows('public.events', 'id')).length;
}

beforeAll(async () => {
  h = await createHarness('sched');
  events = `${h.db.database}.events`;
  await h.db.conn.query(
    `CREATE TABLE events (id INT PRIMARY KEY, label VARCHAR(40) NOT NULL, updated_at DATETIME NOT NULL);
     INSERT INTO events SELECT seq, CONCAT('event-', seq), '2024-01-01 00:00:00' + INTERVAL (seq DIV 100) SECOND
       FROM seq_1_to_${ROWS};`,
  );
  h.writePipeline(`  ${events}:\n    cdc_strategy: hybrid\n    chunk_rows: 2000`, { leaseSeconds: 3600 });
}, 120_000);
afterAll(async () => h?.cleanup());

test('run --every: one line per run; SIGTERM during a run ends it as sync does (failed, lease released, exit 143)', async () => {
  const p = start('run', '--every', '1s', '-p', 'test');
  const first = await p.waitFor('out', /^(\S+Z) test run 1: (\S+), (.*) \((\S+)\)$/m);
  expect(first[2]).toBe('success');
  expect(first[3]).toBe(`${events} committed 40,000 rows`);
  // Every row changes: a later run has the whole table to read again, and is signalled in the middle of it.
  await h.db.conn.query(`UPDATE events SET label = CONCAT(label, '-t'), updated_at = updated_at + INTERVAL 1 DAY`);
  const marker = p.err().length;
  await p.waitFor('err', /extract: chunk \d+ done/, marker);
  p.child.kill('SIGTERM');
  expect(await p.exit).toEqual({ code: 143, signal: null });

  const interrupted =
    /^interrupted \(SIGTERM\): (\S+) run (\S+) marked failed, lease released; the next sync reads its window again$/m.exec(
      p.err(),
    );
  expect(interrupted, p.err()).not.toBeNull();
  expect(interrupted![1]).toBe(events);
  // After the mode banner (printed once, as sync prints it), every line on stdout is one run's line.
  const all = p.out().trimEnd().split('\n');
  const lines = all.slice(all.findIndex((l) => / test run 1: /.test(l)));
  for (const l of lines) expect(l).toMatch(/^\S+Z test run \d+: (success|partial_success|failed), .+ \(\S+\)$/);
  const status = runCli(args('lease', 'list', '--json'), { cwd: h.dir });
  expect(status.code, status.err).toBe(0);
  expect(JSON.parse(status.out)).toEqual([]);
});

test('run --every between runs: SIGTERM exits at once (143); the interrupted window was read again first', async () => {
  const p = start('run', '--every', '1h', '-p', 'test');
  const line = await p.waitFor('out', /^\S+Z test run 1: success, (.*) \(\S+\)$/m);
  expect(line[1]).toBe(`${events} committed 40,000 rows`);
  const next = await p.waitFor('err', /^next run of test at (\S+)$/m);
  // An hour after the run started.
  expect(Date.parse(next[1]!) - Date.parse(line[0].slice(0, 20))).toBeGreaterThanOrEqual(3_600_000 - 1000);
  // The command replaced its process image to run under its V8 flags (bin/cli/node-flags.ts): the pid that was
  // spawned is the one running them, so the signal below reaches the command itself.
  const cmdline = readFileSync(`/proc/${p.child.pid}/cmdline`, 'utf8').split('\0');
  for (const flag of CLI_NODE_FLAGS) expect(cmdline).toContain(flag);
  p.child.kill('SIGTERM');
  expect(await p.exit).toEqual({ code: 143, signal: null });
  expect(p.err()).toContain(`stopped (SIGTERM) while waiting for the next run (due ${next[1]})`);
  expect(await count()).toBe(ROWS);
  const [src] = (await h.db.conn.query("SELECT COUNT(*) AS n FROM events WHERE label LIKE '%-t'")) as unknown as [
    { n: number }[],
  ];
  expect(Number(src[0]!.n)).toBe(ROWS);
  const changed = await h.warehouseRows('public.events', 'id');
  expect(changed.every((r) => String(r.label).endsWith('-t'))).toBe(true);
});

test('daemon: each pipeline on its own schedule: (a rate runs at once), JSON Lines with --json; bad input is exit 1', async () => {
  h.writePipeline(`  ${events}:\n    cdc_strategy: hybrid\n    chunk_rows: 2000`, {
    leaseSeconds: 3600,
    schedule: 'rate(1 hour)',
  });
  const p = start('daemon', '--json');
  await p.waitFor('err', /^test: every hour$/m);
  const line = await p.waitFor('out', /^\{.*\}$/m);
  const run = JSON.parse(line[0]) as { pipeline: string; run: number; at: string; report: { status: string } };
  expect(run).toMatchObject({ pipeline: 'test', run: 1, report: { status: 'success' } });
  const next = await p.waitFor('err', /^next run of test at (\S+)$/m);
  expect(Date.parse(next[1]!) - Date.parse(run.at)).toBeGreaterThanOrEqual(3_600_000 - 1000);
  p.child.kill('SIGINT');
  expect(await p.exit).toEqual({ code: 130, signal: null });
  expect(p.err()).toContain('stopped (SIGINT) while waiting for the next run');

  const unknown = runCli(args('run', '--every', '5m', '-p', 'nope'), { cwd: h.dir });
  expect(unknown.code).toBe(1);
  expect(unknown.err).toContain('nope');
  const bad = runCli(args('run', '--every', 'often', '-p', 'test'), { cwd: h.dir });
  expect(bad.code).toBe(1);
  expect(bad.err).toContain('--every "often" is not a duration');
});
