/** The Step Functions client and the calls the CLI makes with it; every SDK error comes back as a Highwater error. */
import {
  DescribeExecutionCommand,
  type DescribeExecutionCommandOutput,
  type ExecutionListItem,
  type ExecutionStatus,
  type HistoryEvent,
  ListExecutionsCommand,
  paginateGetExecutionHistory,
  SFNClient,
  StartExecutionCommand,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import { type RunRequest, RunRequestSchema } from '../../../lambdas/domain/manifests.js';
import { executionName } from '../../../lambdas/engine/naming.js';
import { sfnError } from './errors.js';

/** The region is the ARN's unless AWS_REGION says otherwise (the ARN's is the only one that can work). */
export function regionOfArn(arn: string): string | undefined {
  const parts = arn.split(':');
  return parts[0] === 'arn' && parts[2] === 'states' && parts[3] ? parts[3] : undefined;
}

export function createSfnClient(arn?: string): SFNClient {
  return new SFNClient({ region: (arn ? regionOfArn(arn) : undefined) ?? process.env.AWS_REGION });
}

export interface StartedExecution {
  executionArn: string;
  name: string;
  startDate: string | null;
  input: RunRequest;
}

export async function startRemoteExecution(
  client: SFNClient,
  stateMachineArn: string,
  request: RunRequest,
  now: Date = new Date(),
): Promise<StartedExecution> {
  const name = executionName(request.pipeline, request.tables, now);
  try {
    const out = await client.send(
      new StartExecutionCommand({ stateMachineArn, name, input: buildStartInput(request) }),
    );
    if (!out.executionArn) throw new Error('StartExecution returned no executionArn');
    return { executionArn: out.executionArn, name, startDate: out.startDate?.toISOString() ?? null, input: request };
  } catch (e) {
    throw sfnError(e, `StartExecution on ${stateMachineArn}`);
  }
}

export async function describeRemoteExecution(
  client: SFNClient,
  executionArn: string,
): Promise<DescribeExecutionCommandOutput> {
  try {
    return await client.send(new DescribeExecutionCommand({ executionArn }));
  } catch (e) {
    throw sfnError(e, `DescribeExecution ${executionArn}`);
  }
}

/** The whole history, oldest first, every page. */
export async function fetchHistory(client: SFNClient, executionArn: string): Promise<HistoryEvent[]> {
  const events: HistoryEvent[] = [];
  try {
    for await (const page of paginateGetExecutionHistory(
      { client, pageSize: 1000 },
      { executionArn, reverseOrder: false, includeExecutionData: true },
    )) {
      events.push(...(page.events ?? []));
    }
  } catch (e) {
    throw sfnError(e, `GetExecutionHistory ${executionArn}`);
  }
  return events;
}

export async function listRemoteExecutions(
  client: SFNClient,
  stateMachineArn: string,
  opts: { status?: ExecutionStatus; max: number },
): Promise<ExecutionListItem[]> {
  const items: ExecutionListItem[] = [];
  let nextToken: string | undefined;
  try {
    do {
      const page = await client.send(
        new ListExecutionsCommand({
          stateMachineArn,
          statusFilter: opts.status,
          maxResults: Math.min(1000, opts.max - items.length),
          nextToken,
        }),
      );
      items.push(...(page.executions ?? []));
      nextToken = page.nextToken;
    } while (nextToken && items.length < opts.max);
  } catch (e) {
    throw sfnError(e, `ListExecutions on ${stateMachineArn}`);
  }
  return items.slice(0, opts.max);
}

export async function stopRemoteExecution(
  client: SFNClient,
  executionArn: string,
  cause: string | undefined,
): Promise<{ stopDate: string | null }> {
  try {
    const out = await client.send(
      new StopExecutionCommand({ executionArn, cause, error: cause ? 'StoppedByUser' : undefined }),
    );
    return { stopDate: out.stopDate?.toISOString() ?? null };
  } catch (e) {
    throw sfnError(e, `StopExecution ${executionArn}`);
  }
}

/** The StartExecution `input`: the validated RunRequest as JSON, with no undefined keys. */
export function buildStartInput(request: RunRequest): string {
  return JSON.stringify(RunRequestSchema.parse(request));
}
