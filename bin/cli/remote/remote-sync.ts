/** `highwater sync … --state-machine-arn ARN`: start the run on AWS and (unless --no-wait) follow it to its end. */
import { writeFileSync } from 'node:fs';
import type { SFNClient } from '@aws-sdk/client-sfn';
import type { RunRequest, TableReport } from '../../../lambdas/domain/manifests.js';
import { ExitCode } from '../../../lambdas/errors.js';
import { ExitError } from '../exit.js';
import type { Output } from '../output.js';
import { startRemoteExecution } from './client.js';
import { followExecution } from './follow.js';
import type { ProgressModel } from './history.js';
import { jsonOrText } from './json.js';
import { type LedgerLookup, outcomeExitCode, remoteResult, remoteTables } from './outcome.js';
import { renderProgress } from './render.js';
import { type ProgressView, plainView } from './view.js';

export interface RemoteSyncOptions {
  client: SFNClient;
  out: Output;
  stateMachineArn: string;
  request: RunRequest;
  wait: boolean;
  jsonOutput?: string;
  /** The live display; a plain line log when omitted. */
  view?: ProgressView;
  intervalMs?: number;
  sleep?: (ms: number) => Promise<void>;
  /** Reads each table's run in the ledger (bytes, duration) for the report; without it they are null. */
  ledger?: LedgerLookup;
}

/**
 * What `--json`/`--json-output` print for a remote run: `executionId`, `pipeline`, `result` and `tables[]` have the
 * local run report's shape; `status` is the execution's own (SUCCEEDED, FAILED, …).
 */
export interface RemoteRunSummary {
  executionId: string;
  pipeline: string;
  result: string;
  tables: TableReport[];
  executionArn: string;
  name: string;
  status: string;
  exitCode: number;
  startDate: string | null;
  stopDate: string | null;
  error: string | null;
  cause: string | null;
  output: unknown;
  progress: ProgressModel | null;
}

/** Returns the summary; throws ExitError with the run's exit code when it did not succeed (after printing it). */
export async function runRemoteSync(opts: RemoteSyncOptions): Promise<RemoteRunSummary> {
  const { out } = opts;
  const started = await startRemoteExecution(opts.client, opts.stateMachineArn, opts.request);
  if (!opts.wait) {
    const summary: RemoteRunSummary = {
      executionId: started.name,
      pipeline: opts.request.pipeline,
      result: 'running',
      tables: [],
      executionArn: started.executionArn,
      name: started.name,
      status: 'RUNNING',
      exitCode: ExitCode.ok,
      startDate: started.startDate,
      stopDate: null,
      error: null,
      cause: null,
      output: null,
      progress: null,
    };
    if (out.opts.json) out.json(summary);
    else out.data(started.executionArn);
    return summary;
  }
  out.info(`started ${started.name}`);
  out.info(`  ${started.executionArn}`);
  const view = opts.view ?? plainView(out);
  const { execution, model } = await followExecution(opts.client, started.executionArn, {
    intervalMs: opts.intervalMs,
    sleep: opts.sleep,
    onProgress: (m) => view.update(m),
  });
  view.end();
  const status = execution.status ?? 'UNKNOWN';
  const output = jsonOrText(execution.output);
  const outcome = { status, output, error: execution.error, cause: execution.cause };
  const tables = await remoteTables(opts.client, started.executionArn, outcome, opts.ledger);
  const exitCode = outcomeExitCode(outcome, tables);
  const summary: RemoteRunSummary = {
    executionId: started.name,
    pipeline: opts.request.pipeline,
    result: remoteResult(outcome, tables),
    tables,
    executionArn: started.executionArn,
    name: started.name,
    status,
    exitCode,
    startDate: execution.startDate?.toISOString() ?? started.startDate,
    stopDate: execution.stopDate?.toISOString() ?? null,
    error: execution.error ?? null,
    cause: execution.cause ?? null,
    output,
    progress: model,
  };
  if (opts.jsonOutput) writeFileSync(opts.jsonOutput, `${JSON.stringify(summary, null, 2)}\n`);
  if (out.opts.json) out.json(summary);
  else for (const l of renderProgress(model)) out.data(l);
  if (exitCode !== ExitCode.ok) throw new ExitError(exitCode);
  return summary;
}
