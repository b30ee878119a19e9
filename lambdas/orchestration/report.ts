/**
 * A run's outcome → its report: the one reading of the sync execution's Summary (manifests.ts SummarySchema) and of
 * each table execution's outcome (TableOutcomeSchema), used by a local run, which adds what its own process saw
 * (bytes, duration, the error as thrown), and by a remote run, which adds what the ledger recorded.
 */
import { z } from 'zod';
import {
  type RunResult,
  type StepError,
  StepErrorSchema,
  SummarySchema,
  type TableOutcome,
  type TableReport,
  type TableSummary,
  TableSummarySchema,
} from '../domain/manifests.js';
import { ExitCode, exitCodeOfErrorName, HighwaterError } from '../errors.js';

/** What the process that ran a table's steps saw beyond the Summary; a remote run has none of it. */
export interface StepObservations {
  bytes: number;
  durationMs: number;
  /** The table's first terminal step failure as thrown (its message already redacted), if there was one. */
  failure: { name: string; message: string; original: unknown } | null;
}

/** How a Distributed Map reports that a child execution failed (none is tolerated). */
export const MAP_RUN_FAILED = 'States.ExceedToleratedFailureThreshold';

/** A Lambda failure's Cause is the function's error as JSON (`errorMessage`); any other Cause is the message. */
export function causeMessage(cause: string | undefined): string | null {
  if (cause === undefined || cause === '') return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(cause);
  } catch {
    return cause;
  }
  const lambdaError = z.object({ errorMessage: z.string() }).safeParse(parsed);
  return lambdaError.success ? lambdaError.data.errorMessage : cause;
}

/** `ConfigError: table shop.orders is not in pipeline sales`, from a Catch output. */
export function stepErrorText(error: StepError): string {
  const message = causeMessage(error.Cause);
  return message ? `${error.Error}: ${message}` : error.Error;
}

function failureOf(
  error: StepError,
  abortError: StepError | null,
  seen: StepObservations | null,
  redact: (text: string) => string,
): Pick<TableReport, 'error' | 'exitCode' | 'suggestion'> {
  // The process's own error is the better account when it is the one Catch recorded (same ASL name), or when the
  // Catch recorded only that a Distributed Map child failed.
  const thrown =
    seen?.failure && (seen.failure.name === error.Error || error.Error === MAP_RUN_FAILED) ? seen.failure : null;
  const original = thrown?.original instanceof HighwaterError ? thrown.original : null;
  let text = thrown ? thrown.message : redact(stepErrorText(error));
  if (abortError) text += ` (and Abort failed: ${redact(causeMessage(abortError.Cause) ?? abortError.Error)})`;
  return {
    error: text,
    exitCode: original?.exitCode ?? exitCodeOfErrorName(error.Error) ?? ExitCode.data,
    suggestion: original?.suggestion ? redact(original.suggestion) : null,
  };
}

/** What the Verify step after the commit found, as report warnings (a difference, or the step's own failure). */
function verificationWarnings(
  o: Extract<TableOutcome, { status: 'committed' | 'staged' }>,
  redact: (t: string) => string,
): string[] {
  const out: string[] = [];
  const v = o.verification;
  if (v && !v.equal) {
    out.push(
      `verification: the warehouse differs from the source (${v.missing} missing, ${v.extra} extra, ${v.changed} changed): \`highwater verify -t ${o.table} --repair\``,
    );
  }
  if (o.verifyError) out.push(`verification failed: ${redact(stepErrorText(o.verifyError))}`);
  return out;
}

/** Values `oversize: truncate` cut in the loaded files, as report warnings (one per column). */
function truncationWarnings(o: Extract<TableOutcome, { status: 'committed' | 'staged' }>): string[] {
  return Object.entries(o.load?.truncated ?? {}).map(
    ([column, n]) =>
      `${n} value(s) of column ${column} were longer than the warehouse column and truncated to fit (oversize: truncate)`,
  );
}

/** One table's report from its outcome (and, for a local run, what the process saw). */
export function tableReport(
  o: TableOutcome,
  seen: StepObservations | null,
  redact: (text: string) => string = (t) => t,
): TableReport {
  const base = {
    table: o.table,
    durationMs: seen ? seen.durationMs : null,
    horizon: o.horizon,
    warnings: o.warnings,
    error: null,
    suggestion: null,
    exitCode: ExitCode.ok,
    verification: null,
    versions: null,
  };
  switch (o.status) {
    case 'skipped':
      return {
        ...base,
        status: 'skipped',
        runId: null,
        rowsExtracted: 0,
        rowsLoaded: 0,
        files: 0,
        bytes: seen ? 0 : null,
        watermarkBefore: null,
        watermarkAfter: null,
        skipped: o.skipped,
        schemaChanges: [],
      };
    case 'committed':
    case 'staged':
      return {
        ...base,
        status: o.status,
        runId: o.runId,
        rowsExtracted: o.rowsExtracted,
        rowsLoaded: o.rowsLoaded,
        files: o.load ? o.load.files : o.chunks,
        bytes: seen ? seen.bytes : null,
        watermarkBefore: o.watermarkBefore,
        watermarkAfter: o.watermarkAfter,
        skipped: null,
        schemaChanges: o.load?.schemaChanges ?? [],
        versions: o.load?.history
          ? {
              opened: o.load.rowsLoaded,
              closedByChange: o.load.rowsDeleted,
              closedByDelete: o.load.rowsDeletedAtSource,
            }
          : null,
        verification: o.verification,
        warnings: [...o.warnings, ...truncationWarnings(o), ...verificationWarnings(o, redact)],
      };
    case 'failed':
      return {
        ...base,
        ...failureOf(o.error, o.abortError, seen, redact),
        status: 'failed',
        runId: o.run?.runId ?? null,
        rowsExtracted: 0,
        rowsLoaded: 0,
        files: 0,
        bytes: seen ? 0 : null,
        watermarkBefore: o.run?.from ?? null,
        watermarkAfter: null,
        skipped: null,
        schemaChanges: [],
      };
  }
}

/** success when no table failed, failed when all did, else partial_success. */
export function runResultOf(tables: readonly Pick<TableReport, 'status'>[]): RunResult {
  const failed = tables.filter((t) => t.status === 'failed').length;
  return failed === 0 ? 'success' : failed === tables.length ? 'failed' : 'partial_success';
}

/** The CLI's exit code for a run: 0, 3 when only some tables failed, else the first failed table's own code. */
export function exitCodeOfTables(tables: readonly Pick<TableReport, 'status' | 'exitCode'>[]): number {
  const result = runResultOf(tables);
  if (result === 'success') return ExitCode.ok;
  if (result === 'partial_success') return ExitCode.partial;
  return tables.find((t) => t.exitCode !== ExitCode.ok)?.exitCode ?? ExitCode.data;
}

/**
 * The per-table summaries in a sync execution's result: the Done (or Summarize) state's `{tables}` output, as a
 * value or as JSON. Null when the value is neither, e.g. an execution that timed out before Summarize.
 */
export function summaryTables(value: unknown): TableSummary[] | null {
  let v = value;
  if (typeof v === 'string') {
    try {
      v = JSON.parse(v);
    } catch {
      return null;
    }
  }
  const summary = SummarySchema.safeParse(v);
  if (summary.success) return summary.data.tables;
  const list = z.array(TableSummarySchema).safeParse(v);
  return list.success ? list.data : null;
}

/**
 * The table execution's own error inside a `states:startExecution.sync` failure, whose Cause is the child's
 * description as JSON (`Status`, `Error`, `Cause`); any other error as it is.
 */
export function childExecutionError(error: StepError): StepError {
  if (error.Error !== 'States.TaskFailed' || !error.Cause) return error;
  let parsed: unknown;
  try {
    parsed = JSON.parse(error.Cause);
  } catch {
    return error;
  }
  const child = z
    .looseObject({ Status: z.string(), Error: z.string().nullish(), Cause: z.string().nullish() })
    .safeParse(parsed);
  if (!child.success) return error;
  const name = child.data.Error ?? `Execution${child.data.Status}`;
  return StepErrorSchema.parse({
    Error: name,
    Cause: child.data.Cause ?? `the table execution ended ${child.data.Status}`,
  });
}

/**
 * The outcome of a table whose execution itself failed, timed out or was stopped (the sync state machine's
 * TableExecutionFailed): failed, with the child's own error, and the run the reaper ended, when known.
 */
export function failedExecutionOutcome(s: TableSummary, run: { runId: string } | null): TableOutcome {
  const error = s.error ? childExecutionError(s.error) : { Error: 'States.TaskFailed' };
  return {
    table: s.table,
    status: 'failed',
    run: run ? { runId: run.runId, from: { ts: null, id: null } } : null,
    error,
    abortError: null,
    horizon: null,
    warnings: [],
  };
}
