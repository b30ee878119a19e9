/**
 * A Load step that Step Functions invokes twice for one run (a retry after Lambda.ClientExecutionTimeoutException
 * while the first invocation still runs): the second waits for the table's load claim, then finds the first's apply
 * batch finished and returns the same result, so the warehouse sees one apply. On the AWS stand-ins (DynamoDB Local
 * for the claim, the Redshift Data API stand-in for the warehouse), through the real step handlers.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { ChunkResult, LoadOutput, PlanOutput } from '../../lambdas/domain/manifests.js';
import { stepHandlers } from '../../lambdas/local/orchestration/step-handlers.js';
import { deadlineIn } from '../../lambdas/ports/step-context.js';
import { type AwsStandins, startAwsStandins } from '../support/aws-standins.js';
import { createHarness, type Harness } from '../support/harness.js';
import { createOrders, expectInStep, insertOrders, T1 } from './fixtures.js';

let aws: AwsStandins;
let h: Harness;

beforeAll(async () => {
  aws = await startAwsStandins();
  h = await createHarness('once', aws);
  await createOrders(h);
});

afterAll(async () => {
  await h?.cleanup();
  await aws?.stop();
});

test('a second invocation of one run’s Load waits for the first and returns its result: one apply batch', async () => {
  const t = `${h.db.database}.orders`;
  h.writePipeline(`  ${t}:\n    cdc_strategy: hybrid\n    chunk_rows: 3\n    lag: 0`);
  await insertOrders(h, [1, 2, 3, 4, 5, 6, 7], T1);
  const rt1 = await h.runtime();
  const rt2 = await h.runtime();
  try {
    const planned: PlanOutput = await stepHandlers.plan({ pipeline: 'test', table: t, options: {} }, rt1);
    const run = planned.run!;
    const chunks: ChunkResult[] = [];
    for (const chunk of planned.chunks) chunks.push(await stepHandlers.extract({ run, chunk }, rt1));

    const target = `INSERT INTO "${h.warehouseSchema}"."orders"`;
    // The first invocation's apply batch commits slowly; the second invocation arrives meanwhile.
    aws.redshift.slowCommitWhen((sqls) => sqls.some((sql) => sql.startsWith(target)), 1500);
    const state = await rt1.state(rt1.pipeline('test'));
    let loaded: LoadOutput;
    try {
      const first = stepHandlers.load({ run, chunks }, rt1, deadlineIn(600_000));
      while (!(await state.getLoadClaim(run.tableKey))?.statements.some((s) => s.phase === 'apply')) {
        await new Promise((r) => setTimeout(r, 20));
      }
      const second = stepHandlers.load({ run, chunks }, rt2, deadlineIn(600_000));
      const [a, b] = await Promise.all([first, second]);
      expect(b).toEqual(a);
      expect(a).toMatchObject({ rowsStaged: 7, rowsLoaded: 7, files: 3 });
      loaded = a;
    } finally {
      aws.redshift.slowCommitWhen(undefined);
    }
    expect(aws.redshift.sqlLog.filter((sql) => sql.startsWith(target))).toHaveLength(1);
    const claim = await state.getLoadClaim(run.tableKey);
    expect(claim).toMatchObject({ runId: run.runId, released: true });
    expect(claim?.statements.map((s) => s.phase)).toEqual(['stage', 'apply']);

    await stepHandlers.commit({ run, load: loaded }, rt1);
    await expectInStep(h);
  } finally {
    await rt1.close();
    await rt2.close();
  }
});
