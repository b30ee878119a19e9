/** Lambda entry point of the Load state. */
import { load } from '../handlers/load.js';
import { invokeStep, type LambdaContext } from './invoke.js';

export const handler = async (event: unknown, context?: LambdaContext) => invokeStep('Load', event, context, load);
