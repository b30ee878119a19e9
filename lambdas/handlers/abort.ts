/**
 * Abort: any failure after Plan lands here. It records the failure in the ledger and releases the lease; it never
 * touches the watermark, so the next run re-reads the same window.
 */
import { AbortInputSchema } from '../domain/manifests.js';
import type { Runtime } from '../ports/runtime.js';
import { NO_DEADLINE, type StepContext } from '../ports/step-context.js';

export async function abort(
  input: unknown,
  rt: Runtime,
  _step: StepContext = NO_DEADLINE,
): Promise<{ aborted: boolean; error: string }> {
  const { run, error } = AbortInputSchema.parse(input);
  const message = error.Cause ? `${error.Error}: ${error.Cause}` : error.Error;
  if (!run) return { aborted: false, error: message };
  const state = await rt.state(rt.pipeline(run.pipeline, run.adhoc));
  const now = new Date().toISOString();
  const record = await state.getRun(run.runId);
  if (record && record.status !== 'committed') {
    await state.updateRun(run.runId, {
      status: 'failed',
      error: message.slice(0, 4000),
      finishedAt: now,
      updatedAt: now,
    });
  }
  await state.releaseLease(run.tableKey, run.holder);
  return { aborted: true, error: message };
}
