/**
 * The body every function shares: get the container's runtime, run one step handler, log the outcome, and rethrow
 * the failure itself. Its `name` is what the state machine's Retry and Catch match on, so it is set to
 * aslErrorName(): unchanged for most errors, `Highwater.Transient` / `<Class>.Permanent` where the instance's
 * retry class differs from its class's (see lambdas/orchestration/definition.ts).
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

export type Step = 'Plan' | 'ExtractChunk' | 'Load' | 'Commit' | 'Abort' | 'Verify';

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
    const message = describeError(e);
    if (e instanceof Error) e.name = aslErrorName(e);
    logger.error(`${step} failed`, {
      ...fields,
      durationMs: Date.now() - started,
      errorName: e instanceof Error ? e.name : 'Error',
      // Only the message, redacted: an error's cause or stack may carry a resolved secret.
      errorMessage: rt ? rt.redact(message) : message,
    });
    throw e;
  }
}
