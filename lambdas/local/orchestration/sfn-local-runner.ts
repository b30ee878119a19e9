/**
 * Executes the deployed state machine definition on this machine with aws-local-stepfunctions: each Task state
 * (keyed by state name) calls the real step handler in process, so local runs follow exactly the ASL's Map
 * concurrency, Retry and Catch → Abort. Handler wrappers turn step outcomes into RunEvents.
 */
import { StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import { z } from 'zod';
import {
  type ChunkResult,
  type ChunkSpec,
  ChunkSpecSchema,
  type CommitOutput,
  type LoadOutput,
  type PlanOutput,
  RunContextSchema,
  type RunRequest,
} from '../../domain/manifests.js';
import { executionName } from '../../engine/naming.js';
import { DataError, describeError, HighwaterError } from '../../errors.js';
import {
  aslErrorName,
  type DefinitionArns,
  DISTRIBUTED_MAP,
  stateMachineDefinition,
  TASK_STATES,
  type TaskStateName,
  TRANSIENT_ERRORS,
} from '../../orchestration/definition.js';
import type { Runtime } from '../../ports/runtime.js';
import { type HeldRuns, processHeldRuns } from './held-runs.js';
import type { LocalRunOptions, RunEvent, RunReport, TableReport } from './local-runner.js';
import { type StepHandlers, stepHandlers } from './step-handlers.js';

// aws-local-stepfunctions uses Promise.withResolvers (Node 22) for task timeouts; Node 20 lacks it.
const PromiseCtor = Promise as unknown as { withResolvers?: () => unknown };
PromiseCtor.withResolvers ??= () => {
  let resolve: unknown;
  let reject: unknown;
  const promise = new Promise((a, b) => {
    resolve = a;
    reject = b;
  });
  return { promise, resolve, reject };
};

type EventLog = ReturnType<StateMachine['run']>['eventLogs'] extends AsyncGenerator<infer E> ? E : never;

/** Placeholder function ARNs: locally every Task is served by an in-process handler. */
export const LOCAL_ARNS: DefinitionArns = {
  plan: 'arn:aws:lambda:us-east-1:123456789012:function:highwater-plan',
  extract: 'arn:aws:lambda:us-east-1:123456789012:function:highwater-extract',
  load: 'arn:aws:lambda:us-east-1:123456789012:function:highwater-load',
  commit: 'arn:aws:lambda:us-east-1:123456789012:function:highwater-commit',
  abort: 'arn:aws:lambda:us-east-1:123456789012:function:highwater-abort',
};

/** A local run must never time a task out and retry it while the first attempt still runs in this process. */
const LOCAL_TASK_TIMEOUT_SECONDS = 86_400;

const machines = new Map<number, StateMachine>();

type AslStates = Record<string, Record<string, unknown>>;

/**
 * The one local translation of the definition: aws-local-stepfunctions 3.0.0 has no ItemReader (nor distributed
 * child executions), so a Map that reads its items from S3 becomes a Task that reads the same staged JSON array
 * through the Staging port (served by `readStagedChunks`) into `$.plan.chunks`, followed by the same Map, inline,
 * over those items. Everything else runs as deployed.
 */
export function localDefinition(asl: Record<string, unknown>): Record<string, unknown> {
  const copy = structuredClone(asl);
  const rewrite = (states: AslStates): void => {
    for (const [name, state] of Object.entries(states)) {
      const processor = state.ItemProcessor as { States?: AslStates; ProcessorConfig?: unknown } | undefined;
      if (processor?.States) rewrite(processor.States);
      const reader = state.ItemReader as { Parameters?: Record<string, unknown> } | undefined;
      if (state.Type !== 'Map' || !reader) continue;
      const { ItemReader: _reader, ...map } = state;
      const itemsState = `${name}Items`;
      states[name] = {
        Type: 'Task',
        Resource: 'arn:aws:states:::s3:getObject',
        Parameters: { ...reader.Parameters, 'run.$': '$.plan.run' },
        ResultPath: '$.plan.chunks',
        Catch: state.Catch,
        Next: itemsState,
      };
      states[itemsState] = {
        ...map,
        ItemsPath: '$.plan.chunks',
        ItemProcessor: { ...processor, ProcessorConfig: { Mode: 'INLINE' } },
      };
    }
  };
  rewrite((copy as { States: AslStates }).States);
  return copy;
}

const ReadStagedChunksInput = z.object({ Key: z.string(), run: RunContextSchema });

/** Serves the rewritten ItemReader: the staged plan, checked to be what Plan wrote (a JSON array of chunk specs). */
async function readStagedChunks(rt: Runtime, input: unknown): Promise<ChunkSpec[]> {
  const { Key, run } = ReadStagedChunksInput.parse(input);
  const staging = await rt.staging(rt.pipeline(run.pipeline, run.adhoc));
  const items = await staging.getJson(Key);
  if (items === undefined) throw new DataError(`${run.table} run ${run.runId}: the staged plan ${Key} is missing`);
  const parsed = z.array(ChunkSpecSchema).safeParse(items);
  if (!parsed.success) {
    throw new DataError(
      `${run.table} run ${run.runId}: the staged plan ${Key} is not a chunk list: ${z.prettifyError(parsed.error)}`,
    );
  }
  return parsed.data;
}

/** One validated state machine per retry budget, built once per process. */
export function localStateMachine(retryMaxAttempts: number): StateMachine {
  let m = machines.get(retryMaxAttempts);
  if (!m) {
    const asl = localDefinition(
      stateMachineDefinition(LOCAL_ARNS, { retryMaxAttempts, taskTimeoutSeconds: LOCAL_TASK_TIMEOUT_SECONDS }),
    );
    m = new StateMachine(asl as unknown as StateMachineDefinition, {
      validationOptions: { checkArn: true, checkPaths: true },
    });
    machines.set(retryMaxAttempts, m);
  }
  return m;
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

type Watermark = { ts: string | null; id: string | null };
interface TableOutcome {
  table: string;
  status: 'committed' | 'staged' | 'skipped' | 'failed';
  runId?: string;
  skipped?: string | null;
  watermarkBefore?: Watermark;
  watermarkAfter?: Watermark;
  rowsExtracted?: number;
  rowsLoaded?: number;
  chunks?: number;
  load?: LoadOutput | null;
  run?: { runId: string; from: Watermark; redshiftOnly: boolean } | null;
  error?: { Error: string; Cause?: string };
  abortError?: { Error: string; Cause?: string } | null;
}

interface Payloadish {
  Payload?: unknown;
}
function payloadOf(input: unknown): Record<string, unknown> {
  const p = (input as Payloadish | null)?.Payload;
  return p !== null && typeof p === 'object' ? (p as Record<string, unknown>) : {};
}
function tableOf(p: Record<string, unknown>): string {
  if (typeof p.table === 'string') return p.table;
  const run = p.run as { table?: unknown } | null | undefined;
  return typeof run?.table === 'string' ? run.table : '?';
}
function runIdOf(p: Record<string, unknown>): string {
  const run = p.run as { runId?: unknown } | null | undefined;
  return typeof run?.runId === 'string' ? run.runId : '';
}

/** Per-execution bookkeeping the wrappers share: attempts, chunk progress, last errors, in-flight calls. */
class ExecutionTracker {
  readonly attempts = new Map<string, number>();
  readonly planned = new Map<string, number>();
  readonly done = new Map<string, number>();
  readonly chunkBytes = new Map<string, Map<number, number>>();
  readonly lastError = new Map<string, StepFailure>();
  readonly failedEmitted = new Set<string>();
  readonly inFlight = new Set<Promise<unknown>>();
  /** First handler call and last handler completion per table: its duration. */
  readonly span = new Map<string, { start: number; end: number }>();
  /** Plan's horizon and warnings per table (as the request named it), for the report. */
  readonly planNotes = new Map<string, { horizon: string | null; warnings: string[] }>();
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
  nameOf(p: Record<string, unknown>): string {
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
    } else if (state !== 'Abort' && !this.failedEmitted.has(table)) {
      // The first terminal failure is the one Catch sends to Abort; chunks still running after it only fail on
      // the released lease, and must not replace it in the report.
      this.lastError.set(table, failure);
      this.failedEmitted.add(table);
      this.emit({ type: 'failed', table, error: message });
    }
    return failure;
  }
}

function localHandlers(h: StepHandlers, t: ExecutionTracker) {
  const wrap =
    (
      state: TaskStateName,
      keyOf: (p: Record<string, unknown>) => string,
      after: (p: Record<string, unknown>, out: unknown) => void,
    ) =>
    async (input: unknown) => {
      const p = payloadOf(input);
      const table = t.nameOf(p);
      const span = t.span.get(table) ?? { start: Date.now(), end: Date.now() };
      t.span.set(table, span);
      const call = (async () => {
        try {
          const out = await callTracked(h, state, p, t);
          after(p, out);
          // What Lambda would return: JSON, without undefined fields.
          return { StatusCode: 200, Payload: JSON.parse(JSON.stringify(out ?? null)) };
        } catch (e) {
          throw t.failure(state, `${state}:${keyOf(p)}`, table, e);
        }
      })();
      // Plan, Commit and Abort are tracked whole (their bookkeeping in `after` included): an interruption waits
      // for them before it aborts the runs still held.
      if (state === 'Plan' || state === 'Commit' || state === 'Abort') t.held.track(call);
      t.inFlight.add(call);
      const settle = () => {
        t.inFlight.delete(call);
        span.end = Date.now();
      };
      call.then(settle, settle);
      return call;
    };
  const extractChunk = (state: 'ExtractChunk' | 'ExtractStagedChunk') =>
    wrap(
      state,
      (p) => `${runIdOf(p)}:${(p.chunk as { index?: number } | undefined)?.index}`,
      (p, out) => {
        const r = out as ChunkResult;
        const runId = runIdOf(p);
        const done = (t.done.get(runId) ?? 0) + 1;
        t.done.set(runId, done);
        const bytes = t.chunkBytes.get(runId) ?? new Map<number, number>();
        bytes.set(r.index, r.bytes);
        t.chunkBytes.set(runId, bytes);
        t.emit({
          type: 'chunk-done',
          table: t.nameOf(p),
          index: r.index,
          rows: r.rows,
          bytes: r.bytes,
          done,
          total: t.planned.get(runId) ?? done,
        });
      },
    );
  return {
    Plan: wrap(
      'Plan',
      (p) => tableOf(p),
      (p, out) => {
        const o = out as PlanOutput;
        const table = t.nameOf(p);
        if (o.run) t.held.hold(o.run, t.rt, h.abort);
        if (o.run) t.requested.set(o.run.table, table);
        if (o.run) t.planned.set(o.run.runId, o.chunkCount);
        t.planNotes.set(table, { horizon: o.horizon, warnings: o.warnings });
        t.emit({ type: 'planned', table, runId: o.run?.runId ?? null, chunks: o.chunkCount, skipped: o.skipped });
      },
    ),
    ExtractChunk: extractChunk('ExtractChunk'),
    ExtractStagedChunk: extractChunk('ExtractStagedChunk'),
    Load: wrap('Load', runIdOf, (p, out) => {
      const o = out as LoadOutput;
      t.emit({ type: 'loaded', table: t.nameOf(p), rowsLoaded: o.rowsLoaded, rowsStaged: o.rowsStaged });
    }),
    Commit: wrap('Commit', runIdOf, (p, out) => {
      t.held.forget(runIdOf(p));
      t.emit({ type: 'committed', table: t.nameOf(p), status: (out as CommitOutput).status });
    }),
    // An Abort skipped because the interruption ends the run itself reports aborted: false and forgets nothing.
    Abort: wrap('Abort', runIdOf, (p, out) => {
      if ((out as { aborted: boolean }).aborted) t.held.forget(runIdOf(p));
    }),
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
 * Calls the step's handler as the process's held runs allow: once interrupted, no step but Abort starts, and the
 * Abort of a run the interruption ends itself is skipped (so the run ends once, with the interruption as its error).
 */
async function callTracked(h: StepHandlers, state: TaskStateName, p: Record<string, unknown>, t: ExecutionTracker) {
  if (state !== 'Abort') t.held.refuseIfInterrupted(state);
  else if (t.held.endsOnInterrupt(runIdOf(p))) return { aborted: false, error: 'ended by the interruption instead' };
  return callHandler(h, state, p, t.rt);
}

function callHandler(h: StepHandlers, state: TaskStateName, payload: unknown, rt: Runtime): Promise<unknown> {
  switch (TASK_STATES[state]) {
    case 'plan':
      return h.plan(payload, rt);
    case 'extract':
      return h.extractChunk(payload, rt);
    case 'load':
      return h.load(payload, rt);
    case 'commit':
      return h.commit(payload, rt);
    case 'abort':
      return h.abort(payload, rt);
  }
}

function tableReport(o: TableOutcome, t: ExecutionTracker): TableReport {
  const runId = o.runId ?? o.run?.runId ?? null;
  const bytes = runId ? [...(t.chunkBytes.get(runId)?.values() ?? [])].reduce((a, b) => a + b, 0) : 0;
  const span = t.span.get(o.table);
  const report: TableReport = {
    table: o.table,
    status: o.status,
    runId: o.status === 'skipped' ? null : runId,
    rowsExtracted: o.rowsExtracted ?? 0,
    rowsLoaded: o.rowsLoaded ?? 0,
    files: o.load ? o.load.files : (o.chunks ?? 0),
    bytes: o.status === 'failed' ? 0 : bytes,
    watermarkBefore: o.watermarkBefore ?? o.run?.from ?? null,
    watermarkAfter: o.watermarkAfter ?? null,
    durationMs: span ? span.end - span.start : 0,
    skipped: o.status === 'skipped' ? (o.skipped ?? null) : null,
    error: null,
    suggestion: null,
    exitCode: 0,
    horizon: t.planNotes.get(o.table)?.horizon ?? null,
    warnings: t.planNotes.get(o.table)?.warnings ?? [],
    schemaChanges: o.load?.schemaChanges ?? [],
  };
  if (o.status === 'failed') {
    const caught = o.error ?? { Error: 'Error', Cause: 'unknown failure' };
    const last = t.lastError.get(o.table);
    const same = last !== undefined && last.name === caught.Error;
    report.error = same ? last.message : t.rt.redact(caught.Cause ?? caught.Error);
    report.exitCode = same && last.original instanceof HighwaterError ? last.original.exitCode : 4;
    const suggestion = same && last.original instanceof HighwaterError ? last.original.suggestion : undefined;
    report.suggestion = suggestion ? t.rt.redact(suggestion) : null;
    if (o.abortError) report.error += ` (and Abort failed: ${t.rt.redact(o.abortError.Cause ?? o.abortError.Error)})`;
    if (!t.failedEmitted.has(o.table)) t.emit({ type: 'failed', table: o.table, error: report.error });
  }
  return report;
}

function outcomesOf(result: unknown): TableOutcome[] {
  const tables = (result as { tables?: unknown } | null)?.tables;
  if (!Array.isArray(tables)) throw new Error('the state machine returned no per-table results');
  return tables as TableOutcome[];
}

/**
 * The per-table results when the execution failed on purpose (some table failed). The Fail state's Cause holds
 * them as JSON on AWS, but aws-local-stepfunctions drops backslashes from it, so read the Summarize state's
 * output from the (closed, fully queued) root event log instead.
 */
async function summarized(events: AsyncGenerator<EventLog>): Promise<TableOutcome[]> {
  for await (const ev of events) {
    if (ev.type === 'StateExited' && ev.state.name === 'Summarize' && ev.index === undefined) {
      return outcomesOf(ev.state.output);
    }
  }
  throw new Error('the state machine failed without a Summarize state output');
}

/** Runs one request through the local state machine and reports per table, like a CLI run always did. */
export async function runStateMachine(rt: Runtime, req: RunRequest, opts: LocalRunOptions = {}): Promise<RunReport> {
  const maxRetries = opts.maxAttempts ?? 3;
  const tracker = new ExecutionTracker(rt, opts, maxRetries);
  const started = new Date();
  const startedAt = started.toISOString();
  const executionId = executionName(req.pipeline, req.tables, started);
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
      taskResourceLocalHandlers: localHandlers(opts.handlers ?? stepHandlers, tracker),
      ...(retryIntervalOverrides ? { retryIntervalOverrides } : {}),
    },
  });
  let outcomes: TableOutcome[];
  try {
    outcomes = outcomesOf(await execution.result);
  } catch (e) {
    const cause = (e as { cause?: { name?: unknown } }).cause;
    if (cause?.name !== 'Highwater.TablesFailed') throw e;
    outcomes = await summarized(execution.eventLogs);
  } finally {
    // A failed Map leaves sibling chunks running (as on AWS); let them settle before the caller closes the runtime.
    await Promise.allSettled([...tracker.inFlight]);
  }
  const tables = outcomes.map((o) => tableReport(o, tracker));
  const failed = tables.filter((x) => x.status === 'failed').length;
  const status = failed === 0 ? 'success' : failed === tables.length ? 'failed' : 'partial_success';
  return { executionId, pipeline: req.pipeline, status, tables, startedAt, finishedAt: new Date().toISOString() };
}
