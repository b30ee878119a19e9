/** Lambda entry point of the ExtractChunk state (one invocation per chunk). */
import { extractChunk } from '../handlers/extract.js';
import { invokeStep, type LambdaContext } from './invoke.js';
import { countMetric } from './powertools.js';

export const handler = async (event: unknown, context?: LambdaContext) => {
  const e = event as { run?: { table?: unknown }; chunk?: { before?: { rows?: unknown } } } | null;
  const table = e?.run?.table;
  // A continuation part's result counts the earlier parts too: the metric takes this invocation's rows only.
  const before = typeof e?.chunk?.before?.rows === 'number' ? e.chunk.before.rows : 0;
  return invokeStep('ExtractChunk', event, context, extractChunk, (out) => {
    if (typeof table === 'string') countMetric('ChunkRows', table, out.rows - before);
  });
};
