/**
 * Planning one run of one table: fix the window's upper bound H once (so the run is a bounded unit of work and
 * rows arriving meanwhile wait for the next run), shrink it in cursor order for --limit/--max-chunks (never in key
 * order, which would let the watermark pass rows that were not read), then split the window into primary-key
 * ranges of the rows per chunk that chunk-size.ts gives the table.
 */

import type { ChunkSpec, RunOptions } from '../domain/manifests.js';
import type { MappedColumn, Watermark } from '../domain/model.js';
import { ConfigError } from '../errors.js';
import type { SourceReader } from '../ports/index.js';
import { type ChunkSizing, chunkRowsFor, type TableSizeEstimate } from './chunk-size.js';
import { type CopyLayout, copyFileLayout } from './copy-files.js';
import { quoteMysql } from './sql.js';
import { readSourceClock } from './strategies/horizon.js';
import { and, type Fragment } from './strategies/sql/fragment.js';
import { tupleAfter } from './strategies/sql/keyset.js';
import { fromClause, tableSizeQuery } from './strategies/sql/reads.js';
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
  /** How many rows a chunk holds and why (null: the window is one chunk — no key, or custom_sql). */
  chunkSizing: ChunkSizing | null;
  /**
   * How many rows the chunks hold, for progress and its ETA: the keys the boundary scan read, so exact when the
   * plan was made (rows changed after it can make it a little off; nothing depends on it). Null when unknown (no
   * primary key, custom_sql, a --max-chunks run that stopped reading at its last boundary).
   */
  rowsEstimate: number | null;
  /** Into Redshift: how the run is cut into files for one parallel COPY (null: not that path, or not planned so). */
  copyLayout: CopyLayout | null;
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

/**
 * Primary-key boundaries: each chunk ends at the key of every `chunkRows`-th row of the window. One query streams
 * the window's keys in key order and the boundaries are taken as they pass, so the window is read once whatever
 * the number of chunks (a query per boundary re-read the window for each one when the server chose to sort it).
 * `maxChunks` (whole table only): the last chunk takes the rest; `rowCap`: the last chunk ends at that row.
 */
async function keyRanges(
  source: SourceReader,
  ctx: TableContext,
  from: Watermark,
  to: Watermark,
  sizedRows: number,
  maxChunks: number | undefined,
  rowCap: number | undefined,
  tableRows: number | null,
  copy?: CopyRequest,
): Promise<{ chunks: ChunkSpec[]; rows: number | null; copyLayout: CopyLayout | null }> {
  if (ctx.pk.length === 0) return { chunks: [{ index: 0, lower: null, upper: null }], rows: null, copyLayout: null };
  const window = ctx.strategy.window(ctx, from, to);
  let copyLayout: CopyLayout | null = null;
  let chunkRows = sizedRows;
  // A window that fits in one chunk needs no boundaries: the server counts it (no key leaves it), where streaming
  // every key to find none cost about a second per million rows. Over-counting rows that commit meanwhile is harmless:
  // the one chunk reads the whole window whatever the count.
  if (maxChunks === undefined && rowCap === undefined) {
    const counted = await one(source, {
      sql: `SELECT COUNT(*) AS n FROM ${fromClause(ctx)} WHERE ${window.sql}`,
      params: window.params,
    });
    const rows = Number(counted?.n ?? 0);
    // Into Redshift the files are cut for COPY's parallelism (copy-files.ts) rather than by chunk_bytes.
    if (copy) {
      copyLayout = copyFileLayout({
        rows,
        rowBytes: copy.rowBytes,
        slices: copy.slices,
        maxRowsPerFile: copy.maxRowsPerFile,
      });
      chunkRows = copyLayout.rowsPerFile;
    }
    if (rows <= chunkRows) return { chunks: [{ index: 0, lower: null, upper: null }], rows, copyLayout };
    if (walksPrimaryIndex(ctx, rows, tableRows)) {
      return { chunks: await walkBoundaries(source, ctx, window, chunkRows, rows), rows, copyLayout };
    }
  }
  const chunks: ChunkSpec[] = [];
  const sql = `SELECT ${cols(ctx.pk)} FROM ${fromClause(ctx)} WHERE ${window.sql} ORDER BY ${cols(ctx.pk)}`;
  let lower: string[] | null = null;
  let inChunk = 0;
  let read = 0;
  let complete = true;
  for await (const row of source.stream(sql, window.params)) {
    inChunk++;
    // --max-chunks: the last chunk takes the rest, whatever its size; no need to read further keys.
    if (maxChunks !== undefined && chunks.length + 1 >= maxChunks) {
      complete = false;
      break;
    }
    read++;
    const capped = rowCap !== undefined && read >= rowCap;
    if (!capped && inChunk < chunkRows) continue;
    const upper = row.map((v) => v?.toString('utf8') ?? '');
    chunks.push({ index: chunks.length, lower, upper });
    lower = upper;
    inChunk = 0;
    if (capped) return { chunks, rows: read, copyLayout };
    if (chunks.length >= MAX_CHUNKS_PER_RUN) throw tooManyChunks(ctx, chunkRows);
  }
  // The rows after the last boundary (or an empty window: one chunk, which reads nothing).
  if (inChunk > 0 || chunks.length === 0) chunks.push({ index: chunks.length, lower, upper: null });
  return { chunks, rows: complete ? read : null, copyLayout };
}

function tooManyChunks(ctx: TableContext, chunkRows: number): ConfigError {
  return new ConfigError(
    `${ctx.table.name}: the run would need more than ${MAX_CHUNKS_PER_RUN} chunks of ${chunkRows} rows; raise chunk_bytes (or chunk_rows), or use --max-chunks`,
  );
}

/**
 * Whether the boundaries are better found on the server, walking the PRIMARY index (walkBoundaries), than by streaming
 * the window's keys: when the key is the table's own primary key and the window holds at least a quarter of the
 * table's estimated rows (or MySQL has no estimate). Streaming 10M keys cost 6.9 s of a 41 s full sync (the server
 * sorted them, and each key crossed the wire and was decoded); the walk reads the same rows in index order on the
 * server and returns one key per chunk. A small window (an incremental run's changed rows) is streamed: the walk
 * would scan the whole key range to find it, where the server reads a small window through its cursor's index.
 */
function walksPrimaryIndex(ctx: TableContext, windowRows: number, tableRows: number | null): boolean {
  if (!ctx.pkIsPrimaryIndex) return false;
  return tableRows === null || tableRows <= 0 || windowRows * 4 >= tableRows;
}

/**
 * The boundaries by a walk of the PRIMARY index: each query returns the key `chunkRows` window rows after the last
 * boundary (`LIMIT 1 OFFSET chunkRows - 1`), so the chunks are those the key stream gives. FORCE INDEX: with a
 * cursor index in the predicate the optimizer chose it and sorted the whole window for every boundary (2 s each at
 * 10M rows, against 0.2 s in key order). As with the stream, a boundary closes every `chunkRows`-th counted row and
 * an open last chunk takes the rows after the last boundary. A row committed after the count is treated as the
 * stream treats one committed after it: an incremental window's H is below every transaction that could still commit
 * into it (strategies/horizon.ts), and a full_sync reads it on its next run.
 */
async function walkBoundaries(
  source: SourceReader,
  ctx: TableContext,
  window: Fragment,
  chunkRows: number,
  countedRows: number,
): Promise<ChunkSpec[]> {
  // The stream's stop, known before any boundary is sought: it gives up at the MAX_CHUNKS_PER_RUN-th boundary.
  if (Math.floor(countedRows / chunkRows) >= MAX_CHUNKS_PER_RUN) throw tooManyChunks(ctx, chunkRows);
  const chunks: ChunkSpec[] = [];
  let lower: string[] | null = null;
  while ((chunks.length + 1) * chunkRows <= countedRows) {
    const where = and([window, lower ? tupleAfter(ctx.pk, lower) : undefined]);
    const sql = `SELECT ${cols(ctx.pk)} FROM ${fromClause(ctx)} FORCE INDEX (PRIMARY) WHERE ${where.sql} ORDER BY ${cols(ctx.pk)} LIMIT 1 OFFSET ?`;
    let upper: string[] | null = null;
    // The raw stream, as the key stream reads them: the boundary's text is the server's, whatever the key's type.
    for await (const row of source.stream(sql, [...where.params, chunkRows - 1])) {
      upper = row.map((v) => v?.toString('utf8') ?? '');
    }
    if (upper === null) break;
    chunks.push({ index: chunks.length, lower, upper });
    lower = upper;
  }
  if (chunks.length * chunkRows < countedRows) chunks.push({ index: chunks.length, lower, upper: null });
  return chunks;
}

/** What the COPY file layout needs beside the window's row count (planWindow builds it for a Redshift target). */
interface CopyRequest {
  slices: number;
  rowBytes: number;
  maxRowsPerFile: number;
}

/** MySQL's estimate of the table's size, for chunk sizing (information_schema.TABLES: no scan, one row). */
async function tableSize(source: SourceReader, ctx: TableContext): Promise<TableSizeEstimate | undefined> {
  const q = tableSizeQuery(ctx);
  const row = await one(source, q);
  if (!row) return undefined;
  const num = (v: unknown): number | null => {
    if (v === null || v === undefined) return null;
    const n = Number(v);
    return Number.isFinite(n) ? n : null;
  };
  return { avgRowLength: num(row.avg_row_length), dataLength: num(row.data_length), tableRows: num(row.table_rows) };
}

/**
 * Rows per chunk for this table (engine/chunk-size.ts; null when the window is read as one chunk anyway), and MySQL's
 * estimate of the table's rows (null when it has none), from the one information_schema query.
 */
async function sizeChunks(
  source: SourceReader,
  ctx: TableContext,
): Promise<{ sizing: ChunkSizing | null; tableRows: number | null }> {
  if (ctx.pk.length === 0 || ctx.strategy.readsCustomQuery) return { sizing: null, tableRows: null };
  const size = await tableSize(source, ctx);
  return { sizing: chunkRowsFor(ctx.table, size), tableRows: size?.tableRows ?? null };
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
  /** Into Redshift: the cluster's slice count, so the run's files suit one parallel COPY (copy-files.ts). */
  copySlices?: number;
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
  const { sizing, tableRows } = await sizeChunks(source, ctx);
  const chunkRows = sizing?.rows ?? Number.MAX_SAFE_INTEGER;
  const rowCap = options.limit ?? (options.maxChunks !== undefined ? options.maxChunks * chunkRows : undefined);
  // The deadline's rows still bound a COPY file; chunk_bytes gives way to the layout. An explicit chunk_rows is the
  // user's own sizing, kept as it is.
  const copy: CopyRequest | undefined =
    req.copySlices !== undefined && sizing && ctx.table.chunkRows === null
      ? {
          slices: req.copySlices,
          rowBytes: sizing.rowBytes,
          maxRowsPerFile: ctx.table.chunkSeconds * ctx.table.readRowsPerSecond,
        }
      : undefined;
  const { clock, bounds } = await boundsInSnapshot(source, ctx, req);
  const base = {
    chunkSizing: sizing,
    rowsEstimate: null as number | null,
    copyLayout: null as CopyLayout | null,
    from,
    to: from,
    next: from,
    snapshotAt: clock.now,
    nullCursorRows: null,
    upperTimestamp: null,
    horizon: null,
    warnings: [] as string[],
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
      const planned = await keyRanges(source, ctx, from, from, chunkRows, options.maxChunks, rowCap, tableRows, copy);
      return {
        ...base,
        chunks: planned.chunks,
        skipped: null,
        rowsEstimate: planned.rows,
        copyLayout: planned.copyLayout,
      };
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
      const planned = rowCap === undefined ? copy : undefined;
      const { chunks, rows, copyLayout } = await keyRanges(
        source,
        ctx,
        from,
        to,
        chunkRows,
        undefined,
        undefined,
        tableRows,
        planned,
      );
      return {
        ...base,
        to,
        next,
        chunks,
        rowsEstimate: rows,
        copyLayout,
        skipped: null,
        nullCursorRows: bounds.nullCursorRows,
        horizon: bounds.horizon,
        warnings: bounds.warnings,
      };
    }
  }
}
