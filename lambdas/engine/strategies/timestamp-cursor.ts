/**
 * What hybrid and timestamp_only share: a keyset window on (ts, id) — never a bare `ts > W`, so rows tied on the
 * watermark's timestamp are not lost — whose upper bound H stays below the commit horizon (horizon.ts), plus every
 * row whose cursor is NULL (a NULL cursor never compares greater than a watermark, so those rows are read by every
 * run instead of never). They differ only in which column breaks ties.
 */

import type { TableConfig } from '../../domain/config.js';
import type { MappedColumn, SourceColumn, Watermark } from '../../domain/model.js';
import { DataError } from '../../errors.js';
import { quoteMysql } from '../sql.js';
import { isMysqlInteger, isMysqlTemporal } from '../type-map.js';
import { findSourceColumn } from './columns.js';
import { cursorCutoff } from './horizon.js';
import { and, type Fragment, frag, NONE, or } from './sql/fragment.js';
import { bindFor, tupleAfter, tupleAtOrBefore } from './sql/keyset.js';
import { additionalWhere, fromClause } from './sql/reads.js';
import type { Bounds, BoundsInput, SourceProblem, TableContext } from './strategy.js';

export function sameWatermark(a: Watermark, b: Watermark): boolean {
  return a.ts === b.ts && a.id === b.id;
}

/** Why `ts` cannot be this table's timestamp cursor, or undefined when it can. */
export function timestampTypeProblem(table: TableConfig, ts: SourceColumn): string | undefined {
  if (table.timestampFormat === 'unix' && !isMysqlInteger(ts)) {
    return `timestamp_format unix needs an integer cdc_timestamp_column; ${ts.name} is ${ts.columnType}`;
  }
  if (table.timestampFormat === 'datetime' && !isMysqlTemporal(ts)) {
    return `cdc_timestamp_column ${ts.name} is ${ts.columnType}; ${table.strategy} needs a DATE/DATETIME/TIMESTAMP column, or an integer column with timestamp_format: unix`;
  }
  return undefined;
}

export function checkTimestampRole(table: TableConfig, ts: MappedColumn): void {
  const problem = timestampTypeProblem(table, ts.source);
  if (problem) throw new DataError(`${table.name}: ${problem}`);
}

export function timestampSourceProblems(table: TableConfig, columns: readonly SourceColumn[]): SourceProblem[] {
  const ts = findSourceColumn(columns, table.timestampColumn);
  if (!ts) return [];
  const problem = timestampTypeProblem(table, ts);
  const out: SourceProblem[] = problem ? [{ severity: 'error', column: ts.name, message: problem }] : [];
  if (ts.nullable) {
    out.push({
      severity: 'warning',
      column: ts.name,
      message: `${ts.name} can be NULL: rows with a NULL cursor are read again by every run (give them a value to stop that)`,
    });
  }
  return out;
}

/** Rows after the watermark: the keyset (ts, id) > (W_ts, W_id). */
function afterWatermark(ctx: TableContext, from: Watermark): Fragment | undefined {
  const { ts, id } = ctx;
  if (!ts || from.ts === null) return undefined;
  if (from.id === null || !id) return frag(`${quoteMysql(ts.source.name)} > ${bindFor(ts)}`, [from.ts]);
  return tupleAfter([ts, id], [from.ts, from.id]);
}

/** The window's lower bound: after the watermark, or `lookback` behind it (re-read every run; the merge is idempotent). */
function lowerBound(ctx: TableContext, from: Watermark): Fragment | undefined {
  const { ts, table } = ctx;
  if (!ts || from.ts === null) return undefined;
  if (table.lookbackSeconds <= 0) return afterWatermark(ctx, from);
  const col = quoteMysql(ts.source.name);
  return table.timestampFormat === 'unix'
    ? frag(`${col} >= CAST(? AS SIGNED) - ?`, [from.ts, table.lookbackSeconds])
    : frag(`${col} >= CAST(? AS DATETIME(6)) - INTERVAL ? SECOND`, [from.ts, table.lookbackSeconds]);
}

function upperBound(ctx: TableContext, to: Watermark): Fragment | undefined {
  const { ts, id } = ctx;
  if (!ts || to.ts === null) return undefined;
  if (to.id === null || !id) return frag(`${quoteMysql(ts.source.name)} <= ${bindFor(ts)}`, [to.ts]);
  return tupleAtOrBefore([ts, id], [to.ts, to.id]);
}

/** Cursor rows after `from` up to `to`; `to` equal to `from` is the empty range (a run of NULL-cursor rows only). */
export function timestampCursorWindow(ctx: TableContext, from: Watermark, to: Watermark | null): Fragment {
  const cursor =
    to !== null && sameWatermark(from, to)
      ? NONE
      : and([lowerBound(ctx, from), to ? upperBound(ctx, to) : undefined, notNull(ctx)]);
  return and([cursor, additionalWhere(ctx)]);
}

export function timestampWindow(ctx: TableContext, from: Watermark, to: Watermark | null): Fragment {
  const cursor =
    to !== null && sameWatermark(from, to)
      ? NONE
      : and([lowerBound(ctx, from), to ? upperBound(ctx, to) : undefined, notNull(ctx)]);
  return and([or([cursor, nullCursor(ctx)]), additionalWhere(ctx)]);
}

/** A first run has no lower bound: the cursor part must still exclude NULLs, which the other branch reads. */
function notNull(ctx: TableContext): Fragment | undefined {
  return ctx.ts?.source.nullable ? frag(`${quoteMysql(ctx.ts.source.name)} IS NOT NULL`) : undefined;
}

function nullCursor(ctx: TableContext): Fragment | undefined {
  return ctx.ts?.source.nullable ? frag(`${quoteMysql(ctx.ts.source.name)} IS NULL`) : undefined;
}

function str(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  if (v instanceof Date) throw new Error('dates must arrive as strings (dateStrings)');
  return String(v);
}

/**
 * H = the greatest (ts, id) of the window with ts below the horizon; read in the planning snapshot so H's
 * tie-breaker belongs to the same state as H itself.
 */
export async function timestampBounds(input: BoundsInput): Promise<Bounds> {
  const { source, ctx, from, clock, timeZone } = input;
  const ts = ctx.ts;
  if (!ts) throw new Error(`${ctx.table.name}: a timestamp strategy without a timestamp column`);
  const unix = ctx.table.timestampFormat === 'unix';
  const cut = cursorCutoff(ts, unix, clock, {
    lagSeconds: ctx.table.lagSeconds,
    clockSkewSeconds: ctx.table.clockSkewSeconds,
    timeZone,
  });
  const col = quoteMysql(ts.source.name);
  const horizon = cut.description;
  const warnings = clock.warning ? [clock.warning] : [];
  const below = frag(`${col} < ${bindFor(ts)}`, [cut.value]);
  // H comes from rows after the watermark only: lookback widens what a run reads, never moves H back.
  const where = and([afterWatermark(ctx, from), below, additionalWhere(ctx)]);
  const table = fromClause(ctx);
  const h = str((await source.query(`SELECT MAX(${col}) AS h FROM ${table} WHERE ${where.sql}`, where.params))[0]?.h);

  let nullCursorRows: number | null = null;
  if (ts.source.nullable) {
    const nulls = and([frag(`${col} IS NULL`), additionalWhere(ctx)]);
    const n = (await source.query(`SELECT COUNT(*) AS n FROM ${table} WHERE ${nulls.sql}`, nulls.params))[0]?.n;
    nullCursorRows = Number(n ?? 0);
  }
  if (h === null) {
    if (nullCursorRows) return { kind: 'window', to: from, next: from, nullCursorRows, horizon, warnings };
    return { kind: 'nothing', reason: 'no new rows in the window', horizon, warnings };
  }
  let to: Watermark = { ts: h, id: null };
  if (ctx.id) {
    const idCol = quoteMysql(ctx.id.source.name);
    const atH = and([afterWatermark(ctx, from), frag(`${col} = ${bindFor(ts)}`, [h]), additionalWhere(ctx)]);
    const hid = (await source.query(`SELECT MAX(${idCol}) AS hid FROM ${table} WHERE ${atH.sql}`, atH.params))[0]?.hid;
    to = { ts: h, id: str(hid) };
  }
  return { kind: 'window', to, next: to, nullCursorRows, horizon, warnings };
}

export function timestampLagCursor(table: TableConfig): { column: string; half: 'ts' } {
  return { column: table.timestampColumn, half: 'ts' };
}
