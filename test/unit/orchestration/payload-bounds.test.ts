/**
 * The sync execution's payloads stay within Step Functions' quota for the most tables a request may name: its
 * largest state (Summarize: each table's summary, twice) is measured on the sync state machine as the local runner
 * runs it, with quota checks on, for MAX_TABLES_PER_RUN tables with the longest names MySQL allows and the longest
 * execution ARNs Step Functions gives — every one failed, the largest summaries.
 */
import { expect, it } from 'vitest';
import { MAX_TABLES_PER_RUN, RunRequestSchema } from '../../../lambdas/domain/manifests.js';
import { MAX_HISTORY_EVENTS, MAX_PAYLOAD_BYTES } from '../../../lambdas/domain/quotas.js';
import { LocalExecutions } from '../../../lambdas/local/orchestration/local-executions.js';
import { localExecutionArn, localMachines } from '../../../lambdas/local/orchestration/local-machine.js';

/** `schema.table`, each part 64 characters (MySQL's identifier limit). */
const longName = (i: number) => `${'s'.repeat(64)}.${String(i).padStart(64, 't')}`;
/** An execution ARN of the longest form: 256 characters (the API's limit on an ARN). */
const longArn = (i: number) =>
  `arn:aws:states:us-east-1:123456789012:execution:highwater-table:${String(i).padStart(256, 'x')}`.slice(0, 256);

it(`holds ${MAX_TABLES_PER_RUN} tables with the longest names and ARNs within the payload quota, and refuses one more`, async () => {
  const m = localMachines();
  const tables = Array.from({ length: MAX_TABLES_PER_RUN }, (_, i) => longName(i));
  let n = 0;
  const runTable = async (params: unknown) => {
    const { Input } = params as { Input: { table: string } };
    // One in four a failed execution (TableExecutionFailed), the rest failed outcomes, whose summaries carry an ARN.
    if (n++ % 4 === 0) {
      throw Object.assign(new Error(JSON.stringify({ Status: 'FAILED', Cause: 'x'.repeat(32_768) })), {
        name: 'States.TaskFailed',
      });
    }
    return { ExecutionArn: longArn(n), Output: { table: Input.table, status: 'failed' }, Status: 'SUCCEEDED' };
  };
  const end = await new LocalExecutions().run(
    m.sync,
    { pipeline: 'p'.repeat(64), tables, options: {} },
    {
      arn: localExecutionArn('highwater-sync', 'bounds'),
      kind: 'sync',
      kinds: m.syncKinds,
      overrides: { taskResourceLocalHandlers: { RunTable: runTable as never } },
    },
  );
  // Every table failed, so the execution fails on purpose (Highwater.TablesFailed), not on a quota.
  expect(end.error?.Error).toBe('Highwater.TablesFailed');
  expect(end.largestPayload).toBeLessThanOrEqual(MAX_PAYLOAD_BYTES);
  expect(end.historyEvents).toBeLessThan(MAX_HISTORY_EVENTS / 5);

  expect(RunRequestSchema.safeParse({ tables }).success).toBe(true);
  const more = RunRequestSchema.safeParse({ tables: [...tables, longName(MAX_TABLES_PER_RUN)] });
  expect(more.success).toBe(false);
  expect(more.error?.issues[0]?.message).toMatch(/one run takes at most \d+ tables/);
});
