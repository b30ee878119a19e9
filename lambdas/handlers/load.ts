/**
 * Load: one warehouse transaction for the run's files (and those of earlier --backup-only runs it picks up):
 * create/extend the target table, stage, check the staged count against the ledger, dedupe by key keeping the
 * newest cursor, delete+insert (or swap for full_sync replace). The ledger, not the step payload, says which
 * files belong to the run, so a payload can never smuggle in a stray file.
 */
import { LoadInputSchema, type LoadOutput } from '../engine/manifests.js';
import { manifestKey } from '../engine/naming.js';
import type { ChunkRecord } from '../ports/index.js';
import { CountMismatchError, DataError } from '../runtime/errors.js';
import type { Runtime } from '../runtime/runtime-core.js';
import { runScope } from './shared.js';

export async function load(input: unknown, rt: Runtime): Promise<LoadOutput> {
  const { run, chunks } = LoadInputSchema.parse(input);
  const { pipeline, ctx, keyParts } = runScope(rt, run);
  const state = rt.state(pipeline);
  const staging = rt.staging(pipeline);

  const current = await state.getRun(run.runId);
  if (!current) throw new DataError(`run ${run.runId} of ${run.table} is not in the ledger`);
  if (!run.redshiftOnly) {
    const ledgerRows = current.chunks.reduce((n, c) => n + c.rows, 0);
    const payloadRows = chunks.reduce((n, c) => n + c.rows, 0);
    if (current.chunks.length !== chunks.length || ledgerRows !== payloadRows) {
      throw new CountMismatchError(
        `${run.table} run ${run.runId}: the ledger has ${current.chunks.length} chunks / ${ledgerRows} rows, the extract steps reported ${chunks.length} / ${payloadRows}`,
      );
    }
    await state.updateRun(run.runId, { status: 'staged' });
  }

  const files: ChunkRecord[] = [];
  for (const id of [...run.stagedRunIds, ...(run.redshiftOnly ? [] : [run.runId])]) {
    const r = id === run.runId ? current : await state.getRun(id);
    if (!r) throw new DataError(`staged run ${id} of ${run.table} is missing from the ledger`);
    files.push(...[...r.chunks].sort((a, b) => a.index - b.index));
  }
  const expectedRows = files.reduce((n, c) => n + c.rows, 0);
  const locations = files.map((f) => staging.locate(f.key));
  const manifest = manifestKey(rt.stagingPrefix(pipeline), keyParts, run.runId);
  await staging.putJson(manifest, {
    entries: files.map((f) => ({ url: staging.locate(f.key), mandatory: true, meta: { content_length: f.bytes } })),
  });

  const warehouse = await rt.warehouse(pipeline);
  const result = await warehouse.load({
    target: run.target,
    columns: run.columns,
    primaryKey: run.primaryKey,
    cursorColumns: run.cursorColumns,
    mode: run.mode,
    files: locations,
    manifest: staging.locate(manifest),
    expectedRows,
    distkey: ctx.table.distkey,
    sortkey: ctx.table.sortkey,
    diststyle: ctx.table.diststyle,
  });
  await state.updateRun(run.runId, { status: 'loaded', rowsLoaded: result.rowsLoaded });
  return { ...result, files: files.length };
}
