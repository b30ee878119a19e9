/**
 * Load: one warehouse transaction for the run's files (and those of earlier --backup-only runs it picks up):
 * create/extend the target table, stage, check the staged count against the ledger, dedupe by key keeping the
 * newest cursor, delete+insert (or swap for full_sync replace). The ledger, not the step payload, says which
 * files belong to the run, so a payload can never smuggle in a stray file.
 */
import { z } from 'zod';
import {
  CHUNKS_IN_LEDGER,
  type ChunkResult,
  LoadInputSchema,
  type LoadOutput,
  type RunContext,
} from '../domain/manifests.js';
import type { MappedColumn } from '../domain/model.js';
import { byChunkAndPart, checkChunkParts } from '../engine/chunk-parts.js';
import { manifestKey } from '../engine/naming.js';
import type { TableContext } from '../engine/table-context.js';
import { mapColumns } from '../engine/type-map.js';
import { CountMismatchError, DataError } from '../errors.js';
import type { ChunkRecord, LoadDeletes, LoadHistory, RunRecord, Staging } from '../ports/index.js';
import type { Runtime } from '../ports/runtime.js';
import { NO_DEADLINE, type StepContext } from '../ports/step-context.js';
import { withLoadClaim } from './load-claim.js';
import { runScope } from './shared.js';

/**
 * Every planned chunk is in the ledger exactly once, whole (its parts contiguous: engine/chunk-parts.ts), and
 * (inline Map) agrees with what the extract steps reported: one result per planned chunk, whose rows count every
 * part. After a Distributed Map there is no payload to compare: the ledger's own check is the check.
 */
function checkExtracted(table: string, current: RunRecord, reported: ChunkResult[] | typeof CHUNKS_IN_LEDGER): void {
  const ledger = checkChunkParts(current.chunks, current.plannedChunks);
  if (!ledger.ok) throw new CountMismatchError(`${table} run ${current.runId}: ${ledger.problem}`);
  if (reported === CHUNKS_IN_LEDGER) return;
  const { chunks, rows } = ledger.summary;
  const payloadRows = reported.reduce((n, c) => n + c.rows, 0);
  if (chunks !== reported.length || rows !== payloadRows) {
    throw new CountMismatchError(
      `${table} run ${current.runId}: the ledger has ${chunks} chunks / ${rows} rows, the extract steps reported ${reported.length} / ${payloadRows}`,
    );
  }
}

/** Values cut to fit by `oversize: truncate`, per column, over every file loaded. */
function truncatedIn(files: readonly ChunkRecord[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const f of files)
    for (const [column, n] of Object.entries(f.truncated ?? {})) out[column] = (out[column] ?? 0) + n;
  return out;
}

const StagedDeletesSchema = z.array(z.array(z.string()));

/** The keys Plan staged for this run to delete, checked to be what Plan wrote. */
async function stagedDeletes(staging: Staging, run: RunContext): Promise<LoadDeletes | undefined> {
  if (!run.deletes) return undefined;
  const parsed = StagedDeletesSchema.safeParse(await staging.getJson(run.deletes.key));
  if (!parsed.success || parsed.data.length !== run.deletes.count) {
    throw new DataError(
      `${run.table} run ${run.runId}: the staged deletes ${run.deletes.key} are missing or not the ${run.deletes.count} keys Plan found`,
    );
  }
  return { keys: parsed.data, mode: run.deletes.mode };
}

/**
 * A history table's load (docs/history.md): versions opened or closed by this load carry the run's own timestamp,
 * the instant its plan recorded it (the same for every row, and for a rerun of the same run); full_sync and resync,
 * which read the whole table, also close the keys they did not read.
 */
function historyOf(ctx: TableContext, current: RunRecord, run: RunContext): { history?: LoadHistory } {
  const history = ctx.table.history;
  if (!history) return {};
  const ignoredColumns = history.ignoredColumns.map((name) => {
    const c = ctx.columns.find((col) => col.source.name.toLowerCase() === name.toLowerCase());
    return c?.target ?? name;
  });
  return {
    history: {
      validFrom: current.startedAt,
      ignoredColumns,
      closeUnread: ctx.table.strategy === 'full_sync' || run.kind === 'resync',
    },
  };
}

export async function load(input: unknown, rt: Runtime, step: StepContext = NO_DEADLINE): Promise<LoadOutput> {
  const startedAt = new Date().toISOString();
  const { run, chunks } = LoadInputSchema.parse(input);
  const { pipeline, ctx, keyParts } = runScope(rt, run);
  const state = await rt.state(pipeline);
  const staging = await rt.staging(pipeline);

  const current = await state.getRun(run.runId);
  if (!current) throw new DataError(`run ${run.runId} of ${run.table} is not in the ledger`);
  if (!run.redshiftOnly) {
    checkExtracted(run.table, current, chunks);
    await state.updateRun(run.runId, { status: 'staged' });
  }

  // Files by the columns they were written with: a staged run planned before the source's columns changed keeps
  // its own (its plan's columns, mapped as Plan maps them), so its files are staged with that list.
  const groups = new Map<string, { columns: MappedColumn[]; files: ChunkRecord[] }>();
  const signature = (columns: readonly MappedColumn[]) => columns.map((c) => c.target).join('\u0000');
  const own = signature(run.columns);
  groups.set(own, { columns: run.columns, files: [] });
  for (const id of [...run.stagedRunIds, ...(run.redshiftOnly ? [] : [run.runId])]) {
    const r = id === run.runId ? current : await state.getRun(id);
    if (!r) throw new DataError(`staged run ${id} of ${run.table} is missing from the ledger`);
    const columns = id === run.runId || !r.plan ? run.columns : mapColumns(run.table, r.plan.columns);
    const group = groups.get(signature(columns)) ?? { columns, files: [] };
    groups.set(signature(columns), group);
    group.files.push(...[...r.chunks].sort(byChunkAndPart));
  }
  const files = [...groups.values()].flatMap((g) => g.files);
  const expectedRows = files.reduce((n, c) => n + c.rows, 0);
  const manifests: string[] = [];
  for (const [i, group] of [...groups.values()].entries()) {
    const key = manifestKey(staging.prefix, keyParts, run.runId, i);
    manifests.push(staging.locate(key));
    await staging.putJson(key, {
      entries: group.files.map((f) => ({
        url: staging.locate(f.key),
        mandatory: true,
        meta: { content_length: f.bytes },
      })),
    });
  }
  const [main, ...others] = [...groups.values()].map((g, i) => ({
    columns: g.columns,
    files: g.files.map((f) => staging.locate(f.key)),
    manifest: manifests[i]!,
  }));

  const deletes = await stagedDeletes(staging, run);
  const warehouse = await rt.warehouse(pipeline);
  const request = {
    ...(deletes ? { deletes } : {}),
    target: run.target,
    columns: run.columns,
    primaryKey: run.primaryKey,
    cursorColumns: run.cursorColumns,
    mode: run.mode,
    files: main!.files,
    manifest: main!.manifest,
    ...(others.length > 0 ? { fileGroups: others } : {}),
    expectedRows,
    // The table's on_column_drop: keep (default: the column stays, made nullable) or drop.
    onColumnDrop: ctx.table.onColumnDrop,
    sourceTable: run.table,
    ...historyOf(ctx, current, run),
    distkey: ctx.table.distkey,
    sortkey: ctx.table.sortkey,
    diststyle: ctx.table.diststyle,
  };
  // One attempt at a time per table; the warehouse first settles what earlier attempts left running.
  const result = await withLoadClaim(state, run.tableKey, run.runId, step, (journal) =>
    warehouse.load(request, { step, journal }),
  );
  await state.updateRun(run.runId, {
    status: 'loaded',
    rowsLoaded: result.rowsLoaded,
    steps: { ...current.steps, load: { startedAt, finishedAt: new Date().toISOString() } },
  });
  return { ...result, files: files.length, truncated: truncatedIn(files), history: request.history !== undefined };
}
