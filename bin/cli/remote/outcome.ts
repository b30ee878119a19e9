/**
 * A finished run → its tables in the run report's shape and the CLI's exit code, read as a local run's are
 * (lambdas/orchestration/report.ts). The sync execution's result lists each table with the table execution that ran
 * it (the Done state's output, or the Summarize state's in its history when some table failed); each table's
 * outcome is that execution's output. Bytes and durations come from the ledger (`ledger`), which recorded the run;
 * a table without a run there takes its execution's duration. An execution that ended before Summarize (timed out,
 * stopped, failed outside a table) has no tables; its exit code comes from its error's name.
 */
import type { HistoryEvent, SFNClient } from '@aws-sdk/client-sfn';
import {
  type RunResult,
  TableOutcomeSchema,
  type TableReport,
  type TableSummary,
} from '../../../lambdas/domain/manifests.js';
import { ExitCode, exitCodeOfErrorName } from '../../../lambdas/errors.js';
import {
  exitCodeOfTables,
  failedExecutionOutcome,
  runResultOf,
  summaryTables,
  tableReport,
} from '../../../lambdas/orchestration/report.js';
import { describeRemoteExecution, fetchHistory } from './client.js';
import { summarizeHistory } from './history.js';
import { parseJson } from './json.js';

export interface ExecutionOutcome {
  /** DescribeExecution's status. */
  status: string;
  /** DescribeExecution's output (a JSON string) or the parsed value. */
  output?: unknown;
  /** DescribeExecution's error name, for a failed execution. */
  error?: string | null;
  cause?: string | null;
}

/** What the ledger recorded of a run: the bytes it staged and how long it ran (null while it has not finished). */
export interface RunFacts {
  bytes: number;
  durationMs: number | null;
}
export type LedgerLookup = (table: string, runId: string) => Promise<RunFacts | null>;

/** The per-table summaries: the output of a succeeded run, else the Summarize state's output in its history. */
export function summariesOf(outcome: ExecutionOutcome, history: readonly HistoryEvent[] = []): TableSummary[] {
  if (outcome.status === 'SUCCEEDED') return summaryTables(outcome.output) ?? [];
  for (const e of history) {
    if (e.type === 'PassStateExited' && e.stateExitedEventDetails?.name === 'Summarize') {
      return summaryTables(e.stateExitedEventDetails.output) ?? [];
    }
  }
  return [];
}

/**
 * One table's report: its execution's outcome, the ledger's bytes and duration (else the execution's duration). A
 * table whose execution itself failed has only its error's name in the summary: its account is in the history.
 */
async function tableOf(
  client: SFNClient,
  s: TableSummary,
  ledger: LedgerLookup | undefined,
  history: readonly HistoryEvent[],
): Promise<TableReport> {
  if (!s.execution) {
    const progress = summarizeHistory(history).tables.find((t) => t.table === s.table);
    return tableReport(failedExecutionOutcome({ ...s, error: progress?.executionError ?? s.error }, null), null);
  }
  const child = await describeRemoteExecution(client, s.execution);
  const parsed = TableOutcomeSchema.safeParse(parseJson(child.output));
  const report = tableReport(parsed.success ? parsed.data : failedExecutionOutcome(s, null), null);
  const facts = report.runId && ledger ? await ledger(report.table, report.runId).catch(() => null) : null;
  const ran = child.startDate && child.stopDate ? child.stopDate.getTime() - child.startDate.getTime() : null;
  return {
    ...report,
    bytes: facts ? facts.bytes : report.status === 'skipped' ? 0 : null,
    durationMs: facts?.durationMs ?? ran,
  };
}

/** The run's per-table reports (bytes and durations from the ledger when `ledger` can read it). */
export async function remoteTables(
  client: SFNClient,
  executionArn: string,
  outcome: ExecutionOutcome,
  ledger?: LedgerLookup,
): Promise<TableReport[]> {
  const history = outcome.status === 'SUCCEEDED' ? [] : await fetchHistory(client, executionArn);
  const out: TableReport[] = [];
  for (const s of summariesOf(outcome, history)) out.push(await tableOf(client, s, ledger, history));
  return out;
}

export function outcomeExitCode(outcome: ExecutionOutcome, tables: readonly TableReport[]): number {
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
