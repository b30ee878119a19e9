/**
 * Redshift fidelity end to end, on the AWS stand-ins (fauxqs, DynamoDB Local, the Redshift Data API stand-in):
 * - a Load step that Step Functions invokes twice for one run (a retry after Lambda.ClientExecutionTimeoutException
 *   while the first invocation still runs): the second waits for the table's load claim, then finds the first's
 *   apply batch finished and returns the same result, so the warehouse sees one apply;
 * - values longer than their Redshift column, caught at extract (`oversize: error | truncate`).
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { ChunkResult, LoadOutput, PlanOutput } from '../../lambdas/domain/manifests.js';
import { stepHandlers } from '../../lambdas/local/orchestration/step-handlers.js';
import { deadlineIn } from '../../lambdas/ports/step-context.js';
import { type AwsStandins, startAwsStandins } from '../support/aws-standins.js';
import { createHarness, type Harness } from '../support/harness.js';
import { createOrders, expectInStep, insertOrders, T1, T2 } from './fixtures.js';

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

describe('values longer than their Redshift column', () => {
  const BIG = 'é'.repeat(35_000); // 70,000 bytes of 2-byte characters: over VARCHAR(65535) by 4,465
  let table: string;

  beforeAll(async () => {
    await h.db.conn.query(
      'CREATE TABLE docs (id INT NOT NULL PRIMARY KEY, body LONGTEXT NULL, meta JSON NULL, updated_at DATETIME NOT NULL)',
    );
    await h.db.conn.query('INSERT INTO docs VALUES (1, ?, NULL, ?), (2, ?, ?, ?), (3, NULL, NULL, ?)', [
      'short',
      T1,
      BIG,
      '{"a":1}',
      T1,
      T1,
    ]);
    table = `${h.db.database}.docs`;
  });

  const pipeline = (oversize?: string) =>
    h.writePipeline(
      `  ${table}:\n    cdc_strategy: hybrid\n    chunk_rows: 2\n    lag: 0${oversize ? `\n    oversize: ${oversize}` : ''}`,
    );

  test('by default the extract fails, naming table, column and key; nothing is loaded and the watermark stays', async () => {
    pipeline();
    const report = await h.sync([table]);
    expect(report.status).toBe('failed');
    const t = report.tables[0]!;
    expect(t.error).toContain(
      `${table} column body: the value at key (id=2) is 70000 bytes, longer than the 65535 bytes its Redshift column VARCHAR(65535) holds`,
    );
    expect(t.exitCode).toBe(4);
    expect(t.suggestion).toContain('oversize: truncate');
    expect(await h.watermark(table)).toBeUndefined();
  });

  test('oversize: truncate cuts the value at a character boundary and the report counts it', async () => {
    pipeline('truncate');
    const report = await h.sync([table]);
    expect(report.status).toBe('success');
    const t = report.tables[0]!;
    expect(t.warnings).toContain(
      '1 value(s) of column body were longer than the warehouse column and truncated to fit (oversize: truncate)',
    );
    const rows = await h.warehouseRows(`public.docs`, 'id');
    expect(rows.map((r) => r.id)).toEqual([1, 2, 3]);
    const body = String(rows[1]?.body);
    expect(Buffer.byteLength(body)).toBe(65_534); // 65,535 would split the last é
    expect(body).toBe('é'.repeat(32_767));
  });

  test('a JSON document over the limit fails even with truncate: cut JSON would not parse', async () => {
    await h.db.conn.query('INSERT INTO docs VALUES (4, NULL, ?, ?)', [
      JSON.stringify({ text: 'x'.repeat(70_000) }),
      T2,
    ]);
    pipeline('truncate');
    const report = await h.sync([table]);
    expect(report.status).toBe('failed');
    expect(report.tables[0]?.error).toMatch(
      /column meta: the value at key \(id=4\) is \d+ bytes.*JSON is staged as VARCHAR\(65535\)/,
    );
  });
});
