/**
 * The Distributed Map path: a run with more chunks than `max_inline_chunks` has its chunk list staged by Plan at
 * planKey() (a JSON array, what an ItemReader reads) and extracted by ExtractChunksDistributed; Load takes the
 * chunks from the ledger. Run through the state machine definition (locally, with its one documented rewrite of
 * ItemReader into a staged read + inline Map), on local adapters and on the AWS stand-ins.
 */
import { afterAll, afterEach, beforeAll, beforeEach, expect, test } from 'vitest';
import { ChunkSpecSchema } from '../../lambdas/domain/manifests.js';
import { parseStagingKey } from '../../lambdas/engine/naming.js';
import { type StepHandlers, stepHandlers } from '../../lambdas/local/orchestration/step-handlers.js';
import type { AwsStandins } from '../support/aws-standins.js';
import { createHarness, type Harness } from '../support/harness.js';
import { createOrders, expectInStep, insertOrders, T1, T2, updateOrders } from './fixtures.js';

export function describeDistributedMap(startStandins?: () => Promise<AwsStandins>): void {
  let aws: AwsStandins | undefined;
  let h: Harness;
  let t: string;
  beforeAll(async () => {
    aws = await startStandins?.();
  });
  afterAll(async () => aws?.stop());
  beforeEach(async () => {
    h = await createHarness('dmap', aws);
    t = `${h.db.database}.orders`;
    await createOrders(h);
    h.writePipeline(`  ${t}:\n    cdc_strategy: hybrid\n    chunk_rows: 2\n    lag: 0`, { maxInlineChunks: 2 });
  });
  afterEach(async () => h.cleanup());

  /** The plan handler, recording what it returned. */
  function recordingPlans(): { handlers: StepHandlers; plans: Awaited<ReturnType<StepHandlers['plan']>>[] } {
    const plans: Awaited<ReturnType<StepHandlers['plan']>>[] = [];
    return {
      plans,
      handlers: {
        ...stepHandlers,
        async plan(input, rt) {
          const out = await stepHandlers.plan(input, rt);
          plans.push(out);
          return out;
        },
      },
    };
  }

  test('a chunk list above max_inline_chunks is staged as a JSON array and extracted by the Distributed Map', async () => {
    await insertOrders(h, [1, 2, 3, 4, 5, 6, 7, 8, 9], T1);
    const { handlers, plans } = recordingPlans();
    const report = await h.sync([t], {}, { handlers });
    expect(report.status, JSON.stringify(report)).toBe('success');
    expect(report.tables[0]).toMatchObject({ status: 'committed', rowsExtracted: 9, rowsLoaded: 9, files: 5 });

    // Plan put no chunk in the payload and said where the list is.
    const plan = plans[0]!;
    expect(plan.chunks).toEqual([]);
    expect(plan.chunkCount).toBe(5);
    const staged = plan.stagedChunks!;
    expect(parseStagingKey(aws ? 'hw' : '', staged.key)).toMatchObject({ runId: plan.run!.runId, file: 'plan.json' });
    if (aws) expect(staged.bucket).toMatch(/^hw-test-/);
    else expect(staged.bucket).toBeNull();
    // …as the JSON array of chunk specs that an ItemReader (InputType JSON) iterates.
    const rt = await h.runtime();
    try {
      const items = await (await rt.staging(rt.pipeline('test'))).getJson(staged.key);
      const chunks = ChunkSpecSchema.array().parse(items);
      expect(chunks.map((c) => c.index)).toEqual([0, 1, 2, 3, 4]);
      // The ledger, not a payload, holds what the children extracted.
      const run = await (await rt.state(rt.pipeline('test'))).getRun(plan.run!.runId);
      expect(run).toMatchObject({ status: 'committed', plannedChunks: 5, rowsLoaded: 9 });
      expect(run!.chunks.map((c) => c.index).sort()).toEqual([0, 1, 2, 3, 4]);
    } finally {
      await rt.close();
    }
    expect(await h.watermark(t)).toEqual({ ts: T1, id: '9' });
    await expectInStep(h);

    // A second round of updates on the same path stays in step.
    await updateOrders(h, [2, 4, 6, 8], T2, 'changed');
    await insertOrders(h, [10, 11], T2);
    const again = await h.sync([t], {}, { handlers });
    expect(again.tables[0]).toMatchObject({ status: 'committed', rowsExtracted: 6 });
    expect(plans[1]!.stagedChunks).not.toBeNull();
    await expectInStep(h);
  });

  test('at or below max_inline_chunks the chunks stay inline', async () => {
    await insertOrders(h, [1, 2, 3, 4], T1);
    const { handlers, plans } = recordingPlans();
    const report = await h.sync([t], {}, { handlers });
    expect(report.tables[0]).toMatchObject({ status: 'committed', rowsLoaded: 4, files: 2 });
    expect(plans[0]).toMatchObject({ chunkCount: 2, stagedChunks: null });
    expect(plans[0]!.chunks.length).toBe(2);
    await expectInStep(h);
  });

  test('a staged plan that vanished before the Map read it aborts the run, naming the key; the watermark stays', async () => {
    await insertOrders(h, [1, 2, 3, 4, 5, 6], T1);
    const report = await h.sync(
      [t],
      {},
      {
        handlers: {
          ...stepHandlers,
          async plan(input, rt) {
            const out = await stepHandlers.plan(input, rt);
            if (out.stagedChunks) await (await rt.staging(rt.pipeline('test'))).delete([out.stagedChunks.key]);
            return out;
          },
        },
      },
    );
    expect(report.status).toBe('failed');
    expect(report.tables[0]!.error).toMatch(/the staged plan .*plan\.json is missing/);
    expect(report.tables[0]!.exitCode).toBe(4);
    expect(await h.watermark(t)).toBeUndefined();
    // The lease was released by Abort: the next run goes through the Distributed Map and catches up.
    const rerun = await h.sync([t]);
    expect(rerun.tables[0]).toMatchObject({ status: 'committed', rowsLoaded: 6 });
    await expectInStep(h);
  });

  test('a chunk missing from the ledger after the Distributed Map fails Load by count; nothing is loaded', async () => {
    await insertOrders(h, [1, 2, 3, 4, 5, 6], T1);
    const report = await h.sync(
      [t],
      {},
      {
        handlers: {
          ...stepHandlers,
          // Chunk 1 "succeeds" without writing or recording anything: only the ledger can tell.
          async extract(input, rt) {
            const chunk = (input as { chunk: { index: number } }).chunk;
            if (chunk.index === 1) return { index: 1, key: 'nowhere', rows: 2, bytes: 1, maxCursor: null, rest: null };
            return stepHandlers.extract(input, rt);
          },
        },
      },
    );
    expect(report.tables[0]).toMatchObject({ status: 'failed', exitCode: 4 });
    expect(report.tables[0]!.error).toMatch(/3 chunks were planned, the ledger holds 2/);
    expect(await h.watermark(t)).toBeUndefined();
    expect(await h.warehouseRows('public.orders', 'id').catch(() => [])).toEqual([]);
  });
}
