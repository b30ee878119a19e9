/**
 * What a step handler knows of the invocation it runs in: how long it has left before the platform ends it. In a
 * Lambda that is the function's deadline (context.getRemainingTimeInMillis); in a local run, the Task state's
 * TimeoutSeconds, enforced by the local runner as Step Functions would. A handler that may run long (extract,
 * load, verify) plans its work to end, cleanly, before it.
 */
export interface StepContext {
  /** Milliseconds left before this invocation is ended from outside. */
  remainingMs(): number;
}

/** No deadline: scripts, tests and commands that call a handler outside a state machine. */
export const NO_DEADLINE: StepContext = { remainingMs: () => Number.POSITIVE_INFINITY };

/** A deadline `ms` from now. */
export function deadlineIn(ms: number, now: () => number = Date.now): StepContext {
  const end = now() + ms;
  return { remainingMs: () => Math.max(0, end - now()) };
}
