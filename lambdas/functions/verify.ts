/**
 * Lambda entry point of the Verify state (verify_every). `TableDiffers` is 1 for a table whose warehouse differs
 * from the source, 0 for an equal one: the stack's alarm fires on any 1.
 */
import { verify } from '../handlers/verify.js';
import { invokeStep, type LambdaContext } from './invoke.js';
import { countMetric, serviceMetric } from './powertools.js';

export const handler = async (event: unknown, context?: LambdaContext) =>
  invokeStep('Verify', event, context, verify, (out) => {
    countMetric('TableDiffers', out.table, out.equal ? 0 : 1);
    serviceMetric('TableDiffers', out.equal ? 0 : 1);
  });
