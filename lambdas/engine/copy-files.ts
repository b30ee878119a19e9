/**
 * How many Parquet files a run loading into Redshift is cut into, so one COPY loads them in parallel (AWS's rules:
 * https://docs.aws.amazon.com/redshift/latest/dg/t_splitting-data-files.html — "split your data into files so that
 * the number of files is a multiple of the number of slices in your cluster";
 * https://docs.aws.amazon.com/redshift/latest/dg/queries-troubleshooting-load-takes-too-long.html — "about equal
 * size, between 1 MB and 1 GB after compression"; and
 * https://docs.aws.amazon.com/redshift/latest/dg/c_best-practices-use-multiple-files.html — Parquet files under
 * 128 MB are not split by COPY, larger ones are).
 *
 * The rule, on the run's estimated compressed size B, the target's slice count S and T = 256 MiB:
 *   B ≥ S·T:  S·⌈B ÷ (S·T)⌉ files — a multiple of the slices, each between T/2 and T (128–256 MiB);
 *   T ≤ B < S·T: the power of two at or above ⌈B ÷ T⌉ — a multiple of every power-of-two slice count up to it,
 *             each between T/4 and T (64–256 MiB);
 *   B < T:    one file (a run this small loads in seconds whatever its layout).
 * A chunk must also finish inside one extract step, so no file holds more than `maxRowsPerFile` rows (the deadline's
 * rows, chunk-size.ts); when that cap needs more files, their count is raised to the next multiple of S (or power of
 * two) and the files are smaller than the rule's range: the deadline wins.
 */

/** The most compressed bytes per COPY file the rule aims at (files land between a quarter and all of it). */
export const COPY_FILE_TARGET_BYTES = 256 * 1024 * 1024;
/**
 * Parquet bytes (SNAPPY) per byte of InnoDB row length, to estimate a run's compressed size from MySQL's own row
 * length: measured on the bench table (12 columns, AVG_ROW_LENGTH 185 B): 46.6 MB of Parquet for 1,000,000 rows
 * is 0.25. Tables differ (text compresses better, numbers worse); an estimate off by 2× moves files within range.
 */
export const PARQUET_BYTES_PER_ROW_BYTE = 0.25;
/**
 * The slice count assumed when the target does not say (`copy_slices:`): 16, the most slices of one node of any
 * current node type, and a multiple of every smaller power of two, so a count that is a multiple of it is one of
 * 2, 4 and 8 as well.
 */
export const DEFAULT_COPY_SLICES = 16;

export interface CopyLayoutInput {
  /** Rows in the run's window. */
  rows: number;
  /** MySQL's average row length, in bytes. */
  rowBytes: number;
  /** The cluster's slice count (a multiple of it is what COPY divides evenly). */
  slices: number;
  /** The most rows one file may hold (the extract step's deadline). */
  maxRowsPerFile: number;
}

export interface CopyLayout {
  files: number;
  rowsPerFile: number;
  /** Estimated compressed bytes of the whole run and of each file. */
  estimatedBytes: number;
  bytesPerFile: number;
  /** Which branch of the rule decided the count. */
  by: 'slices' | 'power-of-two' | 'one-file' | 'deadline';
}

function nextPowerOfTwo(n: number): number {
  return 2 ** Math.ceil(Math.log2(Math.max(1, n)));
}

/** The count rounded up to what COPY divides evenly: a multiple of the slices, or a power of two below them. */
function evenCount(n: number, slices: number): number {
  return n >= slices ? slices * Math.ceil(n / slices) : Math.min(slices, nextPowerOfTwo(n));
}

export function copyFileLayout(input: CopyLayoutInput): CopyLayout {
  const { rows, rowBytes, slices, maxRowsPerFile } = input;
  if (!Number.isInteger(slices) || slices < 1) throw new RangeError(`slices must be a positive integer, not ${slices}`);
  if (!(maxRowsPerFile >= 1)) throw new RangeError(`maxRowsPerFile must be at least 1, not ${maxRowsPerFile}`);
  const estimatedBytes = Math.round(Math.max(0, rows) * Math.max(1, rowBytes) * PARQUET_BYTES_PER_ROW_BYTE);
  const t = COPY_FILE_TARGET_BYTES;
  let files: number;
  let by: CopyLayout['by'];
  if (estimatedBytes >= slices * t) {
    files = slices * Math.ceil(estimatedBytes / (slices * t));
    by = 'slices';
  } else if (estimatedBytes >= t) {
    files = nextPowerOfTwo(Math.ceil(estimatedBytes / t));
    by = 'power-of-two';
  } else {
    files = 1;
    by = 'one-file';
  }
  const byDeadline = Math.ceil(rows / maxRowsPerFile);
  if (byDeadline > files) {
    files = evenCount(byDeadline, slices);
    by = 'deadline';
  }
  const rowsPerFile = Math.max(1, Math.ceil(rows / files));
  return { files, rowsPerFile, estimatedBytes, bytesPerFile: Math.round(estimatedBytes / files), by };
}
