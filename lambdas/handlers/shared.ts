/** What every step after Plan rebuilds from the run context: the pipeline, the table's config and its roles. */

import type { PipelineConfig } from '../domain/config.js';
import type { RunContext } from '../domain/manifests.js';
import { getTableConfig } from '../engine/config/index.js';
import { parseTableKey } from '../engine/naming.js';
import { buildTableContext, type TableContext } from '../engine/table-context.js';
import type { Runtime } from '../ports/runtime.js';

export interface RunScope {
  pipeline: PipelineConfig;
  ctx: TableContext;
  keyParts: ReturnType<typeof parseTableKey>;
}

export function runScope(rt: Runtime, run: RunContext): RunScope {
  const pipeline = rt.pipeline(run.pipeline, run.adhoc);
  const table = getTableConfig(pipeline, run.table);
  const sourcePk = run.primaryKey.map((t) => run.columns.find((c) => c.target === t)?.source.name ?? t);
  const ctx = buildTableContext(table, run.columns, sourcePk);
  return { pipeline, ctx, keyParts: parseTableKey(run.tableKey) };
}
