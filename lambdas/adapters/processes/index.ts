/**
 * Which process holds a lease, and whether it still runs. A lease records its holder's host, pid, start time and pid
 * space (LeaseOwner); a later run on the same host can then tell a holder that died (killed, crashed) from one that
 * is still working, instead of waiting out the lease's TTL.
 *
 * - Linux: the start time is field 22 of /proc/<pid>/stat (starttime, clock ticks since boot), so a pid reused by
 *   a newer process is not mistaken for the holder; the pid space is the boot id and the pid namespace, so a lease
 *   from before a reboot, or from a container that shares the host name, counts as another host's.
 * - Other Unix systems: the start time is what `ps -o lstart= -p <pid>` prints (to the second); no pid space.
 * - Windows: neither; a live pid then counts as the holder (the safe side: the lease is not taken over).
 *
 * Every doubt resolves towards "alive" or "another host": a lease is only taken over when its process is certainly
 * gone, since taking over a live run's lease would let two runs write one table.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, readlinkSync } from 'node:fs';
import { hostname } from 'node:os';
import type { HolderState, LeaseOwner, Processes } from '../../ports/index.js';

/** How this platform reads a process's start time. */
export type StartTimeMethod = 'proc' | 'ps' | 'none';

export function defaultStartTimeMethod(platform: NodeJS.Platform = process.platform): StartTimeMethod {
  if (platform === 'linux') return 'proc';
  if (platform === 'win32') return 'none';
  return 'ps';
}

interface ProcStat {
  /** Field 3: R, S, D, Z (zombie: exited, not yet reaped), X (dead)… */
  state: string;
  /** Field 22: starttime, in clock ticks since boot. */
  startTicks: string;
}

function readProcStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // Field 2 (comm) is in parentheses and may itself hold spaces and parentheses: the fields after it follow the
  // last ')'. rest[0] is field 3, so field n is rest[n - 3].
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const state = rest[0];
  const startTicks = rest[19];
  if (state === undefined || startTicks === undefined || !/^\d+$/.test(startTicks)) return undefined;
  return { state, startTicks };
}

function psStartTime(pid: number): string | null {
  try {
    const out = execFileSync('ps', ['-o', 'lstart=', '-p', String(pid)], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 5000,
    });
    const text = out.trim().replace(/\s+/g, ' ');
    return text === '' ? null : text;
  } catch {
    // ps exits 1 for a pid that does not exist (and fails where there is no ps): no start time.
    return null;
  }
}

/** The start time of `pid` as this host reads it, or null when the process is gone or the platform cannot tell. */
export function processStartTime(pid: number, method: StartTimeMethod = defaultStartTimeMethod()): string | null {
  if (!validPid(pid)) return null;
  if (method === 'proc') return readProcStat(pid)?.startTicks ?? null;
  if (method === 'ps') return psStartTime(pid);
  return null;
}

function validPid(pid: number): boolean {
  // 0 and negative numbers address process groups in kill(2): never a holder.
  return Number.isSafeInteger(pid) && pid > 0;
}

/** Whether a process with this pid exists on this host (a zombie, exited but not reaped, does not count). */
export function processExists(pid: number, method: StartTimeMethod = defaultStartTimeMethod()): boolean {
  if (!validPid(pid)) return false;
  try {
    process.kill(pid, 0);
  } catch (e) {
    // EPERM: it exists but belongs to another user.
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  if (method === 'proc') {
    const stat = readProcStat(pid);
    if (stat !== undefined && (stat.state === 'Z' || stat.state === 'X')) return false;
  }
  return true;
}

function readTrimmed(path: string, read: (p: string) => string): string | undefined {
  try {
    const v = read(path).trim();
    return v === '' ? undefined : v;
  } catch {
    return undefined;
  }
}

/** This host's pid space on Linux: `<boot id>/<pid namespace>`; null elsewhere or when either cannot be read. */
export function currentPidSpace(method: StartTimeMethod = defaultStartTimeMethod()): string | null {
  if (method !== 'proc') return null;
  const boot = readTrimmed('/proc/sys/kernel/random/boot_id', (p) => readFileSync(p, 'utf8'));
  const ns = readTrimmed('/proc/self/ns/pid', (p) => readlinkSync(p));
  return boot === undefined || ns === undefined ? null : `${boot}/${ns}`;
}

let self: LeaseOwner | undefined;

/** This process as a lease owner (computed once: none of it changes while the process runs). */
export function currentProcessOwner(): LeaseOwner {
  self ??= {
    host: hostname(),
    pid: process.pid,
    startTime: processStartTime(process.pid),
    pidSpace: currentPidSpace(),
  };
  return self;
}

export interface HolderCheckOptions {
  /** This process as a lease owner (default: currentProcessOwner()); tests pass another host or pid space. */
  self?: LeaseOwner;
  method?: StartTimeMethod;
}

/** Whether the process recorded as a lease's owner still runs, as far as this host can tell. */
export function holderState(owner: LeaseOwner | null, opts: HolderCheckOptions = {}): HolderState {
  if (owner === null) return { state: 'unknown' };
  const me = opts.self ?? currentProcessOwner();
  const method = opts.method ?? defaultStartTimeMethod();
  if (owner.host !== me.host || owner.pidSpace !== me.pidSpace) return { state: 'other-host', owner };
  const where = `process ${owner.pid} on ${owner.host}`;
  if (!processExists(owner.pid, method)) return { state: 'dead', owner, reason: `${where} is gone` };
  const now = processStartTime(owner.pid, method);
  if (owner.startTime !== null && now !== null && now !== owner.startTime) {
    return { state: 'dead', owner, reason: `${where} is gone (pid ${owner.pid} now belongs to a newer process)` };
  }
  return { state: 'alive', owner };
}

/** This host's processes, as the Runtime hands them to handlers and commands. */
export const hostProcesses: Processes = {
  current: currentProcessOwner,
  stateOf: (owner, self) => holderState(owner, self ? { self } : {}),
};
