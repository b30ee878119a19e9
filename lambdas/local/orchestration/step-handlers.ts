/** The five step handlers as one object, so a runner (or a test's faulty() wrapper) can swap any of them. */

import type { ChunkResult, CommitOutput, LoadOutput, PlanOutput } from '../../domain/manifests.js';
import { abort } from '../../handlers/abort.js';
import { commit } from '../../handlers/commit.js';
import { extractChunk } from '../../handlers/extract.js';
import { load } from '../../handlers/load.js';
import { plan } from '../../handlers/plan.js';
import type { Runtime } from '../../ports/runtime.js';

export interface StepHandlers {
  plan(input: unknown, rt: Runtime): Promise<PlanOutput>;
  extractChunk(input: unknown, rt: Runtime): Promise<ChunkResult>;
  load(input: unknown, rt: Runtime): Promise<LoadOutput>;
  commit(input: unknown, rt: Runtime): Promise<CommitOutput>;
  abort(input: unknown, rt: Runtime): Promise<{ aborted: boolean; error: string }>;
}

export const stepHandlers: StepHandlers = { plan, extractChunk, load, commit, abort };
