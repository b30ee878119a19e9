/**
 * How many rows a chunk gets. A chunk must finish inside one extract step (a Lambda ends at 15 minutes), so its
 * size follows the table's width rather than a fixed row count: rows = the fewest of
 *
 *   chunk_bytes ÷ the table's average row length   (the byte target: memory is flat, but bytes take time to move)
 *   chunk_seconds × read_rows_per_second            (the time target, at an assumed read rate)
 *   chunk_rows                                      (the old key: an explicit cap, when set)
 *
 * The average row length is MySQL's own estimate (information_schema.TABLES: AVG_ROW_LENGTH, else DATA_LENGTH ÷
 * TABLE_ROWS), read in one cheap query by Plan. It is an estimate; a chunk that still runs long is cut at a key
 * boundary near its deadline and continued (handlers/extract.ts), so an estimate off by a few times costs a few
 * continuation parts, never a chunk that cannot finish.
 */
import type { TableConfig } from '../domain/config.js';

/** The byte target of one chunk, in source bytes (InnoDB's row length): a few tens of MB of Parquet. */
export const DEFAULT_CHUNK_BYTES = 256 * 1024 * 1024;
/**
 * The time target of one chunk: a third of Lambda's 15-minute limit (900 s, the most a function may run:
 * https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html,
 * https://docs.aws.amazon.com/lambda/latest/dg/configuration-timeout.html), leaving room for a slow day.
 */
export const DEFAULT_CHUNK_SECONDS = 300;
/**
 * The read rate assumed for the time target: deliberately low — a source read through an SSH tunnel from a Lambda
 * in another network — against the 150,000–350,000 rows/s an extract reaches on a local MariaDB.
 */
export const DEFAULT_READ_ROWS_PER_SECOND = 20_000;
/** The row length assumed when MySQL has no estimate (an empty or never-analysed table). */
export const UNKNOWN_ROW_BYTES = 1024;

/** What MySQL estimates of a table's size (information_schema.TABLES); null where it has no figure. */
export interface TableSizeEstimate {
  avgRowLength: number | null;
  dataLength: number | null;
  tableRows: number | null;
}

export interface ChunkSizing {
  rows: number;
  /** The average row length used, in bytes. */
  rowBytes: number;
  /** Which limit set `rows`. */
  by: 'chunk_bytes' | 'chunk_seconds' | 'chunk_rows';
  /** Whether MySQL had an estimate of the row length (false: UNKNOWN_ROW_BYTES was assumed). */
  estimated: boolean;
}

/** The average row length MySQL estimates, or null when it has none. */
export function averageRowBytes(size: TableSizeEstimate | undefined): number | null {
  if (!size) return null;
  if (size.avgRowLength !== null && size.avgRowLength > 0) return size.avgRowLength;
  if (size.dataLength !== null && size.tableRows !== null && size.dataLength > 0 && size.tableRows > 0) {
    return size.dataLength / size.tableRows;
  }
  return null;
}

/** The rows per chunk for a table, by the rule above. */
export function chunkRowsFor(
  table: Pick<TableConfig, 'chunkRows' | 'chunkBytes' | 'chunkSeconds' | 'readRowsPerSecond'>,
  size: TableSizeEstimate | undefined,
): ChunkSizing {
  const known = averageRowBytes(size);
  const rowBytes = known ?? UNKNOWN_ROW_BYTES;
  const limits: [ChunkSizing['by'], number][] = [
    ['chunk_bytes', table.chunkBytes / rowBytes],
    ['chunk_seconds', table.chunkSeconds * table.readRowsPerSecond],
  ];
  if (table.chunkRows !== null) limits.push(['chunk_rows', table.chunkRows]);
  let [by, rows] = limits[0]!;
  for (const [name, n] of limits) {
    if (n < rows) [by, rows] = [name, n];
  }
  return { rows: Math.max(1, Math.floor(rows)), rowBytes: Math.round(rowBytes), by, estimated: known !== null };
}

/** One line for a dry run or a report: how big the chunks are and why. */
export function describeChunkSizing(s: ChunkSizing): string {
  const row = s.estimated
    ? `${s.rowBytes} B per row (MySQL's estimate)`
    : `${s.rowBytes} B per row (assumed: no estimate)`;
  return `${s.rows} rows per chunk, set by ${s.by}; ${row}`;
}
