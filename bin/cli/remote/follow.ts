/** Polls an execution until it ends, handing each new progress model to `onProgress`. */
import type { DescribeExecutionCommandOutput, SFNClient } from '@aws-sdk/client-sfn';
import { describeRemoteExecution, fetchHistory } from './client.js';
import { type ProgressModel, summarizeHistory } from './history.js';

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

export async function followExecution(
  client: SFNClient,
  executionArn: string,
  opts: FollowOptions = {},
): Promise<FollowResult> {
  const sleep = opts.sleep ?? defaultSleep;
  for (;;) {
    // Describe first: if it has ended, the history read after it is complete.
    const execution = await describeRemoteExecution(client, executionArn);
    const model = summarizeHistory(await fetchHistory(client, executionArn));
    opts.onProgress?.(model);
    if (execution.status !== 'RUNNING') return { execution, model };
    await sleep(opts.intervalMs ?? 2000);
  }
}
