/**
 * Execution history → a per-table, per-chunk progress model. Pure: the same events always give the same model.
 * Steps are recognised by the shape of their payloads (the manifests in lambdas/domain/manifests.ts), not by state
 * names, so the model survives renamed states; both `lambda:invoke` tasks and plain function-ARN tasks are read.
 *
 * A sync execution runs each table as a child execution (`states:startExecution.sync:2`): its own history shows
 * each table's start, its execution ARN and its outcome; the table's steps and chunks are in that child's history.
 * `summarizeRun` merges the two; `tableExecutions` says which children to read.
 */
import type { HistoryEvent } from '@aws-sdk/client-sfn';
import { z } from 'zod';
import {
  AbortInputSchema,
  ChunkResultSchema,
  CommitInputSchema,
  CommitOutputSchema,
  ExtractInputSchema,
  LoadInputSchema,
  LoadOutputSchema,
  PlanInputSchema,
  PlanOutputSchema,
  RunRequestSchema,
  type StepError,
  TableOutcomeSchema,
} from '../../../lambdas/domain/manifests.js';
import { causeMessage, childExecutionError, stepErrorText } from '../../../lambdas/orchestration/report.js';
import { parseJson } from './json.js';

export type ExecutionState = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';
export type TablePhase =
  | 'pending'
  | 'planning'
  | 'extracting'
  | 'loading'
  | 'committing'
  | 'committed'
  | 'staged'
  | 'skipped'
  | 'failed';

export interface ChunkProgress {
  index: number;
  status: 'running' | 'done' | 'retrying';
  rows: number | null;
  attempts: number;
}

export interface TableProgress {
  table: string;
  phase: TablePhase;
  runId: string | null;
  chunksPlanned: number | null;
  chunks: ChunkProgress[];
  rowsExtracted: number;
  rowsLoaded: number | null;
  /** Failed step attempts (each retried one, and the last one if the table failed). */
  failedAttempts: number;
  skipped: string | null;
  error: string | null;
  /** The table execution that runs this table (a sync execution's child), once started. */
  execution: string | null;
  /** How that table execution itself failed, timed out or was stopped (its own error), when it did. */
  executionError?: StepError;
}

export interface ProgressModel {
  status: ExecutionState;
  tables: TableProgress[];
  /** The execution's own error (ExecutionFailed/TimedOut/Aborted), if it ended so. */
  error: string | null;
}

type Step = 'Plan' | 'ExtractChunk' | 'Load' | 'Commit' | 'Abort' | 'RunTable';
interface Scheduled {
  step: Step;
  table: string | null;
  chunk: number | null;
  payload: unknown;
}

/** A lambda:invoke task's parameters/output wrap the function's payload in `Payload`. */
function unwrap(v: unknown): unknown {
  if (typeof v === 'object' && v !== null && 'Payload' in v) return (v as { Payload: unknown }).Payload;
  return v;
}

/** A sync execution's RunTable: startExecution of the table state machine with the table's input. */
const StartTableSchema = z.object({ StateMachineArn: z.string(), Input: z.object({ table: z.string() }) });

function classify(payload: unknown): Scheduled | null {
  const runTable = StartTableSchema.safeParse(payload);
  if (runTable.success) return { step: 'RunTable', table: runTable.data.Input.table, chunk: null, payload };
  const abort = AbortInputSchema.safeParse(payload);
  if (abort.success) return { step: 'Abort', table: abort.data.run?.table ?? null, chunk: null, payload };
  const extract = ExtractInputSchema.safeParse(payload);
  if (extract.success) {
    return { step: 'ExtractChunk', table: extract.data.run.table, chunk: extract.data.chunk.index, payload };
  }
  const loadIn = LoadInputSchema.safeParse(payload);
  if (loadIn.success) return { step: 'Load', table: loadIn.data.run.table, chunk: null, payload };
  const commitIn = CommitInputSchema.safeParse(payload);
  if (commitIn.success) return { step: 'Commit', table: commitIn.data.run.table, chunk: null, payload };
  const planIn = PlanInputSchema.safeParse(payload);
  if (planIn.success) return { step: 'Plan', table: planIn.data.table, chunk: null, payload };
  return null;
}

function errorText(error: string | undefined, cause: string | undefined): string {
  const msg = causeMessage(cause);
  return msg ? `${error ?? 'Error'}: ${msg}` : (error ?? 'Error');
}

/** The sync execution fails with Highwater.TablesFailed when some table failed: say how many, from the tables seen. */
function executionFailure(error: string | undefined, cause: string | undefined, tables: TableProgress[]): string {
  if (error === 'Highwater.TablesFailed') {
    const failed = tables.filter((t) => t.phase === 'failed').length;
    return `${error}: ${failed} of ${tables.length} table${tables.length === 1 ? '' : 's'} failed`;
  }
  return errorText(error, cause);
}

export function summarizeHistory(events: readonly HistoryEvent[]): ProgressModel {
  const byId = new Map<number, HistoryEvent>();
  for (const e of events) if (e.id !== undefined) byId.set(e.id, e);
  const scheduled = new Map<number, Scheduled>();
  const tables = new Map<string, TableProgress>();
  const model: ProgressModel = { status: 'RUNNING', tables: [], error: null };

  const tableOf = (name: string): TableProgress => {
    let t = tables.get(name);
    if (!t) {
      t = {
        table: name,
        phase: 'pending',
        runId: null,
        chunksPlanned: null,
        chunks: [],
        rowsExtracted: 0,
        rowsLoaded: null,
        failedAttempts: 0,
        skipped: null,
        error: null,
        execution: null,
      };
      tables.set(name, t);
    }
    return t;
  };
  const chunkOf = (t: TableProgress, index: number): ChunkProgress => {
    let c = t.chunks.find((x) => x.index === index);
    if (!c) {
      c = { index, status: 'running', rows: null, attempts: 0 };
      t.chunks.push(c);
      t.chunks.sort((a, b) => a.index - b.index);
    }
    return c;
  };
  /** The task a completion event belongs to: walk back along previousEventId to its Scheduled event. */
  const taskOf = (e: HistoryEvent): Scheduled | undefined => {
    let id = e.previousEventId;
    for (let hops = 0; id !== undefined && hops < 8; hops++) {
      const s = scheduled.get(id);
      if (s) return s;
      id = byId.get(id)?.previousEventId;
    }
    return undefined;
  };

  /** The table a task is about when its payload does not say: `input.table` in the input of its state. */
  const iterationTable = (scheduledEvent: HistoryEvent): string | null => {
    const entered = byId.get(scheduledEvent.previousEventId ?? -1);
    const input = parseJson(entered?.stateEnteredEventDetails?.input);
    const parsed = z.object({ input: z.object({ table: z.string() }) }).safeParse(input);
    return parsed.success ? parsed.data.input.table : null;
  };

  const onScheduled = (e: HistoryEvent, payload: unknown) => {
    const id = e.id;
    const s = classify(payload);
    if (!s || id === undefined) return;
    // An Abort after a failed Plan has no run context; the iteration's input still names the table.
    if (s.table === null) s.table = iterationTable(e);
    scheduled.set(id, s);
    if (s.step === 'Abort') {
      const targets = s.table ? [tableOf(s.table)] : [...tables.values()].filter((t) => t.error !== null);
      const err = AbortInputSchema.parse(payload).error;
      for (const t of targets) {
        if (['committed', 'staged', 'skipped'].includes(t.phase)) continue;
        t.phase = 'failed';
        t.error = errorText(err.Error, err.Cause);
      }
      return;
    }
    const t = tableOf(s.table!);
    if (t.phase === 'failed') return;
    if (s.step === 'RunTable' || s.step === 'Plan') t.phase = 'planning';
    if (s.step === 'Load') t.phase = 'loading';
    if (s.step === 'Commit') t.phase = 'committing';
    if (s.step === 'ExtractChunk') {
      t.phase = 'extracting';
      const c = chunkOf(t, s.chunk!);
      c.status = 'running';
      c.attempts++;
    }
  };

  /** A RunTable task has handed its table to a child execution (the output of StartExecution). */
  const onSubmitted = (e: HistoryEvent, output: unknown) => {
    const s = taskOf(e);
    const arn = z.object({ ExecutionArn: z.string() }).safeParse(output);
    if (s?.step === 'RunTable' && s.table !== null && arn.success) tableOf(s.table).execution = arn.data.ExecutionArn;
  };

  const onSucceeded = (e: HistoryEvent, output: unknown) => {
    const s = taskOf(e);
    if (!s || s.step === 'Abort' || s.table === null) return;
    const t = tableOf(s.table);
    if (s.step === 'RunTable') {
      const child = z.object({ ExecutionArn: z.string(), Output: z.unknown() }).safeParse(output);
      if (!child.success) return;
      t.execution = child.data.ExecutionArn;
      const o = TableOutcomeSchema.safeParse(
        typeof child.data.Output === 'string' ? parseJson(child.data.Output) : child.data.Output,
      );
      if (!o.success) return;
      t.phase = o.data.status;
      if (o.data.status === 'skipped') t.skipped = o.data.skipped;
      if (o.data.status === 'failed') t.error = stepErrorText(o.data.error);
      if (o.data.status === 'committed' || o.data.status === 'staged') {
        t.runId = o.data.runId;
        t.rowsLoaded = o.data.rowsLoaded;
        if (o.data.rowsExtracted > t.rowsExtracted) t.rowsExtracted = o.data.rowsExtracted;
      }
    } else if (s.step === 'Plan') {
      const p = PlanOutputSchema.safeParse(output);
      if (!p.success) return;
      if (p.data.run === null) {
        t.phase = 'skipped';
        t.skipped = p.data.skipped;
      } else {
        t.runId = p.data.run.runId;
        t.chunksPlanned = p.data.chunkCount;
        t.phase = 'extracting';
      }
    } else if (s.step === 'ExtractChunk') {
      const r = ChunkResultSchema.safeParse(output);
      const c = chunkOf(t, s.chunk!);
      // A part that handed back the rest of its chunk (rows so far): the chunk runs on.
      c.status = r.success && r.data.rest !== null ? 'running' : 'done';
      if (r.success) c.rows = r.data.rows;
      t.rowsExtracted = t.chunks.reduce((n, x) => n + (x.rows ?? 0), 0);
    } else if (s.step === 'Load') {
      const r = LoadOutputSchema.safeParse(output);
      if (r.success) t.rowsLoaded = r.data.rowsLoaded;
    } else if (s.step === 'Commit') {
      const r = CommitOutputSchema.safeParse(output);
      if (r.success) {
        t.phase = r.data.status;
        t.rowsLoaded = r.data.rowsLoaded;
        if (r.data.rowsExtracted > t.rowsExtracted) t.rowsExtracted = r.data.rowsExtracted;
      }
    }
  };

  const onFailed = (e: HistoryEvent, error: string | undefined, cause: string | undefined) => {
    const s = taskOf(e);
    if (!s || s.step === 'Abort' || s.table === null) return;
    const t = tableOf(s.table);
    if (s.step === 'RunTable') {
      // The table execution itself failed, timed out or was stopped (its runs were ended by the reaper).
      t.phase = 'failed';
      t.executionError = childExecutionError({ Error: error ?? 'Error', Cause: cause });
      t.error = stepErrorText(t.executionError);
      return;
    }
    t.error = errorText(error, cause);
    t.failedAttempts++;
    if (s.step === 'ExtractChunk') chunkOf(t, s.chunk!).status = 'retrying';
  };

  for (const e of events) {
    switch (e.type) {
      case 'ExecutionStarted': {
        const req = RunRequestSchema.safeParse(parseJson(e.executionStartedEventDetails?.input));
        if (req.success) for (const name of req.data.tables) tableOf(name);
        break;
      }
      case 'TaskScheduled':
        onScheduled(e, unwrap(parseJson(e.taskScheduledEventDetails?.parameters)));
        break;
      case 'LambdaFunctionScheduled':
        onScheduled(e, parseJson(e.lambdaFunctionScheduledEventDetails?.input));
        break;
      case 'TaskSubmitted':
        onSubmitted(e, parseJson(e.taskSubmittedEventDetails?.output));
        break;
      case 'TaskSucceeded':
        onSucceeded(e, unwrap(parseJson(e.taskSucceededEventDetails?.output)));
        break;
      case 'LambdaFunctionSucceeded':
        onSucceeded(e, parseJson(e.lambdaFunctionSucceededEventDetails?.output));
        break;
      case 'TaskFailed':
        onFailed(e, e.taskFailedEventDetails?.error, e.taskFailedEventDetails?.cause);
        break;
      case 'TaskTimedOut':
        onFailed(e, e.taskTimedOutEventDetails?.error ?? 'States.Timeout', e.taskTimedOutEventDetails?.cause);
        break;
      case 'LambdaFunctionFailed':
        onFailed(e, e.lambdaFunctionFailedEventDetails?.error, e.lambdaFunctionFailedEventDetails?.cause);
        break;
      case 'LambdaFunctionTimedOut':
        onFailed(e, e.lambdaFunctionTimedOutEventDetails?.error ?? 'States.Timeout', undefined);
        break;
      case 'ExecutionSucceeded':
        model.status = 'SUCCEEDED';
        break;
      case 'ExecutionFailed':
        model.status = 'FAILED';
        model.error = executionFailure(e.executionFailedEventDetails?.error, e.executionFailedEventDetails?.cause, [
          ...tables.values(),
        ]);
        break;
      case 'ExecutionTimedOut':
        model.status = 'TIMED_OUT';
        model.error = errorText(e.executionTimedOutEventDetails?.error ?? 'States.Timeout', undefined);
        break;
      case 'ExecutionAborted':
        model.status = 'ABORTED';
        model.error = errorText(
          e.executionAbortedEventDetails?.error ?? 'Aborted',
          e.executionAbortedEventDetails?.cause,
        );
        break;
    }
  }
  const ended = model.status !== 'RUNNING' && model.status !== 'SUCCEEDED';
  for (const t of tables.values()) {
    if (ended && !['committed', 'staged', 'skipped', 'failed'].includes(t.phase)) {
      // The execution ended without this table finishing (no Catch reached, timed out, or stopped).
      t.phase = 'failed';
      t.error ??= model.error;
    }
    // A failed attempt that a retry then made good is not an error any more.
    if (t.phase !== 'failed' && t.chunks.every((c) => c.status !== 'retrying')) t.error = null;
  }
  model.tables = [...tables.values()];
  return model;
}

/** The table executions a sync execution's history has started, by table (the children to read for progress). */
export function tableExecutions(model: ProgressModel): Map<string, string> {
  const out = new Map<string, string>();
  for (const t of model.tables) if (t.execution) out.set(t.table, t.execution);
  return out;
}

const TERMINAL: readonly TablePhase[] = ['committed', 'staged', 'skipped', 'failed'];

/**
 * A sync execution's model with each table's steps and chunks taken from its table execution's history (given by
 * ARN in `children`; a child not given yet shows only what the sync execution's own history says).
 */
export function summarizeRun(
  events: readonly HistoryEvent[],
  children: ReadonlyMap<string, readonly HistoryEvent[]>,
): ProgressModel {
  const model = summarizeHistory(events);
  model.tables = model.tables.map((t) => {
    const childEvents = t.execution ? children.get(t.execution) : undefined;
    if (!childEvents) return t;
    const child = summarizeHistory(childEvents).tables.find((c) => c.table === t.table);
    if (!child) return t;
    const finished = TERMINAL.includes(t.phase);
    return {
      ...child,
      execution: t.execution,
      phase: finished ? t.phase : child.phase,
      rowsExtracted: Math.max(child.rowsExtracted, t.rowsExtracted),
      rowsLoaded: t.rowsLoaded ?? child.rowsLoaded,
      runId: t.runId ?? child.runId,
      skipped: t.skipped ?? child.skipped,
      error: t.phase === 'failed' ? (t.error ?? child.error) : child.error,
    };
  });
  return model;
}
