/**
 * The AWS Step Functions quotas that bound a run, as AWS documents them (each with its source), and how Step
 * Functions counts an execution's history. One declaration: the planner budgets against these, the local runner
 * enforces them, the config validates against them, and docs/limits.md cites the same pages.
 */

/**
 * Largest input or output of a task, a state or an execution: 256 KiB of UTF-8 JSON. "Length constraints apply to
 * the payload size, and are expressed as bytes in UTF-8 encoding … Maximum length of 262144."
 * https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html
 * https://docs.aws.amazon.com/step-functions/latest/apireference/API_StateEnteredEventDetails.html
 */
export const MAX_PAYLOAD_BYTES = 262_144;

/**
 * Events in one execution's history (Standard workflows). Inline Map iterations write theirs into the parent's
 * history; a Distributed Map's child executions and a child started with `states:startExecution` have their own.
 * https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html
 * https://docs.aws.amazon.com/step-functions/latest/dg/state-map-inline.html
 * https://docs.aws.amazon.com/step-functions/latest/dg/state-map-distributed.html
 */
export const MAX_HISTORY_EVENTS = 25_000;

/** An inline Map "supports up to 40 concurrent iterations". https://docs.aws.amazon.com/step-functions/latest/dg/state-map-inline.html */
export const INLINE_MAP_MAX_CONCURRENCY = 40;

/** A Distributed Map runs up to 10,000 child executions at once. https://docs.aws.amazon.com/step-functions/latest/dg/state-map-distributed.html */
export const DISTRIBUTED_MAP_MAX_CONCURRENCY = 10_000;

/** A Standard workflow execution runs at most one year. https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html */
export const MAX_EXECUTION_SECONDS = 365 * 24 * 3600;

/** A Lambda invocation runs at most 15 minutes. https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html */
export const LAMBDA_MAX_TIMEOUT_SECONDS = 900;

/**
 * The UTF-8 JSON size Step Functions measures a payload by. `undefined` fields vanish as they do on the wire.
 */
export function payloadBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value ?? null), 'utf8');
}

/**
 * History events Step Functions writes per state, by kind (the event types of
 * https://docs.aws.amazon.com/step-functions/latest/apireference/API_HistoryEvent.html). `entered` counts the
 * events written when the state is entered and its first attempt starts; `exited` those of a success; `failed` one
 * failed attempt; `retried` the start of another attempt; `caught` the state's exit through a Catch.
 *
 * - a Lambda task (`lambda:invoke`): TaskStateEntered, TaskScheduled, TaskStarted | TaskSucceeded, TaskStateExited;
 *   a failed attempt TaskFailed (or TaskTimedOut); a retry TaskScheduled, TaskStarted.
 * - a child execution (`states:startExecution.sync:2`): the same plus TaskSubmitted.
 * - an inline Map: MapStateEntered, MapStateStarted | MapStateSucceeded, MapStateExited; and per iteration
 *   MapIterationStarted … MapIterationSucceeded/Failed around the iteration's own states.
 * - a Distributed Map: MapStateEntered, MapRunStarted | MapRunSucceeded, MapStateExited; its iterations are child
 *   executions with histories of their own.
 * - Pass, Choice, Wait, Succeed: StateEntered, StateExited; Fail: FailStateEntered (then ExecutionFailed).
 */
export interface StateHistoryEvents {
  entered: number;
  exited: number;
  failed: number;
  retried: number;
  caught: number;
}

export type StateKind = 'lambda-task' | 'child-execution' | 'inline-map' | 'distributed-map' | 'simple';

export const HISTORY_EVENTS: Readonly<Record<StateKind, StateHistoryEvents>> = {
  'lambda-task': { entered: 3, exited: 2, failed: 1, retried: 2, caught: 1 },
  'child-execution': { entered: 4, exited: 2, failed: 1, retried: 3, caught: 1 },
  'inline-map': { entered: 2, exited: 2, failed: 1, retried: 1, caught: 1 },
  'distributed-map': { entered: 2, exited: 2, failed: 1, retried: 1, caught: 1 },
  simple: { entered: 1, exited: 1, failed: 1, retried: 0, caught: 1 },
};

/** ExecutionStarted and the execution's end (or an inline Map iteration's MapIterationStarted and its end). */
export const EXECUTION_EVENTS = { started: 1, ended: 1 } as const;
