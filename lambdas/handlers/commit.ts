/**
 * Commit: the only step that moves a watermark. One state-store transaction, conditional on the lease still being
 * this run's, advances the watermark to the run's upper bound, closes the run and releases the lease. A
 * --backup-only run instead closes as `staged` (its files wait for --redshift-only) and leaves the watermark alone.
 */
import { CommitInputSchema, type CommitOutput } from '../domain/manifests.js';
import type { Runtime } from '../ports/runtime.js';
import { NO_DEADLINE, type StepContext } from '../ports/step-context.js';
import { runScope } from './shared.js';

export async function commit(input: unknown, rt: Runtime, _step: StepContext = NO_DEADLINE): Promise<CommitOutput> {
  const { run, load } = CommitInputSchema.parse(input);
  const { pipeline } = runScope(rt, run);
  const state = await rt.state(pipeline);
  const now = new Date().toISOString();
  const record = await state.getRun(run.runId);
  const rowsExtracted = record?.rowsExtracted ?? 0;

  if (run.backupOnly) {
    await state.renewLease(run.tableKey, run.holder, pipeline.processing.leaseSeconds);
    const steps = { ...record?.steps, commit: { startedAt: now, finishedAt: new Date().toISOString() } };
    await state.updateRun(run.runId, { status: 'staged', updatedAt: now, steps });
    await state.releaseLease(run.tableKey, run.holder);
    const wm = (await state.getWatermark(run.tableKey))?.watermark ?? { ts: null, id: null };
    return { runId: run.runId, table: run.table, status: 'staged', watermark: wm, rowsExtracted, rowsLoaded: 0 };
  }

  // Earlier staged runs loaded by this one close with it; if we crash between these and commitRun, the next
  // run simply re-reads from the committed watermark, which the idempotent merge makes harmless.
  await state.renewLease(run.tableKey, run.holder, pipeline.processing.leaseSeconds);
  // When the commit began; it ends with the run (commitRun sets finishedAt in the same transaction).
  await state.updateRun(run.runId, { steps: { ...record?.steps, commit: { startedAt: now, finishedAt: null } } });
  for (const id of run.stagedRunIds) {
    await state.updateRun(id, { status: 'committed', finishedAt: now, updatedAt: now });
  }
  await state.commitRun({
    runId: run.runId,
    tableKey: run.tableKey,
    holder: run.holder,
    rowsLoaded: load?.rowsLoaded ?? 0,
  });
  const wm = (await state.getWatermark(run.tableKey))?.watermark ?? { ts: null, id: null };
  return {
    runId: run.runId,
    table: run.table,
    status: 'committed',
    watermark: wm,
    rowsExtracted,
    rowsLoaded: load?.rowsLoaded ?? 0,
  };
}
