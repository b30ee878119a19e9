/** Lambda entry point of the Plan state. */
import { plan } from '../handlers/plan.js';
import { invokeStep } from './invoke.js';

export const handler = async (event: unknown) => invokeStep('Plan', event, plan);
