/**
 * The remote report's bytes and durations, read from the ledger the run wrote (the pipeline's state store: on AWS
 * the DynamoDB table, which the CLI reads with the caller's credentials). A run not in the ledger, or a ledger the
 * CLI cannot reach, leaves them null in the report.
 */
import type { Runtime } from '../../../lambdas/ports/runtime.js';
import type { LedgerLookup } from './outcome.js';

export function ledgerLookup(rt: Runtime, pipeline: string, adhoc?: { source: string; target: string }): LedgerLookup {
  return async (_table, runId) => {
    const run = await (await rt.state(rt.pipeline(pipeline, adhoc))).getRun(runId);
    if (!run) return null;
    const durationMs = run.finishedAt === null ? null : Date.parse(run.finishedAt) - Date.parse(run.startedAt);
    return { bytes: run.bytes, durationMs };
  };
}
