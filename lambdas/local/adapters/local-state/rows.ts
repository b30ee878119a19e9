/**
 * Row ↔ record mapping for the state file. Rows are parsed with zod on the way out, so a damaged or hand-edited
 * file fails loudly with the table named instead of handing the engine a half-typed record.
 */
import { z } from 'zod';
import { RUN_STATUSES, runPlanSchema, runStepsSchema } from '../../../domain/records.js';
import { DataError } from '../../../errors.js';
import type { ChunkRecord, Lease, LeaseOwner, RunRecord, WatermarkRecord } from '../../../ports/index.js';

const flag = z.union([z.literal(0), z.literal(1)]).transform((v) => v === 1);
const count = z.number().int().nonnegative();
const text = z.string();
const nullableText = z.string().nullable();

const watermarkRowSchema = z.object({
  table_key: text,
  ts: nullableText,
  id: nullableText,
  updated_at: text,
  last_run_id: nullableText,
  manual: flag,
});

const leaseRowSchema = z
  .object({
    table_key: text,
    holder: text,
    expires_at: text,
    owner_host: nullableText,
    owner_pid: z.number().int().positive().nullable(),
    owner_start_time: nullableText,
    owner_pid_space: nullableText,
  })
  .refine((r) => (r.owner_host === null) === (r.owner_pid === null), {
    message: 'owner_host and owner_pid must both be set or both be null',
  });

const runRowSchema = z.object({
  run_id: text,
  table_key: text,
  pipeline: text,
  table_name: text,
  strategy: text,
  status: z.enum(RUN_STATUSES),
  from_ts: nullableText,
  from_id: nullableText,
  to_ts: nullableText,
  to_id: nullableText,
  advances_watermark: flag,
  planned_chunks: count,
  rows_extracted: count,
  rows_loaded: count.nullable(),
  bytes: count,
  started_at: text,
  updated_at: text,
  finished_at: nullableText,
  error: nullableText,
  cleaned_at: nullableText,
  plan_json: nullableText,
  steps_json: nullableText,
});

const chunkRowSchema = z.object({
  idx: count,
  part: count,
  key: text,
  rows: count,
  bytes: count,
  after_json: nullableText,
  through_json: nullableText,
  started_at: nullableText,
  finished_at: nullableText,
  truncated_json: nullableText.optional(),
});
const keyJsonSchema = z.array(z.string()).min(1);
const truncatedSchema = z.record(z.string(), count);

function parseRow<S extends z.ZodType>(schema: S, table: string, row: unknown): z.output<S> {
  const parsed = schema.safeParse(row);
  if (!parsed.success) {
    throw new DataError(`state file: malformed row in table ${table}: ${z.prettifyError(parsed.error)}`);
  }
  return parsed.data;
}

export function watermarkFromRow(row: unknown): WatermarkRecord {
  const r = parseRow(watermarkRowSchema, 'watermarks', row);
  return {
    tableKey: r.table_key,
    watermark: { ts: r.ts, id: r.id },
    updatedAt: r.updated_at,
    lastRunId: r.last_run_id,
    manual: r.manual,
  };
}

export function leaseFromRow(row: unknown): Lease {
  const r = parseRow(leaseRowSchema, 'leases', row);
  const owner: LeaseOwner | null =
    r.owner_host === null || r.owner_pid === null
      ? null
      : { host: r.owner_host, pid: r.owner_pid, startTime: r.owner_start_time, pidSpace: r.owner_pid_space };
  return { tableKey: r.table_key, holder: r.holder, expiresAt: r.expires_at, owner };
}

/** Parameters of a lease row, in column order (table_key, holder, expires_at, owner_*). */
export function leaseToParams(
  lease: Lease,
): [string, string, string, string | null, number | null, string | null, string | null] {
  const o = lease.owner;
  return [
    lease.tableKey,
    lease.holder,
    lease.expiresAt,
    o?.host ?? null,
    o?.pid ?? null,
    o?.startTime ?? null,
    o?.pidSpace ?? null,
  ];
}

function keyFromJson(runId: string, text: string): string[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    value = undefined;
  }
  const parsed = keyJsonSchema.safeParse(value);
  if (!parsed.success)
    throw new DataError(`state file: a chunk key bound of run ${runId} is not a JSON list of strings`);
  return parsed.data;
}

/** A chunk row; the part fields appear only for a chunk read in parts (ChunkRecord leaves them out otherwise). */
export function chunkFromRow(runId: string, row: unknown): ChunkRecord {
  const r = parseRow(chunkRowSchema, 'chunks', row);
  const c: ChunkRecord = { index: r.idx, key: r.key, rows: r.rows, bytes: r.bytes };
  if (r.part !== 0) c.part = r.part;
  if (r.after_json !== null) c.after = keyFromJson(runId, r.after_json);
  if (r.through_json !== null) c.through = keyFromJson(runId, r.through_json);
  // Absent, not null, on chunks recorded before extract times were kept: a record reads back as it was written.
  if (r.started_at !== null) c.startedAt = r.started_at;
  if (r.finished_at !== null) c.finishedAt = r.finished_at;
  if (r.truncated_json) c.truncated = parseRow(truncatedSchema, 'chunks', JSON.parse(r.truncated_json));
  return c;
}

/**
 * Positional parameters of a chunk row: run_id, idx, part, key, rows, bytes, after_json, through_json, started_at,
 * finished_at, truncated_json.
 */
export function chunkToParams(runId: string, c: ChunkRecord): unknown[] {
  const truncated = c.truncated && Object.keys(c.truncated).length > 0 ? JSON.stringify(c.truncated) : null;
  return [
    runId,
    c.index,
    c.part ?? 0,
    c.key,
    c.rows,
    c.bytes,
    c.after === undefined ? null : JSON.stringify(c.after),
    c.through === undefined ? null : JSON.stringify(c.through),
    c.startedAt ?? null,
    c.finishedAt ?? null,
    truncated,
  ];
}

export function runFromRow(row: unknown, chunks: ChunkRecord[]): RunRecord {
  const r = parseRow(runRowSchema, 'runs', row);
  return {
    runId: r.run_id,
    tableKey: r.table_key,
    pipeline: r.pipeline,
    table: r.table_name,
    strategy: r.strategy,
    status: r.status,
    from: { ts: r.from_ts, id: r.from_id },
    to: { ts: r.to_ts, id: r.to_id },
    advancesWatermark: r.advances_watermark,
    chunks,
    plannedChunks: r.planned_chunks,
    rowsExtracted: r.rows_extracted,
    rowsLoaded: r.rows_loaded,
    bytes: r.bytes,
    startedAt: r.started_at,
    updatedAt: r.updated_at,
    finishedAt: r.finished_at,
    error: r.error,
    cleanedAt: r.cleaned_at,
    plan: r.plan_json === null ? null : parsePlan(r.run_id, r.plan_json),
    ...(r.steps_json === null ? {} : { steps: parseSteps(r.run_id, r.steps_json) }),
  };
}

function parseJson(runId: string, what: string, json: string): unknown {
  try {
    return JSON.parse(json);
  } catch {
    throw new DataError(`state file: run ${runId} has ${what} that is not JSON`);
  }
}

function parsePlan(runId: string, json: string): RunRecord['plan'] {
  return parseRow(runPlanSchema, 'runs.plan_json', parseJson(runId, 'a plan', json));
}

function parseSteps(runId: string, json: string): NonNullable<RunRecord['steps']> {
  return parseRow(runStepsSchema, 'runs.steps_json', parseJson(runId, 'step times', json));
}

/** Named parameters for the runs table (chunks are written separately). */
export function runToParams(run: RunRecord): Record<string, string | number | null> {
  return {
    run_id: run.runId,
    table_key: run.tableKey,
    pipeline: run.pipeline,
    table_name: run.table,
    strategy: run.strategy,
    status: run.status,
    from_ts: run.from.ts,
    from_id: run.from.id,
    to_ts: run.to.ts,
    to_id: run.to.id,
    advances_watermark: run.advancesWatermark ? 1 : 0,
    planned_chunks: run.plannedChunks,
    rows_extracted: run.rowsExtracted,
    rows_loaded: run.rowsLoaded,
    bytes: run.bytes,
    started_at: run.startedAt,
    updated_at: run.updatedAt,
    finished_at: run.finishedAt,
    error: run.error,
    cleaned_at: run.cleanedAt,
    plan_json: run.plan === null ? null : JSON.stringify(run.plan),
    steps_json: run.steps === undefined ? null : JSON.stringify(run.steps),
  };
}
