/**
 * The SQL a run sends to MySQL outside the strategies' own windows: the table, a chunk's key range, the query that
 * reads one chunk, and custom_sql's bound placeholders. Everything returns Fragments (text + bound values);
 * identifiers are quoted, values are never spliced in.
 */

import type { ChunkSpec } from '../../../domain/manifests.js';
import type { MappedColumn, Watermark } from '../../../domain/model.js';
import { ConfigError } from '../../../errors.js';
import { qualifiedMysql, quoteMysql } from '../../sql.js';
import { selectExpression } from '../../type-map.js';
import type { TableContext } from '../strategy.js';
import { and, type Fragment, frag } from './fragment.js';
import { tupleAfter, tupleAtOrBefore } from './keyset.js';
import { prepareAdditionalWhere, prepareCustomSql } from './user-sql.js';

export function fromClause(ctx: Pick<TableContext, 'table'>): string {
  return qualifiedMysql(ctx.table.sourceSchema, ctx.table.sourceTable);
}

/**
 * `additional_where` is operator-written SQL from the pipeline file: judged on its parse tree (sql/user-sql.ts) and
 * sent as the normalised text that was judged, so it can neither escape nor swallow the parentheses around it.
 */
export function additionalWhere(ctx: Pick<TableContext, 'table'>): Fragment | undefined {
  const w = ctx.table.additionalWhere?.trim();
  if (!w) return undefined;
  // Every window and planning query asks for it: parse each text once per process.
  let judged = JUDGED_WHERE.get(w);
  if (judged === undefined) {
    judged = prepareAdditionalWhere(w, `${ctx.table.name} additional_where`);
    JUDGED_WHERE.set(w, judged);
  }
  return frag(judged);
}

const JUDGED_WHERE = new Map<string, string>();

/** MySQL's size estimate of the table (no scan): what chunk sizing reads (engine/chunk-size.ts). */
export function tableSizeQuery(ctx: Pick<TableContext, 'table'>): Fragment {
  return frag(
    `SELECT AVG_ROW_LENGTH AS avg_row_length, DATA_LENGTH AS data_length, TABLE_ROWS AS table_rows
     FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?`,
    [ctx.table.sourceSchema, ctx.table.sourceTable],
  );
}

export function chunkPredicate(ctx: Pick<TableContext, 'pk'>, chunk: Pick<ChunkSpec, 'lower' | 'upper'>): Fragment {
  return and([
    chunk.lower ? tupleAfter(ctx.pk, chunk.lower) : undefined,
    chunk.upper ? tupleAtOrBefore(ctx.pk, chunk.upper) : undefined,
  ]);
}

function columnList(columns: readonly MappedColumn[]): string {
  return columns.map((c) => selectExpression(c)).join(', ');
}

export function orderBy(cols: readonly MappedColumn[]): string {
  return cols.length === 0 ? '' : ` ORDER BY ${cols.map((c) => quoteMysql(c.source.name)).join(', ')}`;
}

export interface CustomSqlValues {
  last_timestamp: string | null;
  last_id: string | null;
  upper_timestamp: string | null;
  upper_id: string | null;
  limit: number | null;
}

/** The query that reads one chunk of the run (custom_sql: the user's query, wrapped so we pick the columns). */
export function chunkQuery(
  ctx: TableContext,
  from: Watermark,
  to: Watermark,
  chunk: ChunkSpec,
  custom?: CustomSqlValues,
): Fragment {
  const cols = columnList(ctx.columns);
  if (custom) {
    const user = customSqlFragment(ctx, custom);
    const limit = custom.limit !== null ? frag(' LIMIT ?', [custom.limit]) : frag('');
    const cursor = [ctx.ts, ctx.id].filter((c): c is MappedColumn => c !== undefined);
    if (custom.limit !== null && cursor.length === 0) {
      throw new ConfigError(`${ctx.table.name}: --limit with custom_sql needs the cursor columns in the query result`);
    }
    const order = custom.limit !== null ? orderBy(cursor) : '';
    return {
      sql: `SELECT ${cols} FROM (${user.sql}) AS \`hw_q\`${order}${limit.sql}`,
      params: [...user.params, ...limit.params],
    };
  }
  const where =
    ctx.strategy.chunkWindow?.(ctx, from, to, chunk) ??
    and([ctx.strategy.window(ctx, from, to), chunkPredicate(ctx, chunk)]);
  return {
    sql: `SELECT ${cols} FROM ${fromClause(ctx)} WHERE ${where.sql}${orderBy(ctx.pk)}`,
    params: where.params,
  };
}

export function customSqlFragment(ctx: Pick<TableContext, 'table'>, values: CustomSqlValues): Fragment {
  const prepared = prepareCustomSql(ctx.table.customQuery ?? '', fromClause(ctx), `${ctx.table.name} custom_query`);
  const defaults: Record<keyof CustomSqlValues, unknown> = {
    last_timestamp: values.last_timestamp ?? (ctx.table.timestampFormat === 'unix' ? '0' : '1970-01-01 00:00:00'),
    last_id: values.last_id ?? '0',
    upper_timestamp: values.upper_timestamp,
    upper_id: values.upper_id,
    limit: values.limit ?? Number.MAX_SAFE_INTEGER,
  };
  return frag(
    prepared.sql,
    prepared.placeholders.map((p) => defaults[p]),
  );
}

/** Renders a fragment with its values inlined, for --dry-run output only (never executed). */
export function renderForDisplay(f: Fragment): string {
  let i = 0;
  return f.sql.replace(/\?/g, () => {
    const v = f.params[i++];
    if (v === null || v === undefined) return 'NULL';
    if (typeof v === 'number' || typeof v === 'bigint') return String(v);
    return `'${String(v).replace(/'/g, "''")}'`;
  });
}
