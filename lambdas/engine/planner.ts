/**
 * Planning one run of one table: fix the window's upper bound H once (so the run is a bounded unit of work and
 * rows arriving meanwhile wait for the next run), shrink it in cursor order for --limit/--max-chunks (never in key
 * order, which would let the watermark pass rows that were not read), then split the window into primary-key
 * ranges of about chunk_rows rows.
 */

import type { ChunkSpec, RunOptions } from '../domain/manifests.js';
import type { MappedColumn, Watermark } from '../domain/model.js';
import { ConfigError } from '../errors.js';
import type { SourceReader } from '../ports/index.js';
import { quoteMysql } from './sql.js';
import { readSourceClock } from './strategies/horizon.js';
import { and, type Fragment } from './strategies/sql/fragment.js';
import { tupleAfter } from './strategies/sql/keyset.js';
import { chunkPredicate, fromClause } from './strategies/sql/reads.js';
import type { Observation } from './strategies/strategy.js';
import { cursorColumns, type TableContext } from './table-context.js';

/** A safety stop: a plan with more chunks than this is a configuration mistake (chunk_rows far too small). */
export const MAX_CHUNKS_PER_RUN = 10_000;

export interface WindowPlan {
  from: Watermark;
  /** The fixed upper bound H of this run (inclusive). */
  to: Watermark;
  /** The watermark the commit writes: `to`, or lower while ids below `to` may still commit (id_only). */
  next: Watermark;
  chunks: ChunkSpec[];
  /** Set when there is nothing to do, with the reason. */
  skipped: string | null;
  /** custom_sql: the upper timestamp bound given to the query as :upper_timestamp. */
  upperTimestamp: string | null;
  /** The server's clock (UTC) inside the planning snapshot: when this plan observed the source. */
  snapshotAt: string;
  /** Rows with a NULL cursor, read by this run as by every run (null: the cursor cannot be NULL). */
  nullCursorRows: number | null;
  /** Where the commit horizon was and why, for the run report. */
  horizon: string | null;
  /** Things the user should know about this run's bounds. */
  warnings: string[];
  /**
   * About how many rows the chunks hold, for progress and its ETA: every chunk but the last holds `chunk_rows`
   * rows of the window, the last is counted (at most `chunk_rows` rows read). Null when unknown (no primary key,
   * custom_sql, nothing to read). Rows changed after the plan can make it a little off; nothing depends on it.
   */
  rowsEstimate: number | null;
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

/** The cursor of the N-th row of the window in cursor order: the upper bound that holds exactly N rows. */
async function limitUpperBound(
  source: SourceReader,
  ctx: TableContext,
  from: Watermark,
  to: Watermark,
  rows: number,
): Promise<Watermark | null> {
  const cursor = cursorColumns(ctx);
  const where = ctx.strategy.cursorWindow(ctx, from, to);
  const sql = `SELECT ${cursor.map((c, i) => `${quoteMysql(c.source.name)} AS c${i}`).join(', ')} FROM ${fromClause(ctx)} WHERE ${where.sql} ORDER BY ${cols(cursor)} LIMIT 1 OFFSET ?`;
  const row = await one(source, { sql, params: [...where.params, rows - 1] });
  if (!row) return null;
  if (ctx.ts) return { ts: str(row.c0), id: ctx.id ? str(row.c1) : null };
  return { ts: null, id: str(row.c0) };
}

/** The rows of the window in one chunk's key range, counting at most `cap` (the size of a full chunk). */
async function rowsInChunk(
  source: SourceReader,
  ctx: TableContext,
  window: Fragment,
  chunk: ChunkSpec,
  cap: number,
): Promise<number> {
  const probe = and([window, chunkPredicate(ctx, chunk)]);
  const row = await one(source, {
    sql: `SELECT COUNT(*) AS n FROM (SELECT 1 AS x FROM ${fromClause(ctx)} WHERE ${probe.sql} LIMIT ?) AS chunk_rows`,
    params: [...probe.params, cap],
  });
  return Number(row?.n ?? 0);
}

/**
 * Primary-key boundaries: each chunk ends at the key of every chunk_rows-th row of the window. With them, about
 * how many rows they hold (see WindowPlan.rowsEstimate).
 */
async function keyRanges(
  source: SourceReader,
  ctx: TableContext,
  from: Watermark,
  to: Watermark,
  maxChunks: number | undefined,
  rowCap: number | undefined,
): Promise<{ chunks: ChunkSpec[]; rows: number | null }> {
  if (ctx.pk.length === 0) return { chunks: [{ index: 0, lower: null, upper: null }], rows: null };
  const chunks: ChunkSpec[] = [];
  /** The rows of the chunks closed at a boundary (each holds exactly its size), and the last one's size. */
  let fullRows = 0;
  let lastSize = ctx.table.chunkRows;
  const window = ctx.strategy.window(ctx, from, to);
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
      lastSize = size;
      break;
    }
    const upper = ctx.pk.map((_, i) => str(row[`k${i}`]) ?? '');
    chunks.push({ index: chunks.length, lower, upper });
    fullRows += size;
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
  // The open-ended last range holds fewer rows than a full chunk: count them. It may hold none (the window ended
  // exactly on a boundary); keep it only if it is the only one.
  const last = chunks[chunks.length - 1]!;
  if (last.upper !== null) return { chunks, rows: fullRows };
  const lastRows = await rowsInChunk(source, ctx, window, last, lastSize);
  if (lastRows === 0 && chunks.length > 1) chunks.pop();
  return { chunks, rows: fullRows + lastRows };
}

export interface PlanRequest {
  /** The committed watermark, or where the newest staged run ends. */
  from: Watermark;
  options: Pick<RunOptions, 'limit' | 'maxChunks'>;
  /** The source's `time_zone:` for DATETIME cursors (undefined: the server's own). */
  timeZone: string | undefined;
  /** Earlier plans' observations of the source (id_only), oldest first. */
  history: readonly Observation[];
  /** The source user, named in the warning when innodb_trx cannot be read. */
  sourceUser: string;
}

/** The run's bounds, fixed inside one consistent snapshot together with the source's clock. */
async function boundsInSnapshot(source: SourceReader, ctx: TableContext, req: PlanRequest) {
  await source.query('START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY');
  try {
    const clock = await readSourceClock(source, req.sourceUser);
    const bounds = await ctx.strategy.bounds({
      source,
      ctx,
      from: req.from,
      clock,
      timeZone: req.timeZone,
      history: req.history,
    });
    return { clock, bounds };
  } finally {
    await source.query('COMMIT');
  }
}

/** --limit moved H down; a watermark held below H (id_only) never passes the new H. */
function clampNext(next: Watermark, to: Watermark, limited: Watermark): Watermark {
  if (next.ts === to.ts && next.id === to.id) return limited;
  if (next.id === null || limited.id === null) return next;
  return BigInt(next.id) <= BigInt(limited.id) ? next : limited;
}

export async function planWindow(source: SourceReader, ctx: TableContext, req: PlanRequest): Promise<WindowPlan> {
  const { from, options } = req;
  const rowCap =
    options.limit ?? (options.maxChunks !== undefined ? options.maxChunks * ctx.table.chunkRows : undefined);
  const { clock, bounds } = await boundsInSnapshot(source, ctx, req);
  const base = {
    from,
    to: from,
    next: from,
    snapshotAt: clock.now,
    nullCursorRows: null,
    upperTimestamp: null,
    horizon: null,
    warnings: [] as string[],
    rowsEstimate: null,
  };

  switch (bounds.kind) {
    case 'nothing':
      return { ...base, chunks: [], skipped: bounds.reason, horizon: bounds.horizon, warnings: bounds.warnings };
    case 'query':
      return {
        ...base,
        chunks: [{ index: 0, lower: null, upper: null }],
        skipped: null,
        upperTimestamp: bounds.upperTimestamp,
        horizon: bounds.horizon,
        warnings: bounds.warnings,
      };
    case 'whole-table': {
      if (ctx.mode === 'replace' && rowCap !== undefined) {
        throw new ConfigError(
          `${ctx.table.name}: --limit/--max-chunks cannot be used with full_sync replace (the table would be replaced by part of itself)`,
        );
      }
      const { chunks, rows } = await keyRanges(source, ctx, from, from, options.maxChunks, rowCap);
      return { ...base, chunks, skipped: null, rowsEstimate: rows };
    }
    case 'window': {
      let { to, next } = bounds;
      if (rowCap !== undefined && !(to.ts === from.ts && to.id === from.id)) {
        const limited = await limitUpperBound(source, ctx, from, to, rowCap);
        if (limited) {
          next = clampNext(next, to, limited);
          to = limited;
        }
      }
      const { chunks, rows } = await keyRanges(source, ctx, from, to, undefined, undefined);
      return {
        ...base,
        to,
        next,
        chunks,
        rowsEstimate: rows,
        skipped: null,
        nullCursorRows: bounds.nullCursorRows,
        horizon: bounds.horizon,
        warnings: bounds.warnings,
      };
    }
  }
}
