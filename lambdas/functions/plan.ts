/** Lambda entry point of the Plan state. */
import { plan } from '../handlers/plan.js';
import { invokeStep, type LambdaContext } from './invoke.js';

export const handler = async (event: unknown, context?: LambdaContext) => invokeStep('Plan', event, context, plan);
