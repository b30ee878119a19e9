/**
 * `highwater lease list|release` as a user runs them: a spawned CLI on the harness's config dir and SQLite state,
 * with leases held by real processes (children spawned here, some killed), by another host and by no process.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, expect, test } from 'vitest';
import type { LeaseView } from '../../bin/cli/commands/lease.js';
import { currentPidSpace, processStartTime } from '../../lambdas/adapters/processes/index.js';
import type { Runtime } from '../../lambdas/local/runtime.js';
import type { LeaseOwner, RunStatus, StateStore } from '../../lambdas/ports/index.js';
import { sampleRun } from '../contract/state-store.contract.js';
import { HIGHWATER, runCli } from '../support/cli.js';
import { createHarness, type Harness } from '../support/harness.js';

let h: Harness;
let items: string;
let other: string;
let rt: Runtime;
let state: StateStore;
const children: ChildProcess[] = [];

function hw(...args: string[]) {
  return runCli(['--config-dir', h.configDir, '--home', h.home, ...args], { cwd: h.dir });
}

/** Runs the CLI on a terminal (a pty, through python), answering `answer` to its [y/N] question. */
function hwOnTerminal(answer: string, ...args: string[]) {
  const script = `
import os, pty, select, sys
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[2], sys.argv[2:])
out, sent = b'', False
while True:
    try:
        ready, _, _ = select.select([fd], [], [], 60)
        data = os.read(fd, 4096) if ready else b''
    except OSError:
        data = b''
    if not data:
        break
    out += data
    if not sent and b'[y/N]' in out:
        os.write(fd, sys.argv[1].encode() + b'\\n')
        sent = True
sys.stdout.buffer.write(out)
sys.exit(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
`;
  const cli = [process.execPath, HIGHWATER, '--config-dir', h.configDir, '--home', h.home];
  const r = spawnSync('python3', ['-c', script, answer, ...cli, ...args], {
    cwd: h.dir,
    encoding: 'utf8',
    env: { PATH: process.env.PATH, HOME: process.env.HOME, NO_COLOR: '1' },
  });
  return { code: r.status, out: r.stdout };
}

async function holderProcess(): Promise<{ child: ChildProcess; owner: LeaseOwner }> {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  children.push(child);
  await once(child, 'spawn');
  const pid = child.pid!;
  return { child, owner: { host: hostname(), pid, startTime: processStartTime(pid), pidSpace: currentPidSpace() } };
}

async function kill(child: ChildProcess): Promise<void> {
  const exited = once(child, 'exit');
  child.kill('SIGKILL');
  await exited;
}

/** A run of `table` in the ledger, holding its lease for an hour. */
async function held(table: string, runId: string, owner: LeaseOwner | null, status: RunStatus = 'extracting') {
  const key = h.stateKey(table);
  await state.putRun(sampleRun({ runId, tableKey: key, pipeline: 'test', table, status }));
  await state.acquireLease(key, runId, 3600, owner);
}

function list(...extra: string[]): LeaseView[] {
  const r = hw('lease', 'list', '--json', ...extra);
  expect(r.code, r.err).toBe(0);
  return JSON.parse(r.out) as LeaseView[];
}

beforeAll(async () => {
  h = await createHarness('lease');
  items = `${h.db.database}.items`;
  other = `${h.db.database}.other`;
  h.writePipeline(`  ${items}:\n    cdc_strategy: id_only\n  ${other}:\n    cdc_strategy: id_only`);
});
afterAll(async () => h?.cleanup());

beforeEach(async () => {
  rt = await h.runtime();
  state = await rt.state(rt.pipeline('test'));
});
afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const l of await state.listLeases()) await state.releaseLease(l.tableKey, l.holder);
  await rt.close();
});

test('lease list on a home with no state yet lists none and creates no state file', () => {
  const r = runCli(['--config-dir', h.configDir, '--home', join(h.dir, 'empty-home'), 'lease', 'list'], {
    cwd: h.dir,
  });
  expect(r.code, r.err).toBe(0);
  expect(r.out).toContain('no leases held');
  expect(existsSync(join(h.dir, 'empty-home'))).toBe(false);
});

test('lease list shows each lease with its run, host, pid, whether the process runs, and expiry', async () => {
  const live = await holderProcess();
  const dead = await holderProcess();
  await held(items, 'run-live', live.owner);
  await held(other, 'run-dead', dead.owner);
  await kill(dead.child);
  await state.acquireLease('test/mysql_test/x.far/warehouse', 'run-far', 60, { ...live.owner, host: 'far-away' });
  await state.acquireLease('other/mysql_test/x.anon/warehouse', 'run-anon', 60);

  const all = list();
  expect(all.map((l) => [l.tableKey, l.run, l.process, l.alive])).toEqual([
    ['other/mysql_test/x.anon/warehouse', 'run-anon', 'unknown', null],
    [h.stateKey(items), 'run-live', 'alive', true],
    [h.stateKey(other), 'run-dead', 'dead', false],
    ['test/mysql_test/x.far/warehouse', 'run-far', 'other-host', null],
  ]);
  const live1 = all[1]!;
  expect(live1).toMatchObject({
    pipeline: 'test',
    table: items,
    host: hostname(),
    pid: live.owner.pid,
    expired: false,
  });
  expect(Date.parse(live1.expiresAt)).toBeGreaterThan(Date.now() + 3500_000);

  expect(list('-p', 'test').map((l) => l.run)).toEqual(['run-live', 'run-dead', 'run-far']);

  const text = hw('lease', 'list');
  expect(text.code, text.err).toBe(0);
  expect(text.err).toBe('');
  const line = (run: string) => text.out.split('\n').find((l) => l.includes(run)) ?? '';
  expect(line('run-live')).toMatch(
    new RegExp(`^${h.stateKey(items)}\\s+run-live\\s+${hostname()}\\s+${live.owner.pid}\\s+running\\s+\\S+Z$`),
  );
  expect(text.out.split('\n')[0]).toMatch(/^table key\s+run\s+host\s+pid\s+process\s+expires$/);
  expect(line('run-dead')).toMatch(new RegExp(`run-dead\\s+${hostname()}\\s+${dead.owner.pid}\\s+gone`));
  expect(line('run-far')).toContain('another host');
  expect(line('run-anon')).toMatch(/run-anon\s+-\s+-\s+-\s+/);

  const unknown = hw('lease', 'list', '-p', 'nope');
  expect(unknown.code).toBe(1);
  expect(unknown.err).toContain('nope');
});

test('lease release refuses a holder that still runs on this host (exit 1) and leaves everything alone', async () => {
  const live = await holderProcess();
  await held(items, 'run-live', live.owner);
  const r = hw('lease', 'release', '-p', 'test', '-t', items, '--yes');
  expect(r.code).toBe(1);
  expect(r.err).toContain(
    `${items}: the lease is held by run run-live (process ${live.owner.pid} on ${hostname()}), which is still running on this host; refusing to release it`,
  );
  expect(r.err).toContain(`kill ${live.owner.pid}`);
  expect((await state.getLease(h.stateKey(items)))?.holder).toBe('run-live');
  expect((await state.getRun('run-live'))?.status).toBe('extracting');
});

test('lease release of a dead holder: refused off a terminal without --yes, done with it; the run is marked failed', async () => {
  const dead = await holderProcess();
  await held(items, 'run-dead', dead.owner);
  await kill(dead.child);

  const asked = hw('lease', 'release', '-p', 'test', '-t', items);
  expect(asked.code).toBe(1);
  expect(asked.err).toContain('lease release needs --yes when not run from a terminal');
  expect((await state.getLease(h.stateKey(items)))?.holder).toBe('run-dead');

  const r = hw('lease', 'release', '-p', 'test', '-t', items, '--yes');
  expect(r.code, r.err).toBe(0);
  expect(r.out).toContain(`${items}: lease released; run run-dead marked failed; the next sync reads its window again`);
  expect(await state.getLease(h.stateKey(items))).toBeUndefined();
  const run = await state.getRun('run-dead');
  expect(run?.status).toBe('failed');
  expect(run?.error).toContain('lease released by hand');

  const again = hw('lease', 'release', '-p', 'test', '-t', items, '--yes');
  expect(again.code, again.err).toBe(0);
  expect(again.out).toContain(`${items}: no lease is held`);
});

test('lease release on a terminal asks first: "n" leaves the lease, "y" releases it', async () => {
  const dead = await holderProcess();
  await held(items, 'run-dead', dead.owner);
  await kill(dead.child);

  const no = hwOnTerminal('n', 'lease', 'release', '-p', 'test', '-t', items);
  expect(no.code, no.out).toBe(0);
  expect(no.out).toContain(
    `Release the lease of ${items} held by run run-dead (process ${dead.owner.pid} on ${hostname()}, which is gone)? [y/N]`,
  );
  expect(no.out).toContain('left unchanged');
  expect((await state.getLease(h.stateKey(items)))?.holder).toBe('run-dead');

  const yes = hwOnTerminal('y', 'lease', 'release', '-p', 'test', '-t', items);
  expect(yes.code, yes.out).toBe(0);
  expect(yes.out).toContain('lease released; run run-dead marked failed');
  expect(await state.getLease(h.stateKey(items))).toBeUndefined();
});

test('lease release of another host’s lease, or one with no process, releases it; a staged run is kept', async () => {
  const live = await holderProcess();
  await held(items, 'run-far', { ...live.owner, host: 'far-away' }, 'staged');
  await held(other, 'run-anon', null);

  const far = hw('lease', 'release', '-p', 'test', '-t', items, '--yes');
  expect(far.code, far.err).toBe(0);
  expect(far.out).toContain(`${items}: lease released; run run-far left as it was (staged)`);
  expect((await state.getRun('run-far'))?.status).toBe('staged');

  const anon = hw('lease', 'release', '-p', 'test', '-t', other, '--yes');
  expect(anon.code, anon.err).toBe(0);
  expect((await state.getRun('run-anon'))?.status).toBe('failed');
  expect(list()).toEqual([]);
});
