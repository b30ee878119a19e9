/**
 * The encode worker: turns the column buffers the main thread decoded into Arrow record batches and feeds them to
 * parquet-wasm's streaming writer (arrow-rs: v1 pages, SNAPPY/ZSTD), posting the file bytes back as they come.
 * One Parquet file at a time, then the next: the worker and its wasm instance are started once and reused from a
 * pool (encoder.ts), since starting them costs far more than writing a small file. Batches are converted only when
 * the writer asks for one (`pull`), so at most one batch sits in wasm memory besides the row group being written.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { parentPort } from 'node:worker_threads';
import { collectGarbage, releaseBuffer } from '../memory/index.js';
import type { BatchPayload, ColumnPayload, ColumnSpec, EncoderInit, FromWorker, ToWorker } from './protocol.js';

// CommonJS builds through require(): they load in ~170 ms, and under tsx they skip the ESM loader hooks, which
// made the worker take ~1 s to start. Arrow is the bundled subset where the CLI's bundle put one beside this file
// (arrow-subset.ts), the package otherwise.
const require = createRequire(import.meta.url);
const bundledArrow = fileURLToPath(new URL('./arrow.cjs', import.meta.url));
const arrow = require(existsSync(bundledArrow) ? bundledArrow : 'apache-arrow') as typeof import('./arrow-subset.js');
const pw = require('parquet-wasm') as typeof import('parquet-wasm');

/**
 * The wasm objects the writer was handed (record batches, tables) are freed by their JS wrappers' finalizers, which
 * run only after a garbage collection — and the worker's JS heap is so small that V8 seldom runs one, so the wasm
 * memory they pin grew with the rows written (about 270 MB per million rows of the bench table). Freeing a batch
 * ourselves is not safe (the writer still reads it later: it hung), so the worker collects every
 * GC_EVERY_BATCHES batches. The batch's own column buffers and its IPC copy are freed at once instead
 * (toWasmBatch): left to those collections, up to eight batches of them (about 25 MB a worker) stayed resident.
 */
const GC_EVERY_BATCHES = 8;

const port = parentPort;
if (port === null) throw new Error('encode-worker must run in a worker thread');

function post(msg: FromWorker, transfer: ArrayBuffer[] = []): void {
  port!.postMessage(msg, transfer);
}

function arrowType(c: ColumnSpec): import('apache-arrow').DataType {
  switch (c.kind) {
    case 'bool':
      return new arrow.Bool();
    case 'int16':
      return new arrow.Int16();
    case 'int32':
      return new arrow.Int32();
    case 'int64':
      return new arrow.Int64();
    case 'float32':
      return new arrow.Float32();
    case 'float64':
      return new arrow.Float64();
    case 'decimal':
      return new arrow.Decimal(c.scale, c.precision, 128);
    case 'utf8':
      return new arrow.Utf8();
    case 'binary':
      return new arrow.Binary();
    case 'date32':
      return new arrow.DateDay();
    case 'timestamp':
      return c.utc ? new arrow.TimestampMicrosecond('UTC') : new arrow.TimestampMicrosecond();
  }
}

function columnData(
  field: import('apache-arrow').Field,
  length: number,
  p: ColumnPayload,
): import('apache-arrow').Data {
  const common = {
    type: field.type,
    length,
    nullCount: p.nullCount,
    ...(p.validity === null ? {} : { nullBitmap: p.validity }),
  };
  if (p.offsets !== null) return arrow.makeData({ ...common, valueOffsets: p.offsets, data: p.values as Uint8Array });
  return arrow.makeData({ ...common, data: p.values } as Parameters<typeof arrow.makeData>[0]);
}

/**
 * Dictionary encoding only where values repeat by construction (ENUM/SET): in parquet-wasm it costs ~5× the CPU
 * of the rest of the encode, and on typical columns (ids, amounts, timestamps, free text) it falls back to plain
 * anyway and ends up larger (measured: 17.1 MB with dictionaries vs 13.6 MB without, 300k rows). Statistics at
 * chunk level: readers prune row groups with them; page indexes are not needed.
 */
function writerProperties(init: EncoderInit): import('parquet-wasm').WriterProperties {
  let builder = new pw.WriterPropertiesBuilder()
    .setCompression(init.compression === 'zstd' ? pw.Compression.ZSTD : pw.Compression.SNAPPY)
    .setWriterVersion(pw.WriterVersion.V1)
    .setMaxRowGroupSize(init.rowGroupRows)
    .setDictionaryEnabled(false)
    .setStatisticsEnabled(pw.EnabledStatistics.Chunk)
    .setCreatedBy('highwater (parquet-wasm 0.8.0 / arrow-rs)');
  for (const c of init.columns) if (c.dictionary) builder = builder.setColumnDictionaryEnabled(c.name, true);
  return builder.build();
}

/** One Parquet file: its schema, the batches the main thread sent and the writer has not taken yet. */
class FileEncoding {
  private readonly fields: import('apache-arrow').Field[];
  private readonly schema: import('apache-arrow').Schema;
  private readonly structType: import('apache-arrow').Struct;
  private readonly pending: BatchPayload[] = [];
  private ended = false;
  private wake: (() => void) | undefined;
  private taken = 0;

  constructor(private readonly init: EncoderInit) {
    this.fields = init.columns.map((c) => new arrow.Field(c.name, arrowType(c), c.nullable));
    this.schema = new arrow.Schema(this.fields);
    this.structType = new arrow.Struct(this.fields);
  }

  add(batch: BatchPayload): void {
    this.pending.push(batch);
    this.signal();
  }

  end(): void {
    this.ended = true;
    this.signal();
  }

  private signal(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  /**
   * Arrow JS → IPC → wasm RecordBatch (the IPC copy is a memcpy per buffer). The wasm batch is a copy, so the batch's
   * buffers (transferred to this worker, read by nothing else) and the IPC bytes are freed here, not at some later
   * garbage collection.
   */
  private toWasmBatch(batch: BatchPayload): import('parquet-wasm').RecordBatch {
    const children = batch.columns.map((p, i) => columnData(this.fields[i]!, batch.length, p));
    const data = arrow.makeData({ type: this.structType, length: batch.length, nullCount: 0, children });
    const ipc = arrow.tableToIPC(new arrow.Table([new arrow.RecordBatch(this.schema, data)]), 'stream');
    const table = pw.Table.fromIPCStream(ipc);
    const rb = table.recordBatch(0);
    table.free();
    if (rb === undefined) throw new Error('parquet-wasm returned no record batch');
    // Only a buffer the IPC bytes own whole: were it a view into a larger one, the rest might still be in use.
    if (ipc.byteOffset === 0 && ipc.byteLength === ipc.buffer.byteLength) releaseBuffer(ipc.buffer);
    for (const c of batch.columns) for (const v of [c.values, c.validity, c.offsets]) if (v) releaseBuffer(v.buffer);
    return rb;
  }

  /** Writes the file, posting its bytes as they come, and `finished` after the footer. */
  async run(): Promise<void> {
    const input = new ReadableStream<import('parquet-wasm').RecordBatch>(
      {
        pull: async (controller) => {
          // The writer asks for the next batch only after it wrote the previous one: that is the main thread's credit.
          if (this.taken > 0) post({ type: 'ack' });
          while (this.pending.length === 0 && !this.ended) await new Promise<void>((r) => (this.wake = r));
          const next = this.pending.shift();
          if (next === undefined) return controller.close();
          this.taken++;
          if (this.taken % GC_EVERY_BATCHES === 0) collectGarbage();
          controller.enqueue(this.toWasmBatch(next));
        },
      },
      { highWaterMark: 0 },
    );
    // transformParquetStream resolves only once it has read the first batch: never await it before feeding input.
    const output = await pw.transformParquetStream(input, writerProperties(this.init));
    const reader = output.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      const chunk = value as Uint8Array;
      // Copy unless the chunk owns its whole buffer, so the transfer can never detach anything else.
      const own = chunk.byteOffset === 0 && chunk.byteLength === chunk.buffer.byteLength ? chunk : chunk.slice();
      post({ type: 'bytes', chunk: own }, [own.buffer as ArrayBuffer]);
    }
    post({ type: 'finished' });
  }
}

let file: FileEncoding | undefined;

port.on('message', (msg: ToWorker) => {
  switch (msg.type) {
    case 'open': {
      const f = new FileEncoding(msg.init);
      file = f;
      f.run()
        .catch((e: unknown) => post({ type: 'error', message: e instanceof Error ? e.message : String(e) }))
        .finally(() => {
          if (file === f) file = undefined;
        });
      return;
    }
    case 'batch':
      file?.add(msg.batch);
      return;
    case 'end':
      file?.end();
      return;
  }
});
