/** Lambda entry point of the Abort state (the Catch target of every step after Plan). */
import { abort } from '../handlers/abort.js';
import { invokeStep, type LambdaContext } from './invoke.js';

export const handler = async (event: unknown, context?: LambdaContext) => invokeStep('Abort', event, context, abort);
