/**
 * Planning one run of one table: fix the window's upper bound H once (so the run is a bounded unit of work and
 * rows arriving meanwhile wait for the next run), shrink it in cursor order for --limit/--max-chunks (never in key
 * order, which would let the watermark pass rows that were not read), then split the window into primary-key
 * ranges of about chunk_rows rows.
 */

import type { SourceReader } from '../ports/index.js';
import { ConfigError } from '../runtime/errors.js';
import type { ChunkSpec, RunOptions } from './manifests.js';
import type { MappedColumn, Watermark } from './model.js';
import { chunkPredicate, fromClause, windowPredicate } from './queries.js';
import { quoteMysql } from './sql.js';
import { tupleAfter } from './strategies/keyset.js';
import { and, type Fragment } from './strategies/sql-fragment.js';
import { cursorColumns, type TableContext } from './table-context.js';

/** A safety stop: a plan with more chunks than this is a configuration mistake (chunk_rows far too small). */
export const MAX_CHUNKS_PER_RUN = 10_000;

export interface WindowPlan {
  from: Watermark;
  /** The fixed upper bound H of this run (inclusive). */
  to: Watermark;
  chunks: ChunkSpec[];
  /** Set when there is nothing to do, with the reason. */
  skipped: string | null;
  /** custom_sql: the upper timestamp bound given to the query as :upper_timestamp. */
  upperTimestamp: string | null;
}

type Row = Record<string, unknown>;

function str(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  if (v instanceof Date) throw new Error('dates must arrive as strings (dateStrings)');
  return String(v);
}

function cols(list: readonly MappedColumn[]): string {
  return list.map((c) => quoteMysql(c.source.name)).join(', ');
}

async function one(source: SourceReader, f: Fragment): Promise<Row | undefined> {
  const rows = await source.query<Row>(f.sql, f.params);
  return rows[0];
}

/** H for timestamp strategies: the newest cursor at least `lag` old, and the greatest tie-breaker at that instant. */
async function timestampUpperBound(
  source: SourceReader,
  ctx: TableContext,
  from: Watermark,
): Promise<Watermark | null> {
  const ts = ctx.ts!;
  const tsCol = quoteMysql(ts.source.name);
  const notTooNew =
    ctx.table.timestampFormat === 'unix'
      ? { sql: `${tsCol} <= UNIX_TIMESTAMP() - ?`, params: [ctx.table.lagSeconds] }
      : { sql: `${tsCol} <= NOW(6) - INTERVAL ? SECOND`, params: [ctx.table.lagSeconds] };
  const where = and([windowPredicate(ctx, from, null), notTooNew]);
  // One consistent snapshot for both reads, so H's tie-breaker belongs to the same state as H itself.
  await source.query('START TRANSACTION WITH CONSISTENT SNAPSHOT');
  try {
    const h = str(
      (
        await one(source, {
          sql: `SELECT MAX(${tsCol}) AS h FROM ${fromClause(ctx)} WHERE ${where.sql}`,
          params: where.params,
        })
      )?.h,
    );
    if (h === null) return null;
    if (!ctx.id) return { ts: h, id: null };
    const idCol = quoteMysql(ctx.id.source.name);
    const atH = and([windowPredicate(ctx, from, null), { sql: `${tsCol} = ?`, params: [h] }]);
    const hid = str(
      (
        await one(source, {
          sql: `SELECT MAX(${idCol}) AS hid FROM ${fromClause(ctx)} WHERE ${atH.sql}`,
          params: atH.params,
        })
      )?.hid,
    );
    return { ts: h, id: hid };
  } finally {
    await source.query('COMMIT');
  }
}

async function idUpperBound(source: SourceReader, ctx: TableContext, from: Watermark): Promise<Watermark | null> {
  const idCol = quoteMysql(ctx.id!.source.name);
  const where = windowPredicate(ctx, from, null);
  const h = str(
    (
      await one(source, {
        sql: `SELECT MAX(${idCol}) AS h FROM ${fromClause(ctx)} WHERE ${where.sql}`,
        params: where.params,
      })
    )?.h,
  );
  return h === null ? null : { ts: null, id: h };
}

/** The cursor of the N-th row of the window in cursor order: the upper bound that holds exactly N rows. */
async function limitUpperBound(
  source: SourceReader,
  ctx: TableContext,
  from: Watermark,
  to: Watermark,
  rows: number,
): Promise<Watermark | null> {
  const cursor = cursorColumns(ctx);
  const where = windowPredicate(ctx, from, to);
  const sql = `SELECT ${cursor.map((c, i) => `${quoteMysql(c.source.name)} AS c${i}`).join(', ')} FROM ${fromClause(ctx)} WHERE ${where.sql} ORDER BY ${cols(cursor)} LIMIT 1 OFFSET ?`;
  const row = await one(source, { sql, params: [...where.params, rows - 1] });
  if (!row) return null;
  if (ctx.ts) return { ts: str(row.c0), id: ctx.id ? str(row.c1) : null };
  return { ts: null, id: str(row.c0) };
}

/** Primary-key boundaries: each chunk ends at the key of every chunk_rows-th row of the window. */
async function keyRanges(
  source: SourceReader,
  ctx: TableContext,
  from: Watermark,
  to: Watermark,
  maxChunks: number | undefined,
  rowCap: number | undefined,
): Promise<ChunkSpec[]> {
  if (ctx.pk.length === 0) return [{ index: 0, lower: null, upper: null }];
  const chunks: ChunkSpec[] = [];
  const window = windowPredicate(ctx, from, to);
  const pkAliases = ctx.pk.map((c, i) => `${quoteMysql(c.source.name)} AS k${i}`).join(', ');
  let lower: string[] | null = null;
  let remaining = rowCap;
  for (;;) {
    const size = remaining !== undefined ? Math.min(ctx.table.chunkRows, remaining) : ctx.table.chunkRows;
    const where = and([window, lower ? tupleAfter(ctx.pk, lower) : undefined]);
    const lastChunk = maxChunks !== undefined && chunks.length + 1 >= maxChunks;
    const row = lastChunk
      ? undefined
      : await one(source, {
          sql: `SELECT ${pkAliases} FROM ${fromClause(ctx)} WHERE ${where.sql} ORDER BY ${cols(ctx.pk)} LIMIT 1 OFFSET ?`,
          params: [...where.params, size - 1],
        });
    if (!row) {
      chunks.push({ index: chunks.length, lower, upper: null });
      break;
    }
    const upper = ctx.pk.map((_, i) => str(row[`k${i}`]) ?? '');
    chunks.push({ index: chunks.length, lower, upper });
    lower = upper;
    if (remaining !== undefined) {
      remaining -= size;
      if (remaining <= 0) break;
    }
    if (chunks.length >= MAX_CHUNKS_PER_RUN) {
      throw new ConfigError(
        `${ctx.table.name}: the run would need more than ${MAX_CHUNKS_PER_RUN} chunks; raise chunk_rows or use --max-chunks`,
      );
    }
  }
  // A trailing range may hold no rows (the window ended exactly on a boundary); keep it only if it is the only one.
  if (chunks.length > 1) {
    const last = chunks[chunks.length - 1]!;
    const probe = and([window, chunkPredicate(ctx, last)]);
    const any = await one(source, {
      sql: `SELECT 1 AS x FROM ${fromClause(ctx)} WHERE ${probe.sql} LIMIT 1`,
      params: probe.params,
    });
    if (!any) chunks.pop();
  }
  return chunks;
}

export async function planWindow(
  source: SourceReader,
  ctx: TableContext,
  from: Watermark,
  options: Pick<RunOptions, 'limit' | 'maxChunks'>,
): Promise<WindowPlan> {
  const { strategy } = ctx.table;
  const rowCap =
    options.limit ?? (options.maxChunks !== undefined ? options.maxChunks * ctx.table.chunkRows : undefined);

  if (strategy === 'custom_sql') {
    const upper =
      ctx.table.timestampFormat === 'unix'
        ? await one(source, { sql: 'SELECT UNIX_TIMESTAMP() - ? AS u', params: [ctx.table.lagSeconds] })
        : await one(source, { sql: 'SELECT NOW(6) - INTERVAL ? SECOND AS u', params: [ctx.table.lagSeconds] });
    return {
      from,
      to: from,
      chunks: [{ index: 0, lower: null, upper: null }],
      skipped: null,
      upperTimestamp: str(upper?.u),
    };
  }

  if (strategy === 'full_sync') {
    if (ctx.mode === 'replace' && rowCap !== undefined) {
      throw new ConfigError(
        `${ctx.table.name}: --limit/--max-chunks cannot be used with full_sync replace (the table would be replaced by part of itself)`,
      );
    }
    const chunks = await keyRanges(source, ctx, from, from, options.maxChunks, rowCap);
    return { from, to: from, chunks, skipped: null, upperTimestamp: null };
  }

  let to =
    strategy === 'id_only' ? await idUpperBound(source, ctx, from) : await timestampUpperBound(source, ctx, from);
  if (to === null) return { from, to: from, chunks: [], skipped: 'no new rows in the window', upperTimestamp: null };
  if (rowCap !== undefined) to = (await limitUpperBound(source, ctx, from, to, rowCap)) ?? to;
  const chunks = await keyRanges(source, ctx, from, to, undefined, undefined);
  return { from, to, chunks, skipped: null, upperTimestamp: null };
}
