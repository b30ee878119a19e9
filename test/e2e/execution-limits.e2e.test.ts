/**
 * What Step Functions and Lambda impose, on a real local run (MariaDB, DuckDB, the local state store): a Task that
 * outlives its TimeoutSeconds (its handler told its deadline; its retry waits for it, never running beside it), a
 * table execution stopped, timed out, or failed outside its Catch by a payload quota — each ended by the reaper as
 * the deployed EventBridge rule would: the run marked failed, its lease released, the watermark where it was.
 */
import { afterEach, beforeEach, expect, test } from 'vitest';
import type { RunEvent } from '../../lambdas/domain/manifests.js';
import { MAX_PAYLOAD_BYTES } from '../../lambdas/domain/quotas.js';
import { HeldRuns, InterruptedError } from '../../lambdas/local/orchestration/held-runs.js';
import { LocalExecutions } from '../../lambdas/local/orchestration/local-executions.js';
import { type StepHandlers, stepHandlers } from '../../lambdas/local/orchestration/step-handlers.js';
import type { RunRecord } from '../../lambdas/ports/index.js';
import { createHarness, type Harness } from '../support/harness.js';
import { createOrders, expectInStep, insertOrders, T1 } from './fixtures.js';

let h: Harness;
let t: string;
beforeEach(async () => {
  h = await createHarness('limits');
  t = `${h.db.database}.orders`;
  await createOrders(h);
  await insertOrders(h, [1, 2, 3, 4, 5, 6, 7], T1);
  h.writePipeline(`  ${t}:\n    cdc_strategy: hybrid\n    chunk_rows: 3\n    lag: 0`, { leaseSeconds: 3600 });
});
afterEach(async () => h.cleanup());

/** A gate a handler waits at: `entered` resolves when it got there, `open()` lets it go on. */
function gate() {
  let open!: () => void;
  let reached!: () => void;
  const opened = new Promise<void>((r) => (open = r));
  const entered = new Promise<void>((r) => (reached = r));
  const wait = (): Promise<void> => {
    reached();
    return opened;
  };
  return { open, entered, wait };
}

async function ledger(): Promise<{ runs: RunRecord[]; lease: unknown }> {
  const rt = await h.runtime();
  try {
    const state = await rt.state(rt.pipeline('test'));
    return { runs: await state.listRuns(h.stateKey(t)), lease: await state.getLease(h.stateKey(t)) };
  } finally {
    await rt.close();
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('a Task past its TimeoutSeconds fails with States.Timeout and is retried; the handler saw its deadline, and the retry waited for it', async () => {
  const running = new Map<number, number>();
  let overlapped = false;
  const deadlines: number[] = [];
  let slow = true;
  const handlers: StepHandlers = {
    ...stepHandlers,
    async extract(input, rt, step) {
      const index = (input as { chunk: { index: number } }).chunk.index;
      running.set(index, (running.get(index) ?? 0) + 1);
      if ((running.get(index) ?? 0) > 1) overlapped = true;
      deadlines.push(step!.remainingMs());
      try {
        if (index === 0 && slow) {
          slow = false;
          // Outlive the deadline: Step Functions gives up on this attempt, the process cannot stop it.
          while (step!.remainingMs() > 0) await sleep(50);
          await sleep(500);
        }
        return await stepHandlers.extract(input, rt, step);
      } finally {
        running.set(index, (running.get(index) ?? 1) - 1);
      }
    },
  };
  const events: RunEvent[] = [];
  const report = await h.sync(
    [t],
    {},
    { handlers, timeouts: { taskTimeoutSeconds: 5 }, onEvent: (e) => events.push(e) },
  );
  expect(report.status, JSON.stringify(report)).toBe('success');
  expect(overlapped).toBe(false);
  // Every attempt was told a deadline no later than the Task's TimeoutSeconds.
  for (const d of deadlines) expect(d).toBeGreaterThan(0);
  for (const d of deadlines) expect(d).toBeLessThanOrEqual(5000);
  const retries = events.filter((e) => e.type === 'retry');
  expect(retries).toEqual([expect.objectContaining({ step: 'ExtractChunk', attempt: 1 })]);
  expect((retries[0] as { error: string }).error).toMatch(/ExtractChunk did not finish within its 5 s timeout/);
  // The abandoned attempt's late result was discarded: each chunk is done once.
  expect(
    events
      .filter((e) => e.type === 'chunk-done')
      .map((e) => (e as { index: number }).index)
      .sort(),
  ).toEqual([0, 1, 2]);
  await expectInStep(h);
});

test('a table execution stopped mid-run: the reaper marks its run failed and releases the lease; the next run catches up', async () => {
  const g = gate();
  const handlers: StepHandlers = {
    ...stepHandlers,
    async extract(input, rt, step) {
      await g.wait();
      return stepHandlers.extract(input, rt, step);
    },
  };
  const executions = new LocalExecutions();
  const held = new HeldRuns();
  const sync = h.sync([t], {}, { handlers, executions, heldRuns: held }).catch((e: unknown) => e);
  await g.entered;
  const before = await ledger();
  expect(before.runs.map((r) => r.status)).toEqual(['extracting']);
  const [run] = before.runs;
  expect(run!.plan?.execution).toMatch(/^arn:aws:states:[^:]+:\d+:execution:highwater-table:/);
  expect(before.lease).toMatchObject({ holder: run!.runId });

  executions.stop('stopped by the test');
  g.open();
  const err = await sync;
  expect(err).toBeInstanceOf(InterruptedError);
  const after = await ledger();
  expect(after.lease).toBeUndefined();
  expect(after.runs.map((r) => r.status)).toEqual(['failed']);
  expect(after.runs[0]!.error).toContain(`the table execution ${run!.plan?.execution} ended ABORTED`);
  expect(held.list()).toEqual([]);
  expect(await h.watermark(t)).toBeUndefined();

  const rerun = await h.sync([t]);
  expect(rerun.tables[0]).toMatchObject({ status: 'committed', rowsLoaded: 7 });
  await expectInStep(h);
});

test('a table execution that times out: the table fails with the timeout, and the reaper ends its run', async () => {
  const reaped = gate();
  const handlers: StepHandlers = {
    ...stepHandlers,
    // Extraction outlasts the table execution's timeout (it goes on only once the reaper has run).
    async extract(input, rt, step) {
      await reaped.entered;
      return stepHandlers.extract(input, rt, step);
    },
    async reap(input, rt, step) {
      const out = await stepHandlers.reap(input, rt, step);
      void reaped.wait();
      return out;
    },
  };
  const report = await h.sync([t], {}, { handlers, heldRuns: new HeldRuns(), timeouts: { tableTimeoutSeconds: 3 } });
  expect(report.status).toBe('failed');
  const { runs, lease } = await ledger();
  expect(report.tables[0]).toMatchObject({ status: 'failed', runId: runs[0]!.runId });
  expect(report.tables[0]!.error).toMatch(/^States\.Timeout/);
  expect(lease).toBeUndefined();
  expect(runs.map((r) => [r.status, r.error?.includes('ended TIMED_OUT')])).toEqual([['failed', true]]);
});

test('a Task result above the payload quota fails the table execution outside its Catch (States.DataLimitExceeded); the reaper ends the run', async () => {
  let aborted = false;
  const handlers: StepHandlers = {
    ...stepHandlers,
    async plan(input, rt, step) {
      const out = await stepHandlers.plan(input, rt, step);
      return { ...out, warnings: ['x'.repeat(MAX_PAYLOAD_BYTES)] };
    },
    async abort(input, rt, step) {
      aborted = true;
      return stepHandlers.abort(input, rt, step);
    },
  };
  const report = await h.sync([t], {}, { handlers, heldRuns: new HeldRuns() });
  expect(report.tables[0]).toMatchObject({ status: 'failed', exitCode: 4 });
  expect(report.tables[0]!.error).toMatch(
    /^States\.DataLimitExceeded: .*the result of Task Plan is \d+ bytes, above the 262144-byte payload quota/,
  );
  // No Catch ran: not the state machine's Abort, but the reaper ended the run.
  expect(aborted).toBe(false);
  const { runs, lease } = await ledger();
  expect(lease).toBeUndefined();
  expect(runs.map((r) => r.status)).toEqual(['failed']);
  expect(report.tables[0]!.runId).toBe(runs[0]!.runId);
});
