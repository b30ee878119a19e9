/** Polls an execution until it ends, handing each new progress model to `onProgress`. */
import type { DescribeExecutionCommandOutput, HistoryEvent, SFNClient } from '@aws-sdk/client-sfn';
import { describeRemoteExecution, fetchHistory } from './client.js';
import { type ProgressModel, summarizeHistory, summarizeRun, tableExecutions } from './history.js';

export interface FollowOptions {
  intervalMs?: number;
  onProgress?: (model: ProgressModel) => void;
  sleep?: (ms: number) => Promise<void>;
}

export interface FollowResult {
  execution: DescribeExecutionCommandOutput;
  model: ProgressModel;
}

const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

const ENDED = new Set(['ExecutionSucceeded', 'ExecutionFailed', 'ExecutionTimedOut', 'ExecutionAborted']);

/**
 * The run's progress: the sync execution's history, and each table execution's it has started. A table execution
 * that has ended is read once and kept in `ended` (its history no longer changes).
 */
export async function readRunProgress(
  client: SFNClient,
  executionArn: string,
  ended: Map<string, HistoryEvent[]> = new Map(),
): Promise<ProgressModel> {
  const events = await fetchHistory(client, executionArn);
  const children = new Map<string, HistoryEvent[]>(ended);
  for (const arn of tableExecutions(summarizeHistory(events)).values()) {
    if (children.has(arn)) continue;
    const childEvents = await fetchHistory(client, arn);
    children.set(arn, childEvents);
    if (childEvents.some((e) => e.type !== undefined && ENDED.has(e.type))) ended.set(arn, childEvents);
  }
  return summarizeRun(events, children);
}

export async function followExecution(
  client: SFNClient,
  executionArn: string,
  opts: FollowOptions = {},
): Promise<FollowResult> {
  const sleep = opts.sleep ?? defaultSleep;
  const ended = new Map<string, HistoryEvent[]>();
  for (;;) {
    // Describe first: if it has ended, the history read after it is complete.
    const execution = await describeRemoteExecution(client, executionArn);
    const model = await readRunProgress(client, executionArn, ended);
    opts.onProgress?.(model);
    if (execution.status !== 'RUNNING') return { execution, model };
    await sleep(opts.intervalMs ?? 2000);
  }
}
