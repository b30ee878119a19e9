/**
 * Plan: take the table's lease, read the committed watermark, fix the run's window and split it into chunks,
 * and record the run in the ledger. Nothing is read from the table's rows yet.
 */
import { getTableConfig } from '../engine/config/index.js';
import type { PipelineConfig, TableConfig } from '../engine/config/types.js';
import {
  type ChunkSpec,
  PlanInputSchema,
  type PlanOutput,
  type RunContext,
  type StagedChunks,
} from '../engine/manifests.js';
import { EMPTY_WATERMARK, type MappedColumn, type Watermark } from '../engine/model.js';
import { newRunId, parseTableKey, pipelineTableParts, planKey, tableKey } from '../engine/naming.js';
import { planWindow, type WindowPlan } from '../engine/planner.js';
import { advancesWatermark, buildTableContext, cursorColumns, type TableContext } from '../engine/table-context.js';
import { mapColumns } from '../engine/type-map.js';
import type { RunRecord, SourceReader, StateStore } from '../ports/index.js';
import { ConfigError } from '../runtime/errors.js';
import type { Runtime } from '../runtime/runtime-core.js';
import { acquireTableLease } from './lease.js';

export interface TablePlan {
  pipeline: PipelineConfig;
  table: TableConfig;
  ctx: TableContext;
  tableKey: string;
  window: WindowPlan;
}

/** Reads the table's schema and builds its context (shared by plan and --dry-run). */
export async function describeForPlan(source: SourceReader, table: TableConfig): Promise<{ ctx: TableContext }> {
  const schema = await source.describeTable(table.sourceSchema, table.sourceTable);
  const columns: MappedColumn[] = mapColumns(table.name, schema.columns);
  return { ctx: buildTableContext(table, columns, schema.primaryKey) };
}

/** A plan with nothing to run: the reason goes to the report. */
function nothingToDo(skipped: string): PlanOutput {
  return { run: null, chunks: [], chunkCount: 0, stagedChunks: null, skipped };
}

/**
 * Up to `max_inline_chunks` the chunk list travels in the state payload; above it, it is staged as a JSON array
 * (the shape an ItemReader reads) and the state machine takes its Distributed Map path.
 */
async function placeChunks(
  rt: Runtime,
  p: PipelineConfig,
  run: RunContext,
  chunks: ChunkSpec[],
): Promise<Pick<PlanOutput, 'chunks' | 'chunkCount' | 'stagedChunks'>> {
  if (chunks.length <= p.processing.maxInlineChunks) return { chunks, chunkCount: chunks.length, stagedChunks: null };
  const key = planKey(rt.stagingPrefix(p), parseTableKey(run.tableKey), run.runId);
  await rt.staging(p).putJson(key, chunks);
  const stagedChunks: StagedChunks = { bucket: p.staging.type === 's3' ? p.staging.bucket : null, key };
  return { chunks: [], chunkCount: chunks.length, stagedChunks };
}

function keyOf(p: PipelineConfig, table: string): string {
  return tableKey(pipelineTableParts(p, table));
}

/** The run's lower bound: the committed watermark, or where the newest staged (--backup-only) run ended. */
async function startingPoint(state: StateStore, key: string, staged: RunRecord[]): Promise<Watermark> {
  const last = staged[staged.length - 1];
  if (last?.advancesWatermark) return last.to;
  return (await state.getWatermark(key))?.watermark ?? EMPTY_WATERMARK;
}

export function runContextOf(
  plan: TablePlan,
  runId: string,
  stagedRunIds: string[],
  options: { backupOnly: boolean; redshiftOnly: boolean },
  adhoc: RunContext['adhoc'],
): RunContext {
  const { ctx, pipeline, table } = plan;
  return {
    runId,
    holder: runId,
    pipeline: pipeline.name,
    table: table.name,
    tableKey: plan.tableKey,
    strategy: table.strategy,
    mode: ctx.mode,
    from: plan.window.from,
    to: plan.window.to,
    advancesWatermark: advancesWatermark(ctx),
    columns: ctx.columns,
    primaryKey: ctx.pk.map((c) => c.target),
    cursorColumns: cursorColumns(ctx).map((c) => c.target),
    target: { schema: pipeline.target.schema, name: table.targetName.toLowerCase() },
    stagedRunIds,
    backupOnly: options.backupOnly,
    redshiftOnly: options.redshiftOnly,
    customUpperTimestamp: plan.window.upperTimestamp,
    adhoc,
  };
}

/** The ledger entry a plan opens for its run. */
function newRunRecord(run: RunContext, status: RunRecord['status'], plannedChunks: number): RunRecord {
  const now = new Date().toISOString();
  return {
    runId: run.runId,
    tableKey: run.tableKey,
    pipeline: run.pipeline,
    table: run.table,
    strategy: run.strategy,
    status,
    from: run.from,
    to: run.to,
    advancesWatermark: run.advancesWatermark,
    chunks: [],
    plannedChunks,
    rowsExtracted: 0,
    rowsLoaded: null,
    bytes: 0,
    startedAt: now,
    updatedAt: now,
    finishedAt: null,
    error: null,
    cleanedAt: null,
  };
}

export async function plan(input: unknown, rt: Runtime): Promise<PlanOutput> {
  const req = PlanInputSchema.parse(input);
  if (req.options.backupOnly && req.options.redshiftOnly) {
    throw new ConfigError('--backup-only and --redshift-only exclude each other');
  }
  const pipeline = rt.pipeline(req.pipeline, req.adhoc);
  const table = getTableConfig(pipeline, req.table);
  if (table.deleteDetection) {
    throw new ConfigError(`${table.name}: delete_detection is not supported yet; remove it or set it to false`);
  }
  const key = keyOf(pipeline, table.name);
  const state = rt.state(pipeline);
  const runId = newRunId();
  await acquireTableLease(state, key, runId, pipeline.processing.leaseSeconds, rt.leaseOwner);
  try {
    const staged = await state.listRuns(key, { status: ['staged'] });
    if (req.options.redshiftOnly) return await planLoadOnly(rt, pipeline, table, key, runId, staged, req.adhoc);

    const source = await rt.openSource(pipeline);
    let tablePlan: TablePlan;
    try {
      const { ctx } = await describeForPlan(source, table);
      const from = await startingPoint(state, key, staged);
      const window = await planWindow(source, ctx, from, req.options);
      tablePlan = { pipeline, table, ctx, tableKey: key, window };
    } finally {
      await source.close();
    }
    if (tablePlan.window.skipped !== null) {
      await state.releaseLease(key, runId);
      return nothingToDo(tablePlan.window.skipped);
    }
    // full_sync replaces the table: older staged runs are superseded, not loaded.
    const stagedIds = table.strategy === 'full_sync' || req.options.backupOnly ? [] : staged.map((r) => r.runId);
    const run = runContextOf(tablePlan, runId, stagedIds, req.options, req.adhoc);
    await state.putRun(newRunRecord(run, 'extracting', tablePlan.window.chunks.length));
    return { run, ...(await placeChunks(rt, pipeline, run, tablePlan.window.chunks)), skipped: null };
  } catch (e) {
    await state.releaseLease(key, runId);
    throw e;
  }
}

/** --redshift-only: no extraction; this run loads the staged runs, oldest first, and commits the newest window. */
async function planLoadOnly(
  rt: Runtime,
  pipeline: PipelineConfig,
  table: TableConfig,
  key: string,
  runId: string,
  staged: RunRecord[],
  adhoc: RunContext['adhoc'],
): Promise<PlanOutput> {
  const state = rt.state(pipeline);
  if (staged.length === 0) {
    await state.releaseLease(key, runId);
    return nothingToDo('no staged runs waiting to be loaded');
  }
  const source = await rt.openSource(pipeline);
  let ctx: TableContext;
  try {
    ctx = (await describeForPlan(source, table)).ctx;
  } finally {
    await source.close();
  }
  const toLoad = table.strategy === 'full_sync' ? staged.slice(-1) : staged;
  const first = toLoad[0]!;
  const last = toLoad[toLoad.length - 1]!;
  const window: WindowPlan = { from: first.from, to: last.to, chunks: [], skipped: null, upperTimestamp: null };
  const run = runContextOf(
    { pipeline, table, ctx, tableKey: key, window },
    runId,
    toLoad.map((r) => r.runId),
    { backupOnly: false, redshiftOnly: true },
    adhoc,
  );
  await state.putRun(newRunRecord(run, 'staged', 0));
  return { run, chunks: [], chunkCount: 0, stagedChunks: null, skipped: null };
}
