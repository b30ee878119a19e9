/**
 * How many chunks a local run extracts at once (lambdas/local/orchestration/local-runner.ts, localChunkConcurrency):
 * the pipeline's `max_workers`, capped at the machine's CPUs, since every chunk's rows are decoded on the process's
 * one main thread; an explicit `--max-workers` (options.maxWorkers) is taken as it is. Measured with the real extract
 * handler behind a wrapper that counts the extracts in flight and holds each for a moment, so they overlap.
 */

import { readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { localChunkConcurrency } from '../../lambdas/local/orchestration/local-runner.js';
import { type StepHandlers, stepHandlers } from '../../lambdas/local/orchestration/step-handlers.js';
import { createHarness, type Harness } from '../support/harness.js';

const CHUNKS = 12;
let h: Harness;

beforeAll(async () => {
  h = await createHarness('concurrency');
  await h.db.conn.query('CREATE TABLE spread (id INT NOT NULL PRIMARY KEY, v VARCHAR(20) NOT NULL)');
  const values = Array.from({ length: CHUNKS }, (_, i) => `(${i + 1}, 'v${i + 1}')`).join(',');
  await h.db.conn.query(`INSERT INTO spread VALUES ${values}`);
  h.writePipeline(
    `  ${h.db.database}.spread:\n    cdc_strategy: full_sync\n    full_sync_mode: replace\n    chunk_rows: 1`,
  );
  // More workers than any CI machine has CPUs.
  const file = join(h.configDir, 'pipelines', 'test.yml');
  writeFileSync(file, readFileSync(file, 'utf8').replace('max_workers: 2', 'max_workers: 40'));
});
afterAll(async () => h.cleanup());

/** The real handlers, with an extract that records the most extracts in flight at once. */
function counting(): { handlers: StepHandlers; peak: () => number } {
  let inFlight = 0;
  let peak = 0;
  const handlers: StepHandlers = {
    ...stepHandlers,
    async extract(input, rt, step) {
      inFlight++;
      peak = Math.max(peak, inFlight);
      try {
        await new Promise((r) => setTimeout(r, 150));
        return await stepHandlers.extract(input, rt, step);
      } finally {
        inFlight--;
      }
    },
  };
  return { handlers, peak: () => peak };
}

describe('chunks extracted at once in a local run', () => {
  test('the rule: max_workers, but no more than the CPUs, and at least one', () => {
    expect(localChunkConcurrency(40, 2)).toBe(2);
    expect(localChunkConcurrency(1, 8)).toBe(1);
    expect(localChunkConcurrency(4, 8)).toBe(4);
    expect(localChunkConcurrency(4, 0)).toBe(1);
  });

  test("the pipeline's max_workers: 40 runs at most one chunk per CPU", async () => {
    const { handlers, peak } = counting();
    const report = await h.sync([`${h.db.database}.spread`], {}, { handlers });
    expect(report.tables[0]?.status, JSON.stringify(report)).toBe('committed');
    expect(report.tables[0]?.rowsLoaded).toBe(CHUNKS);
    expect(peak()).toBeGreaterThanOrEqual(1);
    expect(peak()).toBeLessThanOrEqual(Math.min(40, availableParallelism(), CHUNKS));
  });

  test('an explicit --max-workers is taken as it is, above the CPUs', async () => {
    const wanted = Math.min(availableParallelism() + 2, CHUNKS);
    const { handlers, peak } = counting();
    const report = await h.sync([`${h.db.database}.spread`], { maxWorkers: wanted }, { handlers });
    expect(report.tables[0]?.status, JSON.stringify(report)).toBe('committed');
    expect(peak()).toBeGreaterThan(availableParallelism());
    expect(peak()).toBeLessThanOrEqual(wanted);
  });
});
