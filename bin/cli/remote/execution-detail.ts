/** `executions describe`: one execution with its per-table progress, read from its history. */
import type { SFNClient } from '@aws-sdk/client-sfn';
import { describeRemoteExecution } from './client.js';
import { readRunProgress } from './follow.js';
import type { ProgressModel } from './history.js';
import { jsonOrText } from './json.js';
import { renderProgress } from './render.js';

export interface ExecutionDetail {
  executionArn: string;
  name: string | null;
  status: string;
  startDate: string | null;
  stopDate: string | null;
  input: unknown;
  output: unknown;
  error: string | null;
  cause: string | null;
  progress: ProgressModel;
}

export async function collectExecutionDetail(client: SFNClient, executionArn: string): Promise<ExecutionDetail> {
  const d = await describeRemoteExecution(client, executionArn);
  const progress = await readRunProgress(client, executionArn);
  return {
    executionArn,
    name: d.name ?? null,
    status: d.status ?? 'UNKNOWN',
    startDate: d.startDate?.toISOString() ?? null,
    stopDate: d.stopDate?.toISOString() ?? null,
    input: jsonOrText(d.input),
    output: jsonOrText(d.output),
    error: d.error ?? null,
    cause: d.cause ?? null,
    progress,
  };
}

export function renderExecutionDetail(d: ExecutionDetail): string[] {
  return [
    `${d.name ?? d.executionArn}  ${d.status}`,
    `  arn      ${d.executionArn}`,
    `  started  ${d.startDate ?? '-'}`,
    `  stopped  ${d.stopDate ?? '-'}`,
    `  input    ${JSON.stringify(d.input)}`,
    ...(d.error ? [`  error    ${d.error}${d.cause ? `: ${d.cause}` : ''}`] : []),
    ...renderProgress(d.progress),
  ];
}
