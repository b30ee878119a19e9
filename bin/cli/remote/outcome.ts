/**
 * A finished execution → its tables in the run report's shape and the CLI's exit code, read as a local run's are
 * (lambdas/orchestration/report.ts): from the Done state's output, or, for an execution failed on purpose
 * (`Highwater.TablesFailed`), from its Cause. An execution that ended before Summarize (timed out, stopped, failed
 * outside a table) has no tables; its exit code comes from its error's name.
 */
import type { RunResult, TableReport } from '../../../lambdas/domain/manifests.js';
import { ExitCode, exitCodeOfErrorName } from '../../../lambdas/errors.js';
import { exitCodeOfTables, runResultOf, summaryTables, tableReport } from '../../../lambdas/orchestration/report.js';

export interface ExecutionOutcome {
  /** DescribeExecution's status. */
  status: string;
  /** DescribeExecution's output (a JSON string) or the parsed value. */
  output?: unknown;
  /** DescribeExecution's error name, for a failed execution. */
  error?: string | null;
  /** DescribeExecution's cause: for `Highwater.TablesFailed`, every table's outcome as JSON. */
  cause?: string | null;
}

/** The execution's per-table reports (what a remote run cannot know — bytes, duration — is null). */
export function remoteTables(outcome: ExecutionOutcome): TableReport[] {
  const outcomes =
    outcome.status === 'SUCCEEDED' ? summaryTables(outcome.output) : summaryTables(outcome.cause ?? undefined);
  return (outcomes ?? []).map((o) => tableReport(o, null));
}

export function outcomeExitCode(outcome: ExecutionOutcome, tables = remoteTables(outcome)): number {
  if (tables.length > 0) return exitCodeOfTables(tables);
  if (outcome.status === 'SUCCEEDED') return ExitCode.ok;
  return exitCodeOfErrorName(outcome.error) ?? ExitCode.data;
}

/** The run's result in the local report's words (`running` while the execution is). */
export function remoteResult(outcome: ExecutionOutcome, tables: readonly TableReport[]): RunResult | 'running' {
  if (outcome.status === 'RUNNING') return 'running';
  if (tables.length === 0) return outcome.status === 'SUCCEEDED' ? 'success' : 'failed';
  return runResultOf(tables);
}
