/**
 * Process liveness for lease owners, on real processes: children spawned and killed here, a zombie, a pid whose
 * start time does not match, and the `ps` fallback other Unix systems use.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, test } from 'vitest';
import {
  currentPidSpace,
  currentProcessOwner,
  defaultStartTimeMethod,
  holderState,
  processExists,
  processStartTime,
} from '../../../lambdas/adapters/processes/index.js';
import type { LeaseOwner } from '../../../lambdas/ports/index.js';

const children: ChildProcess[] = [];
const dir = mkdtempSync(join(tmpdir(), 'hw-proc-'));

/** A child that runs until killed, started from `command` (default: this node). */
async function child(command = process.execPath, args = ['-e', 'setInterval(() => {}, 1000)']): Promise<ChildProcess> {
  const c = spawn(command, args, { stdio: 'ignore' });
  children.push(c);
  await once(c, 'spawn');
  return c;
}

async function kill(c: ChildProcess): Promise<void> {
  const exited = once(c, 'exit');
  c.kill('SIGKILL');
  await exited;
}

function ownerOf(pid: number): LeaseOwner {
  return { host: hostname(), pid, startTime: processStartTime(pid), pidSpace: currentPidSpace() };
}

afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.runIf(process.platform === 'linux')('process liveness on Linux', () => {
  test('this process as an owner: host name, pid, starttime (field 22 of /proc/self/stat) and pid space', () => {
    const me = currentProcessOwner();
    expect(me.host).toBe(hostname());
    expect(me.pid).toBe(process.pid);
    const fields = readFileSync(`/proc/${process.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    expect(me.startTime).toBe(fields[22 - 3]);
    const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    expect(me.pidSpace).toMatch(new RegExp(`^${boot}/pid:\\[\\d+\\]$`));
    expect(holderState(me)).toEqual({ state: 'alive', owner: me });
  });

  test('a child is alive while it runs and dead once killed', async () => {
    const c = await child();
    const owner = ownerOf(c.pid!);
    expect(owner.startTime).toMatch(/^\d+$/);
    expect(holderState(owner).state).toBe('alive');
    await kill(c);
    expect(processExists(c.pid!)).toBe(false);
    expect(processStartTime(c.pid!)).toBeNull();
    expect(holderState(owner)).toEqual({ state: 'dead', owner, reason: `process ${c.pid} on ${hostname()} is gone` });
  });

  test('a live pid whose start time differs is a different process: the holder is dead', async () => {
    const c = await child();
    const owner = { ...ownerOf(c.pid!), startTime: '1' };
    const state = holderState(owner);
    expect(state.state).toBe('dead');
    expect(state.state === 'dead' && state.reason).toContain(`pid ${c.pid} now belongs to a newer process`);
    // Without a recorded start time a live pid counts as the holder (the safe side).
    expect(holderState({ ...owner, startTime: null }).state).toBe('alive');
  });

  test('a zombie (exited, not reaped by its parent) is dead', async () => {
    // python forks a child that exits at once and never waits for it; it prints the child's pid.
    const script =
      'import os, sys, time\npid = os.fork()\nif pid == 0: os._exit(0)\nprint(pid, flush=True)\ntime.sleep(60)';
    const parent = spawn('python3', ['-c', script], { stdio: ['ignore', 'pipe', 'ignore'] });
    children.push(parent);
    const [line] = (await once(parent.stdout!, 'data')) as [Buffer];
    const pid = Number(line.toString().trim());
    let stat = '';
    for (let i = 0; i < 50 && !/\) Z /.test(stat); i++) {
      await new Promise((r) => setTimeout(r, 20));
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    }
    expect(stat).toMatch(/\) Z /);
    expect(processExists(pid)).toBe(false);
    expect(holderState({ host: hostname(), pid, startTime: null, pidSpace: currentPidSpace() }).state).toBe('dead');
  });

  test('a process whose name holds spaces and parentheses is parsed right', async () => {
    const odd = join(dir, 'a) b (c');
    copyFileSync('/bin/sleep', odd);
    chmodSync(odd, 0o755);
    const c = await child(odd, ['60']);
    expect(readFileSync(`/proc/${c.pid}/stat`, 'utf8')).toContain('(a) b (c)');
    const start = processStartTime(c.pid!);
    expect(start).toMatch(/^\d+$/);
    expect(Number(start)).toBeGreaterThanOrEqual(Number(currentProcessOwner().startTime));
    expect(holderState(ownerOf(c.pid!)).state).toBe('alive');
    await kill(c);
    expect(holderState({ host: hostname(), pid: c.pid!, startTime: start, pidSpace: currentPidSpace() }).state).toBe(
      'dead',
    );
  });
});

describe('process liveness anywhere', () => {
  test('another host name or pid space is another host; no owner is unknown', async () => {
    const c = await child();
    const owner = ownerOf(c.pid!);
    expect(holderState(owner, { self: { ...currentProcessOwner(), host: 'elsewhere' } })).toEqual({
      state: 'other-host',
      owner,
    });
    expect(holderState({ ...owner, pidSpace: 'another-boot/pid:[1]' }).state).toBe('other-host');
    expect(holderState(null)).toEqual({ state: 'unknown' });
  });

  test('the ps fallback (other Unix systems) reads a start time and sees a killed child gone', async () => {
    const c = await child();
    const start = processStartTime(c.pid!, 'ps');
    expect(start).toMatch(/\d{2}:\d{2}:\d{2} \d{4}$/);
    const self = { ...currentProcessOwner(), pidSpace: null };
    const owner: LeaseOwner = { host: hostname(), pid: c.pid!, startTime: start, pidSpace: null };
    expect(holderState(owner, { self, method: 'ps' }).state).toBe('alive');
    expect(holderState({ ...owner, startTime: 'Thu Jan  1 00:00:00 1970' }, { self, method: 'ps' }).state).toBe('dead');
    await kill(c);
    expect(processStartTime(c.pid!, 'ps')).toBeNull();
    expect(holderState(owner, { self, method: 'ps' }).state).toBe('dead');
  });

  test('where no start time can be read, a live pid counts as the holder and a dead one does not', async () => {
    const c = await child();
    expect(processStartTime(c.pid!, 'none')).toBeNull();
    const self = { ...currentProcessOwner(), pidSpace: null };
    const owner: LeaseOwner = { host: hostname(), pid: c.pid!, startTime: null, pidSpace: null };
    expect(holderState(owner, { self, method: 'none' }).state).toBe('alive');
    await kill(c);
    expect(holderState(owner, { self, method: 'none' }).state).toBe('dead');
  });

  test('pids that address process groups are never a holder; platforms pick their method', () => {
    for (const pid of [0, -1, 1.5, Number.NaN]) {
      expect(processExists(pid)).toBe(false);
      expect(processStartTime(pid)).toBeNull();
    }
    expect(defaultStartTimeMethod('linux')).toBe('proc');
    expect(defaultStartTimeMethod('darwin')).toBe('ps');
    expect(defaultStartTimeMethod('freebsd')).toBe('ps');
    expect(defaultStartTimeMethod('win32')).toBe('none');
    expect(currentPidSpace('ps')).toBeNull();
  });
});
