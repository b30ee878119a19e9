/** Lambda entry point of the ExtractChunk state (one invocation per chunk). */
import { extractChunk } from '../handlers/extract.js';
import { invokeStep } from './invoke.js';
import { countMetric } from './powertools.js';

export const handler = async (event: unknown) => {
  const table = (event as { run?: { table?: unknown } } | null)?.run?.table;
  return invokeStep('ExtractChunk', event, extractChunk, (out) => {
    if (typeof table === 'string') countMetric('ChunkRows', table, out.rows);
  });
};
