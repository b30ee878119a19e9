/**
 * The body every function shares: get the container's runtime, run one step handler, log the outcome, and rethrow
 * the failure — redacted. Its `name` is what the state machine's Retry and Catch match on, so it is set to
 * aslErrorName(): unchanged for most errors, `Highwater.Transient` / `<Class>.Permanent` where the instance's
 * retry class differs from its class's (see lambdas/orchestration/definition.ts). Lambda reports a thrown error's
 * name, message and stack to Step Functions, which keeps them as the step's Cause in the execution's history and
 * log group: so the message and the stack's first line carry only the redacted text, and the cause chain (which
 * may hold a driver's error with a connection string) is dropped.
 */

import { describeError } from '../errors.js';
import { aslErrorName } from '../orchestration/definition.js';
import type { Runtime } from '../ports/runtime.js';
import { NO_DEADLINE, type StepContext } from '../ports/step-context.js';
import { containerRuntime } from '../runtime/aws.js';
import { functionEnv } from './env.js';
import { logger } from './powertools.js';

/** The part of Lambda's context object a step uses: its deadline. */
export interface LambdaContext {
  getRemainingTimeInMillis(): number;
}

export type Step = 'Plan' | 'ExtractChunk' | 'Load' | 'Commit' | 'Abort' | 'Verify' | 'Reap';

/**
 * The error a function throws for Step Functions: the same object (its class, and so `instanceof`, kept), named by
 * aslErrorName(), with `message` replaced by the redacted text, the stack's header line rebuilt from it (its frames
 * kept), and no `cause`. A thrown value that is not an Error becomes one.
 */
export function errorForStepFunctions(e: unknown, redact: (text: string) => string): Error {
  const message = redact(describeError(e));
  const err = e instanceof Error ? e : new Error(message);
  const name = aslErrorName(err);
  const frames = (err.stack ?? '').split('\n').filter((l) => /^\s+at /.test(l));
  // Some classes (ZodError) compute `message` with a getter: an own property replaces it.
  Object.defineProperty(err, 'message', { value: message, writable: true, configurable: true, enumerable: false });
  err.name = name;
  err.stack = [`${name}: ${message}`, ...frames].join('\n');
  delete (err as { cause?: unknown }).cause;
  return err;
}

/** The few routing fields of an event worth logging (names, never row data or connection details). */
function eventSummary(event: unknown): Record<string, unknown> {
  if (typeof event !== 'object' || event === null) return {};
  const e = event as Record<string, unknown>;
  const run = (typeof e.run === 'object' && e.run !== null ? e.run : {}) as Record<string, unknown>;
  const chunk = (typeof e.chunk === 'object' && e.chunk !== null ? e.chunk : {}) as Record<string, unknown>;
  const pick = (v: unknown) => (typeof v === 'string' || typeof v === 'number' ? v : undefined);
  return {
    pipeline: pick(e.pipeline) ?? pick(run.pipeline),
    table: pick(e.table) ?? pick(run.table),
    runId: pick(run.runId),
    chunk: pick(chunk.index),
  };
}

export async function invokeStep<T>(
  step: Step,
  event: unknown,
  context: LambdaContext | undefined,
  handler: (input: unknown, rt: Runtime, deadline: StepContext) => Promise<T>,
  after?: (output: T) => void,
): Promise<T> {
  const started = Date.now();
  const fields = { step, ...eventSummary(event) };
  let rt: Runtime | undefined;
  try {
    rt = await containerRuntime({ configDir: functionEnv.HIGHWATER_CONFIG_DIR, home: functionEnv.HIGHWATER_HOME });
    logger.info(`${step} started`, fields);
    const output = await handler(
      event,
      rt,
      context ? { remainingMs: () => context.getRemainingTimeInMillis() } : NO_DEADLINE,
    );
    after?.(output);
    logger.info(`${step} done`, { ...fields, durationMs: Date.now() - started });
    return output;
  } catch (e) {
    const failure = errorForStepFunctions(e, (text) => (rt ? rt.redact(text) : text));
    logger.error(`${step} failed`, {
      ...fields,
      durationMs: Date.now() - started,
      errorName: failure.name,
      // Only the message, redacted: an error's cause or stack may carry a resolved secret.
      errorMessage: failure.message,
    });
    throw failure;
  }
}
