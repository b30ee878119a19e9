/**
 * Verify (verify_every): after a run's commit, compare the warehouse table with the source by range checksums
 * both databases compute (engine/verify), keep the finding in the ledger, and return it for
 * the run report (and, on AWS, the TableDiffers metric). It changes no data: a difference is reported, and
 * `highwater verify --repair` fixes it.
 */
import { type VerificationRecord, VerifyInputSchema } from '../domain/manifests.js';
import { verificationOf } from '../engine/verify/record.js';
import { verifyTable } from '../engine/verify/verify-table.js';
import type { Runtime } from '../ports/runtime.js';
import { NO_DEADLINE, type StepContext } from '../ports/step-context.js';
import { runScope } from './shared.js';

export async function verify(
  input: unknown,
  rt: Runtime,
  _step: StepContext = NO_DEADLINE,
): Promise<VerificationRecord> {
  const { run } = VerifyInputSchema.parse(input);
  const { pipeline, ctx } = runScope(rt, run);
  const source = await rt.openSource(pipeline);
  try {
    const state = await rt.state(pipeline);
    const report = await verifyTable({ source, state, warehouse: await rt.warehouse(pipeline) }, pipeline, ctx.table);
    const record = verificationOf(report, new Date(), false);
    await state.recordVerification(run.tableKey, record);
    return record;
  } finally {
    await source.close();
  }
}
