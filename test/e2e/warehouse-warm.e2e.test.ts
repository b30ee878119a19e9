/**
 * A local plan starts opening the DuckDB warehouse while the chunks are extracted (step-handlers.ts warmWarehouse).
 * What that must not change: a warehouse another process holds fails the run in its load step, once, with the file
 * named and nothing committed; a --backup-only run never opens the warehouse, so it runs while the file is held.
 */
import { join } from 'node:path';
import { afterEach, beforeEach, expect, test } from 'vitest';
import type { PlanOutput } from '../../lambdas/domain/manifests.js';
import { LARGE_EXTRACT_ROWS, warmWarehouse } from '../../lambdas/local/orchestration/step-handlers.js';
import type { Runtime } from '../../lambdas/ports/runtime.js';
import { holdInChildProcess, release } from '../support/duckdb-lock.js';
import { createHarness, type Harness } from '../support/harness.js';
import { createOrders, expectInStep, insertOrders, T1, T2 } from './fixtures.js';

let h: Harness;
let t: string;
beforeEach(async () => {
  h = await createHarness('warm');
  t = `${h.db.database}.orders`;
  await createOrders(h);
  h.writePipeline(`  ${t}:\n    cdc_strategy: hybrid\n    chunk_rows: 2\n    lag: 0`);
});
afterEach(async () => h.cleanup());

test('a warehouse held by another process fails the run at its load, once; a --backup-only run goes on', async () => {
  await insertOrders(h, [1, 2, 3], T1);
  expect((await h.sync([t])).status).toBe('success');
  const before = await h.watermark(t);
  await insertOrders(h, [4, 5], T2);

  const path = join(h.home, 'warehouse.duckdb');
  const holder = await holdInChildProcess(path);
  try {
    const failed = await h.sync([t]);
    expect(failed.status).toBe('failed');
    const error = failed.tables[0]?.error ?? '';
    expect(error).toContain(`DuckDB warehouse ${path} is locked`);
    expect(error.split('is locked').length - 1).toBe(1);
    expect(failed.tables[0]?.rowsLoaded ?? 0).toBe(0);
    expect(await h.watermark(t)).toEqual(before);

    const staged = await h.sync([t], { backupOnly: true });
    expect(staged.tables[0]?.error ?? null).toBeNull();
    expect(staged.tables[0]).toMatchObject({ status: 'staged', rowsExtracted: 2 });
  } finally {
    await release(holder);
  }

  const loaded = await h.sync([t]);
  expect(loaded.tables[0]?.error ?? null).toBeNull();
  expect(loaded.status).toBe('success');
  await expectInStep(h);
});

/** A runtime that records which pipelines' warehouses were asked for. */
function recordingRuntime(targetType: 'duckdb' | 'redshift'): {
  rt: Pick<Runtime, 'pipeline' | 'warehouse'>;
  asked: string[];
} {
  const asked: string[] = [];
  const rt = {
    pipeline: (name: string) => ({ name, target: { type: targetType } }),
    warehouse: async (p: { name: string }) => {
      asked.push(p.name);
      throw new Error('the open fails; the load reports it');
    },
  } as unknown as Pick<Runtime, 'pipeline' | 'warehouse'>;
  return { rt, asked };
}

function planned(run: { backupOnly: boolean } | null, rowsEstimate: number | null = 10): PlanOutput {
  return {
    run: run ? ({ pipeline: 'p', backupOnly: run.backupOnly } as PlanOutput['run']) : null,
    chunks: [],
    chunkCount: 0,
    stagedChunks: null,
    skipped: run ? null : 'no new rows',
    horizon: null,
    warnings: [],
    rowsEstimate,
  };
}

test('only a plan with a small run to load into a DuckDB warehouse warms it; a failed open is swallowed', async () => {
  const duck = recordingRuntime('duckdb');
  expect(warmWarehouse(duck.rt, planned({ backupOnly: false }))).toBe(true);
  expect(warmWarehouse(duck.rt, planned({ backupOnly: false }, LARGE_EXTRACT_ROWS - 1))).toBe(true);
  expect(warmWarehouse(duck.rt, planned({ backupOnly: false }, LARGE_EXTRACT_ROWS))).toBe(false);
  expect(warmWarehouse(duck.rt, planned({ backupOnly: false }, null))).toBe(false);
  expect(warmWarehouse(duck.rt, planned({ backupOnly: true }))).toBe(false);
  expect(warmWarehouse(duck.rt, planned(null))).toBe(false);
  expect(duck.asked).toEqual(['p', 'p']);

  const redshift = recordingRuntime('redshift');
  expect(warmWarehouse(redshift.rt, planned({ backupOnly: false }))).toBe(false);
  expect(redshift.asked).toEqual([]);
  // The rejected open above reaches no unhandled-rejection handler (vitest fails the file if it does).
  await new Promise((r) => setTimeout(r, 10));
});
