/**
 * The SQL each strategy sends to MySQL: the run's window, a chunk's key range, and the planning queries.
 * Everything returns Fragments (text + bound values); identifiers are quoted, values are never spliced in.
 */
import { ConfigError } from '../runtime/errors.js';
import type { ChunkSpec } from './manifests.js';
import type { MappedColumn, Watermark } from './model.js';
import { qualifiedMysql, quoteMysql } from './sql.js';
import { prepareCustomSql } from './strategies/custom-sql.js';
import { bindFor, tupleAfter, tupleAtOrBefore } from './strategies/keyset.js';
import { and, type Fragment, frag } from './strategies/sql-fragment.js';
import { cursorColumns, type TableContext } from './table-context.js';
import { selectExpression } from './type-map.js';

export function fromClause(ctx: TableContext): string {
  return qualifiedMysql(ctx.table.sourceSchema, ctx.table.sourceTable);
}

/** `additional_where` is operator-written SQL from the pipeline file: checked like custom SQL, then parenthesised. */
export function additionalWhere(ctx: TableContext): Fragment | undefined {
  const w = ctx.table.additionalWhere?.trim();
  if (!w) return undefined;
  const checked = prepareCustomSql(`SELECT 1 FROM t WHERE ${w}`, '', `${ctx.table.name} additional_where`);
  if (checked.placeholders.length > 0) {
    throw new ConfigError(`${ctx.table.name} additional_where: placeholders are not allowed here`);
  }
  return frag(w);
}

function lowerBound(ctx: TableContext, from: Watermark): Fragment | undefined {
  const { ts, id, table } = ctx;
  if (ts) {
    if (from.ts === null) return undefined;
    const col = quoteMysql(ts.source.name);
    if (table.lookbackSeconds > 0) {
      return table.timestampFormat === 'unix'
        ? frag(`${col} >= CAST(? AS SIGNED) - ?`, [from.ts, table.lookbackSeconds])
        : frag(`${col} >= CAST(? AS DATETIME(6)) - INTERVAL ? SECOND`, [from.ts, table.lookbackSeconds]);
    }
    if (from.id === null || !id) return frag(`${col} > ${bindFor(ts)}`, [from.ts]);
    return tupleAfter([ts, id], [from.ts, from.id]);
  }
  if (id && from.id !== null) return tupleAfter([id], [from.id]);
  return undefined;
}

function upperBound(ctx: TableContext, to: Watermark): Fragment | undefined {
  const { ts, id } = ctx;
  if (ts) {
    if (to.ts === null) return undefined;
    if (to.id === null || !id) return frag(`${quoteMysql(ts.source.name)} <= ${bindFor(ts)}`, [to.ts]);
    return tupleAtOrBefore([ts, id], [to.ts, to.id]);
  }
  if (id && to.id !== null) return tupleAtOrBefore([id], [to.id]);
  return undefined;
}

/** The rows of a run: after `from`, up to and including `to` (both may be open), plus additional_where. */
export function windowPredicate(ctx: TableContext, from: Watermark, to: Watermark | null): Fragment {
  if (ctx.table.strategy === 'full_sync') return and([additionalWhere(ctx)]);
  return and([lowerBound(ctx, from), to ? upperBound(ctx, to) : undefined, additionalWhere(ctx)]);
}

export function chunkPredicate(ctx: TableContext, chunk: Pick<ChunkSpec, 'lower' | 'upper'>): Fragment {
  return and([
    chunk.lower ? tupleAfter(ctx.pk, chunk.lower) : undefined,
    chunk.upper ? tupleAtOrBefore(ctx.pk, chunk.upper) : undefined,
  ]);
}

function columnList(columns: readonly MappedColumn[]): string {
  return columns.map((c) => selectExpression(c)).join(', ');
}

function orderBy(cols: readonly MappedColumn[]): string {
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
  if (ctx.table.strategy === 'custom_sql') {
    if (!custom) throw new Error('custom_sql chunk query needs its placeholder values');
    const user = customSqlFragment(ctx, custom);
    const limit = custom.limit !== null ? frag(' LIMIT ?', [custom.limit]) : frag('');
    if (custom.limit !== null && cursorColumns(ctx).length === 0) {
      throw new ConfigError(`${ctx.table.name}: --limit with custom_sql needs the cursor columns in the query result`);
    }
    const order = custom.limit !== null ? orderBy(cursorColumns(ctx)) : '';
    return {
      sql: `SELECT ${cols} FROM (${user.sql}) AS \`hw_q\`${order}${limit.sql}`,
      params: [...user.params, ...limit.params],
    };
  }
  const where = and([windowPredicate(ctx, from, to), chunkPredicate(ctx, chunk)]);
  return {
    sql: `SELECT ${cols} FROM ${fromClause(ctx)} WHERE ${where.sql}${orderBy(ctx.pk)}`,
    params: where.params,
  };
}

export function customSqlFragment(ctx: TableContext, values: CustomSqlValues): Fragment {
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
