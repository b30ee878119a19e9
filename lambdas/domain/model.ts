/**
 * The engine's vocabulary: columns and their logical types, watermarks, cursors. Adapters translate these to
 * their own systems (Arrow/Parquet, DuckDB, Redshift); nothing here does I/O.
 */

/** A column's type after mapping from MySQL; every adapter maps from this, never from MySQL names. */
export type LogicalType =
  | { kind: 'boolean' }
  | { kind: 'int16' }
  | { kind: 'int32' }
  | { kind: 'int64' }
  | { kind: 'float32' }
  | { kind: 'float64' }
  | { kind: 'decimal'; precision: number; scale: number }
  /** maxBytes: the UTF-8 byte length the warehouse column needs (utf8mb4 → 4 bytes a character), capped by the warehouse. */
  | { kind: 'string'; maxBytes: number }
  | { kind: 'json' }
  | { kind: 'binary'; maxBytes: number }
  | { kind: 'date' }
  /** utc=false: MySQL DATETIME, a naive wall-clock value; utc=true: MySQL TIMESTAMP, read in a UTC session. */
  | { kind: 'timestamp'; utc: boolean }
  /** MySQL TIME spans -838:59:59..838:59:59, so it travels as a string. */
  | { kind: 'time' };

/** One column as INFORMATION_SCHEMA.COLUMNS describes it. */
export interface SourceColumn {
  name: string;
  /** DATA_TYPE, lower case: `int`, `decimal`, `varchar`, … */
  dataType: string;
  /** COLUMN_TYPE, lower case: `int(10) unsigned`, `decimal(15,4)`, `tinyint(1)`, `enum('a','b')`, … */
  columnType: string;
  nullable: boolean;
  charMaxLength: number | null;
  numericPrecision: number | null;
  numericScale: number | null;
  ordinal: number;
}

/** A source column with its target name and logical type. */
export interface MappedColumn {
  source: SourceColumn;
  /** Target column name: lower-cased, digit-leading names prefixed (naming.ts). */
  target: string;
  type: LogicalType;
  nullable: boolean;
}

export interface TableSchema {
  schema: string;
  table: string;
  columns: SourceColumn[];
  /** Primary key column names in key order (empty when the table has none). */
  primaryKey: string[];
}

/**
 * A watermark: the committed position of a table. For timestamp strategies `ts` is the cursor value as MySQL
 * prints it (`YYYY-MM-DD HH:MM:SS[.ffffff]`, or an integer for `timestamp_format: unix`) and `id` breaks ties;
 * for id_only only `id` is set. Values are strings so they round-trip exactly through JSON and bind parameters.
 */
export interface Watermark {
  ts: string | null;
  id: string | null;
}

export const EMPTY_WATERMARK: Watermark = { ts: null, id: null };
