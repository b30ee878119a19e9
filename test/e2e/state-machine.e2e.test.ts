/**
 * The fault matrix through the state machine definition itself, executed by aws-local-stepfunctions with the real
 * handlers (runLocal → local-runner). Task states map to handlers as: Plan → plan, ExtractChunk → extract
 * (inside the ExtractChunks Map), Load → load, Commit → commit, Abort → abort.
 *
 * A transient error (ConnectionError) is injected at Plan, at one chunk of several, at Load and at Commit:
 * (a) once: the ASL Retry runs the step again and the run commits;
 * (b) every time: the retries run out, Catch sends the run to Abort, and the watermark stays where it was.
 * After every case a rerun leaves the warehouse equal to the source, with no duplicate keys.
 */
import { afterEach, beforeEach, expect, test } from 'vitest';
import type { RunEvent } from '../../lambdas/domain/manifests.js';
import { ConnectionError } from '../../lambdas/errors.js';
import { type StepHandlers, stepHandlers } from '../../lambdas/local/orchestration/step-handlers.js';
import { createHarness, type Harness } from '../support/harness.js';
import { createOrders, expectInStep, insertOrders, T1, T2, updateOrders } from './fixtures.js';

let h: Harness;
let t: string;
beforeEach(async () => {
  h = await createHarness('sfn');
  t = `${h.db.database}.orders`;
  await createOrders(h);
  h.writePipeline(`  ${t}:\n    cdc_strategy: hybrid\n    chunk_rows: 3\n    lag: 0`);
});
afterEach(async () => h.cleanup());

const watermark = () => h.watermark(t);

type Step = 'Plan' | 'ExtractChunk' | 'Load' | 'Commit';

interface Injection {
  handlers: StepHandlers;
  /** Calls of the faulty step (of chunk 1 for ExtractChunk). */
  calls(): number;
  aborts: unknown[];
}

/**
 * Real handlers with a transient failure at one step: Plan and Commit fail before doing anything, a chunk and
 * Load fail after their work is done (file written, warehouse transaction committed), as a Lambda timing out
 * at the end would.
 */
function inject(step: Step, times: number): Injection {
  let calls = 0;
  const aborts: unknown[] = [];
  const fail = () => {
    calls++;
    if (calls <= times) throw new ConnectionError(`injected ${step} failure ${calls}`);
  };
  return {
    calls: () => calls,
    aborts,
    handlers: {
      ...stepHandlers,
      async plan(input, rt) {
        if (step === 'Plan') fail();
        return stepHandlers.plan(input, rt);
      },
      async extract(input, rt) {
        const r = await stepHandlers.extract(input, rt);
        if (step === 'ExtractChunk' && r.index === 1) fail();
        return r;
      },
      async load(input, rt) {
        const r = await stepHandlers.load(input, rt);
        if (step === 'Load') fail();
        return r;
      },
      async commit(input, rt) {
        if (step === 'Commit') fail();
        return stepHandlers.commit(input, rt);
      },
      async abort(input, rt) {
        aborts.push(input);
        return stepHandlers.abort(input, rt);
      },
    },
  };
}

/** A committed first run, then changes: 4 chunks of 3 rows wait for the run under test. */
async function prepare() {
  await insertOrders(h, [1, 2, 3, 4, 5, 6, 7], T1);
  expect((await h.sync([t])).status).toBe('success');
  const before = await watermark();
  expect(before).toEqual({ ts: T1, id: '7' });
  await updateOrders(h, [2, 6], T2, 'changed');
  await insertOrders(h, [8, 9, 10, 11, 12, 13, 14, 15, 16, 17], T2);
  return before;
}

const FINAL = { ts: T2, id: '17' };
const STEPS: Step[] = ['Plan', 'ExtractChunk', 'Load', 'Commit'];

test.each(STEPS)('a transient failure at %s is retried by the state machine and the run commits', async (step) => {
  await prepare();
  const fault = inject(step, 1);
  const events: RunEvent[] = [];
  const report = await h.sync([t], {}, { handlers: fault.handlers, onEvent: (e) => events.push(e) });

  expect(report.status).toBe('success');
  expect(report.tables[0]).toMatchObject({ status: 'committed', error: null, exitCode: 0, rowsLoaded: 12 });
  expect(fault.calls()).toBe(2);
  expect(fault.aborts).toEqual([]);
  expect(events).toContainEqual({
    type: 'retry',
    table: t,
    step,
    attempt: 1,
    error: `injected ${step} failure 1`,
  });
  expect(events.map((e) => e.type)).toContain('committed');
  expect(await watermark()).toEqual(FINAL);
  await expectInStep(h);

  const rerun = await h.sync([t]);
  expect(rerun.tables[0]?.status).toBe('skipped');
  await expectInStep(h);
});

test.each(STEPS)(
  'a failure at %s that outlasts the retries is caught into Abort; the watermark stays',
  async (step) => {
    const before = await prepare();
    const fault = inject(step, Number.POSITIVE_INFINITY);
    const events: RunEvent[] = [];
    const report = await h.sync([t], {}, { handlers: fault.handlers, onEvent: (e) => events.push(e) });

    expect(report.status).toBe('failed');
    expect(report.tables[0]).toMatchObject({ status: 'failed', exitCode: 2, error: `injected ${step} failure 4` });
    // MaxAttempts 3: the first call and three retries.
    expect(fault.calls()).toBe(4);
    expect(events.filter((e) => e.type === 'retry').map((e) => (e as { attempt: number }).attempt)).toEqual([1, 2, 3]);
    expect(events.filter((e) => e.type === 'failed')).toHaveLength(1);
    expect(fault.aborts).toHaveLength(1);
    expect(fault.aborts[0]).toMatchObject({
      run: step === 'Plan' ? null : { table: t },
      error: { Error: 'ConnectionError', Cause: `injected ${step} failure 4` },
    });
    expect(await watermark()).toEqual(before);

    // Abort released the lease: the rerun is not refused, and it leaves the warehouse equal to the source.
    const rerun = await h.sync([t]);
    expect(rerun.status).toBe('success');
    expect(await watermark()).toEqual(FINAL);
    await expectInStep(h);
  },
);

test('one table failing is aborted while another commits: the report is a partial success', async () => {
  await h.db.conn.query('CREATE TABLE orders_b LIKE orders');
  await h.db.conn.query('INSERT INTO orders_b SELECT * FROM orders');
  await insertOrders(h, [1, 2, 3, 4, 5], T1);
  const b = `${h.db.database}.orders_b`;
  h.writePipeline(
    `  ${t}:\n    cdc_strategy: hybrid\n    chunk_rows: 3\n    lag: 0\n  ${b}:\n    cdc_strategy: hybrid\n    lag: 0`,
  );
  const broken: StepHandlers = {
    ...stepHandlers,
    async plan(input, rt) {
      if ((input as { table?: string }).table === b) throw new ConnectionError('orders_b is unreachable');
      return stepHandlers.plan(input, rt);
    },
  };
  const report = await h.sync([b, t], {}, { handlers: broken });
  expect(report.status).toBe('partial_success');
  expect(report.tables.map((x) => [x.table, x.status])).toEqual([
    [b, 'failed'],
    [t, 'committed'],
  ]);
  expect(report.tables[0]?.error).toBe('orders_b is unreachable');
  expect(report.tables[1]).toMatchObject({
    rowsExtracted: 5,
    rowsLoaded: 5,
    files: 2,
    watermarkAfter: { ts: T1, id: '5' },
  });
  expect(report.tables[1]?.bytes).toBeGreaterThan(0);
  await expectInStep(h);
});

test('an Abort that fails itself is reported next to the error; the lease then blocks until it expires', async () => {
  h.writePipeline(`  ${t}:\n    cdc_strategy: hybrid\n    chunk_rows: 3\n    lag: 0`, { leaseSeconds: 2 });
  await insertOrders(h, [1, 2, 3, 4], T1);
  let aborts = 0;
  const broken: StepHandlers = {
    ...stepHandlers,
    async load() {
      throw new TypeError('warehouse client crashed');
    },
    async abort() {
      aborts++;
      throw new TypeError('state store gone');
    },
  };
  const report = await h.sync([t], {}, { handlers: broken });
  expect(report.status).toBe('failed');
  expect(report.tables[0]).toMatchObject({
    status: 'failed',
    exitCode: 4,
    error: 'warehouse client crashed (and Abort failed: state store gone)',
  });
  // TypeError is not transient: neither Load nor Abort is retried.
  expect(aborts).toBe(1);
  expect(await watermark()).toBeUndefined();
  expect((await h.sync([t])).tables[0]?.error).toMatch(/refusing a second concurrent run/);
  await new Promise((r) => setTimeout(r, 2100));
  expect((await h.sync([t])).status).toBe('success');
  await expectInStep(h);
});

test('a table named without its schema is reported under that name by every step’s event', async () => {
  await insertOrders(h, [1, 2, 3, 4, 5, 6, 7], T1);
  const events: RunEvent[] = [];
  const report = await h.sync(['orders'], {}, { onEvent: (e) => events.push(e) });
  expect(report.tables[0]).toMatchObject({ table: 'orders', status: 'committed', rowsLoaded: 7 });
  expect(events.map((e) => e.type)).toEqual(expect.arrayContaining(['planned', 'chunk-done', 'loaded', 'committed']));
  expect(new Set(events.map((e) => e.table))).toEqual(new Set(['orders']));
  expect(await watermark()).toEqual({ ts: T1, id: '7' });
});
