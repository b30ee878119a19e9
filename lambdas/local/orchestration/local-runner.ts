/**
 * Runs a sync request on this machine by executing the state machines deployed on AWS (lambdas/orchestration/
 * definition.ts, made local by local-machine.ts): the sync execution runs each table as a child execution of the
 * table state machine — Plan → Map(chunks, max_workers) → Load → Commit, Retry on transient errors, Catch → Abort —
 * and each Lambda Task state calls its step handler (TASK_STATES names it) in process.
 *
 * What Step Functions and Lambda enforce is enforced here too: each execution's payloads and history
 * (quota-checks.ts), each Task's TimeoutSeconds with the handler told its deadline (StepContext), and an execution
 * that fails, times out or is stopped has its runs ended by the reaper, as the deployed EventBridge rule does.
 * The wrappers around the handlers turn step outcomes into RunEvents; the report is read by orchestration/report.ts
 * from each table execution's outcome, as a remote run's is.
 */
import { randomUUID } from 'node:crypto';
import { availableParallelism } from 'node:os';
import {
  type ChunkResult,
  type CommitOutput,
  type LoadOutput,
  type PlanOutput,
  type RunEvent,
  type RunReport,
  RunRequestSchema,
  type TableOutcome,
  TableOutcomeSchema,
  type TableSummary,
} from '../../domain/manifests.js';
import { MAX_PAYLOAD_BYTES, payloadBytes } from '../../domain/quotas.js';
import { executionName } from '../../engine/naming.js';
import { describeError } from '../../errors.js';
import { REAPED_STATUSES, type ReapOutput } from '../../handlers/reap.js';
import {
  aslErrorName,
  RUN_TABLE,
  TASK_STATES,
  type TaskStateName,
  TRANSIENT_ERRORS,
} from '../../orchestration/definition.js';
import { FUNCTION_SIZING } from '../../orchestration/function-sizing.js';
import { failedExecutionOutcome, runResultOf, summaryTables, tableReport } from '../../orchestration/report.js';
import type { Runtime } from '../../ports/runtime.js';
import { deadlineIn, type StepContext } from '../../ports/step-context.js';
import { runDistributedMap } from './distributed-map.js';
import { type HeldRuns, InterruptedError, processHeldRuns } from './held-runs.js';
import { type ExecutionEnd, LocalExecutions } from './local-executions.js';
import {
  LOCAL_SYNC_STATE_MACHINE,
  LOCAL_TABLE_STATE_MACHINE,
  type LocalMachineOptions,
  type LocalMachines,
  localExecutionArn,
  localMachines,
  localStateMachineArn,
  readStagedChunks,
} from './local-machine.js';
import { QuotaExceededError } from './quota-checks.js';
import { type StepHandlers, stepHandlers } from './step-handlers.js';

export interface LocalRunOptions {
  handlers?: StepHandlers;
  onEvent?: (e: RunEvent) => void;
  /** Retries of a transient error per step after the first attempt (the ASL Retry's MaxAttempts; default 3). */
  maxAttempts?: number;
  /** A fixed wait between retries in ms (tests); unset, the ASL's own backoff applies (2 s, doubled, full jitter). */
  backoffMs?: number;
  /** Where the runs this execution holds are recorded (default: the process's, which a signal handler aborts). */
  heldRuns?: HeldRuns;
  /** The executions of this run, which `stop()` stops as StopExecution would (default: its own). */
  executions?: LocalExecutions;
  /** Shorter Task or table execution timeouts (tests); the deployed ones otherwise. */
  timeouts?: Pick<LocalMachineOptions, 'taskTimeoutSeconds' | 'tableTimeoutSeconds'>;
}

/** What a Task handler throws: the ASL error name, a redacted message, and the original error for the report. */
class StepFailure extends Error {
  constructor(
    name: string,
    message: string,
    readonly original: unknown,
  ) {
    super(message);
    this.name = name;
  }
}

type Payload = Record<string, unknown>;

/** A lambda:invoke Task's input wraps the function's payload in `Payload`. */
function payloadOf(input: unknown): Payload {
  const p = (input as { Payload?: unknown } | null)?.Payload;
  return p !== null && typeof p === 'object' ? (p as Payload) : {};
}
function tableOf(p: Payload): string {
  if (typeof p.table === 'string') return p.table;
  const run = p.run as { table?: unknown } | null | undefined;
  return typeof run?.table === 'string' ? run.table : '?';
}
function runIdOf(p: Payload): string {
  const run = p.run as { runId?: unknown } | null | undefined;
  return typeof run?.runId === 'string' ? run.runId : '';
}

/** A payload larger than Step Functions passes fails the execution (neither retried nor caught), as on AWS. */
function checkTaskPayload(what: string, value: unknown): void {
  const bytes = payloadBytes(value);
  if (bytes > MAX_PAYLOAD_BYTES) {
    throw new QuotaExceededError(
      'States.DataLimitExceeded',
      `${what} is ${bytes} bytes, above the ${MAX_PAYLOAD_BYTES}-byte payload quota`,
    );
  }
}

/** Per-run bookkeeping the wrappers share: attempts, chunk progress, first errors, in-flight calls. */
class ExecutionTracker {
  readonly attempts = new Map<string, number>();
  readonly planned = new Map<string, number>();
  readonly done = new Map<string, number>();
  readonly chunkBytes = new Map<string, Map<number, number>>();
  /** Runs whose first extract began (the display hears of it once). */
  readonly extracting = new Set<string>();
  readonly firstFailure = new Map<string, StepFailure>();
  readonly inFlight = new Set<Promise<unknown>>();
  /** The attempt of each step key still running (a timed-out one included): the next attempt waits for it. */
  readonly running = new Map<string, Promise<unknown>>();
  /** First handler call and last handler completion per table: its duration. */
  readonly span = new Map<string, { start: number; end: number }>();
  /** A run's table (always schema.table) → the table as the request named it (maybe bare): one name per table. */
  readonly requested = new Map<string, string>();
  /** Each table execution's end, by its ARN. */
  readonly tableExecutions = new Map<string, ExecutionEnd>();
  /** The table executions that ended outside their own Catch, by table, with what the reaper did. */
  readonly deadExecutions = new Map<string, { end: ExecutionEnd; reaped: ReapOutput | null }>();
  /** The runs held between Plan and Commit/Abort, for an interruption to abort. */
  readonly held: HeldRuns;
  constructor(
    readonly rt: Runtime,
    readonly opts: LocalRunOptions,
    readonly maxRetries: number,
    readonly machines: LocalMachines,
  ) {
    this.held = opts.heldRuns ?? processHeldRuns;
  }

  /** The table a step payload is about, named as the request named it. */
  nameOf(p: Payload): string {
    const table = tableOf(p);
    return this.requested.get(table) ?? table;
  }

  emit(e: RunEvent): void {
    this.opts.onEvent?.(e);
  }

  /** Mirrors the definition's single Retry rule: a transient name is retried MaxAttempts times. */
  failure(state: TaskStateName, key: string, table: string, e: unknown): StepFailure {
    const message = this.rt.redact(describeError(e));
    // A failure the runner itself names (a Task's States.Timeout) keeps its name.
    const failure = new StepFailure(e instanceof StepFailure ? e.name : aslErrorName(e), message, e);
    const n = (this.attempts.get(key) ?? 0) + 1;
    this.attempts.set(key, n);
    const retried = (TRANSIENT_ERRORS as readonly string[]).includes(failure.name) && n <= this.maxRetries;
    if (retried) {
      this.emit({ type: 'retry', table, step: state, attempt: n, error: message });
    } else if (state !== 'Abort' && !this.firstFailure.has(table)) {
      // The first terminal failure is the one Catch sends to Abort; chunks still running after it only fail on
      // the released lease, and must not replace it in the report.
      this.firstFailure.set(table, failure);
      this.emit({ type: 'failed', table, error: message });
    }
    return failure;
  }

  track<T>(call: Promise<T>): Promise<T> {
    this.inFlight.add(call);
    const settle = () => this.inFlight.delete(call);
    call.then(settle, settle);
    return call;
  }

  bytesOf(runId: string | null): number {
    return runId ? [...(this.chunkBytes.get(runId)?.values() ?? [])].reduce((a, b) => a + b, 0) : 0;
  }
}

/** What each step's completion adds to the bookkeeping and tells the display. */
function afterStep(state: TaskStateName, t: ExecutionTracker, h: StepHandlers, p: Payload, out: unknown): void {
  const table = t.nameOf(p);
  switch (TASK_STATES[state]) {
    case 'plan': {
      const o = out as PlanOutput;
      if (o.run) {
        t.held.hold(o.run, t.rt, h.abort);
        t.requested.set(o.run.table, table);
        t.planned.set(o.run.runId, o.chunkCount);
      }
      t.emit({
        type: 'planned',
        table,
        runId: o.run?.runId ?? null,
        chunks: o.chunkCount,
        skipped: o.skipped,
        rowsEstimate: o.rowsEstimate,
      });
      return;
    }
    case 'extract': {
      const r = out as ChunkResult;
      const runId = runIdOf(p);
      // A part that handed back the rest of its chunk: the chunk is done when its last part is.
      if (r.rest !== null) return;
      const done = (t.done.get(runId) ?? 0) + 1;
      t.done.set(runId, done);
      const bytes = t.chunkBytes.get(runId) ?? new Map<number, number>();
      bytes.set(r.index, r.bytes);
      t.chunkBytes.set(runId, bytes);
      const total = t.planned.get(runId) ?? done;
      t.emit({ type: 'chunk-done', table, index: r.index, rows: r.rows, bytes: r.bytes, done, total });
      return;
    }
    case 'load': {
      const o = out as LoadOutput;
      t.emit({ type: 'loaded', table, rowsLoaded: o.rowsLoaded, rowsStaged: o.rowsStaged });
      return;
    }
    case 'commit':
      t.held.forget(runIdOf(p));
      t.emit({ type: 'committed', table, status: (out as CommitOutput).status });
      return;
    case 'verify':
      return;
    case 'abort':
      // An Abort skipped because the interruption ends the run itself reports aborted: false and forgets nothing.
      if ((out as { aborted: boolean }).aborted) t.held.forget(runIdOf(p));
      return;
  }
}

/** Tells the display a step began: each Plan, Load and Commit call (a retry again), and a run's first extract. */
function beforeStep(state: TaskStateName, t: ExecutionTracker, p: Payload): void {
  const step = TASK_STATES[state];
  if (step === 'verify' || step === 'abort') return;
  if (step === 'extract') {
    const runId = runIdOf(p);
    if (t.extracting.has(runId)) return;
    t.extracting.add(runId);
  }
  t.emit({ type: 'step-started', table: t.nameOf(p), step });
}

/** The retry key of a step: attempts are counted per table step, and per chunk for an extract. */
function attemptKey(state: TaskStateName, p: Payload): string {
  if (TASK_STATES[state] === 'plan') return `${state}:${tableOf(p)}`;
  if (TASK_STATES[state] === 'extract') {
    const chunk = p.chunk as { index?: number; part?: number } | undefined;
    return `${state}:${runIdOf(p)}:${chunk?.index}:${chunk?.part ?? 0}`;
  }
  return `${state}:${runIdOf(p)}`;
}

/**
 * Calls the step's handler as the process's held runs allow: once interrupted, no step but Abort starts, and the
 * Abort of a run the interruption ends itself is skipped (so the run ends once, with the interruption as its error).
 */
async function callStep(
  h: StepHandlers,
  state: TaskStateName,
  p: Payload,
  t: ExecutionTracker,
  step: StepContext,
): Promise<unknown> {
  const handler = TASK_STATES[state];
  if (handler !== 'abort') t.held.refuseIfInterrupted(state);
  else if (t.held.endsOnInterrupt(runIdOf(p))) return { aborted: false, error: 'ended by the interruption instead' };
  return h[handler](p, t.rt, step);
}

/**
 * A Task's time limit: its TimeoutSeconds as deployed, never more than its function's own timeout (a Lambda ends
 * there whatever the state says). The handler is told this deadline.
 */
function taskLimitMs(t: ExecutionTracker, state: TaskStateName): number {
  const deployed = t.machines.taskTimeouts.get(state) ?? Number.POSITIVE_INFINITY;
  return Math.min(deployed, FUNCTION_SIZING[TASK_STATES[state]].timeoutSeconds) * 1000;
}

/**
 * One attempt of a Lambda Task, as Step Functions and Lambda would run it, with one difference this process
 * cannot avoid: a handler past its deadline cannot be killed. So the attempt fails with `States.Timeout` at the
 * deadline (and Retry/Catch go on as deployed), while the handler runs on, abandoned: its result is discarded, and
 * the next attempt of the same step waits until it has ended — two attempts of one step never run at once here.
 */
async function attempt(state: TaskStateName, input: unknown, h: StepHandlers, t: ExecutionTracker): Promise<unknown> {
  checkTaskPayload(`the input of Task ${state}`, input);
  const p = payloadOf(input);
  const table = t.nameOf(p);
  const key = attemptKey(state, p);
  const span = t.span.get(table) ?? { start: Date.now(), end: Date.now() };
  t.span.set(table, span);
  const previous = t.running.get(key);
  if (previous) await previous;
  const limitMs = taskLimitMs(t, state);
  let abandoned = false;
  const call = (async () => {
    try {
      beforeStep(state, t, p);
      const out = await callStep(h, state, p, t, deadlineIn(limitMs));
      if (abandoned) return undefined;
      afterStep(state, t, h, p, out);
      // What Lambda would return: JSON, without undefined fields.
      const result = { StatusCode: 200, Payload: JSON.parse(JSON.stringify(out ?? null)) };
      checkTaskPayload(`the result of Task ${state}`, result);
      return result;
    } catch (e) {
      if (abandoned) return undefined;
      if (e instanceof QuotaExceededError) throw e;
      throw t.failure(state, key, table, e);
    }
  })();
  const settled = call.then(
    () => undefined,
    () => undefined,
  );
  t.running.set(key, settled);
  void settled.then(() => {
    if (t.running.get(key) === settled) t.running.delete(key);
    span.end = Date.now();
  });
  // Plan, Commit and Abort are tracked whole (their bookkeeping included): an interruption waits for them before
  // it aborts the runs still held.
  if (TASK_STATES[state] !== 'extract' && TASK_STATES[state] !== 'load') t.held.track(call);
  t.track(call);
  if (!Number.isFinite(limitMs)) return call;
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      abandoned = true;
      const e = new StepFailure(
        'States.Timeout',
        `${state} did not finish within its ${limitMs / 1000} s timeout (its handler runs on here, abandoned; a retry waits for it)`,
        null,
      );
      reject(t.failure(state, key, table, e));
    }, limitMs);
  });
  try {
    return await Promise.race([call, timedOut]);
  } finally {
    clearTimeout(timer);
  }
}

/** The in-process resource of every Lambda Task state and of the Distributed Map a table execution runs. */
function tableTaskHandlers(h: StepHandlers, t: ExecutionTracker, executions: LocalExecutions) {
  const states = Object.keys(TASK_STATES) as TaskStateName[];
  const overrides = (): Parameters<LocalExecutions['run']>[2]['overrides'] => ({
    taskResourceLocalHandlers: handlers,
    ...retryOverrides(t.opts.backoffMs),
  });
  const handlers: Record<string, (input: unknown) => Promise<never>> = {
    ...Object.fromEntries(
      states.map((state) => [state, (input: unknown) => attempt(state, input, h, t) as Promise<never>]),
    ),
  };
  for (const [name, spec] of t.machines.distributedMaps) {
    handlers[name] = (input: unknown) =>
      t.track(
        runDistributedMap(spec, input, {
          readItems: async (reader, run) => {
            try {
              return await readStagedChunks(t.rt, { Key: reader.Key, run });
            } catch (e) {
              const table = t.nameOf({ run });
              throw t.failure('Plan', `ReadStagedChunks:${table}`, table, e);
            }
          },
          childArn: (s, id) => localExecutionArn(`${LOCAL_TABLE_STATE_MACHINE}/${s.name}`, id),
          runChild: (s, arn, childInput) =>
            executions.run(s.processor, childInput, { arn, kind: 'map-child', kinds: s.kinds, overrides: overrides() }),
        }),
      ) as Promise<never>;
  }
  return overrides;
}

function retryOverrides(backoff: number | undefined) {
  if (backoff === undefined) return {};
  return { retryIntervalOverrides: Object.fromEntries(Object.keys(TASK_STATES).map((s) => [s, backoff])) };
}

/** The table execution's input, as the sync state machine's RunTable sends it. */
interface TableInput {
  pipeline: string;
  table: string;
}

/**
 * RunTable (`states:startExecution.sync:2`): runs the table state machine as a child execution and answers as
 * Step Functions does — the child's DescribeExecution with its output as JSON, or, when the child did not succeed,
 * a `States.TaskFailed` whose Cause is that description as JSON. A child that failed, timed out or was stopped is
 * handed to the reaper first, as the deployed EventBridge rule hands it to the Abort function.
 */
function runTableHandler(h: StepHandlers, t: ExecutionTracker, executions: LocalExecutions) {
  const tableOverrides = tableTaskHandlers(h, t, executions);
  return async (params: unknown): Promise<never> => {
    const { Input } = params as { Input: TableInput };
    const arn = localExecutionArn(LOCAL_TABLE_STATE_MACHINE, randomUUID());
    const end = await t.track(
      executions.run(t.machines.table, Input, {
        arn,
        kind: 'table',
        kinds: t.machines.tableKinds,
        overrides: tableOverrides(),
        onEnd: async (e, input) => {
          let reaped: ReapOutput | null = null;
          if ((REAPED_STATUSES as readonly string[]).includes(e.status)) {
            reaped = await h.reap(
              {
                source: 'aws.states',
                'detail-type': 'Step Functions Execution Status Change',
                detail: {
                  executionArn: e.arn,
                  stateMachineArn: localStateMachineArn(LOCAL_TABLE_STATE_MACHINE),
                  status: e.status,
                  input: JSON.stringify(input),
                  error: e.error?.Error ?? null,
                  cause: e.error?.Cause ?? null,
                },
              },
              t.rt,
            );
            for (const r of reaped.reaped) t.held.forget(r.runId);
          }
          t.deadExecutions.set(Input.table, { end: e, reaped });
        },
      }),
    );
    t.tableExecutions.set(arn, end);
    const described = {
      ExecutionArn: arn,
      StateMachineArn: localStateMachineArn(LOCAL_TABLE_STATE_MACHINE),
      Input: JSON.stringify(Input),
      Status: end.status,
      StartDate: end.startDate.toISOString(),
      StopDate: end.stopDate.toISOString(),
    };
    if (end.status === 'SUCCEEDED') return { ...described, Output: end.output } as never;
    throw Object.assign(new Error(JSON.stringify({ ...described, ...end.error })), { name: 'States.TaskFailed' });
  };
}

/** The per-table outcome behind one entry of the sync execution's summary. */
function outcomeOf(s: TableSummary, t: ExecutionTracker): TableOutcome {
  const end = s.execution ? t.tableExecutions.get(s.execution) : undefined;
  const parsed = end ? TableOutcomeSchema.safeParse(end.output) : null;
  if (parsed?.success) return parsed.data;
  // The summary names only the error; the table execution's own account of it is the runner's.
  const dead = t.deadExecutions.get(s.table);
  const run = dead?.reaped?.reaped[0];
  const error = dead?.end.error ?? s.error;
  return failedExecutionOutcome({ ...s, error }, run ? { runId: run.runId } : null);
}

/**
 * Chunks a local run extracts at once when the request does not say (`--max-workers`): the pipeline's `max_workers`,
 * but no more than the machine's CPUs. On AWS each chunk is its own Lambda; here every chunk's rows are decoded on
 * this process's one main thread and encoded by a worker thread each, so chunks beyond the CPUs add a Parquet
 * encoder's memory each and no speed (10M rows on 2 CPUs: 4 at once peaked 552 MB and took 41 s, 2 at once 447 MB
 * and 40 s; decision 0007).
 */
export function localChunkConcurrency(pipelineMaxWorkers: number, cpus = availableParallelism()): number {
  return Math.max(1, Math.min(pipelineMaxWorkers, cpus));
}

/** Runs one request (parsed here, once) through the local state machines and reports per table. */
export async function runLocal(rt: Runtime, request: unknown, opts: LocalRunOptions = {}): Promise<RunReport> {
  const req = RunRequestSchema.parse(request);
  const maxRetries = opts.maxAttempts ?? 3;
  const machines = localMachines({ retryMaxAttempts: maxRetries, ...opts.timeouts });
  const tracker = new ExecutionTracker(rt, opts, maxRetries, machines);
  const executions = opts.executions ?? new LocalExecutions();
  const started = new Date();
  let maxWorkers = req.options.maxWorkers;
  try {
    maxWorkers ??= localChunkConcurrency(rt.pipeline(req.pipeline, req.adhoc).processing.maxWorkers);
  } catch {
    // An unknown pipeline fails in Plan, per table, with the config error; keep the definition's default here.
  }
  const input = JSON.parse(JSON.stringify({ ...req, options: { ...req.options, maxWorkers } }));
  const h = opts.handlers ?? stepHandlers;
  const name = executionName(req.pipeline, req.tables, started);
  let summarized: unknown = null;
  let end: ExecutionEnd;
  try {
    end = await executions.run(machines.sync, input, {
      arn: localExecutionArn(LOCAL_SYNC_STATE_MACHINE, name),
      kind: 'sync',
      kinds: machines.syncKinds,
      overrides: { taskResourceLocalHandlers: { [RUN_TABLE]: runTableHandler(h, tracker, executions) } },
      watchStates: ['Summarize'],
      onState: (_state, output) => {
        summarized = output;
      },
    });
  } finally {
    // A failed Map leaves sibling chunks running (as on AWS), a stopped execution its handlers: let them settle
    // (and the reaper run) before the caller closes the runtime.
    while (tracker.inFlight.size > 0) await Promise.allSettled([...tracker.inFlight]);
  }
  const summary = summaryTables(end.status === 'SUCCEEDED' ? end.output : summarized);
  if (!summary) {
    if (end.status === 'ABORTED') throw new InterruptedError(`the run was stopped: ${executions.stopped ?? 'stopped'}`);
    throw new Error(
      `the sync execution ended ${end.status} without per-table results: ${end.error?.Error}: ${end.error?.Cause}`,
    );
  }
  const tables = summary.map((s) => {
    const o = outcomeOf(s, tracker);
    const span = tracker.span.get(o.table);
    const runId = o.status === 'failed' ? (o.run?.runId ?? null) : o.status === 'skipped' ? null : o.runId;
    const seen = {
      bytes: tracker.bytesOf(runId),
      durationMs: span ? span.end - span.start : 0,
      failure: tracker.firstFailure.get(o.table) ?? null,
    };
    const report = tableReport(o, seen, (text) => rt.redact(text));
    if (report.status === 'failed' && !tracker.firstFailure.has(o.table) && report.error) {
      tracker.emit({ type: 'failed', table: o.table, error: report.error });
    }
    return report;
  });
  return {
    executionId: name,
    pipeline: req.pipeline,
    status: runResultOf(tables),
    tables,
    startedAt: started.toISOString(),
    finishedAt: new Date().toISOString(),
  };
}
