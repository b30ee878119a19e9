/**
 * Runs a sync request on this machine by executing the state machine definition deployed on AWS
 * (lambdas/orchestration/definition.ts, made local by local-machine.ts): Plan → Map(chunks, max_workers) → Load →
 * Commit per table, with Retry on transient errors and Catch → Abort. Each Task state calls its step handler
 * (TASK_STATES names it) in process; the wrappers around them turn step outcomes into RunEvents, and the report is
 * the state machine's own Summary read by orchestration/report.ts, as a remote run's is.
 */
import type { StateMachine } from 'aws-local-stepfunctions';
import {
  type ChunkResult,
  type CommitOutput,
  type LoadOutput,
  type PlanOutput,
  type RunEvent,
  type RunReport,
  RunRequestSchema,
  type TableOutcome,
} from '../../domain/manifests.js';
import { executionName } from '../../engine/naming.js';
import { describeError } from '../../errors.js';
import {
  aslErrorName,
  DISTRIBUTED_MAP,
  TASK_STATES,
  type TaskStateName,
  TRANSIENT_ERRORS,
} from '../../orchestration/definition.js';
import { runResultOf, summaryTables, tableReport } from '../../orchestration/report.js';
import type { Runtime } from '../../ports/runtime.js';
import { type HeldRuns, processHeldRuns } from './held-runs.js';
import { localStateMachine, readStagedChunks } from './local-machine.js';
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
}

type EventLog = ReturnType<StateMachine['run']>['eventLogs'] extends AsyncGenerator<infer E> ? E : never;

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

/** Per-execution bookkeeping the wrappers share: attempts, chunk progress, first errors, in-flight calls. */
class ExecutionTracker {
  readonly attempts = new Map<string, number>();
  readonly planned = new Map<string, number>();
  readonly done = new Map<string, number>();
  readonly chunkBytes = new Map<string, Map<number, number>>();
  readonly firstFailure = new Map<string, StepFailure>();
  readonly inFlight = new Set<Promise<unknown>>();
  /** First handler call and last handler completion per table: its duration. */
  readonly span = new Map<string, { start: number; end: number }>();
  /** A run's table (always schema.table) → the table as the request named it (maybe bare): one name per table. */
  readonly requested = new Map<string, string>();
  /** The runs held between Plan and Commit/Abort, for an interruption to abort. */
  readonly held: HeldRuns;
  constructor(
    readonly rt: Runtime,
    readonly opts: LocalRunOptions,
    readonly maxRetries: number,
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
    const failure = new StepFailure(aslErrorName(e), message, e);
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
      t.emit({ type: 'planned', table, runId: o.run?.runId ?? null, chunks: o.chunkCount, skipped: o.skipped });
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
async function callStep(h: StepHandlers, state: TaskStateName, p: Payload, t: ExecutionTracker): Promise<unknown> {
  const handler = TASK_STATES[state];
  if (handler !== 'abort') t.held.refuseIfInterrupted(state);
  else if (t.held.endsOnInterrupt(runIdOf(p))) return { aborted: false, error: 'ended by the interruption instead' };
  return h[handler](p, t.rt);
}

/** One in-process resource per Task state of the definition (and the translated ItemReader). */
function taskHandlers(h: StepHandlers, t: ExecutionTracker) {
  const run = (state: TaskStateName) => async (input: unknown) => {
    const p = payloadOf(input);
    const table = t.nameOf(p);
    const span = t.span.get(table) ?? { start: Date.now(), end: Date.now() };
    t.span.set(table, span);
    const call = (async () => {
      try {
        const out = await callStep(h, state, p, t);
        afterStep(state, t, h, p, out);
        // What Lambda would return: JSON, without undefined fields.
        return { StatusCode: 200, Payload: JSON.parse(JSON.stringify(out ?? null)) };
      } catch (e) {
        throw t.failure(state, attemptKey(state, p), table, e);
      }
    })();
    // Plan, Commit and Abort are tracked whole (their bookkeeping included): an interruption waits for them before
    // it aborts the runs still held.
    if (TASK_STATES[state] !== 'extract' && TASK_STATES[state] !== 'load') t.held.track(call);
    t.inFlight.add(call);
    const settle = () => {
      t.inFlight.delete(call);
      span.end = Date.now();
    };
    call.then(settle, settle);
    return call;
  };
  const states = Object.keys(TASK_STATES) as TaskStateName[];
  return {
    ...Object.fromEntries(states.map((state) => [state, run(state)])),
    [DISTRIBUTED_MAP]: async (input: unknown) => {
      try {
        return await readStagedChunks(t.rt, input);
      } catch (e) {
        const table = t.nameOf({ run: (input as { run?: unknown } | null)?.run });
        throw t.failure('Plan', `ReadStagedChunks:${table}`, table, e);
      }
    },
  };
}

/**
 * The per-table outcomes of a finished execution: its output, or, when it failed on purpose (some table failed),
 * the Summarize state's output from the (closed, fully queued) root event log — the Fail state's Cause holds the
 * same JSON on AWS, but aws-local-stepfunctions drops backslashes from it.
 */
async function outcomesOf(execution: ReturnType<StateMachine['run']>): Promise<TableOutcome[]> {
  // Read the root event log while the execution runs: the library queues every event until it is read, so a run
  // of thousands of chunks would otherwise hold all of them (memory growing with the chunk count).
  const summarized = summarizeOutput(execution.eventLogs);
  let result: unknown;
  try {
    result = await execution.result;
  } catch (e) {
    if ((e as { cause?: { name?: unknown } }).cause?.name !== 'Highwater.TablesFailed') throw e;
    result = await summarized;
    if (result === undefined) throw new Error('the state machine failed without a Summarize state output');
  }
  const tables = summaryTables(result);
  if (!tables) throw new Error('the state machine returned no per-table results');
  return tables;
}

/** Reads the whole event log, keeping only the Summarize state's output (undefined when there was none). */
async function summarizeOutput(events: AsyncGenerator<EventLog>): Promise<unknown> {
  let output: unknown;
  for await (const ev of events) {
    if (ev.type === 'StateExited' && ev.state.name === 'Summarize' && ev.index === undefined) output = ev.state.output;
  }
  return output;
}

/** Runs one request (parsed here, once) through the local state machine and reports per table. */
export async function runLocal(rt: Runtime, request: unknown, opts: LocalRunOptions = {}): Promise<RunReport> {
  const req = RunRequestSchema.parse(request);
  const maxRetries = opts.maxAttempts ?? 3;
  const tracker = new ExecutionTracker(rt, opts, maxRetries);
  const started = new Date();
  let maxWorkers = req.options.maxWorkers;
  try {
    maxWorkers ??= rt.pipeline(req.pipeline, req.adhoc).processing.maxWorkers;
  } catch {
    // An unknown pipeline fails in Plan, per table, with the config error; keep the definition's default here.
  }
  const input = JSON.parse(JSON.stringify({ ...req, options: { ...req.options, maxWorkers } }));
  const backoff = opts.backoffMs;
  const retryIntervalOverrides =
    backoff === undefined ? undefined : Object.fromEntries(Object.keys(TASK_STATES).map((s) => [s, backoff]));
  const execution = localStateMachine(maxRetries).run(input, {
    overrides: {
      taskResourceLocalHandlers: taskHandlers(opts.handlers ?? stepHandlers, tracker),
      ...(retryIntervalOverrides ? { retryIntervalOverrides } : {}),
    },
  });
  let outcomes: TableOutcome[];
  try {
    outcomes = await outcomesOf(execution);
  } finally {
    // A failed Map leaves sibling chunks running (as on AWS); let them settle before the caller closes the runtime.
    await Promise.allSettled([...tracker.inFlight]);
  }
  const tables = outcomes.map((o) => {
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
    executionId: executionName(req.pipeline, req.tables, started),
    pipeline: req.pipeline,
    status: runResultOf(tables),
    tables,
    startedAt: started.toISOString(),
    finishedAt: new Date().toISOString(),
  };
}
