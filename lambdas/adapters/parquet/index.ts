/**
 * Streaming Parquet writer: raw MySQL rows in, one Parquet file out, row group by row group. The main thread
 * decodes bytes into Arrow column buffers; a worker thread encodes Parquet (parquet-wasm), so decoding and
 * encoding overlap. Memory stays flat: one batch being filled, at most two with the worker, and `out`'s
 * backpressure stops the reading of rows.
 */
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { MappedColumn } from '../../domain/model.js';
import { DataError, HighwaterError, StagingError } from '../../errors.js';
import type { RawRow, WriteParquetOptions, WriteParquetResult } from '../../ports/index.js';
import { forEachValue, isPackedRow, type PackedRow, PackedRowError } from '../../ports/packed-row.js';
import { type ColumnBuilder, createBuilder, DecodeError } from './column-builders.js';
import { Encoder, EncoderError } from './encoder.js';
import { type BatchPayload, columnSpec } from './protocol.js';

export type { WriteParquetOptions, WriteParquetResult } from '../../ports/index.js';

/**
 * Optional fast path a row source may offer on its iterator: a row that is already buffered, or null. Reading
 * buffered rows synchronously saves one promise per row (~10 % of the extract's CPU at 1M rows).
 */
export interface SyncRowReader {
  readSync(): RawRow | PackedRow | null;
}

function hasReadSync(it: AsyncIterator<RawRow | PackedRow>): it is AsyncIterator<RawRow | PackedRow> & SyncRowReader {
  return typeof (it as Partial<SyncRowReader>).readSync === 'function';
}

export const DEFAULT_ROW_GROUP_ROWS = 65_536;
/** Variable-width bytes per batch before it is sent early (bounds memory for wide TEXT/BLOB rows). */
const MAX_BATCH_VAR_BYTES = 8 * 1024 * 1024;
/**
 * Rows per batch handed to the worker. The Parquet writer appends batches to the open row group and closes it at
 * `rowGroupRows`, so batches can be smaller than row groups: what is held uncompressed (one batch filling, two
 * with the worker) stays small while row groups keep their size. 16k rows cut peak RSS by ~60 MB at 1M rows.
 */
const MAX_BATCH_ROWS = 16_384;
/** How often (rows) the variable-width size is checked. */
const VAR_CHECK_EVERY = 1024;
/**
 * Rows of a file's first batch; each next batch holds four times more, up to MAX_BATCH_ROWS. Builders allocate
 * their batch's capacity up front, so a small chunk (ten rows) no longer allocates 16k rows of buffers per column;
 * row groups are unchanged (the writer closes them at rowGroupRows whatever the batch sizes).
 */
const FIRST_BATCH_ROWS = 256;
/** Parquet bytes gathered before a write to the output (see writeOut). */
const OUT_WRITE_BYTES = 1024 * 1024;

class Batch {
  readonly builders: ColumnBuilder[];
  length = 0;
  constructor(
    columns: readonly MappedColumn[],
    readonly capacity: number,
  ) {
    this.builders = columns.map((c) => createBuilder(c, capacity));
  }
  varBytes(): number {
    let n = 0;
    for (const b of this.builders) n += b.varBytes();
    return n;
  }
  finish(): BatchPayload {
    return { length: this.length, columns: this.builders.map((b) => b.finish(this.length)) };
  }
}

export async function writeParquet(
  rows: AsyncIterable<RawRow | PackedRow>,
  columns: MappedColumn[],
  out: Writable,
  opts: WriteParquetOptions = {},
): Promise<WriteParquetResult> {
  const rowGroupRows = opts.rowGroupRows ?? DEFAULT_ROW_GROUP_ROWS;
  if (!Number.isInteger(rowGroupRows) || rowGroupRows < 1) {
    throw new DataError(`rowGroupRows must be a positive integer, not ${rowGroupRows}`);
  }
  const maxCapacity = Math.min(rowGroupRows, MAX_BATCH_ROWS);
  let capacity = Math.min(FIRST_BATCH_ROWS, maxCapacity);
  if (columns.length === 0) throw new DataError('cannot write a Parquet file without columns');
  const ncols = columns.length;
  let bytes = 0;
  let outError: Error | undefined;
  const onOutError = (e: Error) => {
    outError ??= e;
  };
  out.on('error', onOutError);

  // The worker sends a file in many small pieces (magic, each page, the footer): they go to `out` together, once
  // OUT_WRITE_BYTES have gathered or at a batch boundary, rather than as a write each.
  let pieces: Uint8Array[] = [];
  let piecesBytes = 0;
  const writeOut = () => {
    if (piecesBytes === 0) return;
    out.write(pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces, piecesBytes));
    pieces = [];
    piecesBytes = 0;
  };
  const encoder = new Encoder(
    { columns: columns.map(columnSpec), compression: opts.compression ?? 'snappy', rowGroupRows },
    (chunk) => {
      bytes += chunk.byteLength;
      pieces.push(chunk);
      piecesBytes += chunk.byteLength;
      if (piecesBytes >= OUT_WRITE_BYTES) writeOut();
    },
  );

  const flush = async (batch: Batch) => {
    writeOut();
    await encoder.send(batch.finish());
    // Checked right before waiting: a 'drain' that already happened must not be waited for.
    if (out.writableNeedDrain && !outError) await once(out, 'drain');
    if (outError) throw outError;
  };

  let total = 0;
  // A packed row's values go to the builders straight from its packet (ports/packed-row.ts); these two callbacks are
  // made once, and read the row being appended from `packed` and `at` (and leave `column` for an error message).
  let batch = new Batch(columns, capacity);
  let packed: Buffer = Buffer.alloc(0);
  let at = 0;
  let column = 0;
  const onValue = (c: number, s: number, e: number) => {
    column = c;
    batch.builders[c]!.appendRange(packed, s, e, at);
  };
  const onNull = (c: number) => {
    column = c;
    batch.builders[c]!.appendNull(at);
  };
  const it = rows[Symbol.asyncIterator]();
  const readSync = hasReadSync(it) ? () => it.readSync() : () => null;
  let exhausted = false;
  try {
    for (;;) {
      let row = readSync();
      if (row === null) {
        const r = await it.next();
        if (r.done) {
          exhausted = true;
          break;
        }
        row = r.value;
      }
      const i = batch.length;
      try {
        if (isPackedRow(row)) {
          packed = row.buf;
          at = i;
          forEachValue(row, ncols, onValue, onNull);
        } else {
          if (row.length !== ncols) {
            throw new DataError(`row ${total + 1} has ${row.length} values for ${ncols} Parquet columns`);
          }
          for (column = 0; column < ncols; column++) batch.builders[column]!.append(row[column]!, i);
        }
      } catch (e) {
        if (e instanceof PackedRowError)
          throw new DataError(`row ${total + 1} of the result is malformed: ${e.message}`);
        if (!(e instanceof DecodeError)) throw e;
        const col = columns[column]!;
        throw new DataError(`column ${col.source.name} (→ ${col.target}), row ${total + 1}: ${e.message}`, {
          suggestion: 'Fix the source value or exclude the column; the row number counts from 1 within this chunk.',
        });
      }
      batch.length++;
      total++;
      if (
        batch.length === capacity ||
        (batch.length % VAR_CHECK_EVERY === 0 && batch.varBytes() > MAX_BATCH_VAR_BYTES)
      ) {
        await flush(batch);
        capacity = Math.min(capacity * 4, maxCapacity);
        batch = new Batch(columns, capacity);
      }
    }
    // An empty result still gets a file with the schema (one empty batch carries it).
    if (batch.length > 0 || total === 0) await flush(batch);
    await encoder.finish();
    writeOut();
    if (outError) throw outError;
    out.end();
    await finished(out);
    out.off('error', onOutError);
    return { rows: total, bytes };
  } catch (e) {
    // onOutError stays attached: destroy() emits 'error' on the next tick.
    const err = asHighwaterError(e, outError);
    out.destroy(err instanceof Error ? err : new Error(String(err)));
    throw err;
  } finally {
    // Like `for await`: a source we stop reading early is told so (the MySQL source then drops its session).
    if (!exhausted) await it.return?.();
    await encoder.close();
  }
}

function asHighwaterError(e: unknown, outError: Error | undefined): unknown {
  if (e instanceof HighwaterError) return e;
  if (outError !== undefined && e === outError) {
    return new StagingError(`writing the Parquet file failed: ${outError.message}`);
  }
  if (e instanceof EncoderError) return new DataError(e.message);
  return e;
}
