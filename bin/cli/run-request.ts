/**
 * The RunRequest a `sync` command makes from its options, and where it runs. Local runs and remote runs build it
 * here, so a remote execution receives exactly what a local run would have run (and what a schedule sends).
 */
import { type RunRequest, RunRequestSchema } from '../../lambdas/domain/manifests.js';
import { ConfigError } from '../../lambdas/errors.js';

export const STATE_MACHINE_ENV = 'HIGHWATER_STATE_MACHINE_ARN';

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

/** --state-machine-arn, else HIGHWATER_STATE_MACHINE_ARN; undefined when neither is set. */
export function stateMachineArnFrom(
  option: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  const arn = option ?? env[STATE_MACHINE_ENV];
  if (arn === undefined || arn === '') return undefined;
  if (!/^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:stateMachine:[A-Za-z0-9_-]+$/.test(arn)) {
    throw new ConfigError(
      `${option !== undefined ? '--state-machine-arn' : STATE_MACHINE_ENV} is not a state machine ARN: ${JSON.stringify(arn)}`,
      { suggestion: 'It looks like arn:aws:states:eu-west-1:123456789012:stateMachine:highwater-prod.' },
    );
  }
  return arn;
}
