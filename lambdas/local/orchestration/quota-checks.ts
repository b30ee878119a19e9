/**
 * What Step Functions enforces and aws-local-stepfunctions 3.0.0 does not: every state's input and output within
 * the payload quota, and an execution's history within 25,000 events, counted as Step Functions counts them
 * (lambdas/domain/quotas.ts: an inline Map's iterations count in the execution that runs the Map; a Distributed
 * Map's children and child executions count in their own). A run that passes a quota fails as it would on AWS: the
 * execution fails with an error no Retry or Catch takes (`States.DataLimitExceeded` for a payload, as AWS names
 * it; `States.Runtime` for the history, whose exact AWS error name is not documented).
 *
 * The library runs every execution, and every inline Map iteration, through `StateMachine.prototype.execute` with
 * the run's options; a run started with an ExecutionQuota in its options (under QUOTA_OPTION) gets its event logger
 * watched: each event the library dispatches is counted as the history events it stands for, and each state's
 * input and output is measured. Runs without one (the definition's unit tests) are untouched. The library is
 * pinned (3.0.0); test/unit/local/quota-checks.test.ts fails if this hook stops seeing its events.
 */
import { StateMachine } from 'aws-local-stepfunctions';
import {
  EXECUTION_EVENTS,
  HISTORY_EVENTS,
  MAX_HISTORY_EVENTS,
  MAX_PAYLOAD_BYTES,
  payloadBytes,
  type StateKind,
} from '../../domain/quotas.js';
import { DISTRIBUTED_MAP, START_EXECUTION_SYNC } from '../../orchestration/definition.js';

/** The run option under which an execution's quota travels (the library passes run options to every iteration). */
export const QUOTA_OPTION = 'highwaterQuota';

/** A quota passed: like AWS's own errors of this kind, neither retried nor caught. */
export class QuotaExceededError extends Error {
  readonly isRetryable = false;
  readonly isCatchable = false;
  constructor(name: 'States.DataLimitExceeded' | 'States.Runtime', message: string) {
    super(message);
    this.name = name;
  }
}

type AslState = Record<string, unknown> & { Type?: string };

/** Every state of a definition (nested Maps included) by name, with the kind its history events follow. */
export function stateKinds(definition: Record<string, unknown>): Map<string, StateKind> {
  const kinds = new Map<string, StateKind>();
  const walk = (states: Record<string, AslState>) => {
    for (const [name, s] of Object.entries(states)) {
      const processor = s.ItemProcessor as { States?: Record<string, AslState>; ProcessorConfig?: { Mode?: string } };
      if (s.Type === 'Task') {
        kinds.set(name, s.Resource === START_EXECUTION_SYNC ? 'child-execution' : 'lambda-task');
      } else if (s.Type === 'Map') {
        kinds.set(name, processor?.ProcessorConfig?.Mode === 'DISTRIBUTED' ? 'distributed-map' : 'inline-map');
      } else {
        kinds.set(name, 'simple');
      }
      if (processor?.States) walk(processor.States);
    }
  };
  walk((definition.States ?? {}) as Record<string, AslState>);
  // The local runner serves the Distributed Map as a Task of the same name: it keeps a Map's events.
  if (kinds.has(DISTRIBUTED_MAP)) kinds.set(DISTRIBUTED_MAP, 'distributed-map');
  return kinds;
}

/** One execution's history count and payload checks. */
export class ExecutionQuota {
  /** Events Step Functions would have written so far. */
  events = 0;
  /** The largest state input or output seen so far, in bytes. */
  largestPayload = 0;
  constructor(
    /** The execution, for messages. */
    readonly execution: string,
    private readonly kinds: ReadonlyMap<string, StateKind>,
  ) {}

  private kind(state: string): StateKind {
    return this.kinds.get(state) ?? 'simple';
  }

  /** Counts events; passing the limit is reported at the next state transition (where the library can fail). */
  count(n: number): void {
    this.events += n;
  }

  /** Throws once the history has passed its quota. */
  checkHistory(): void {
    if (this.events > MAX_HISTORY_EVENTS) {
      throw new QuotaExceededError(
        'States.Runtime',
        `execution ${this.execution}: its history would exceed ${MAX_HISTORY_EVENTS} events (Step Functions quota), at ${this.events}`,
      );
    }
  }

  /** Throws when `value` is larger than a payload may be. */
  checkPayload(what: string, value: unknown): void {
    const bytes = payloadBytes(value);
    if (bytes > this.largestPayload) this.largestPayload = bytes;
    if (bytes > MAX_PAYLOAD_BYTES) {
      throw new QuotaExceededError(
        'States.DataLimitExceeded',
        `execution ${this.execution}: ${what} is ${bytes} bytes, above the ${MAX_PAYLOAD_BYTES}-byte payload quota`,
      );
    }
  }

  entered(state: string, input: unknown): void {
    this.count(HISTORY_EVENTS[this.kind(state)].entered);
    this.checkHistory();
    this.checkPayload(`the input of state ${state}`, input);
  }
  exited(state: string, output: unknown): void {
    this.count(HISTORY_EVENTS[this.kind(state)].exited);
    this.checkHistory();
    this.checkPayload(`the output of state ${state}`, output);
  }
  failed(state: string): void {
    this.count(HISTORY_EVENTS[this.kind(state)].failed);
  }
  retried(state: string): void {
    this.count(HISTORY_EVENTS[this.kind(state)].retried);
    this.checkHistory();
  }
  caught(state: string): void {
    this.count(HISTORY_EVENTS[this.kind(state)].caught);
    this.checkHistory();
  }
}

interface Logger {
  dispatchExecutionStartedEvent(input: unknown): void;
  dispatchExecutionSucceededEvent(output: unknown): void;
  dispatchExecutionFailedEvent(error: unknown): void;
  dispatchStateEnteredEvent(name: string, type: string, input: unknown): void;
  dispatchStateExitedEvent(name: string, type: string, input: unknown, output: unknown): void;
  dispatchStateFailedEvent(name: string, type: string, input: unknown, error: unknown): void;
  dispatchStateRetriedEvent(name: string, type: string, input: unknown, retrier: unknown, attempt: number): void;
  dispatchStateCaughtEvent(name: string, type: string, input: unknown, catcher: unknown): void;
}

/**
 * The logger of one run (an execution, or one inline Map iteration of it), counting into `quota`. Execution start
 * and end only count: the library dispatches them outside the loop whose errors fail the execution, so a limit
 * passed there is reported at the next state.
 */
function watched(target: Logger, quota: ExecutionQuota): Logger {
  const hooks: Partial<Logger> = {
    dispatchExecutionStartedEvent(input) {
      quota.count(EXECUTION_EVENTS.started);
      target.dispatchExecutionStartedEvent(input);
    },
    dispatchExecutionSucceededEvent(output) {
      quota.count(EXECUTION_EVENTS.ended);
      target.dispatchExecutionSucceededEvent(output);
    },
    dispatchExecutionFailedEvent(error) {
      quota.count(EXECUTION_EVENTS.ended);
      target.dispatchExecutionFailedEvent(error);
    },
    dispatchStateEnteredEvent(name, type, input) {
      quota.entered(name, input);
      target.dispatchStateEnteredEvent(name, type, input);
    },
    dispatchStateExitedEvent(name, type, input, output) {
      quota.exited(name, output);
      target.dispatchStateExitedEvent(name, type, input, output);
    },
    dispatchStateFailedEvent(name, type, input, error) {
      quota.failed(name);
      target.dispatchStateFailedEvent(name, type, input, error);
    },
    dispatchStateRetriedEvent(name, type, input, retrier, attempt) {
      quota.retried(name);
      target.dispatchStateRetriedEvent(name, type, input, retrier, attempt);
    },
    dispatchStateCaughtEvent(name, type, input, catcher) {
      quota.caught(name);
      target.dispatchStateCaughtEvent(name, type, input, catcher);
    },
  };
  return new Proxy(target, {
    get(t, prop, receiver) {
      if (typeof prop === 'string' && prop in hooks) return hooks[prop as keyof Logger];
      const v = Reflect.get(t, prop, receiver);
      return typeof v === 'function' ? v.bind(t) : v;
    },
  });
}

interface ExecuteOptions {
  eventLogger: Logger;
  runOptions?: Record<string, unknown>;
}
type Execute = (this: unknown, input: unknown, options: ExecuteOptions, cleanup: () => void) => Promise<unknown>;

let installed = false;

/** Hooks the library's `execute` once per process (idempotent). */
export function installQuotaChecks(): void {
  if (installed) return;
  const proto = StateMachine.prototype as unknown as { execute?: Execute };
  const original = proto.execute;
  if (typeof original !== 'function') {
    throw new Error('aws-local-stepfunctions changed: StateMachine.prototype.execute is gone (quota checks need it)');
  }
  proto.execute = function (this: unknown, input, options, cleanup) {
    const quota = options.runOptions?.[QUOTA_OPTION];
    if (quota instanceof ExecutionQuota) options = { ...options, eventLogger: watched(options.eventLogger, quota) };
    return original.call(this, input, options, cleanup);
  };
  installed = true;
}
