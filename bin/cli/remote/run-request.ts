/**
 * The RunRequest a `sync` command makes from its options. Local runs and remote runs build it here, so a remote
 * execution receives exactly what a local run would have run (and what a schedule sends).
 */
import { type RunRequest, RunRequestSchema } from '../../../lambdas/domain/manifests.js';

export interface RunRequestOptions {
  pipeline: string;
  table: string[];
  limit?: number;
  maxWorkers?: number;
  maxChunks?: number;
  backupOnly: boolean;
  redshiftOnly: boolean;
  dryRun: boolean;
  /** `highwater resync`: the whole table again, replacing the warehouse table atomically. */
  resync?: boolean;
}

export function buildRunRequest(opts: RunRequestOptions, adhoc?: { source: string; target: string }): RunRequest {
  return RunRequestSchema.parse({
    pipeline: opts.pipeline,
    tables: opts.table,
    adhoc,
    options: {
      limit: opts.limit,
      maxWorkers: opts.maxWorkers,
      maxChunks: opts.maxChunks,
      backupOnly: opts.backupOnly,
      redshiftOnly: opts.redshiftOnly,
      dryRun: opts.dryRun,
      resync: opts.resync ?? false,
    },
  });
}

/** The StartExecution `input`: the validated RunRequest as JSON, with no undefined keys. */
export function buildStartInput(request: RunRequest): string {
  return JSON.stringify(RunRequestSchema.parse(request));
}
