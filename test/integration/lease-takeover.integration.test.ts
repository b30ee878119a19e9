/**
 * Plan's lease (lambdas/handlers/lease.ts) over the real SQLite store, with real processes as holders: a lease
 * whose process was killed is taken over at once and its run marked failed; a live holder, another host's holder
 * and a Lambda (no owner) are refused as before.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import {
  currentPidSpace,
  currentProcessOwner,
  hostProcesses,
  processStartTime,
} from '../../lambdas/adapters/processes/index.js';
import { DataError, LeaseHeldError } from '../../lambdas/errors.js';
import { acquireTableLease } from '../../lambdas/handlers/lease.js';
import { createLocalStateStore } from '../../lambdas/local/adapters/local-state/index.js';
import type { LeaseOwner, RunStatus, StateStore } from '../../lambdas/ports/index.js';
import { sampleRun } from '../contract/state-store.contract.js';

const KEY = 'shop/main/shop.orders/warehouse';
const ME = currentProcessOwner();

let dir: string;
let path: string;
let store: StateStore;
const children: ChildProcess[] = [];

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

/** A run `runId` in the ledger holding the lease for an hour, as a process that died mid-run leaves it. */
async function heldRun(runId: string, owner: LeaseOwner | null, status: RunStatus = 'extracting'): Promise<void> {
  await store.putRun(sampleRun({ runId, status }));
  await store.acquireLease(KEY, runId, 3600, owner);
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'hw-takeover-'));
  path = join(dir, 'state.db');
  store = createLocalStateStore({ path });
});
afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('a lease whose process is gone from this host', () => {
  test('is taken over at once, and its run is marked failed naming the process', async () => {
    const { child, owner } = await holderProcess();
    await heldRun('run-dead', owner);
    await kill(child);
    const lease = await acquireTableLease(store, KEY, 'run-new', 3600, ME, hostProcesses);
    expect(lease.holder).toBe('run-new');
    expect(lease.owner).toEqual(ME);
    expect((await store.getLease(KEY))?.holder).toBe('run-new');
    const dead = await store.getRun('run-dead');
    expect(dead?.status).toBe('failed');
    expect(dead?.finishedAt).not.toBeNull();
    expect(dead?.error).toBe(
      `process ${owner.pid} on ${hostname()} is gone: the run ended without finishing (killed or crashed); run run-new takes its lease over, and its window will be read again`,
    );
  });

  test('the dead run’s load claim ends with the takeover, so the new run’s Load need not wait for its deadline', async () => {
    const { child, owner } = await holderProcess();
    await heldRun('run-dead', owner);
    await store.claimLoad(KEY, {
      runId: 'run-dead',
      attempt: 'a-dead',
      until: new Date(Date.now() + 900_000).toISOString(),
    });
    await kill(child);
    await acquireTableLease(store, KEY, 'run-new', 3600, ME, hostProcesses);
    const claim = await store.claimLoad(KEY, {
      runId: 'run-new',
      attempt: 'a-new',
      until: new Date(Date.now() + 900_000).toISOString(),
    });
    expect(claim).toMatchObject({ runId: 'run-new', attempt: 'a-new' });
  });

  test('a pid now used by a newer process counts as gone', async () => {
    const { owner } = await holderProcess();
    await heldRun('run-dead', { ...owner, startTime: '1' });
    expect((await acquireTableLease(store, KEY, 'run-new', 60, ME, hostProcesses)).holder).toBe('run-new');
    expect((await store.getRun('run-dead'))?.error).toContain('now belongs to a newer process');
  });

  test.each<RunStatus>(['staged', 'committed', 'failed', 'cleaned'])(
    'a dead holder whose run is already %s: the lease is taken over and the run left as it is',
    async (status) => {
      const { child, owner } = await holderProcess();
      await heldRun('run-dead', owner, status);
      await kill(child);
      const before = await store.getRun('run-dead');
      expect((await acquireTableLease(store, KEY, 'run-new', 60, ME, hostProcesses)).holder).toBe('run-new');
      expect(await store.getRun('run-dead')).toEqual(before);
    },
  );

  test('a holder that is no run in the ledger is taken over without touching any run', async () => {
    const { child, owner } = await holderProcess();
    await store.acquireLease(KEY, 's3clean-x', 3600, owner);
    await kill(child);
    expect((await acquireTableLease(store, KEY, 'run-new', 60, ME, hostProcesses)).holder).toBe('run-new');
    expect(await store.listRuns(KEY)).toEqual([]);
  });

  test('when another run takes the lease over first, that run keeps it and this one is refused', async () => {
    const { child, owner } = await holderProcess();
    await heldRun('run-dead', owner);
    await kill(child);
    const racing: StateStore = {
      ...store,
      async takeOverLease(tableKey, previous, holder, ttl, who) {
        await store.takeOverLease(tableKey, previous, 'run-quick', ttl, ME);
        return store.takeOverLease(tableKey, previous, holder, ttl, who);
      },
    };
    const err = await acquireTableLease(racing, KEY, 'run-slow', 60, ME, hostProcesses).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LeaseHeldError);
    expect((err as LeaseHeldError).holder).toBe('run-quick');
    expect((await store.getLease(KEY))?.holder).toBe('run-quick');
    expect((await store.getRun('run-dead'))?.status).toBe('failed');
  });
});

describe('a lease that is not taken over', () => {
  test('a live holder on this host is refused with LeaseHeldError naming its host and pid; its run is untouched', async () => {
    const { owner } = await holderProcess();
    await heldRun('run-live', owner);
    const err = await acquireTableLease(store, KEY, 'run-new', 60, ME, hostProcesses).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LeaseHeldError);
    expect((err as Error).message).toContain(`run run-live, process ${owner.pid} on ${hostname()}`);
    expect((await store.getRun('run-live'))?.status).toBe('extracting');
    expect((await store.getLease(KEY))?.holder).toBe('run-live');
  });

  test('a holder on another host is refused even when that pid does not exist here', async () => {
    const { child, owner } = await holderProcess();
    await heldRun('run-far', { ...owner, host: 'another-host' });
    await kill(child);
    const err = await acquireTableLease(store, KEY, 'run-new', 60, ME, hostProcesses).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LeaseHeldError);
    expect((err as Error).message).toContain(`process ${owner.pid} on another-host`);
    expect((await store.getRun('run-far'))?.status).toBe('extracting');
  });

  test('a runtime without an owner (a Lambda) never takes over, and a lease without an owner is not judged', async () => {
    const { child, owner } = await holderProcess();
    await heldRun('run-dead', owner);
    await kill(child);
    await expect(acquireTableLease(store, KEY, 'run-lambda', 60, null, hostProcesses)).rejects.toThrow(LeaseHeldError);
    expect((await store.getRun('run-dead'))?.status).toBe('extracting');
    await store.releaseLease(KEY, 'run-dead');
    await heldRun('run-anon', null);
    await expect(acquireTableLease(store, KEY, 'run-new', 60, ME, hostProcesses)).rejects.toThrow(LeaseHeldError);
    expect((await store.getRun('run-anon'))?.status).toBe('extracting');
  });
});

describe('an expired lease', () => {
  test('is taken as before, and the run that held it is marked failed', async () => {
    const past = createLocalStateStore({ path, now: () => new Date(Date.now() - 7200_000) });
    await past.putRun(sampleRun({ runId: 'run-expired', status: 'extracting' }));
    const old = await past.acquireLease(KEY, 'run-expired', 60, null);
    await past.close();
    expect((await acquireTableLease(store, KEY, 'run-new', 60, ME, hostProcesses)).holder).toBe('run-new');
    const run = await store.getRun('run-expired');
    expect(run?.status).toBe('failed');
    expect(run?.error).toBe(
      `its lease expired at ${old.expiresAt} before the run finished, and run run-new took the lease over; its window will be read again`,
    );
  });

  test('if marking its run fails, the new lease is released again and the error goes on', async () => {
    const past = createLocalStateStore({ path, now: () => new Date(Date.now() - 7200_000) });
    await past.putRun(sampleRun({ runId: 'run-expired', status: 'extracting' }));
    await past.acquireLease(KEY, 'run-expired', 60, null);
    await past.close();
    const broken: StateStore = {
      ...store,
      async updateRun() {
        throw new DataError('state store refused the write');
      },
    };
    await expect(acquireTableLease(broken, KEY, 'run-new', 60, ME, hostProcesses)).rejects.toThrow('refused the write');
    expect(await store.getLease(KEY)).toBeUndefined();
  });
});
