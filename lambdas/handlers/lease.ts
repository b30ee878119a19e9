/**
 * Plan's lease. Taken as the StateStore takes it, with two additions for runs that ended without Commit or Abort:
 *
 * - A live lease whose holder's process is gone from this host (killed, crashed; see adapters/processes/index.ts) is
 *   taken over at once instead of after its TTL, with a write that succeeds only while that holder still has it.
 * - The run that held a lease taken over (dead process, or an expired lease) is marked `failed`, saying why, so it
 *   does not stay `extracting` forever; a run already `staged`, `committed`, `failed` or `cleaned` is left alone
 *   (a staged run's files are complete and the next run loads them).
 *
 * A lease held by a live process, or by another host (which this host cannot check), is refused with
 * LeaseHeldError as before. Only a runtime that records an owner (Runtime.leaseOwner: one that drives its runs
 * itself) takes over: a Lambda's process is not the run, so it never judges by pids.
 */

import { LeaseHeldError, LeaseLostError } from '../errors.js';
import type { Lease, LeaseOwner, Processes, RunStatus, StateStore } from '../ports/index.js';

/** A run in one of these states is never marked failed by a takeover. */
const SETTLED: ReadonlySet<RunStatus> = new Set(['staged', 'committed', 'failed', 'cleaned']);

/** How often a lease is looked at again when another run changed it between the read and the write. */
const ATTEMPTS = 3;

/** Marks the run `runId` failed with `error`, unless it is settled or not in the ledger (the holder was no run). */
export async function failAbandonedRun(state: StateStore, runId: string, error: string): Promise<boolean> {
  const run = await state.getRun(runId);
  if (run === undefined || SETTLED.has(run.status)) return false;
  const now = new Date().toISOString();
  await state.updateRun(runId, { status: 'failed', error, finishedAt: now, updatedAt: now });
  return true;
}

/** Takes the lease on `tableKey` for run `holder` (Plan's one lease call); `owner`: the runtime's leaseOwner. */
export async function acquireTableLease(
  state: StateStore,
  tableKey: string,
  holder: string,
  ttlSeconds: number,
  owner: LeaseOwner | null,
  processes: Processes,
): Promise<Lease> {
  let lastError: unknown;
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const before = await state.getLease(tableKey);
    let held: LeaseHeldError;
    try {
      const lease = await state.acquireLease(tableKey, holder, ttlSeconds, owner);
      // The lease we read was expired and is ours now: its run can never commit.
      if (before !== undefined && before.holder !== holder && before.expiresAt <= new Date().toISOString()) {
        await releaseOnError(state, tableKey, holder, () =>
          failAbandonedRun(
            state,
            before.holder,
            `its lease expired at ${before.expiresAt} before the run finished, and run ${holder} took the lease over; its window will be read again`,
          ),
        );
      }
      return lease;
    } catch (e) {
      if (!(e instanceof LeaseHeldError)) throw e;
      held = e;
    }
    const verdict = owner === null ? undefined : processes.stateOf(held.owner, owner);
    if (verdict?.state !== 'dead') throw held;
    // The holder is certainly gone: its run is marked failed first, so a takeover that another new run wins
    // still leaves no run `extracting` behind.
    await failAbandonedRun(
      state,
      held.holder,
      `${verdict.reason}: the run ended without finishing (killed or crashed); run ${holder} takes its lease over, and its window will be read again`,
    );
    try {
      const lease = await state.takeOverLease(tableKey, held.holder, holder, ttlSeconds, owner);
      // Its Load ran in that process too: a claim it held would keep this run's Load waiting until the claim's
      // deadline (up to 16 minutes). The claim ends now, keeping what it recorded for the next Load to settle.
      await state.abandonLoadClaim(tableKey, held.holder);
      return lease;
    } catch (e) {
      // Another run took it first, or the lease was released meanwhile: look at it again.
      if (!(e instanceof LeaseHeldError || e instanceof LeaseLostError)) throw e;
      lastError = e;
    }
  }
  throw lastError;
}

/** Runs `fn` while holding the lease; if it fails, the lease is released before the error goes on. */
async function releaseOnError(state: StateStore, tableKey: string, holder: string, fn: () => Promise<unknown>) {
  try {
    await fn();
  } catch (e) {
    await state.releaseLease(tableKey, holder);
    throw e;
  }
}
