/**
 * --dry-run: the plan a sync would make — chunks, bounds, the exact SQL with its parameters, the target DDL —
 * computed with the same planner, but without taking a lease, writing state, staging or touching the warehouse.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { RunOptions } from '../../domain/manifests.js';
import { EMPTY_WATERMARK, type Watermark } from '../../domain/model.js';
import { watermarkAfter } from '../../domain/records.js';
import { describeChunkSizing } from '../../engine/chunk-size.js';
import { getTableConfig } from '../../engine/config/index.js';
import { pipelineTableParts, tableKey } from '../../engine/naming.js';
import { planWindow } from '../../engine/planner.js';
import { chunkQuery } from '../../engine/strategies/sql/reads.js';
import { describeForPlan, stagedChain } from '../../handlers/plan.js';
import type { RunRecord } from '../../ports/index.js';
import type { Runtime } from '../../ports/runtime.js';
import { createDuckDbWarehouse } from '../adapters/duckdb/index.js';

export interface ChunkPreview {
  index: number;
  lower: string[] | null;
  upper: string[] | null;
  sql: string;
  params: unknown[];
}

export interface TablePreview {
  table: string;
  strategy: string;
  mode: string;
  target: string;
  from: Watermark;
  to: Watermark;
  /** The watermark a commit would write. */
  next: Watermark;
  /** What a run reads, in words. */
  reads: string;
  horizon: string | null;
  warnings: string[];
  skipped: string | null;
  /** How many rows a chunk holds and why (engine/chunk-size.ts); null when the window is one chunk anyway. */
  chunkSize: string | null;
  chunks: ChunkPreview[];
  ddl: string;
}

export async function previewTable(
  rt: Runtime,
  pipelineName: string,
  tableName: string,
  options: RunOptions,
  adhoc?: { source: string; target: string },
): Promise<TablePreview> {
  const pipeline = rt.pipeline(pipelineName, adhoc);
  const table = getTableConfig(pipeline, tableName);
  const key = tableKey(pipelineTableParts(pipeline, table.name));
  // Reading state must not create it: a dry run on a fresh machine leaves no file behind.
  const stateExists = pipeline.state.type !== 'local' || existsSync(resolve(rt.config.home, pipeline.state.path));
  let from: Watermark = EMPTY_WATERMARK;
  let runs: RunRecord[] = [];
  if (stateExists) {
    const state = await rt.state(pipeline);
    runs = await state.listRuns(key);
    const committed = (await state.getWatermark(key))?.watermark ?? EMPTY_WATERMARK;
    const { chain } = stagedChain(
      runs.filter((r) => r.status === 'staged'),
      committed,
    );
    const last = chain[chain.length - 1];
    from = options.resync ? EMPTY_WATERMARK : last ? watermarkAfter(last) : committed;
  }
  const source = await rt.openSource(pipeline);
  try {
    const { ctx } = await describeForPlan(source, table);
    const window = await planWindow(source, ctx, {
      from,
      options,
      timeZone: pipeline.source.timeZone,
      history: runs.flatMap((r) => (r.plan?.snapshotAt ? [{ snapshotAt: r.plan.snapshotAt, upper: r.to }] : [])),
      sourceUser: pipeline.source.username,
    });
    const target = { schema: pipeline.target.schema, name: table.targetName.toLowerCase() };
    const ddlInput = {
      target,
      columns: ctx.columns,
      primaryKey: ctx.pk.map((c) => c.target),
      distkey: table.distkey,
      sortkey: table.sortkey,
      diststyle: table.diststyle,
    };
    let ddl: string;
    if (pipeline.target.type === 'duckdb' && !existsSync(resolve(rt.config.home, pipeline.target.path))) {
      const scratch = await createDuckDbWarehouse({ path: ':memory:' });
      try {
        ddl = scratch.describeDdl(ddlInput);
      } finally {
        await scratch.close();
      }
    } else {
      ddl = (await rt.warehouse(pipeline)).describeDdl(ddlInput);
    }
    const custom = {
      last_timestamp: from.ts,
      last_id: from.id,
      upper_timestamp: window.upperTimestamp,
      upper_id: null,
      limit: options.limit ?? null,
    };
    return {
      table: table.name,
      strategy: table.strategy,
      mode: ctx.mode,
      target: `${target.schema}.${target.name}`,
      from: window.from,
      to: window.to,
      next: window.next,
      reads: ctx.strategy.describe(table),
      horizon: window.horizon,
      warnings: window.warnings,
      skipped: window.skipped,
      chunkSize: window.chunkSizing ? describeChunkSizing(window.chunkSizing) : null,
      chunks: window.chunks.map((c) => {
        const q = chunkQuery(ctx, window.from, window.to, c, ctx.strategy.readsCustomQuery ? custom : undefined);
        return { index: c.index, lower: c.lower, upper: c.upper, sql: q.sql, params: q.params };
      }),
      ddl,
    };
  } finally {
    await source.close();
  }
}
