/**
 * Runs a sync request on this machine with the same steps the state machine runs on AWS:
 * Plan → Map(chunks, max_workers) → Load → Commit per table, with Retry on transient errors and Catch → Abort.
 */
import { type ChunkResult, type RunContext, type RunRequest, RunRequestSchema } from '../engine/manifests.js';
import { describeError, HighwaterError, isHighwaterError } from '../runtime/errors.js';
import type { Runtime } from '../runtime/runtime.js';
import { type StepHandlers, stepHandlers } from './step-handlers.js';

export type RunEvent =
  | { type: 'planned'; table: string; runId: string | null; chunks: number; skipped: string | null }
  | { type: 'chunk-done'; table: string; index: number; rows: number; bytes: number; done: number; total: number }
  | { type: 'retry'; table: string; step: string; attempt: number; error: string }
  | { type: 'loaded'; table: string; rowsLoaded: number; rowsStaged: number }
  | { type: 'committed'; table: string; status: 'committed' | 'staged' }
  | { type: 'failed'; table: string; error: string };

export interface TableReport {
  table: string;
  status: 'committed' | 'staged' | 'skipped' | 'failed';
  runId: string | null;
  rowsExtracted: number;
  rowsLoaded: number;
  files: number;
  bytes: number;
  watermarkBefore: { ts: string | null; id: string | null } | null;
  watermarkAfter: { ts: string | null; id: string | null } | null;
  durationMs: number;
  skipped: string | null;
  error: string | null;
  exitCode: number;
}

export interface RunReport {
  status: 'success' | 'partial_success' | 'failed';
  tables: TableReport[];
  startedAt: string;
  finishedAt: string;
}

export interface LocalRunOptions {
  handlers?: StepHandlers;
  onEvent?: (e: RunEvent) => void;
  /** Retries of a transient error per step (the ASL Retry's MaxAttempts). */
  maxAttempts?: number;
  /** First backoff in ms, doubled each attempt with full jitter (the ASL's BackoffRate 2, JitterStrategy FULL). */
  backoffMs?: number;
}

function isTransient(e: unknown): boolean {
  if (isHighwaterError(e)) return e.transient;
  const code = (e as { code?: unknown })?.code;
  return typeof code === 'string' && ['ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'PROTOCOL_CONNECTION_LOST'].includes(code);
}

async function withRetry<T>(
  step: string,
  table: string,
  fn: () => Promise<T>,
  opts: Required<Pick<LocalRunOptions, 'maxAttempts' | 'backoffMs'>> &
    Pick<LocalRunOptions, 'onEvent'> & { redact(text: string): string },
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      if (!isTransient(e) || attempt >= opts.maxAttempts) throw e;
      opts.onEvent?.({ type: 'retry', table, step, attempt, error: opts.redact(describeError(e)) });
      const delay = Math.random() * opts.backoffMs * 2 ** (attempt - 1);
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}

/** Runs `fn` over `items` with at most `limit` in flight; the first failure stops new work and is rethrown. */
async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  let failed: { error: unknown } | undefined;
  const worker = async () => {
    while (failed === undefined && next < items.length) {
      const i = next++;
      try {
        results[i] = await fn(items[i]!);
      } catch (error) {
        failed ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (failed) throw failed.error;
  return results;
}

async function runTable(rt: Runtime, req: RunRequest, table: string, opts: LocalRunOptions): Promise<TableReport> {
  const h = opts.handlers ?? stepHandlers;
  const retry = {
    maxAttempts: opts.maxAttempts ?? 3,
    backoffMs: opts.backoffMs ?? 500,
    onEvent: opts.onEvent,
    redact: (text: string) => rt.redact(text),
  };
  const started = Date.now();
  const report: TableReport = {
    table,
    status: 'failed',
    runId: null,
    rowsExtracted: 0,
    rowsLoaded: 0,
    files: 0,
    bytes: 0,
    watermarkBefore: null,
    watermarkAfter: null,
    durationMs: 0,
    skipped: null,
    error: null,
    exitCode: 0,
  };
  let run: RunContext | null = null;
  try {
    const planned = await withRetry(
      'Plan',
      table,
      () => h.plan({ pipeline: req.pipeline, table, options: req.options, adhoc: req.adhoc }, rt),
      retry,
    );
    run = planned.run;
    opts.onEvent?.({
      type: 'planned',
      table,
      runId: run?.runId ?? null,
      chunks: planned.chunks.length,
      skipped: planned.skipped,
    });
    if (!run) {
      report.status = 'skipped';
      report.skipped = planned.skipped;
      return report;
    }
    const current = run;
    report.runId = run.runId;
    report.watermarkBefore = run.from;
    const maxWorkers = req.options.maxWorkers ?? rt.pipeline(req.pipeline, req.adhoc).processing.maxWorkers;
    let done = 0;
    const chunks: ChunkResult[] = await mapLimit(planned.chunks, maxWorkers, async (chunk) => {
      const r = await withRetry('ExtractChunk', table, () => h.extractChunk({ run: current, chunk }, rt), retry);
      done++;
      opts.onEvent?.({
        type: 'chunk-done',
        table,
        index: chunk.index,
        rows: r.rows,
        bytes: r.bytes,
        done,
        total: planned.chunks.length,
      });
      return r;
    });
    report.rowsExtracted = chunks.reduce((n, c) => n + c.rows, 0);
    report.bytes = chunks.reduce((n, c) => n + c.bytes, 0);
    report.files = chunks.length;
    let loadOut = null;
    if (!run.backupOnly) {
      loadOut = await withRetry('Load', table, () => h.load({ run: current, chunks }, rt), retry);
      report.rowsLoaded = loadOut.rowsLoaded;
      report.files = loadOut.files;
      opts.onEvent?.({ type: 'loaded', table, rowsLoaded: loadOut.rowsLoaded, rowsStaged: loadOut.rowsStaged });
    }
    const committed = await withRetry('Commit', table, () => h.commit({ run: current, load: loadOut }, rt), retry);
    report.status = committed.status;
    report.watermarkAfter = committed.watermark;
    if (run.redshiftOnly) report.rowsExtracted = 0;
    opts.onEvent?.({ type: 'committed', table, status: committed.status });
    return report;
  } catch (e) {
    report.status = 'failed';
    report.error = rt.redact(describeError(e));
    report.exitCode = e instanceof HighwaterError ? e.exitCode : 4;
    opts.onEvent?.({ type: 'failed', table, error: report.error });
    const errorName = e instanceof Error ? e.name : 'Error';
    try {
      await h.abort({ run, error: { Error: errorName, Cause: report.error } }, rt);
    } catch (abortError) {
      report.error += ` (and Abort failed: ${describeError(abortError)})`;
    }
    return report;
  } finally {
    report.durationMs = Date.now() - started;
  }
}

export async function runLocal(rt: Runtime, request: unknown, opts: LocalRunOptions = {}): Promise<RunReport> {
  const req = RunRequestSchema.parse(request);
  const startedAt = new Date().toISOString();
  const tables: TableReport[] = [];
  for (const table of req.tables) tables.push(await runTable(rt, req, table, opts));
  const failed = tables.filter((t) => t.status === 'failed').length;
  const status = failed === 0 ? 'success' : failed === tables.length ? 'failed' : 'partial_success';
  return { status, tables, startedAt, finishedAt: new Date().toISOString() };
}
