/**
 * validate-counts: the source's row count against the warehouse's, with the run ledger alongside.
 *
 * The contract is source == warehouse. For strategies with a cursor the source is counted up to the committed
 * watermark (rows after it are not synced yet — a lagging table is not data loss), and the rows after it are
 * reported separately. The ledger is informational: it counts rows per run, and a row updated between runs is
 * extracted (and loaded) again, which the warehouse merge dedupes — so the ledger may exceed the warehouse.
 */

import type { PipelineConfig, TableConfig } from '../../domain/config.js';
import { EMPTY_WATERMARK, type Watermark } from '../../domain/model.js';
import { pipelineTableParts, tableKey } from '../../engine/naming.js';
import { strategyFor } from '../../engine/strategies/index.js';
import { customSqlFragment, fromClause } from '../../engine/strategies/sql/reads.js';
import { buildTableContext, type TableContext } from '../../engine/table-context.js';
import { mapColumns } from '../../engine/type-map.js';
import { ConfigError } from '../../errors.js';
import type { SourceReader, StateStore, Warehouse } from '../../ports/index.js';

export interface CountPorts {
  source: SourceReader;
  state: StateStore;
  warehouse: Warehouse;
}

export interface CountReport {
  table: string;
  tableKey: string;
  strategy: string;
  target: { schema: string; name: string };
  /** Whether the strategy has a cursor (the verdict then uses the source count up to the watermark). */
  cursor: boolean;
  watermark: Watermark | null;
  source: {
    /** Every row the pipeline would sync (within additional_where). */
    total: number;
    /** Rows at or before the watermark (null without a cursor). */
    upToWatermark: number | null;
    /** Rows after the watermark: waiting for the next run (null without a cursor). */
    notYetSynced: number | null;
  };
  ledger: { committedRuns: number; rowsExtracted: number; rowsLoaded: number };
  /** Rows in the target table; 0 when it does not exist yet (`targetExists` false). */
  warehouse: number;
  targetExists: boolean;
  /** The source count the verdict compares with the warehouse. */
  compared: number;
  /**
   * equal: the warehouse has exactly the compared rows. within (cursor strategies): more than the source up to the
   * watermark but no more than the whole source — rows changed since the last run still sit there at their older
   * version, or a run loaded and died before committing; the next run settles them. missing: fewer rows than the
   * source up to the watermark (lost rows). extra: more than the whole source (rows deleted at the source, or
   * duplicated).
   */
  verdict: 'equal' | 'within' | 'missing' | 'extra';
  match: boolean;
  notes: string[];
}

async function countOf(source: SourceReader, sql: string, params: readonly unknown[]): Promise<number> {
  const rows = await source.query<{ n: unknown }>(sql, params);
  return Number(rows[0]?.n ?? 0);
}

async function sourceContext(source: SourceReader, table: TableConfig): Promise<TableContext> {
  const exists = await countOf(
    source,
    'SELECT COUNT(*) AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?',
    [table.sourceSchema, table.sourceTable],
  );
  if (exists === 0) {
    throw new ConfigError(`table ${table.name} does not exist in the source database`, {
      suggestion: 'Check the schema.table name (and the pipeline with -p).',
    });
  }
  const schema = await source.describeTable(table.sourceSchema, table.sourceTable);
  return buildTableContext(table, mapColumns(table.name, schema.columns), schema.primaryKey);
}

/** Rows of the table the pipeline selects, optionally only those at or before `upTo`. */
async function countSource(source: SourceReader, ctx: TableContext, upTo: Watermark | null): Promise<number> {
  if (ctx.strategy.readsCustomQuery) {
    const now = await source.query<{ u: unknown }>(
      ctx.table.timestampFormat === 'unix' ? 'SELECT UNIX_TIMESTAMP() AS u' : 'SELECT NOW(6) AS u',
    );
    const q = customSqlFragment(ctx, {
      last_timestamp: null,
      last_id: null,
      upper_timestamp: String(now[0]?.u ?? ''),
      upper_id: null,
      limit: null,
    });
    return countOf(source, `SELECT COUNT(*) AS n FROM (${q.sql}) AS \`hw_q\``, q.params);
  }
  const where = ctx.strategy.window(ctx, EMPTY_WATERMARK, upTo);
  return countOf(source, `SELECT COUNT(*) AS n FROM ${fromClause(ctx)} WHERE ${where.sql}`, where.params);
}

export async function validateCounts(
  ports: CountPorts,
  pipeline: PipelineConfig,
  table: TableConfig,
): Promise<CountReport> {
  const key = tableKey(pipelineTableParts(pipeline, table.name));
  const ctx = await sourceContext(ports.source, table);
  const rules = strategyFor(table.strategy);
  const cursor = rules.lagCursor(table) !== undefined;
  const watermark = (await ports.state.getWatermark(key))?.watermark ?? null;

  const total = await countSource(ports.source, ctx, null);
  let upToWatermark: number | null = null;
  if (cursor) {
    const hasPosition = watermark !== null && (watermark.ts !== null || watermark.id !== null);
    upToWatermark = hasPosition ? await countSource(ports.source, ctx, watermark) : 0;
  }

  const runs = await ports.state.listRuns(key, { status: ['committed', 'cleaned'] });
  const ledger = {
    committedRuns: runs.length,
    rowsExtracted: runs.reduce((n, r) => n + r.rowsExtracted, 0),
    rowsLoaded: runs.reduce((n, r) => n + (r.rowsLoaded ?? 0), 0),
  };

  const target = { schema: pipeline.target.schema, name: table.targetName.toLowerCase() };
  const counted = await ports.warehouse.count(target);
  const warehouse = counted ?? 0;
  const compared = upToWatermark ?? total;
  const verdict: CountReport['verdict'] =
    warehouse === compared
      ? 'equal'
      : warehouse < compared
        ? 'missing'
        : warehouse <= total && cursor
          ? 'within'
          : 'extra';
  const notes: string[] = [];
  if (counted === undefined) notes.push(`the target table ${target.schema}.${target.name} does not exist yet`);
  if (cursor && watermark === null) notes.push('no watermark yet: nothing has been committed');
  if (upToWatermark !== null && total > upToWatermark) {
    notes.push(`${total - upToWatermark} source row(s) are after the watermark and wait for the next run`);
  }
  if (ledger.rowsLoaded > warehouse) {
    notes.push(
      !rules.advancesWatermark
        ? 'the ledger sums every full_sync run, each of which loads the whole table again, so it exceeds the warehouse'
        : 'the ledger counts rows per run; rows updated between runs are loaded again and merged, so it can exceed the warehouse',
    );
  }
  if (rules.readsCustomQuery) notes.push('custom_sql: the source count is the rows the custom query returns');
  return {
    table: table.name,
    tableKey: key,
    strategy: table.strategy,
    target,
    cursor,
    watermark,
    source: { total, upToWatermark, notYetSynced: upToWatermark === null ? null : total - upToWatermark },
    ledger,
    warehouse,
    targetExists: counted !== undefined,
    compared,
    verdict,
    match: verdict === 'equal' || verdict === 'within',
    notes,
  };
}
