/**
 * The engine's vocabulary: columns and their logical types, watermarks, cursors — each declared once, as the zod
 * schema that checks it wherever it crosses a boundary, with its type inferred. Adapters translate these to their
 * own systems (Arrow/Parquet, DuckDB, Redshift); nothing here does I/O.
 */
import { z } from 'zod';

/** A column's type after mapping from MySQL; every adapter maps from this, never from MySQL names. */
export const LogicalTypeSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('boolean') }),
  z.object({ kind: z.literal('int16') }),
  z.object({ kind: z.literal('int32') }),
  z.object({ kind: z.literal('int64') }),
  z.object({ kind: z.literal('float32') }),
  z.object({ kind: z.literal('float64') }),
  z.object({ kind: z.literal('decimal'), precision: z.number().int(), scale: z.number().int() }),
  /** maxBytes: the UTF-8 byte length the warehouse column needs (utf8mb4 → 4 bytes a character), capped by the warehouse. */
  z.object({ kind: z.literal('string'), maxBytes: z.number().int() }),
  z.object({ kind: z.literal('json') }),
  z.object({ kind: z.literal('binary'), maxBytes: z.number().int() }),
  z.object({ kind: z.literal('date') }),
  /** utc=false: MySQL DATETIME, a naive wall-clock value; utc=true: MySQL TIMESTAMP, read in a UTC session. */
  z.object({ kind: z.literal('timestamp'), utc: z.boolean() }),
  /** MySQL TIME spans -838:59:59..838:59:59, so it travels as a string. */
  z.object({ kind: z.literal('time') }),
]);
export type LogicalType = z.infer<typeof LogicalTypeSchema>;

/** One column as INFORMATION_SCHEMA.COLUMNS describes it. */
export const SourceColumnSchema = z.object({
  name: z.string(),
  /** DATA_TYPE, lower case: `int`, `decimal`, `varchar`, … */
  dataType: z.string(),
  /** COLUMN_TYPE, lower case: `int(10) unsigned`, `decimal(15,4)`, `tinyint(1)`, `enum('a','b')`, … */
  columnType: z.string(),
  nullable: z.boolean(),
  charMaxLength: z.number().nullable(),
  numericPrecision: z.number().nullable(),
  numericScale: z.number().nullable(),
  ordinal: z.number(),
});
export type SourceColumn = z.infer<typeof SourceColumnSchema>;

/** A source column with its target name and logical type. */
export const MappedColumnSchema = z.object({
  source: SourceColumnSchema,
  /** Target column name: lower-cased, digit-leading names prefixed (naming.ts). */
  target: z.string(),
  type: LogicalTypeSchema,
  nullable: z.boolean(),
});
export type MappedColumn = z.infer<typeof MappedColumnSchema>;

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
export const WatermarkSchema = z.object({ ts: z.string().nullable(), id: z.string().nullable() });
export type Watermark = z.infer<typeof WatermarkSchema>;

export const EMPTY_WATERMARK: Watermark = { ts: null, id: null };

/**
 * One change a load made to an existing target table's columns. Types are spelled as the warehouse's catalog spells
 * them (DuckDB `DECIMAL(20,6)`, Redshift `numeric(20,6)`); see docs/type-map.md, "Schema changes".
 * - added: `to` is the new column's type;
 * - widened: `from` → `to`;
 * - kept: the source no longer sends the column and it was NOT NULL: `from` is `<type> NOT NULL`, `to` `<type>`;
 * - dropped: `from` is the dropped column's type.
 */
export const SchemaChangeSchema = z.object({
  column: z.string(),
  change: z.enum(['added', 'widened', 'kept', 'dropped']),
  from: z.string().optional(),
  to: z.string().optional(),
});
export type SchemaChange = z.infer<typeof SchemaChangeSchema>;
