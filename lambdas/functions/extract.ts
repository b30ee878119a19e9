/** Lambda entry point of the ExtractChunk state (one invocation per chunk). */
import { extractChunk } from '../handlers/extract.js';
import { invokeStep, type LambdaContext } from './invoke.js';
import { countMetric } from './powertools.js';

export const handler = async (event: unknown, context?: LambdaContext) => {
  const table = (event as { run?: { table?: unknown } } | null)?.run?.table;
  return invokeStep('ExtractChunk', event, context, extractChunk, (out) => {
    if (typeof table === 'string') countMetric('ChunkRows', table, out.rows);
  });
};
