/**
 * The runs a process holds between Plan and Commit/Abort: the one place that knows them, so an interrupted
 * `highwater sync` (SIGINT, SIGTERM) can end each the way the state machine's Abort does before the process exits —
 * marked failed, lease released, nothing left `extracting` — instead of leaving its lease to block every rerun.
 *
 * The local runner (local-runner.ts) records a run when Plan returns it and forgets it when Commit or Abort
 * completes. An interruption first stops new steps from starting, then waits for the Plan, Commit and Abort calls
 * in flight (a Plan may be about to hand back a leased run; a Commit may be about to succeed, and a committed run
 * must never be marked failed), and only then aborts what is still held, through the Abort handler itself.
 */
import type { RunContext } from '../../domain/manifests.js';
import { describeError, HighwaterError } from '../../errors.js';
import type { Runtime } from '../../ports/runtime.js';
import type { StepHandlers } from './step-handlers.js';

/** A step that would have started after the process was interrupted. */
export class InterruptedError extends HighwaterError {
  override readonly code: string = 'INTERRUPTED';
}

interface HeldRun {
  run: RunContext;
  rt: Runtime;
  abort: StepHandlers['abort'];
}

export interface InterruptOutcome {
  table: string;
  runId: string;
  /** False when Abort failed: the run and its lease are as they were (`error` says why). */
  aborted: boolean;
  error: string | null;
}

export class HeldRuns {
  private readonly runs = new Map<string, HeldRun>();
  /** Runs the interruption ended (or is ending): the state machine's own Abort of them is skipped. */
  private readonly ended = new Set<string>();
  private readonly critical = new Set<Promise<unknown>>();
  private why: string | null = null;

  /** Why the process was interrupted (e.g. "interrupted by SIGINT"), or null while it was not. */
  get interrupted(): string | null {
    return this.why;
  }

  /** The runs held now, oldest first. */
  list(): RunContext[] {
    return [...this.runs.values()].map((h) => h.run);
  }

  /** Plan handed back `run` with its lease: held until Commit or Abort completes (`abort` ends it otherwise). */
  hold(run: RunContext, rt: Runtime, abort: StepHandlers['abort']): void {
    this.runs.set(run.runId, { run, rt, abort });
  }

  /**
   * Whether an interruption ends `runId` itself: then the state machine's own Abort for it is skipped, so the run
   * ends once, with the interruption as its error.
   */
  endsOnInterrupt(runId: string): boolean {
    return this.why !== null && (this.runs.has(runId) || this.ended.has(runId));
  }

  /** Commit or Abort completed for `runId`. */
  forget(runId: string): void {
    this.runs.delete(runId);
  }

  /** A Plan, Commit or Abort call in flight: an interruption waits for it to settle before it aborts anything. */
  track<T>(call: Promise<T>): Promise<T> {
    this.critical.add(call);
    const settle = () => this.critical.delete(call);
    call.then(settle, settle);
    return call;
  }

  /** Throws InterruptedError once the process is interrupted: no step (but Abort) starts after that. */
  refuseIfInterrupted(step: string): void {
    if (this.why !== null) throw new InterruptedError(`${step} not started: ${this.why}`);
  }

  /** Stops new steps, lets Plan and Commit calls in flight settle, then aborts every run still held. */
  async interrupt(why: string): Promise<InterruptOutcome[]> {
    this.why ??= why;
    while (this.critical.size > 0) await Promise.allSettled([...this.critical]);
    const outcomes: InterruptOutcome[] = [];
    for (const { run, rt, abort } of [...this.runs.values()]) {
      this.ended.add(run.runId);
      try {
        await abort({ run, error: { Error: this.why } }, rt);
        this.runs.delete(run.runId);
        outcomes.push({ table: run.table, runId: run.runId, aborted: true, error: null });
      } catch (e) {
        outcomes.push({ table: run.table, runId: run.runId, aborted: false, error: rt.redact(describeError(e)) });
      }
    }
    return outcomes;
  }
}

/** This process's held runs: what the local runner records by default and what a signal handler aborts. */
export const processHeldRuns = new HeldRuns();
