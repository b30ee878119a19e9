/**
 * Runs a sync request on this machine by executing the state machine definition deployed on AWS
 * (lambdas/orchestration/definition.ts) with aws-local-stepfunctions: Plan → Map(chunks, max_workers) → Load →
 * Commit per table, with Retry on transient errors and Catch → Abort (see sfn-local-runner.ts).
 */
import { RunRequestSchema } from '../../domain/manifests.js';
import type { SchemaChange } from '../../ports/index.js';
import type { Runtime } from '../../ports/runtime.js';
import type { HeldRuns } from './held-runs.js';
import { runStateMachine } from './sfn-local-runner.js';
import type { StepHandlers } from './step-handlers.js';

export type RunEvent =
  | { type: 'planned'; table: string; runId: string | null; chunks: number; skipped: string | null }
  | { type: 'chunk-done'; table: string; index: number; rows: number; bytes: number; done: number; total: number }
  | { type: 'retry'; table: string; step: string; attempt: number; error: string }
  | { type: 'loaded'; table: string; rowsLoaded: number; rowsStaged: number }
  | { type: 'committed'; table: string; status: 'committed' | 'staged' }
  | { type: 'failed'; table: string; error: string };

export interface TableReport {
  table: string;
  status: 'committed' | 'staged' | 'skipped' | 'failed';
  runId: string | null;
  rowsExtracted: number;
  rowsLoaded: number;
  files: number;
  bytes: number;
  watermarkBefore: { ts: string | null; id: string | null } | null;
  watermarkAfter: { ts: string | null; id: string | null } | null;
  durationMs: number;
  skipped: string | null;
  error: string | null;
  /** What the user can do about the error (the error's own suggestion), when it has one. */
  suggestion: string | null;
  exitCode: number;
  /** Where the commit horizon was and why (timestamp cursors). */
  horizon: string | null;
  /** Things to know about this run: schema changes, a held watermark, NULL cursors, a missing grant. */
  warnings: string[];
  /** What the load changed in the warehouse table's columns. */
  schemaChanges: SchemaChange[];
}

export interface RunReport {
  /** The execution's name (naming.ts executionName): on AWS the Step Functions execution, locally the same form. */
  executionId: string;
  pipeline: string;
  status: 'success' | 'partial_success' | 'failed';
  tables: TableReport[];
  startedAt: string;
  finishedAt: string;
}

export interface LocalRunOptions {
  handlers?: StepHandlers;
  onEvent?: (e: RunEvent) => void;
  /** Retries of a transient error per step after the first attempt (the ASL Retry's MaxAttempts; default 3). */
  maxAttempts?: number;
  /** A fixed wait between retries in ms (tests); unset, the ASL's own backoff applies (2 s, doubled, full jitter). */
  backoffMs?: number;
  /** Where the runs this execution holds are recorded (default: the process's, which a signal handler aborts). */
  heldRuns?: HeldRuns;
}

export async function runLocal(rt: Runtime, request: unknown, opts: LocalRunOptions = {}): Promise<RunReport> {
  return runStateMachine(rt, RunRequestSchema.parse(request), opts);
}
