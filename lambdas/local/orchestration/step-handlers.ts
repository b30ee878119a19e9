/**
 * The step handlers as one object, keyed as definition.ts TASK_STATES names them, so the local runner calls
 * `handlers[TASK_STATES[state]]` and a test's faulty() wrapper can swap any of them; and the reaper, which the
 * local runner calls where EventBridge would (a table execution that failed, timed out or was stopped).
 */

import { reduceHeap } from '../../adapters/memory/index.js';
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
 * A local load runs in the process that extracted: the idle Parquet encode workers (their isolates and wasm memory)
 * are given back first, and then what the extract left in V8's heap (reduceHeap), so the extract's memory and
 * DuckDB's do not add up in the sync's peak. A later extract starts a worker again (a fraction of a second, once per
 * table at most).
 */
async function localLoad(input: unknown, rt: Runtime, step?: StepContext): Promise<LoadOutput> {
  const { encoderPool } = await import('../../adapters/parquet/encoder.js');
  await encoderPool.drain();
  reduceHeap();
  return load(input, rt, step);
}

export const stepHandlers: StepHandlers = { plan, extract: extractChunk, load: localLoad, commit, abort, verify, reap };
