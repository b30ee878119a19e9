/**
 * Execution history → a per-table, per-chunk progress model. Pure: the same events always give the same model.
 * Steps are recognised by the shape of their payloads (the manifests in lambdas/domain/manifests.ts), not by state
 * names, so the model survives renamed states; both `lambda:invoke` tasks and plain function-ARN tasks are read.
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
} from '../../../lambdas/domain/manifests.js';
import { causeMessage, summaryTables } from '../../../lambdas/orchestration/report.js';
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
}

export interface ProgressModel {
  status: ExecutionState;
  tables: TableProgress[];
  /** The execution's own error (ExecutionFailed/TimedOut/Aborted), if it ended so. */
  error: string | null;
}

type Step = 'Plan' | 'ExtractChunk' | 'Load' | 'Commit' | 'Abort';
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

function classify(payload: unknown): Scheduled | null {
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

/** The state machine fails with Highwater.TablesFailed and every table's result as the Cause: count, don't dump. */
function executionFailure(error: string | undefined, cause: string | undefined): string {
  const tables = summaryTables(cause);
  if (tables) {
    const failed = tables.filter((t) => t.status === 'failed').length;
    return `${error ?? 'Error'}: ${failed} of ${tables.length} table${tables.length === 1 ? '' : 's'} failed`;
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

  /** The table of the Map iteration a task runs in: `item.table` in the input of the state that scheduled it. */
  const iterationTable = (scheduledEvent: HistoryEvent): string | null => {
    const entered = byId.get(scheduledEvent.previousEventId ?? -1);
    const input = parseJson(entered?.stateEnteredEventDetails?.input);
    const parsed = z.object({ item: z.object({ table: z.string() }) }).safeParse(input);
    return parsed.success ? parsed.data.item.table : null;
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
    if (s.step === 'Plan') t.phase = 'planning';
    if (s.step === 'Load') t.phase = 'loading';
    if (s.step === 'Commit') t.phase = 'committing';
    if (s.step === 'ExtractChunk') {
      t.phase = 'extracting';
      const c = chunkOf(t, s.chunk!);
      c.status = 'running';
      c.attempts++;
    }
  };

  const onSucceeded = (e: HistoryEvent, output: unknown) => {
    const s = taskOf(e);
    if (!s || s.step === 'Abort' || s.table === null) return;
    const t = tableOf(s.table);
    if (s.step === 'Plan') {
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
        model.error = executionFailure(e.executionFailedEventDetails?.error, e.executionFailedEventDetails?.cause);
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
