/**
 * An interrupted process (held-runs.ts), in process: whatever step a run is in when the interruption comes, it ends
 * `failed` with its lease released — except a run whose Commit was already under way, which commits — and the next
 * sync brings the warehouse back in step. (test/cli/interrupt.cli.test.ts sends real signals to a real CLI.)
 */
import { afterEach, beforeEach, expect, test } from 'vitest';
import type { RunEvent } from '../../lambdas/domain/manifests.js';
import { HeldRuns } from '../../lambdas/local/orchestration/held-runs.js';
import { type StepHandlers, stepHandlers } from '../../lambdas/local/orchestration/step-handlers.js';
import type { RunRecord } from '../../lambdas/ports/index.js';
import { createHarness, type Harness } from '../support/harness.js';
import { createOrders, expectInStep, insertOrders, T1 } from './fixtures.js';

let h: Harness;
let t: string;
beforeEach(async () => {
  h = await createHarness('intr');
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

async function runs(): Promise<RunRecord[]> {
  const rt = await h.runtime();
  try {
    return await (await rt.state(rt.pipeline('test'))).listRuns(h.stateKey(t));
  } finally {
    await rt.close();
  }
}

async function lease() {
  const rt = await h.runtime();
  try {
    return await (await rt.state(rt.pipeline('test'))).getLease(h.stateKey(t));
  } finally {
    await rt.close();
  }
}

test('interrupted during extraction: the run ends failed with the interruption as its error, lease released', async () => {
  const held = new HeldRuns();
  const g = gate();
  const handlers: StepHandlers = {
    ...stepHandlers,
    async extract(input, rt) {
      await g.wait();
      return stepHandlers.extract(input, rt);
    },
  };
  const events: RunEvent[] = [];
  const sync = h.sync([t], {}, { handlers, heldRuns: held, onEvent: (e) => events.push(e) });
  await g.entered;
  expect(held.list().map((r) => r.table)).toEqual([t]);
  const [run] = held.list();
  expect((await lease())?.holder).toBe(run?.runId);

  const outcomes = await held.interrupt('interrupted by SIGINT');
  expect(outcomes).toEqual([{ table: t, runId: run?.runId, aborted: true, error: null }]);
  expect(held.list()).toEqual([]);
  expect(await lease()).toBeUndefined();
  g.open();
  const report = await sync;
  expect(report.status).toBe('failed');
  // The state machine's own Abort was skipped: the run ended once, with the interruption as its error.
  const [record] = await runs();
  expect(record?.status).toBe('failed');
  expect(record?.error).toBe('interrupted by SIGINT');
  expect(held.interrupted).toBe('interrupted by SIGINT');

  // No step starts after the interruption.
  const refused = await h.sync([t], {}, { heldRuns: held });
  expect(refused.tables[0]?.error).toBe('Plan not started: interrupted by SIGINT');
  expect((await h.sync([t])).status).toBe('success');
  await expectInStep(h);
  expect((await runs()).map((r) => r.status)).toEqual(['failed', 'committed']);
});

test('a Commit under way when the interruption comes commits, and the run is never marked failed', async () => {
  const held = new HeldRuns();
  const g = gate();
  const handlers: StepHandlers = {
    ...stepHandlers,
    async commit(input, rt) {
      await g.wait();
      return stepHandlers.commit(input, rt);
    },
  };
  const sync = h.sync([t], {}, { handlers, heldRuns: held });
  await g.entered;
  const interrupted = held.interrupt('interrupted by SIGTERM');
  // The interruption waits for the Commit in flight instead of aborting its run.
  await new Promise((r) => setTimeout(r, 200));
  expect((await runs())[0]?.status).toBe('loaded');
  g.open();
  expect(await interrupted).toEqual([]);
  expect((await sync).status).toBe('success');
  expect((await runs()).map((r) => [r.status, r.error])).toEqual([['committed', null]]);
  expect(await lease()).toBeUndefined();
  await expectInStep(h);
});

test('a Plan under way when the interruption comes hands its run over, and that run is aborted', async () => {
  const held = new HeldRuns();
  const g = gate();
  const handlers: StepHandlers = {
    ...stepHandlers,
    async plan(input, rt) {
      const out = await stepHandlers.plan(input, rt);
      await g.wait();
      return out;
    },
  };
  const sync = h.sync([t], {}, { handlers, heldRuns: held });
  await g.entered;
  expect((await lease())?.holder).toBeDefined();
  const interrupted = held.interrupt('interrupted by SIGINT');
  g.open();
  const outcomes = await interrupted;
  expect(outcomes.map((o) => [o.table, o.aborted])).toEqual([[t, true]]);
  await sync;
  expect((await runs()).map((r) => [r.status, r.error])).toEqual([['failed', 'interrupted by SIGINT']]);
  expect(await lease()).toBeUndefined();
});

test('an Abort that fails is reported with its error, and the run stays held', async () => {
  const held = new HeldRuns();
  const g = gate();
  const handlers: StepHandlers = {
    ...stepHandlers,
    async extract(input, rt) {
      await g.wait();
      return stepHandlers.extract(input, rt);
    },
    async abort() {
      throw new Error('state store unreachable');
    },
  };
  const sync = h.sync([t], {}, { handlers, heldRuns: held, maxAttempts: 0 });
  await g.entered;
  const [run] = held.list();
  const outcomes = await held.interrupt('interrupted by SIGINT');
  expect(outcomes).toEqual([{ table: t, runId: run?.runId, aborted: false, error: 'state store unreachable' }]);
  expect(held.list()).toHaveLength(1);
  expect((await lease())?.holder).toBe(run?.runId);
  g.open();
  await sync;
});
