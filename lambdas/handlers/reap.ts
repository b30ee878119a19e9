/**
 * The reaper. A table execution can end where no Catch of its own runs: it fails outside every Catch (a payload or
 * history quota: States.DataLimitExceeded is not caught by States.ALL), times out, or is stopped. Step Functions
 * reports each such end on EventBridge ("Step Functions Execution Status Change", FAILED / TIMED_OUT / ABORTED;
 * https://docs.aws.amazon.com/step-functions/latest/dg/eventbridge-integration.html), and the stack's rule sends
 * it here (on the Abort function). Every run that execution holds is then ended as Abort ends one: marked failed
 * (unless it is settled already), its lease released, its watermark untouched — so nobody waits for a lease TTL.
 *
 * A run is the execution's when Plan recorded that execution's ARN with it (RunPlanRecord.execution). It is found
 * through the leases held now and through the table's unsettled runs (the table named by the execution's input,
 * when the event carries it). EventBridge delivers on a best-effort basis: the lease TTL stays the last resort.
 */
import { z } from 'zod';
import type { PipelineConfig } from '../domain/config.js';
import type { RunRecord } from '../domain/records.js';
import { getTableConfig } from '../engine/config/index.js';
import { pipelineTableParts, tableKey } from '../engine/naming.js';
import type { StateStore } from '../ports/index.js';
import type { Runtime } from '../ports/runtime.js';
import { NO_DEADLINE, type StepContext } from '../ports/step-context.js';
import { failAbandonedRun } from './lease.js';

export const EXECUTION_STATUS_CHANGE = 'Step Functions Execution Status Change';

/** The statuses that end an execution without its own Catch running. */
export const REAPED_STATUSES = ['FAILED', 'TIMED_OUT', 'ABORTED'] as const;

/** The EventBridge event, as much of it as the reaper reads. */
export const ExecutionStatusChangeSchema = z.object({
  'detail-type': z.literal(EXECUTION_STATUS_CHANGE),
  source: z.literal('aws.states'),
  detail: z.looseObject({
    executionArn: z.string().min(1),
    stateMachineArn: z.string().min(1),
    status: z.string(),
    /** The execution's input as JSON text; absent or null when too large to include. */
    input: z.string().nullish(),
    error: z.string().nullish(),
    cause: z.string().nullish(),
  }),
});
export type ExecutionStatusChange = z.infer<typeof ExecutionStatusChangeSchema>;

/** Whether an event is an execution status change (the Abort function receives both shapes). */
export function isExecutionStatusChange(event: unknown): boolean {
  return (
    typeof event === 'object' &&
    event !== null &&
    (event as Record<string, unknown>)['detail-type'] === EXECUTION_STATUS_CHANGE
  );
}

/** What a table execution's input names: where its runs are. */
const TableInputSchema = z.object({
  pipeline: z.string(),
  table: z.string(),
  adhoc: z.object({ source: z.string(), target: z.string() }).nullish(),
});

export interface ReapedRun {
  runId: string;
  table: string;
  /** False when the run was settled already (committed, staged, failed): only its lease, if any, was released. */
  failed: boolean;
}

export interface ReapOutput {
  execution: string;
  status: string;
  reaped: ReapedRun[];
}

/** Runs not yet settled, which a dead execution may have left holding a lease or `extracting`. */
const UNSETTLED: RunRecord['status'][] = ['planned', 'extracting', 'loaded'];

function tableOfInput(input: string | null | undefined): z.infer<typeof TableInputSchema> | null {
  if (!input) return null;
  try {
    const parsed = TableInputSchema.safeParse(JSON.parse(input));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/** The pipelines whose state stores may hold the execution's runs: the input's, else every configured one. */
function candidatePipelines(rt: Runtime, named: z.infer<typeof TableInputSchema> | null): PipelineConfig[] {
  if (named) {
    try {
      return [rt.pipeline(named.pipeline, named.adhoc ?? undefined)];
    } catch {
      // An unknown pipeline (renamed since): look everywhere.
    }
  }
  const out: PipelineConfig[] = [];
  for (const name of rt.config.pipelines) {
    try {
      out.push(rt.pipeline(name));
    } catch {
      // A pipeline that no longer loads holds nothing we can reach.
    }
  }
  return out;
}

/** The execution's runs in one store: those holding a lease, and the named table's unsettled ones. */
async function runsOf(state: StateStore, execution: string, tableKeyHint: string | null): Promise<RunRecord[]> {
  const found = new Map<string, RunRecord>();
  for (const lease of await state.listLeases()) {
    const run = await state.getRun(lease.holder);
    if (run?.plan?.execution === execution) found.set(run.runId, run);
  }
  if (tableKeyHint !== null) {
    for (const run of await state.listRuns(tableKeyHint, { status: UNSETTLED })) {
      if (run.plan?.execution === execution) found.set(run.runId, run);
    }
  }
  return [...found.values()];
}

function tableKeyOf(p: PipelineConfig, table: string): string | null {
  try {
    return tableKey(pipelineTableParts(p, getTableConfig(p, table).name));
  } catch {
    return null;
  }
}

export async function reap(input: unknown, rt: Runtime, _step: StepContext = NO_DEADLINE): Promise<ReapOutput> {
  const { detail } = ExecutionStatusChangeSchema.parse(input);
  const out: ReapOutput = { execution: detail.executionArn, status: detail.status, reaped: [] };
  if (!(REAPED_STATUSES as readonly string[]).includes(detail.status)) return out;
  const why = [detail.error, detail.cause].filter((t) => t).join(': ');
  const message = `the table execution ${detail.executionArn} ended ${detail.status}${why ? ` (${why})` : ''} before the run finished; its window will be read again`;
  const named = tableOfInput(detail.input);
  const seen = new Set<string>();
  for (const p of candidatePipelines(rt, named)) {
    const storeId = JSON.stringify(p.state);
    if (seen.has(storeId)) continue;
    seen.add(storeId);
    const state = await rt.state(p);
    const hint = named ? tableKeyOf(p, named.table) : null;
    for (const run of await runsOf(state, detail.executionArn, hint)) {
      const failed = await failAbandonedRun(state, run.runId, rt.redact(message).slice(0, 4000));
      await state.releaseLease(run.tableKey, run.runId);
      out.reaped.push({ runId: run.runId, table: run.table, failed });
    }
  }
  return out;
}
