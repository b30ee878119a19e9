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
import { byChunkAndPart, checkChunkParts } from '../engine/chunk-parts.js';
import { manifestKey } from '../engine/naming.js';
import { CountMismatchError, DataError } from '../errors.js';
import type { ChunkRecord, LoadDeletes, RunRecord, Staging } from '../ports/index.js';
import type { Runtime } from '../ports/runtime.js';
import { NO_DEADLINE, type StepContext } from '../ports/step-context.js';
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

export async function load(input: unknown, rt: Runtime, _step: StepContext = NO_DEADLINE): Promise<LoadOutput> {
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

  const files: ChunkRecord[] = [];
  for (const id of [...run.stagedRunIds, ...(run.redshiftOnly ? [] : [run.runId])]) {
    const r = id === run.runId ? current : await state.getRun(id);
    if (!r) throw new DataError(`staged run ${id} of ${run.table} is missing from the ledger`);
    files.push(...[...r.chunks].sort(byChunkAndPart));
  }
  const expectedRows = files.reduce((n, c) => n + c.rows, 0);
  const locations = files.map((f) => staging.locate(f.key));
  const manifest = manifestKey(staging.prefix, keyParts, run.runId);
  await staging.putJson(manifest, {
    entries: files.map((f) => ({ url: staging.locate(f.key), mandatory: true, meta: { content_length: f.bytes } })),
  });

  const deletes = await stagedDeletes(staging, run);
  const warehouse = await rt.warehouse(pipeline);
  const result = await warehouse.load({
    ...(deletes ? { deletes } : {}),
    target: run.target,
    columns: run.columns,
    primaryKey: run.primaryKey,
    cursorColumns: run.cursorColumns,
    mode: run.mode,
    files: locations,
    manifest: staging.locate(manifest),
    expectedRows,
    // Until the table YAML's on_column_drop is wired in, a column the source dropped stays (made nullable).
    onColumnDrop: ctx.table.onColumnDrop,
    sourceTable: run.table,
    distkey: ctx.table.distkey,
    sortkey: ctx.table.sortkey,
    diststyle: ctx.table.diststyle,
  });
  await state.updateRun(run.runId, { status: 'loaded', rowsLoaded: result.rowsLoaded });
  return { ...result, files: files.length };
}
