/**
 * Lambda entry point of the Abort state (the Catch target of every step after Plan), and of the reaper: the
 * EventBridge rule on table executions that failed, timed out or were stopped sends its events here (told apart
 * by their shape; lambdas/handlers/reap.ts).
 */
import { abort } from '../handlers/abort.js';
import { isExecutionStatusChange, reap } from '../handlers/reap.js';
import { invokeStep, type LambdaContext } from './invoke.js';

export const handler = async (event: unknown, context?: LambdaContext) =>
  isExecutionStatusChange(event)
    ? invokeStep('Reap', event, context, reap)
    : invokeStep('Abort', event, context, abort);
