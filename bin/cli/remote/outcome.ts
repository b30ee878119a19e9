/**
 * A finished execution → the CLI's exit code (0 ok, 3 partial, else the failing table's code, 4 if none can be
 * told). Table results are read leniently from the output (`{tables}` / a RunReport-like `{status, tables}` / the
 * per-table Map's array) or, for a failed execution, from its Cause (`Highwater.TablesFailed` carries them there).
 */
import { z } from 'zod';
import { ExitCode } from '../../../lambdas/errors.js';
import { parseJson } from './json.js';

/** Error class name → exit code, for errors known only by name (a remote step's `Error`). */
const CODE_BY_ERROR: Record<string, number> = {
  ConfigError: ExitCode.config,
  ZodError: ExitCode.config,
  ConnectionError: ExitCode.connection,
  LeaseHeldError: ExitCode.partial,
  LeaseLostError: ExitCode.partial,
  DataError: ExitCode.data,
  CountMismatchError: ExitCode.data,
  StagingError: ExitCode.staging,
  WarehouseError: ExitCode.warehouse,
};

/** `StagingError.Permanent` (an instance the state machine must not retry) maps like `StagingError`. */
export function exitCodeOfErrorName(name: string | null | undefined): number | null {
  if (!name) return null;
  return CODE_BY_ERROR[name.replace(/\.Permanent$/, '')] ?? null;
}

/** `ConfigError: …` (an Abort's `error`, a table report's `error`) → the name before the colon. */
function leadingErrorName(text: string | null | undefined): string | null {
  const m = text ? /^([A-Za-z][A-Za-z0-9_.]*Error)\b/.exec(text) : null;
  return m ? m[1]! : null;
}

const TableResultSchema = z.looseObject({
  table: z.string().optional(),
  status: z.string().optional(),
  exitCode: z.number().int().optional(),
  aborted: z.boolean().optional(),
  error: z
    .union([z.string(), z.looseObject({ Error: z.string(), Cause: z.string().optional() })])
    .nullable()
    .optional(),
});
type TableResult = z.infer<typeof TableResultSchema>;

const ReportSchema = z.looseObject({
  status: z.enum(['success', 'partial_success', 'failed']).optional(),
  tables: z.array(TableResultSchema),
});

export interface ExecutionOutcome {
  /** DescribeExecution's status. */
  status: string;
  /** DescribeExecution's output (a JSON string) or the parsed value. */
  output?: unknown;
  /** DescribeExecution's error name, for a failed execution. */
  error?: string | null;
  /** DescribeExecution's cause: for `Highwater.TablesFailed`, every table's result as JSON. */
  cause?: string | null;
}

function isFailed(t: TableResult): boolean {
  if (t.status === 'failed' || t.aborted === true) return true;
  if (t.status && ['committed', 'staged', 'skipped', 'success'].includes(t.status)) return false;
  return t.error !== undefined && t.error !== null;
}

function codeOf(t: TableResult): number | null {
  if (t.exitCode !== undefined && t.exitCode !== 0) return t.exitCode;
  const err = typeof t.error === 'string' ? leadingErrorName(t.error) : (t.error?.Error ?? null);
  return exitCodeOfErrorName(err);
}

function tableResults(output: unknown): { status?: string; tables: TableResult[] } | null {
  const value = typeof output === 'string' ? parseJson(output) : output;
  const report = ReportSchema.safeParse(value);
  if (report.success) return report.data;
  if (Array.isArray(value)) {
    const rows = value.flat(2).map((v) => TableResultSchema.safeParse(v));
    if (rows.every((r) => r.success)) return { tables: rows.map((r) => r.data!) };
  }
  return null;
}

export function outcomeExitCode(outcome: ExecutionOutcome): number {
  if (outcome.status !== 'SUCCEEDED') {
    // The state machine fails the execution when any table failed (so alarms fire); its Cause lists every table.
    const results = tableResults(outcome.cause ?? undefined) ?? tableResults(outcome.output);
    if (results && results.tables.length > 0) {
      const failed = results.tables.filter(isFailed);
      if (failed.length > 0 && failed.length < results.tables.length) return ExitCode.partial;
      const code = failed.map(codeOf).find((c) => c !== null);
      if (code !== undefined) return code;
    }
    return exitCodeOfErrorName(outcome.error) ?? ExitCode.data;
  }
  const results = tableResults(outcome.output);
  if (!results) return ExitCode.ok;
  const failed = results.tables.filter(isFailed);
  const status =
    results.status ??
    (failed.length === 0 ? 'success' : failed.length === results.tables.length ? 'failed' : 'partial_success');
  if (status === 'success') return ExitCode.ok;
  if (status === 'partial_success') return ExitCode.partial;
  return failed.map(codeOf).find((c) => c !== null) ?? ExitCode.data;
}

type Watermark = { ts: string | null; id: string | null };

/** One table of a remote run in the local run report's shape (what it cannot know — bytes, duration — is null). */
export interface RemoteTableReport {
  table: string;
  status: string;
  runId: string | null;
  rowsExtracted: number;
  rowsLoaded: number;
  files: number | null;
  bytes: null;
  watermarkBefore: Watermark | null;
  watermarkAfter: Watermark | null;
  durationMs: null;
  skipped: string | null;
  error: string | null;
  exitCode: number;
}

const WatermarkSchema = z.object({ ts: z.string().nullable(), id: z.string().nullable() });
const DetailSchema = z.looseObject({
  runId: z.string().optional(),
  run: z.looseObject({ runId: z.string().optional(), from: WatermarkSchema.optional() }).nullable().optional(),
  rowsExtracted: z.number().optional(),
  rowsLoaded: z.number().optional(),
  chunks: z.number().optional(),
  load: z.looseObject({ files: z.number().optional() }).nullable().optional(),
  watermarkBefore: WatermarkSchema.nullable().optional(),
  watermarkAfter: WatermarkSchema.nullable().optional(),
  watermark: WatermarkSchema.nullable().optional(),
  skipped: z.string().nullable().optional(),
});

/**
 * The per-table results of a finished execution, shaped like a local run's report so a script reading
 * `--json-output` (an Airflow task, say) reads both the same way.
 */
export function remoteTables(outcome: ExecutionOutcome): RemoteTableReport[] {
  const results =
    outcome.status === 'SUCCEEDED'
      ? tableResults(outcome.output)
      : (tableResults(outcome.cause ?? undefined) ?? tableResults(outcome.output));
  return (results?.tables ?? []).map((t) => {
    const d = DetailSchema.safeParse(t);
    const x = d.success ? d.data : {};
    const failed = isFailed(t);
    const error = typeof t.error === 'string' ? t.error : t.error ? `${t.error.Error}: ${t.error.Cause ?? ''}` : null;
    return {
      table: t.table ?? '?',
      status: failed ? 'failed' : (t.status ?? 'unknown'),
      runId: x.runId ?? x.run?.runId ?? null,
      rowsExtracted: x.rowsExtracted ?? 0,
      rowsLoaded: x.rowsLoaded ?? 0,
      files: x.load?.files ?? x.chunks ?? null,
      bytes: null,
      watermarkBefore: x.watermarkBefore ?? x.run?.from ?? null,
      watermarkAfter: x.watermarkAfter ?? x.watermark ?? null,
      durationMs: null,
      skipped: x.skipped ?? null,
      error: failed ? error : null,
      exitCode: failed ? (codeOf(t) ?? ExitCode.data) : ExitCode.ok,
    };
  });
}

/** The run's result in the local report's words. */
export function remoteResult(outcome: ExecutionOutcome, tables: RemoteTableReport[]): string {
  if (outcome.status === 'RUNNING') return 'running';
  const failed = tables.filter((t) => t.status === 'failed').length;
  if (tables.length === 0) return outcome.status === 'SUCCEEDED' ? 'success' : 'failed';
  return failed === 0 ? 'success' : failed === tables.length ? 'failed' : 'partial_success';
}
