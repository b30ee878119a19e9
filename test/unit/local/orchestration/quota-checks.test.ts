/**
 * The quotas Step Functions enforces, enforced on local runs (lambdas/local/orchestration/quota-checks.ts): each
 * execution's history counted as Step Functions counts it, and every state's input and output within the payload
 * quota — on the table state machine as the local runner builds it, with in-test stand-ins for the handlers.
 */
import { describe, expect, it } from 'vitest';
import { HISTORY_EVENTS, MAX_HISTORY_EVENTS, MAX_PAYLOAD_BYTES } from '../../../../lambdas/domain/quotas.js';
import {
  DEPLOYED_RETRIES,
  inlineChunkEventsWorst,
  TABLE_FIXED_EVENTS_WORST,
} from '../../../../lambdas/engine/state-budget.js';
import { runDistributedMap } from '../../../../lambdas/local/orchestration/distributed-map.js';
import { LocalExecutions } from '../../../../lambdas/local/orchestration/local-executions.js';
import { localExecutionArn, localMachines } from '../../../../lambdas/local/orchestration/local-machine.js';
import { TASK_STATES } from '../../../../lambdas/orchestration/definition.js';

type Payload = Record<string, unknown>;
type Stub = (p: Payload, attempt: number) => unknown;

const m = localMachines({ retryMaxAttempts: DEPLOYED_RETRIES });
const input = { pipeline: 'p', table: 's.t', options: { maxWorkers: 4 }, adhoc: null };
const run = { runId: 'r1', table: 's.t', backupOnly: false, verify: false, from: { ts: null, id: null } };
const planOf = (chunks: number, extra: Payload = {}) => ({
  run,
  chunks: Array.from({ length: chunks }, (_, index) => ({ index, lower: null, upper: null })),
  chunkCount: chunks,
  stagedChunks: null,
  skipped: null,
  horizon: null,
  warnings: [],
  ...extra,
});
const ok: Record<string, Stub> = {
  ExtractChunk: (p) => ({ index: (p.chunk as { index: number }).index, rows: 1, bytes: 1 }),
  Load: () => ({ rowsStaged: 1, rowsLoaded: 1, rowsDeleted: 0, files: 1 }),
  Commit: () => ({ status: 'committed', watermark: { ts: null, id: '1' }, rowsExtracted: 1, rowsLoaded: 1 }),
  Abort: () => ({ aborted: true, error: 'x' }),
};

/** Runs one table execution with these stand-ins (each told which attempt of its step this is). */
async function table(stubs: Record<string, Stub>, seen: string[] = []) {
  const attempts = new Map<string, number>();
  const handlers = Object.fromEntries(
    Object.entries({ ...ok, ...stubs }).map(([state, f]) => [
      state,
      async (i: unknown) => {
        const p = (i as { Payload: Payload }).Payload;
        const key = `${state}:${JSON.stringify(p.chunk ?? null)}`;
        const n = (attempts.get(key) ?? 0) + 1;
        attempts.set(key, n);
        seen.push(state);
        return { StatusCode: 200, Payload: await f(p, n) };
      },
    ]),
  );
  const retryIntervalOverrides = Object.fromEntries(Object.keys(TASK_STATES).map((s) => [s, 0]));
  return new LocalExecutions().run(m.table, input, {
    arn: localExecutionArn('highwater-table', 'test'),
    kind: 'table',
    kinds: m.tableKinds,
    overrides: { taskResourceLocalHandlers: handlers as never, retryIntervalOverrides },
  });
}

/** A transient failure for the first `n` attempts. */
function flaky(n: number, then: Stub): Stub {
  return (p, attempt) => {
    if (attempt <= n) throw Object.assign(new Error('blip'), { name: 'ConnectionError' });
    return then(p, attempt);
  };
}

describe('history', () => {
  it('counts what Step Functions writes: every state, and eleven events per inline Map iteration', async () => {
    const five = await table({ Plan: () => planOf(5) });
    const ten = await table({ Plan: () => planOf(10) });
    expect([five.status, ten.status]).toEqual(['SUCCEEDED', 'SUCCEEDED']);
    const task = HISTORY_EVENTS['lambda-task'];
    const simple = HISTORY_EVENTS.simple;
    // MapIterationStarted, TaskStateEntered, TaskScheduled, TaskStarted, TaskSucceeded, TaskStateExited, the parts
    // loop's Choice and closing Pass (entered and exited each), MapIterationSucceeded.
    expect(ten.historyEvents - five.historyEvents).toBe(
      5 * (2 + task.entered + task.exited + 2 * (simple.entered + simple.exited)),
    );
    expect(inlineChunkEventsWorst(0)).toBe(11);
    // The rest: ExecutionStarted/Succeeded, six Pass and Choice states (2 each), Plan, Load, Commit (5 each), the Map (4).
    expect(five.historyEvents - 5 * 11).toBe(2 + 6 * 2 + 3 * 5 + 4);
  });

  it("stays within Plan's worst-case budget when every step is retried to the end and the run is aborted", async () => {
    const chunks = 6;
    const end = await table({
      Plan: flaky(DEPLOYED_RETRIES, () => planOf(chunks)),
      ExtractChunk: flaky(DEPLOYED_RETRIES, ok.ExtractChunk!),
      Load: flaky(DEPLOYED_RETRIES, ok.Load!),
      Commit: flaky(99, ok.Commit!),
      Abort: flaky(DEPLOYED_RETRIES, ok.Abort!),
    });
    expect(end.status).toBe('SUCCEEDED');
    expect(end.output).toMatchObject({ status: 'failed', error: { Error: 'ConnectionError' } });
    expect(end.historyEvents).toBeLessThanOrEqual(
      TABLE_FIXED_EVENTS_WORST + chunks * inlineChunkEventsWorst(DEPLOYED_RETRIES),
    );
    // Every chunk failed three times, so the chunk events are the worst case exactly.
    expect(end.historyEvents).toBeGreaterThan(chunks * inlineChunkEventsWorst(DEPLOYED_RETRIES));
  });

  it('fails the execution once its history passes 25,000 events, as Step Functions would', async () => {
    const seen: string[] = [];
    const chunks = Math.ceil(MAX_HISTORY_EVENTS / inlineChunkEventsWorst(0)) + 10;
    const end = await table({ Plan: () => planOf(chunks) }, seen);
    expect(end.status).toBe('FAILED');
    expect(end.error?.Error).toBe('States.Runtime');
    expect(end.error?.Cause).toMatch(/history would exceed 25000 events/);
    // Neither Catch nor Abort ran, and the Map stopped before its last chunk.
    expect(seen).not.toContain('Abort');
    expect(seen.filter((s) => s === 'ExtractChunk').length).toBeLessThan(chunks);
  }, 120_000);
});

describe('payloads', () => {
  it('fails the execution when a state output passes 262,144 bytes: States.DataLimitExceeded, which no Catch takes', async () => {
    const seen: string[] = [];
    const big = 'x'.repeat(MAX_PAYLOAD_BYTES);
    const end = await table({ Plan: () => planOf(1, { warnings: [big] }) }, seen);
    expect(end.status).toBe('FAILED');
    expect(end.error).toMatchObject({ Error: 'States.DataLimitExceeded' });
    expect(end.error?.Cause).toMatch(/the output of state Plan is \d+ bytes, above the 262144-byte payload quota/);
    expect(seen).toEqual(['Plan']);
    expect(end.largestPayload).toBeGreaterThan(MAX_PAYLOAD_BYTES);
  });

  it('passes a state at the limit exactly', async () => {
    // Grow Plan's warnings until the largest state is 262,144 bytes to the byte.
    const probe = await table({ Plan: () => planOf(1, { warnings: [''] }) });
    const pad = MAX_PAYLOAD_BYTES - probe.largestPayload;
    const end = await table({ Plan: () => planOf(1, { warnings: ['x'.repeat(pad)] }) });
    expect(end.largestPayload).toBe(MAX_PAYLOAD_BYTES);
    expect(end.status).toBe('SUCCEEDED');
  });
});

describe('a Distributed Map, served locally', () => {
  const spec = m.distributedMaps.get('ExtractChunksDistributed')!;
  const items = Array.from({ length: 7 }, (_, index) => ({ index, lower: null, upper: null }));
  const mapInput = (maxConcurrency: number) => ({
    reader: { Bucket: null, Key: 'plan.json' },
    run,
    maxConcurrency,
    input: { plan: { run } },
  });
  const extract = (fail?: number) => async (i: unknown) => {
    const p = (i as { Payload: { run: unknown; chunk: { index: number } } }).Payload;
    expect(p.run).toEqual(run);
    if (p.chunk.index === fail) throw Object.assign(new Error('bad chunk'), { name: 'DataError' });
    await new Promise((r) => setTimeout(r, 5));
    return { StatusCode: 200, Payload: { index: p.chunk.index } };
  };

  it('runs each item as a child execution with a history of its own, at most maxConcurrency at once, results in item order', async () => {
    const ends: { historyEvents: number; kind: string }[] = [];
    const executions = new LocalExecutions({ onExecutionEnd: (e) => ends.push(e) });
    let inFlight = 0;
    let peak = 0;
    const counting = async (i: unknown) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      try {
        return await extract()(i);
      } finally {
        inFlight--;
      }
    };
    const out = await runDistributedMap(spec, mapInput(3), {
      readItems: async () => items,
      childArn: (s, id) => localExecutionArn(`highwater-table/${s.name}`, id),
      runChild: (s, arn, childInput) =>
        executions.run(s.processor, childInput, {
          arn,
          kind: 'map-child',
          kinds: s.kinds,
          overrides: { taskResourceLocalHandlers: { ExtractStagedChunk: counting as never } },
        }),
    });
    expect(out).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(peak).toBe(3);
    // ExecutionStarted, the Task's five events, ExecutionSucceeded: per child, whatever the number of items.
    // ExecutionStarted, the Task (5), the parts loop's Choice and Pass (2 each), ExecutionSucceeded.
    expect(ends.map((e) => [e.kind, e.historyEvents])).toEqual(items.map(() => ['map-child', 11]));
  });

  it('fails with States.ExceedToleratedFailureThreshold after a child fails, starting no more children', async () => {
    const started: number[] = [];
    const executions = new LocalExecutions();
    const err = await runDistributedMap(spec, mapInput(1), {
      readItems: async () => items,
      childArn: (s, id) => localExecutionArn(`highwater-table/${s.name}`, id),
      runChild: (s, arn, childInput) => {
        started.push((childInput as { chunk: { index: number } }).chunk.index);
        return executions.run(s.processor, childInput, {
          arn,
          kind: 'map-child',
          kinds: s.kinds,
          overrides: { taskResourceLocalHandlers: { ExtractStagedChunk: extract(2) as never } },
        });
      },
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'States.ExceedToleratedFailureThreshold' });
    expect((err as Error).message).toMatch(/DataError: bad chunk/);
    expect(started).toEqual([0, 1, 2]);
  });
});
