/**
 * Local executions, as Step Functions keeps them: each run of a state machine (the sync execution, each table
 * execution, each Distributed Map child) is an execution of its own with its own ARN (`$$.Execution.Id`), its own
 * history count and payload checks (quota-checks.ts), and a status it ends in — SUCCEEDED, FAILED, TIMED_OUT or
 * ABORTED. `stop()` stops every execution still running, as StopExecution would; an execution that ends in one of
 * the last three is reported to `onEnd`, which is where the local runner plays EventBridge's part and runs the
 * reaper (lambdas/handlers/reap.ts).
 */
import type { RunOptions as SfnRunOptions, StateMachine } from 'aws-local-stepfunctions';
import type { StateKind } from '../../domain/quotas.js';
import { ExecutionQuota, QUOTA_OPTION } from './quota-checks.js';

export type ExecutionStatus = 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

export interface ExecutionEnd {
  arn: string;
  status: ExecutionStatus;
  output: unknown;
  /** How it failed, as DescribeExecution says: the error name and its cause. */
  error: { Error: string; Cause: string } | null;
  startDate: Date;
  stopDate: Date;
  /** Events counted in its history. */
  historyEvents: number;
  /** Its largest state input or output, in bytes. */
  largestPayload: number;
  /** Which state machine it ran: the sync, a table, or a Distributed Map's child. */
  kind: ExecutionKind;
}

export type ExecutionKind = 'sync' | 'table' | 'map-child';

export interface StartOptions {
  arn: string;
  kind: ExecutionKind;
  /** The kind of each state, for the history count (quota-checks.ts stateKinds). */
  kinds: ReadonlyMap<string, StateKind>;
  overrides: NonNullable<SfnRunOptions['overrides']>;
  /** Extra context (a Distributed Map child's `$$.Map`…); `Execution.Id` and `Name` are set here. */
  context?: Record<string, unknown>;
  /** Called with the output of these (top-level) states as the execution leaves them. */
  watchStates?: readonly string[];
  onState?: (state: string, output: unknown) => void;
  /** Called once the execution ended FAILED, TIMED_OUT or ABORTED, before `run` resolves. */
  onEnd?: (end: ExecutionEnd, input: unknown) => Promise<void>;
}

export interface LocalExecutionsOptions {
  /** Told of every execution's end (tests: its history count, its largest payload). */
  onExecutionEnd?: (end: ExecutionEnd) => void;
}

type LibraryExecution = ReturnType<StateMachine['run']>;

function endOf(e: unknown): { status: ExecutionStatus; error: ExecutionEnd['error'] } {
  const err = e as { name?: string; message?: string; cause?: { name?: string; message?: string } };
  if (err?.name === 'ExecutionAbortedError') {
    return { status: 'ABORTED', error: { Error: 'States.Aborted', Cause: 'the execution was stopped' } };
  }
  if (err?.name === 'ExecutionTimeoutError') {
    return { status: 'TIMED_OUT', error: { Error: 'States.Timeout', Cause: 'the execution timed out' } };
  }
  const cause = err?.cause ?? err;
  return { status: 'FAILED', error: { Error: cause?.name ?? 'Error', Cause: cause?.message ?? String(e) } };
}

export class LocalExecutions {
  private readonly running = new Set<LibraryExecution>();
  private why: string | null = null;
  constructor(private readonly opts: LocalExecutionsOptions = {}) {}

  /** Why the executions were stopped, or null. */
  get stopped(): string | null {
    return this.why;
  }

  /** Stops every execution still running (and any started later), as StopExecution does. */
  stop(why: string): void {
    this.why ??= why;
    for (const ex of [...this.running]) ex.abort();
  }

  /** Runs `machine` as one execution; resolves with how it ended (it never rejects). */
  async run(machine: StateMachine, input: unknown, o: StartOptions): Promise<ExecutionEnd> {
    const startDate = new Date();
    const name = o.arn.slice(o.arn.lastIndexOf(':') + 1);
    const quota = new ExecutionQuota(o.arn, o.kinds);
    const runOptions = {
      overrides: o.overrides,
      context: { ...o.context, Execution: { Id: o.arn, Name: name } },
      [QUOTA_OPTION]: quota,
    } as unknown as SfnRunOptions;
    let end: Omit<ExecutionEnd, 'stopDate' | 'historyEvents' | 'largestPayload' | 'kind'>;
    try {
      quota.checkPayload('the execution input', input);
      if (this.why !== null) throw Object.assign(new Error(this.why), { name: 'ExecutionAbortedError' });
      const ex = machine.run(input as never, runOptions);
      this.running.add(ex);
      const drained = this.drain(ex, o);
      try {
        end = { arn: o.arn, status: 'SUCCEEDED', output: await ex.result, error: null, startDate };
      } finally {
        this.running.delete(ex);
        // The events of an ended execution are all queued: read them to the end (this also frees them).
        await drained;
      }
    } catch (e) {
      end = { arn: o.arn, ...endOf(e), output: null, startDate };
    }
    const done: ExecutionEnd = {
      ...end,
      stopDate: new Date(),
      historyEvents: quota.events,
      largestPayload: quota.largestPayload,
      kind: o.kind,
    };
    if (done.status !== 'SUCCEEDED') await o.onEnd?.(done, input);
    this.opts.onExecutionEnd?.(done);
    return done;
  }

  /** Reads the execution's event log as it grows, handing the watched states' outputs over. */
  private async drain(ex: LibraryExecution, o: StartOptions): Promise<void> {
    const watch = new Set(o.watchStates ?? []);
    for await (const ev of ex.eventLogs) {
      if (ev.type === 'StateExited' && ev.index === undefined && watch.has(ev.state.name)) {
        o.onState?.(ev.state.name, ev.state.output);
      }
      if (ev.type === 'ExecutionAborted' || ev.type === 'ExecutionTimeout') return;
    }
  }
}
