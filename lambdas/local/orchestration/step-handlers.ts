/**
 * The step handlers as one object, keyed as definition.ts TASK_STATES names them, so the local runner calls
 * `handlers[TASK_STATES[state]]` and a test's faulty() wrapper can swap any of them; and the reaper, which the
 * local runner calls where EventBridge would (a table execution that failed, timed out or was stopped).
 */

import { reduceHeapAbove } from '../../adapters/memory/index.js';
import type { ChunkResult, CommitOutput, LoadOutput, PlanOutput, VerificationRecord } from '../../domain/manifests.js';
import { abort } from '../../handlers/abort.js';
import { commit } from '../../handlers/commit.js';
import { extractChunk } from '../../handlers/extract.js';
import { load } from '../../handlers/load.js';
import { plan } from '../../handlers/plan.js';
import { type ReapOutput, reap } from '../../handlers/reap.js';
import { verify } from '../../handlers/verify.js';
import type { Runtime } from '../../ports/runtime.js';
import type { StepContext } from '../../ports/step-context.js';

export interface StepHandlers {
  plan(input: unknown, rt: Runtime, step?: StepContext): Promise<PlanOutput>;
  extract(input: unknown, rt: Runtime, step?: StepContext): Promise<ChunkResult>;
  load(input: unknown, rt: Runtime, step?: StepContext): Promise<LoadOutput>;
  commit(input: unknown, rt: Runtime, step?: StepContext): Promise<CommitOutput>;
  abort(input: unknown, rt: Runtime, step?: StepContext): Promise<{ aborted: boolean; error: string }>;
  verify(input: unknown, rt: Runtime, step?: StepContext): Promise<VerificationRecord>;
  reap(input: unknown, rt: Runtime, step?: StepContext): Promise<ReapOutput>;
}

/**
 * The resident set above which a local load first gives back what the extract left in V8's heap. A process that
 * has loaded every module and extracted a small run holds 150–180 MB; one that extracted millions of rows, 230–260.
 */
export const REDUCE_HEAP_ABOVE_RSS_BYTES = 192 * 1024 * 1024;

/**
 * A local plan with work to do starts opening the run's DuckDB warehouse, which the load will need: loading DuckDB's
 * library and opening the file (about 0.1 s) then happen while the chunks are extracted and the main thread mostly
 * waits on MySQL. Not for a --backup-only run, which must not touch the warehouse. An open that fails is forgotten
 * by the runtime (create.ts cachedAdapter), so the load opens it again and reports that error in its own step.
 */
export function warmWarehouse(rt: Pick<Runtime, 'pipeline' | 'warehouse'>, planned: PlanOutput): boolean {
  if (!planned.run || planned.run.backupOnly) return false;
  const pipeline = rt.pipeline(planned.run.pipeline, planned.run.adhoc);
  if (pipeline.target.type !== 'duckdb') return false;
  rt.warehouse(pipeline).catch(() => undefined);
  return true;
}

async function localPlan(input: unknown, rt: Runtime, step?: StepContext): Promise<PlanOutput> {
  const planned = await plan(input, rt, step);
  warmWarehouse(rt, planned);
  return planned;
}

/**
 * A local load runs in the process that extracted: the idle Parquet encode workers (their isolates and wasm memory)
 * are given back first, and then, after a large extract, what it left in V8's heap (reduceHeapAbove), so the
 * extract's memory and DuckDB's do not add up in the sync's peak. A later extract starts a worker again (a fraction
 * of a second, once per table at most).
 */
async function localLoad(input: unknown, rt: Runtime, step?: StepContext): Promise<LoadOutput> {
  const { encoderPool } = await import('../../adapters/parquet/encoder.js');
  await encoderPool.drain();
  reduceHeapAbove(REDUCE_HEAP_ABOVE_RSS_BYTES);
  return load(input, rt, step);
}

export const stepHandlers: StepHandlers = {
  plan: localPlan,
  extract: extractChunk,
  load: localLoad,
  commit,
  abort,
  verify,
  reap,
};
