/** `highwater executions list|describe|stop`: the state machine's executions on AWS. */
import type { ExecutionListItem, ExecutionStatus, SFNClient } from '@aws-sdk/client-sfn';
import { Command } from 'commander';
import { z } from 'zod';
import { ConfigError } from '../../../lambdas/errors.js';
import { type GlobalOptions, outputFor } from '../context.js';
import { positiveInt } from '../options.js';
import { table } from '../output.js';
import { STATE_MACHINE_ENV, stateMachineArnFrom } from '../run-request.js';

/** The SFN calls (bin/cli/remote/client.ts), imported with the SDK only when a command talks to AWS. */
type SfnCalls = typeof import('../remote/client.js');

/** Step Functions' execution statuses (the SDK's enum, spelled here so listing them loads no SDK). */
const EXECUTION_STATUSES = [
  'RUNNING',
  'SUCCEEDED',
  'FAILED',
  'TIMED_OUT',
  'ABORTED',
  'PENDING_REDRIVE',
] as const satisfies readonly `${ExecutionStatus}`[];

async function sfn(): Promise<SfnCalls> {
  return import('../remote/client.js');
}

const ListOptionsSchema = z.object({
  stateMachineArn: z.string().optional(),
  status: z.enum(EXECUTION_STATUSES).optional(),
  max: z.number().int().positive().default(20),
  json: z.boolean().default(false),
});

export interface ExecutionRow {
  name: string;
  status: string;
  startDate: string | null;
  stopDate: string | null;
  executionArn: string;
}

export function collectExecutionRows(items: readonly ExecutionListItem[]): ExecutionRow[] {
  return items.map((i) => ({
    name: i.name ?? '',
    status: i.status ?? '',
    startDate: i.startDate?.toISOString() ?? null,
    stopDate: i.stopDate?.toISOString() ?? null,
    executionArn: i.executionArn ?? '',
  }));
}

export function renderExecutionRows(rows: readonly ExecutionRow[]): string[] {
  if (rows.length === 0) return ['no executions'];
  return table(
    [
      ['NAME', 'STATUS', 'STARTED', 'STOPPED'],
      ...rows.map((r) => [r.name, r.status, r.startDate ?? '-', r.stopDate ?? '-']),
    ],
    true,
  );
}

/** Commands get their client from here, so tests can hand them one whose answers are canned. */
export type SfnClientFactory = (arn: string) => SFNClient;

export function executionsCommand(global: () => GlobalOptions, clientFactory?: SfnClientFactory): Command {
  const outFor = (json: boolean) => outputFor(global(), json);
  const clientFor = async (arn: string): Promise<SFNClient> =>
    clientFactory ? clientFactory(arn) : (await sfn()).createSfnClient(arn);
  const cmd = new Command('executions').description('executions of the deployed state machine on AWS');

  cmd.addCommand(
    new Command('list')
      .description('recent executions, newest first')
      .option('--state-machine-arn <arn>', `state machine (default: ${STATE_MACHINE_ENV})`)
      .option('--status <status>', `only these: ${EXECUTION_STATUSES.join(', ')}`)
      .option('--max <n>', 'at most this many (default 20)', positiveInt('--max'))
      .option('--json', 'print JSON on stdout')
      .addHelpText(
        'after',
        '\nExamples:\n  highwater executions list --status FAILED --max 5\n  highwater executions list --state-machine-arn arn:aws:states:eu-west-1:123456789012:stateMachine:highwater-prod --json',
      )
      .action(async (raw: unknown) => {
        const opts = ListOptionsSchema.parse(raw);
        const arn = stateMachineArnFrom(opts.stateMachineArn);
        if (!arn) {
          throw new ConfigError(`executions list needs --state-machine-arn or ${STATE_MACHINE_ENV}`);
        }
        const out = outFor(opts.json);
        const { listRemoteExecutions } = await sfn();
        const rows = collectExecutionRows(
          await listRemoteExecutions(await clientFor(arn), arn, {
            status: opts.status as ExecutionStatus,
            max: opts.max,
          }),
        );
        if (out.opts.json) out.json(rows);
        else for (const l of renderExecutionRows(rows)) out.data(l);
      }),
  );
  cmd.addCommand(
    new Command('describe')
      .description('one execution: status, input, output and per-table progress')
      .argument('<execution-arn>')
      .option('--json', 'print JSON on stdout')
      .addHelpText(
        'after',
        '\nExample:\n  highwater executions describe arn:aws:states:eu-west-1:123456789012:execution:highwater-prod:sales-shop-orders-20261125T160000-ab12',
      )
      .action(async (arn: string, raw: unknown) => {
        const opts = z.object({ json: z.boolean().default(false) }).parse(raw);
        const out = outFor(opts.json);
        const { collectExecutionDetail, renderExecutionDetail } = await import('../remote/execution-detail.js');
        const detail = await collectExecutionDetail(await clientFor(arn), arn);
        if (out.opts.json) out.json(detail);
        else for (const l of renderExecutionDetail(detail)) out.data(l);
      }),
  );
  cmd.addCommand(
    new Command('stop')
      .description(
        'stop a running execution (watermarks stay where they were; the reaper ends its runs and releases their leases)',
      )
      .argument('<execution-arn>')
      .option('--cause <text>', 'why, recorded on the execution')
      .addHelpText(
        'after',
        "\nExample:\n  highwater executions stop arn:aws:states:eu-west-1:123456789012:execution:highwater-prod:sales-shop-orders-20261125T160000-ab12 --cause 'source maintenance'",
      )
      .action(async (arn: string, raw: unknown) => {
        const opts = z.object({ cause: z.string().optional() }).parse(raw);
        const out = outFor(false);
        const { stopDate } = await (await sfn()).stopRemoteExecution(await clientFor(arn), arn, opts.cause);
        out.info(`stopped ${arn}${stopDate ? ` at ${stopDate}` : ''}`);
      }),
  );
  return cmd;
}
