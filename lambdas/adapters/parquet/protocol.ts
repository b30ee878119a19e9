/**
 * What the main thread (decoding MySQL bytes) and the encode worker (Arrow → Parquet) exchange. Plain data only:
 * column buffers travel as transferred typed arrays, never copied.
 */
import type { MappedColumn } from '../../domain/model.js';

export type ArrowKind =
  | 'bool'
  | 'int16'
  | 'int32'
  | 'int64'
  | 'float32'
  | 'float64'
  | 'decimal'
  | 'utf8'
  | 'binary'
  | 'date32'
  | 'timestamp';

export interface ColumnSpec {
  name: string;
  kind: ArrowKind;
  nullable: boolean;
  precision: number;
  scale: number;
  /** For timestamps: isAdjustedToUTC. */
  utc: boolean;
  /** Dictionary-encode this column (ENUM/SET: few distinct values by construction). */
  dictionary: boolean;
}

export interface ColumnPayload {
  nullCount: number;
  /** Arrow validity bitmap (1 = present); null when the batch has no NULL in this column. */
  validity: Uint8Array | null;
  /** Fixed-width values, a bit-packed Uint8Array for booleans, or the bytes of variable-width values. */
  values: Uint8Array | Int16Array | Int32Array | BigInt64Array | Float32Array | Float64Array | Uint32Array;
  /** Variable-width columns only: length + 1 offsets into `values`. */
  offsets: Int32Array | null;
}

export interface BatchPayload {
  length: number;
  columns: ColumnPayload[];
}

export interface EncoderInit {
  columns: ColumnSpec[];
  compression: 'snappy' | 'zstd';
  rowGroupRows: number;
}

/**
 * A worker writes one file at a time and is then ready for the next (encoder.ts keeps a pool of them): `open`
 * starts a file, `batch` adds rows, `end` closes it; `finished` says the footer was sent and the worker is free.
 */
export type ToWorker = { type: 'open'; init: EncoderInit } | { type: 'batch'; batch: BatchPayload } | { type: 'end' };

export type FromWorker =
  | { type: 'bytes'; chunk: Uint8Array }
  /** A batch was taken by the Parquet writer; the main thread may send another. */
  | { type: 'ack' }
  | { type: 'finished' }
  | { type: 'error'; message: string };

export function arrowKind(col: MappedColumn): ArrowKind {
  switch (col.type.kind) {
    case 'boolean':
      return 'bool';
    case 'int16':
    case 'int32':
    case 'int64':
    case 'float32':
    case 'float64':
    case 'decimal':
      return col.type.kind;
    case 'string':
    case 'json':
    case 'time':
      return 'utf8';
    case 'binary':
      return 'binary';
    case 'date':
      return 'date32';
    case 'timestamp':
      return 'timestamp';
  }
}

export function columnSpec(col: MappedColumn): ColumnSpec {
  const t = col.type;
  return {
    name: col.target,
    kind: arrowKind(col),
    nullable: col.nullable,
    precision: t.kind === 'decimal' ? t.precision : 0,
    scale: t.kind === 'decimal' ? t.scale : 0,
    utc: t.kind === 'timestamp' ? t.utc : false,
    dictionary: col.source.dataType === 'enum' || col.source.dataType === 'set',
  };
}
