/**
 * Plan: take the table's lease, read the committed watermark, fix the run's window and split it into chunks,
 * and record the run in the ledger. Nothing is read from the table's rows yet.
 *
 * Before planning it settles what earlier runs left behind: staged runs (extracted, not yet loaded) are loaded by
 * this run when they follow the committed watermark without a gap, and given up (marked failed, their window read
 * again) when they do not — so a crashed or force-cleaned staged run can neither strand rows nor let the watermark
 * pass a window nobody loaded. It also compares the source's columns with the last committed run's (added columns
 * re-read the table, incompatible ones stop before anything changes).
 */

import type { PipelineConfig, TableConfig } from '../domain/config.js';
import {
  type ChunkSpec,
  type PlanInput,
  PlanInputSchema,
  type PlanOutput,
  type RunContext,
  type RunOptions,
  type StagedChunks,
} from '../domain/manifests.js';
import { EMPTY_WATERMARK, type MappedColumn, type SourceColumn, type Watermark } from '../domain/model.js';
import { payloadBytes } from '../domain/quotas.js';
import { watermarkAfter } from '../domain/records.js';
import { getTableConfig } from '../engine/config/index.js';
import { DEFAULT_COPY_SLICES } from '../engine/copy-files.js';
import { deletesKey, newRunId, parseTableKey, pipelineTableParts, planKey, tableKey } from '../engine/naming.js';
import { planWindow, type WindowPlan } from '../engine/planner.js';
import { diffColumns, refuseIncompatible, schemaWarnings } from '../engine/schema-changes.js';
import { checkRunContextFits, checkStagedChunksFit, chooseChunkPath } from '../engine/state-budget.js';
import { strategyFor } from '../engine/strategies/index.js';
import { fromClause } from '../engine/strategies/sql/reads.js';
import { prepareCustomSql } from '../engine/strategies/sql/user-sql.js';
import type { Observation } from '../engine/strategies/strategy.js';
import { sameWatermark } from '../engine/strategies/timestamp-cursor.js';
import { advancesWatermark, buildTableContext, cursorColumns, type TableContext } from '../engine/table-context.js';
import { mapColumns } from '../engine/type-map.js';
import { detectDeletes } from '../engine/verify/deletes.js';
import { ConfigError } from '../errors.js';
import type { RunRecord, SourceReader, StateStore } from '../ports/index.js';
import type { Runtime } from '../ports/runtime.js';
import { NO_DEADLINE, type StepContext } from '../ports/step-context.js';
import { acquireTableLease } from './lease.js';

export interface TablePlan {
  pipeline: PipelineConfig;
  table: TableConfig;
  ctx: TableContext;
  tableKey: string;
  window: WindowPlan;
}

/**
 * Reads the table's schema and builds its context (shared by plan and --dry-run). A custom_query's own select list
 * defines the columns; the table's primary key still names the merge key (`primary_key:` overrides it).
 */
export async function describeForPlan(source: SourceReader, table: TableConfig): Promise<{ ctx: TableContext }> {
  const schema = await source.describeTable(table.sourceSchema, table.sourceTable);
  const rules = strategyFor(table.strategy);
  const sourceColumns = rules.readsCustomQuery
    ? await source.describeQuery(
        prepareCustomSql(table.customQuery ?? '', fromClause({ table }), `${table.name} custom_query`).sql,
      )
    : schema.columns;
  const columns: MappedColumn[] = mapColumns(table.name, sourceColumns);
  return { ctx: buildTableContext(table, columns, schema.primaryKey) };
}

/** The table's context on its own source connection, opened for it and closed after. */
async function tableContextOf(rt: Runtime, pipeline: PipelineConfig, table: TableConfig): Promise<TableContext> {
  const source = await rt.openSource(pipeline);
  try {
    return (await describeForPlan(source, table)).ctx;
  } finally {
    await source.close();
  }
}

/** A plan with nothing to run: the reason goes to the report. */
function nothingToDo(skipped: string, horizon: string | null, warnings: string[]): PlanOutput {
  return { run: null, chunks: [], chunkCount: 0, stagedChunks: null, skipped, horizon, warnings, rowsEstimate: null };
}

/**
 * Where the chunk list goes (engine/state-budget.ts): inline in the state when the count (`max_inline_chunks`), the
 * state's bytes and the table execution's worst-case history all allow it; else staged as a JSON array (what an
 * ItemReader reads) for the Distributed Map, each chunk a child execution. `input` is Plan's input as Step
 * Functions sent it (the state carries it beside the plan).
 */
async function placeChunks(
  rt: Runtime,
  p: PipelineConfig,
  input: unknown,
  planned: Omit<PlanOutput, 'chunks' | 'chunkCount' | 'stagedChunks'> & { run: RunContext },
  chunks: ChunkSpec[],
): Promise<PlanOutput> {
  const { run } = planned;
  checkRunContextFits(run.table, input, run);
  const inline = { ...planned, chunks, chunkCount: chunks.length, stagedChunks: null };
  const path = chooseChunkPath({
    input,
    output: inline,
    chunks: chunks.length,
    maxInlineChunks: p.processing.maxInlineChunks,
  });
  if (path.inline) return inline;
  const staging = await rt.staging(p);
  const key = planKey(staging.prefix, parseTableKey(run.tableKey), run.runId);
  const stagedChunks: StagedChunks = { bucket: p.staging.type === 's3' ? p.staging.bucket : null, key };
  const staged = { ...planned, chunks: [], chunkCount: chunks.length, stagedChunks };
  checkStagedChunksFit(run.table, chunks.length, payloadBytes(input) + payloadBytes(staged));
  await staging.putJson(key, chunks);
  return staged;
}

function keyOf(p: PipelineConfig, table: string): string {
  return tableKey(pipelineTableParts(p, table));
}

/** The staged runs this run may load, and those it must give up because they no longer follow the watermark. */
interface StagedRuns {
  chain: RunRecord[];
  broken: { run: RunRecord; why: string }[];
}

/**
 * Staged runs load in order only while each starts exactly where the chain so far (first: the committed
 * watermark) ends. A run that does not — its predecessor cleaned away, the watermark set by hand, a load-only run
 * that died — is given up, and so is everything that needed it; its window is read again instead. Without a
 * watermark (full_sync), only the newest counts.
 */
export function stagedChain(staged: readonly RunRecord[], committed: Watermark): StagedRuns {
  const out: StagedRuns = { chain: [], broken: [] };
  const cursorRuns = staged.filter((r) => r.advancesWatermark);
  const wholeTable = staged.filter((r) => !r.advancesWatermark);
  const newestWhole = wholeTable[wholeTable.length - 1];
  for (const r of wholeTable) {
    if (r !== newestWhole) out.broken.push({ run: r, why: `superseded by the newer staged run ${newestWhole?.runId}` });
  }
  if (newestWhole && cursorRuns.length === 0) out.chain.push(newestWhole);
  let expected = committed;
  for (const r of cursorRuns) {
    if (!sameWatermark(r.from, expected)) {
      out.broken.push({
        run: r,
        why: `its window starts at ${JSON.stringify(r.from)} but the data loaded so far ends at ${JSON.stringify(expected)} (an earlier staged run was removed, or the watermark was set by hand); its window is read again`,
      });
      continue;
    }
    out.chain.push(r);
    expected = watermarkAfter(r);
  }
  return out;
}

/** Marks staged runs this run will not load as failed, saying why, so nothing stays `staged` for ever. */
async function giveUp(state: StateStore, broken: StagedRuns['broken'], by: string): Promise<void> {
  const now = new Date().toISOString();
  for (const { run, why } of broken) {
    await state.updateRun(run.runId, {
      status: 'failed',
      error: `not loaded (seen by run ${by}): ${why}`,
      finishedAt: now,
      updatedAt: now,
    });
  }
}

/** The columns of the newest committed run: what the warehouse was last brought in line with. */
function committedColumns(runs: readonly RunRecord[]): SourceColumn[] | null {
  for (let i = runs.length - 1; i >= 0; i--) {
    const r = runs[i]!;
    if ((r.status === 'committed' || r.status === 'cleaned') && r.plan) return r.plan.columns;
  }
  return null;
}

/** What earlier plans saw of the source (id_only holds its watermark below ids that may still commit). */
function observations(runs: readonly RunRecord[]): Observation[] {
  return runs.flatMap((r) => (r.plan?.snapshotAt ? [{ snapshotAt: r.plan.snapshotAt, upper: r.to }] : []));
}

export function runContextOf(
  plan: TablePlan,
  runId: string,
  stagedRunIds: string[],
  options: Pick<RunOptions, 'backupOnly' | 'redshiftOnly' | 'resync'>,
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
    mode: options.resync ? 'replace' : ctx.mode,
    from: plan.window.from,
    to: plan.window.to,
    next: plan.window.next,
    kind: options.resync ? 'resync' : 'sync',
    advancesWatermark: advancesWatermark(ctx),
    columns: ctx.columns,
    primaryKey: ctx.pk.map((c) => c.target),
    cursorColumns: cursorColumns(ctx).map((c) => c.target),
    target: { schema: pipeline.target.schema, name: table.targetName.toLowerCase() },
    stagedRunIds,
    backupOnly: options.backupOnly,
    redshiftOnly: options.redshiftOnly,
    customUpperTimestamp: plan.window.upperTimestamp,
    deletes: null,
    verify: false,
    adhoc,
  };
}

/**
 * Whether the state machine verifies the table after this run commits: `verify_every` is set and that long (or
 * that many committed runs) has passed since the table's last verification.
 */
async function verifyDue(
  rt: Runtime,
  pipeline: PipelineConfig,
  table: TableConfig,
  runs: readonly RunRecord[],
): Promise<boolean> {
  const every = table.verifyEvery;
  if (!every || strategyFor(table.strategy).readsCustomQuery) return false;
  const [last] = await (await rt.state(pipeline)).listVerifications(keyOf(pipeline, table.name), 1);
  if (!last) return true;
  if ('seconds' in every) return Date.now() - Date.parse(last.at) >= every.seconds * 1000;
  const since = runs.filter((r) => r.status === 'committed' && (r.finishedAt ?? '') > last.at).length;
  return since + 1 >= every.runs;
}

/** Whether this run looks for deletes: the table asks for it and `delete_detection_every` has passed. */
function deletesDue(table: TableConfig, runs: readonly RunRecord[], now: number): boolean {
  if (table.deleteDetectionEverySeconds === null) return true;
  for (let i = runs.length - 1; i >= 0; i--) {
    const r = runs[i]!;
    const at = r.plan?.deletesCheckedAt;
    if (at && (r.status === 'committed' || r.status === 'cleaned')) {
      return now - Date.parse(at) >= table.deleteDetectionEverySeconds * 1000;
    }
  }
  return true;
}

/**
 * The keys deleted at the source since the warehouse last saw them, when the table carries deletes (null: not
 * looked for this run). A replace carries deletes by itself; a table without a key cannot name them.
 */
async function findDeletes(
  rt: Runtime,
  pipeline: PipelineConfig,
  table: TableConfig,
  ctx: TableContext,
  source: SourceReader,
  runs: readonly RunRecord[],
): Promise<string[][] | null> {
  if (!table.deleteDetection || ctx.pk.length === 0 || ctx.mode === 'replace') return null;
  if (!deletesDue(table, runs, Date.now())) return null;
  const warehouse = await rt.warehouse(pipeline);
  const target = { schema: pipeline.target.schema, name: table.targetName.toLowerCase() };
  return (await detectDeletes({ source, warehouse }, ctx, target)).keys;
}

/** Writes the keys a run's Load deletes to staging and says where (null when there are none). */
async function stageDeletes(
  rt: Runtime,
  pipeline: PipelineConfig,
  table: TableConfig,
  run: RunContext,
  keys: readonly string[][] | null,
): Promise<RunContext['deletes']> {
  if (!keys || keys.length === 0 || !table.deleteDetection) return null;
  const staging = await rt.staging(pipeline);
  const key = deletesKey(staging.prefix, parseTableKey(run.tableKey), run.runId);
  await staging.putJson(key, keys);
  return { key, count: keys.length, mode: table.deleteDetection };
}

/**
 * The ledger entry a plan opens for its run; `planStartedAt` is when the Plan step began (its time goes to the
 * run's step times).
 */
function newRunRecord(
  run: RunContext,
  status: RunRecord['status'],
  plannedChunks: number,
  window: { snapshotAt: string | null; nullCursorRows: number | null },
  warnings: string[],
  planStartedAt: string,
  deletesCheckedAt: string | null = null,
  execution: string | null = null,
): RunRecord {
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
    plan: {
      kind: run.kind,
      next: run.next,
      snapshotAt: window.snapshotAt,
      columns: run.columns.map((c) => c.source),
      nullCursorRows: window.nullCursorRows,
      warnings,
      deletesCheckedAt,
      execution,
    },
    steps: { plan: { startedAt: planStartedAt, finishedAt: now } },
  };
}

function nullCursorWarning(ctx: TableContext, rows: number | null): string[] {
  if (!rows || !ctx.ts) return [];
  return [`${rows} row(s) have a NULL ${ctx.ts.source.name}: read again by every run (give them a value to stop that)`];
}

export async function plan(input: unknown, rt: Runtime, _step: StepContext = NO_DEADLINE): Promise<PlanOutput> {
  const planStartedAt = new Date().toISOString();
  const req = PlanInputSchema.parse(input);
  const { options } = req;
  if (options.backupOnly && options.redshiftOnly) {
    throw new ConfigError('--backup-only and --redshift-only exclude each other');
  }
  if (options.resync && (options.backupOnly || options.redshiftOnly || options.limit || options.maxChunks)) {
    throw new ConfigError(
      'resync reads and replaces the whole table: it takes no --backup-only, --redshift-only, --limit or --max-chunks',
    );
  }
  const pipeline = rt.pipeline(req.pipeline, req.adhoc);
  const table = getTableConfig(pipeline, req.table);
  const key = keyOf(pipeline, table.name);
  const state = await rt.state(pipeline);
  const runId = newRunId();
  await acquireTableLease(state, key, runId, pipeline.processing.leaseSeconds, rt.leaseOwner, rt.processes);
  try {
    const runs = await state.listRuns(key);
    const committed = (await state.getWatermark(key))?.watermark ?? EMPTY_WATERMARK;
    const staged = stagedChain(
      runs.filter((r) => r.status === 'staged'),
      committed,
    );
    if (options.redshiftOnly) {
      await giveUp(state, staged.broken, runId);
      return await planLoadOnly(rt, req, table, key, runId, staged.chain, [], committed, null, planStartedAt);
    }
    if (options.repair) {
      return await planRepair(rt, input, req, table, key, runId, committed, options.repair, planStartedAt);
    }

    const source = await rt.openSource(pipeline);
    let tablePlan: TablePlan;
    const warnings: string[] = [];
    let chain = staged.chain;
    // Keys deleted at the source (null: not looked for), and when they were looked for.
    let deleted: string[][] | null = null;
    let deletesCheckedAt: string | null = null;
    try {
      const { ctx } = await describeForPlan(source, table);
      const diff = diffColumns(
        committedColumns(runs),
        ctx.columns.map((c) => c.source),
      );
      if (!options.resync) refuseIncompatible(table.name, diff, Boolean(table.history));
      warnings.push(...schemaWarnings(diff, table.onColumnDrop));
      // A new column (or a resync) needs every row again: staged runs without it are given up, not loaded.
      const fromScratch = options.resync || diff.added.length > 0;
      if (fromScratch && chain.length > 0) {
        staged.broken.push(
          ...chain.map((run) => ({ run, why: `superseded: run ${runId} reads the whole table again` })),
        );
        chain = [];
      }
      const last = chain[chain.length - 1];
      const from = fromScratch ? EMPTY_WATERMARK : last ? watermarkAfter(last) : committed;
      const window = await planWindow(source, ctx, {
        from,
        options,
        timeZone: pipeline.source.timeZone,
        history: observations(runs),
        sourceUser: pipeline.source.username,
        ...(pipeline.target.type === 'redshift'
          ? { copySlices: pipeline.target.copySlices ?? DEFAULT_COPY_SLICES }
          : {}),
      });
      warnings.push(...window.warnings, ...nullCursorWarning(ctx, window.nullCursorRows));
      tablePlan = { pipeline, table, ctx, tableKey: key, window };
      // A backup-only run loads nothing, so it cannot carry deletes: the next loading run looks for them.
      if (!options.backupOnly) {
        const checkedAt = new Date().toISOString();
        deleted = await findDeletes(rt, pipeline, table, ctx, source, runs);
        if (deleted !== null) deletesCheckedAt = checkedAt;
        if (deleted && deleted.length > 0) warnings.push(`${deleted.length} row(s) deleted at the source`);
      }
    } finally {
      await source.close();
    }
    await giveUp(state, staged.broken, runId);
    const { window } = tablePlan;
    if (window.skipped !== null) {
      // Nothing new at the source, but staged runs or deletes wait: load them now rather than leave the warehouse
      // behind.
      if ((chain.length > 0 || (deleted?.length ?? 0) > 0) && !options.backupOnly) {
        return await planLoadOnly(
          rt,
          req,
          table,
          key,
          runId,
          chain,
          warnings,
          committed,
          { keys: deleted, checkedAt: deletesCheckedAt },
          planStartedAt,
        );
      }
      if (deletesCheckedAt !== null) await recordDeleteCheck(state, runId, tablePlan, deletesCheckedAt, planStartedAt);
      await state.releaseLease(key, runId);
      return nothingToDo(window.skipped, window.horizon, warnings);
    }
    const stagedIds = tablePlan.ctx.mode === 'replace' || options.backupOnly ? [] : chain.map((r) => r.runId);
    const run = runContextOf(tablePlan, runId, stagedIds, options, req.adhoc);
    run.deletes = await stageDeletes(rt, pipeline, table, run, deleted);
    run.verify = !options.backupOnly && (await verifyDue(rt, pipeline, table, runs));
    const placed = await placeChunks(
      rt,
      pipeline,
      input,
      { run, skipped: null, horizon: window.horizon, warnings, rowsEstimate: window.rowsEstimate },
      window.chunks,
    );
    await state.putRun(
      newRunRecord(
        run,
        'extracting',
        window.chunks.length,
        window,
        warnings,
        planStartedAt,
        deletesCheckedAt,
        req.execution,
      ),
    );
    return placed;
  } catch (e) {
    await state.releaseLease(key, runId);
    throw e;
  }
}

/** Loads the staged chain, oldest first, without extracting, and commits where its newest run ends. */
async function planLoadOnly(
  rt: Runtime,
  req: PlanInput,
  table: TableConfig,
  key: string,
  runId: string,
  chain: RunRecord[],
  warnings: string[],
  committed: Watermark,
  deletes: { keys: string[][] | null; checkedAt: string | null } | null,
  planStartedAt: string,
): Promise<PlanOutput> {
  const pipeline = rt.pipeline(req.pipeline, req.adhoc);
  const { adhoc } = req;
  const state = await rt.state(pipeline);
  const deleteCount = deletes?.keys?.length ?? 0;
  if (chain.length === 0 && deleteCount === 0) {
    await state.releaseLease(key, runId);
    return nothingToDo('no staged runs waiting to be loaded', null, warnings);
  }
  const ctx = await tableContextOf(rt, pipeline, table);
  const first = chain[0];
  const last = chain[chain.length - 1];
  // Deletes alone (no staged run): a run of no rows that leaves the watermark where it is.
  const window: WindowPlan = {
    from: first ? first.from : committed,
    to: last ? last.to : committed,
    next: last ? watermarkAfter(last) : committed,
    chunks: [],
    skipped: null,
    upperTimestamp: null,
    copyLayout: null,
    snapshotAt: last?.plan?.snapshotAt ?? new Date().toISOString(),
    nullCursorRows: null,
    horizon: null,
    warnings: [],
    rowsEstimate: null,
    chunkSizing: null,
  };
  const run = runContextOf(
    { pipeline, table, ctx, tableKey: key, window },
    runId,
    chain.map((r) => r.runId),
    { backupOnly: false, redshiftOnly: true, resync: false },
    adhoc,
  );
  run.deletes = await stageDeletes(rt, pipeline, table, run, deletes?.keys ?? null);
  const notes =
    chain.length > 0
      ? [`loading ${chain.length} staged run(s) left by earlier runs: ${chain.map((r) => r.runId).join(', ')}`]
      : [];
  await state.putRun(
    newRunRecord(
      run,
      'staged',
      0,
      { snapshotAt: null, nullCursorRows: null },
      [...warnings, ...notes],
      planStartedAt,
      deletes?.checkedAt ?? null,
      req.execution,
    ),
  );
  return {
    run,
    chunks: [],
    chunkCount: 0,
    stagedChunks: null,
    skipped: null,
    horizon: null,
    warnings: [...warnings, ...notes],
    rowsEstimate: null,
  };
}

/**
 * A check for deletes that found none in a run with nothing else to do: recorded as a committed run of no rows, so
 * `delete_detection_every` counts from it and `status` shows it.
 */
async function recordDeleteCheck(
  state: StateStore,
  runId: string,
  plan: TablePlan,
  checkedAt: string,
  planStartedAt: string,
): Promise<void> {
  const committed = plan.window.from;
  const window = { ...plan.window, to: committed, next: committed, chunks: [] };
  const run = runContextOf(
    { ...plan, window },
    runId,
    [],
    { backupOnly: false, redshiftOnly: false, resync: false },
    undefined,
  );
  await state.putRun({
    ...newRunRecord(run, 'committed', 0, { snapshotAt: checkedAt, nullCursorRows: null }, [], planStartedAt, checkedAt),
    advancesWatermark: false,
    rowsLoaded: 0,
    finishedAt: checkedAt,
  });
}

/**
 * `verify --repair`: the differing key ranges read again, up to the committed watermark, and merged over the
 * warehouse's rows — the lease, the extract and the load of any run; the watermark stays where it is. Keys the
 * source no longer has are deleted where the table carries deletes.
 */
async function planRepair(
  rt: Runtime,
  input: unknown,
  req: PlanInput,
  table: TableConfig,
  key: string,
  runId: string,
  committed: Watermark,
  repair: NonNullable<RunOptions['repair']>,
  planStartedAt: string,
): Promise<PlanOutput> {
  const pipeline = rt.pipeline(req.pipeline, req.adhoc);
  const { adhoc, execution } = req;
  const ctx = await tableContextOf(rt, pipeline, table);
  if (ctx.pk.length === 0 || ctx.mode === 'replace' || ctx.strategy.readsCustomQuery) {
    throw new ConfigError(
      `${table.name}: a repair merges rows by key, which ${ctx.pk.length === 0 ? 'a table without a primary key' : `${table.strategy}${ctx.mode === 'replace' ? ' replace' : ''}`} cannot do`,
      { suggestion: `\`highwater resync -t ${table.name}\` rebuilds the table instead.` },
    );
  }
  const window: WindowPlan = {
    from: EMPTY_WATERMARK,
    to: committed,
    next: committed,
    chunks: repair.ranges.map((r, index) => ({ index, lower: r.lower, upper: r.upper })),
    skipped: null,
    upperTimestamp: null,
    copyLayout: null,
    snapshotAt: new Date().toISOString(),
    nullCursorRows: null,
    horizon: null,
    warnings: [],
    rowsEstimate: null,
    chunkSizing: null,
  };
  const plan: TablePlan = { pipeline, table, ctx, tableKey: key, window };
  const run: RunContext = {
    ...runContextOf(plan, runId, [], { backupOnly: false, redshiftOnly: false, resync: false }, adhoc),
    kind: 'repair',
    mode: 'merge',
    advancesWatermark: false,
  };
  run.deletes = await stageDeletes(rt, pipeline, table, run, repair.deleteKeys);
  const warnings = [`repairing ${repair.ranges.length} key range(s) that verify found different`];
  if (repair.deleteKeys.length > 0 && !table.deleteDetection) {
    warnings.push(
      `${repair.deleteKeys.length} row(s) the source no longer has stay in the warehouse: the table does not carry deletes (delete_detection)`,
    );
  }
  const placed = await placeChunks(
    rt,
    pipeline,
    input,
    { run, skipped: null, horizon: null, warnings, rowsEstimate: null },
    window.chunks,
  );
  const state = await rt.state(pipeline);
  await state.putRun(
    newRunRecord(run, 'extracting', window.chunks.length, window, warnings, planStartedAt, null, execution),
  );
  return placed;
}
