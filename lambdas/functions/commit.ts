/** Lambda entry point of the Commit state; the only one that reports rows synced. */
import { commit } from '../handlers/commit.js';
import { invokeStep, type LambdaContext } from './invoke.js';
import { countMetric } from './powertools.js';

export const handler = async (event: unknown, context?: LambdaContext) =>
  invokeStep('Commit', event, context, commit, (out) => {
    if (out.status === 'committed') countMetric('RowsSynced', out.table, out.rowsLoaded);
  });
