/**
 * The step handlers as one object, keyed as definition.ts TASK_STATES names them, so the local runner calls
 * `handlers[TASK_STATES[state]]` and a test's faulty() wrapper can swap any of them; and the reaper, which the
 * local runner calls where EventBridge would (a table execution that failed, timed out or was stopped).
 */

import { heapBytes, reduceHeap } from '../../adapters/memory/index.js';
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
 * How many rows make a large extract. After one, a local load first gives back what the extract left in V8's heap:
 * that memory-reducing collection costs 50–80 ms whatever it finds; measured before a load, after 10M rows it took
 * the process from 255 to 199 MB, after 100,000 rows from 174 to 149 MB. Before one, the plan does not open the
 * warehouse early: DuckDB's allocations made among a large extract's kept the 10M-row sync's peak 40 MB higher,
 * for a tenth of a second in half a minute.
 */
export const LARGE_EXTRACT_ROWS = 1_000_000;

/**
 * V8's heap size past which a load gives it back whatever the rows: 6,000 chunks of 10 rows left a 217 MB heap
 * (94 MB of it live) and, without the collection, a peak of 755–822 MB against 571 MB. A small run's heap is ~50 MB.
 */
const LARGE_HEAP_BYTES = 128 * 1024 * 1024;

/** Rows this process extracted since its last load (a continuation part counts its chunk's earlier parts again). */
let rowsSinceLoad = 0;

/**
 * Starts opening the DuckDB warehouse of a planned run it expects to be small: loading DuckDB's library and opening
 * the file (about 0.1 s, much of a small run) then happen while the chunks are extracted. Not for a --backup-only run,
 * which must not touch the warehouse, nor for a run with nothing to do. An open that fails is forgotten by the runtime
 * (create.ts cachedAdapter), so the load opens it again and reports that error in its own step.
 */
export function warmWarehouse(rt: Pick<Runtime, 'pipeline' | 'warehouse'>, planned: PlanOutput): boolean {
  if (!planned.run || planned.run.backupOnly) return false;
  if (planned.rowsEstimate === null || planned.rowsEstimate >= LARGE_EXTRACT_ROWS) return false;
  const pipeline = rt.pipeline(planned.run.pipeline, planned.run.adhoc);
  if (pipeline.target.type !== 'duckdb') return false;
  rt.warehouse(pipeline).catch(() => undefined);
  return true;
}

/**
 * A local plan warms what the run will need while the main thread mostly waits on MySQL: the Parquet writer's modules
 * from its start (the first extract imports them anyway), the warehouse once it has a run (warmWarehouse).
 */
async function localPlan(input: unknown, rt: Runtime, step?: StepContext): Promise<PlanOutput> {
  rt.parquet().catch(() => undefined);
  const planned = await plan(input, rt, step);
  warmWarehouse(rt, planned);
  return planned;
}

async function localExtract(input: unknown, rt: Runtime, step?: StepContext): Promise<ChunkResult> {
  const result = await extractChunk(input, rt, step);
  rowsSinceLoad += result.rows;
  return result;
}

/**
 * A local load runs in the process that extracted: the idle Parquet encode workers (their isolates and wasm memory)
 * are given back first, and then, after a large extract or with a large heap, what the extract left in V8's heap,
 * so the extract's memory and DuckDB's do not add up in the sync's peak. A later extract starts a worker again (a
 * fraction of a second, once per table at most).
 */
async function localLoad(input: unknown, rt: Runtime, step?: StepContext): Promise<LoadOutput> {
  const { encoderPool } = await import('../../adapters/parquet/encoder.js');
  await encoderPool.drain();
  if (rowsSinceLoad >= LARGE_EXTRACT_ROWS || heapBytes() >= LARGE_HEAP_BYTES) reduceHeap();
  rowsSinceLoad = 0;
  return load(input, rt, step);
}

export const stepHandlers: StepHandlers = {
  plan: localPlan,
  extract: localExtract,
  load: localLoad,
  commit,
  abort,
  verify,
  reap,
};
