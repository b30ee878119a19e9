/**
 * Values longer than their warehouse column, caught while extracting (the table's `oversize` option) instead of at
 * COPY after the whole extract. Redshift lengths are bytes: VARCHAR(n) holds n bytes
 * (https://docs.aws.amazon.com/redshift/latest/dg/r_Character_types.html, at most 65,535), VARBYTE(n) n bytes; a
 * JSON value headed for SUPER is staged as VARCHAR(65535) (docs/type-map.md, "JSON"). MySQL's text protocol sends
 * text as utf8mb4 bytes, so a raw value's length is exactly what the column must hold. DuckDB's VARCHAR and BLOB have
 * no length: nothing is checked for a DuckDB target.
 */
import type { MappedColumn } from '../domain/model.js';
import { DataError } from '../errors.js';
import type { RawRow } from '../ports/index.js';
import { REDSHIFT_MAX_VARBYTE, REDSHIFT_MAX_VARCHAR, redshiftType } from './type-map.js';

export type OversizeMode = 'error' | 'truncate';

/** One column whose values have a byte limit in the target. */
export interface ByteLimit {
  /** Position of the column in the row. */
  index: number;
  column: MappedColumn;
  limit: number;
  /** The column's type in the warehouse, for messages. */
  ddl: string;
  /** Text is cut at a UTF-8 character boundary; binary anywhere; JSON is never cut (it would not parse). */
  cut: 'utf8' | 'bytes' | 'never';
}

/** The byte limits of a run's columns in the target warehouse (none for DuckDB). */
export function byteLimits(columns: readonly MappedColumn[], warehouse: 'redshift' | 'duckdb'): ByteLimit[] {
  if (warehouse !== 'redshift') return [];
  const out: ByteLimit[] = [];
  columns.forEach((column, index) => {
    const t = column.type;
    const ddl = redshiftType(t);
    if (t.kind === 'string') {
      out.push({ index, column, limit: Math.min(t.maxBytes, REDSHIFT_MAX_VARCHAR), ddl, cut: 'utf8' });
    } else if (t.kind === 'binary') {
      out.push({ index, column, limit: Math.min(t.maxBytes, REDSHIFT_MAX_VARBYTE), ddl, cut: 'bytes' });
    } else if (t.kind === 'json') {
      out.push({ index, column, limit: REDSHIFT_MAX_VARCHAR, ddl, cut: 'never' });
    }
  });
  return out;
}

/**
 * The longest prefix of `value` of at most `limit` bytes that ends on a UTF-8 character boundary: a cut never
 * leaves half a character (continuation bytes are 10xxxxxx).
 */
export function cutUtf8(value: Buffer, limit: number): Buffer {
  if (value.length <= limit) return value;
  let end = limit;
  while (end > 0 && ((value[end] ?? 0) & 0xc0) === 0x80) end--;
  return value.subarray(0, end);
}

export interface OversizeGuardOptions {
  /** `schema.table` of the source, for messages. */
  table: string;
  limits: readonly ByteLimit[];
  /** Positions of the primary-key columns in the row (empty: the row has no key to name). */
  keyIndexes: readonly number[];
  keyNames: readonly string[];
  mode: OversizeMode;
}

/**
 * Checks each row's limited values: `error` throws a DataError naming table, column and the row's key; `truncate`
 * cuts the value in place and counts it per column (`truncated`).
 */
export class OversizeGuard {
  /** Values cut, per target column. */
  readonly truncated: Record<string, number> = {};

  constructor(private readonly opts: OversizeGuardOptions) {}

  get active(): boolean {
    return this.opts.limits.length > 0;
  }

  check(row: RawRow, rowNumber: number): void {
    for (const l of this.opts.limits) {
      const v = row[l.index];
      if (v === null || v === undefined || v.length <= l.limit) continue;
      if (this.opts.mode === 'truncate' && l.cut !== 'never') {
        row[l.index] = l.cut === 'utf8' ? cutUtf8(v, l.limit) : v.subarray(0, l.limit);
        this.truncated[l.column.target] = (this.truncated[l.column.target] ?? 0) + 1;
        continue;
      }
      throw this.tooLong(row, l, v.length, rowNumber);
    }
  }

  private keyText(row: RawRow, rowNumber: number): string {
    if (this.opts.keyIndexes.length === 0) return `row ${rowNumber} of the chunk (the table has no primary key)`;
    const parts = this.opts.keyIndexes.map((i, k) => {
      const v = row[i];
      return `${this.opts.keyNames[k]}=${v === null || v === undefined ? 'NULL' : v.toString('utf8')}`;
    });
    return `key (${parts.join(', ')})`;
  }

  private tooLong(row: RawRow, l: ByteLimit, bytes: number, rowNumber: number): DataError {
    const name = l.column.source.name;
    const json = l.cut === 'never';
    return new DataError(
      `${this.opts.table} column ${name}: the value at ${this.keyText(row, rowNumber)} is ${bytes} bytes, longer than the ${l.limit} bytes its Redshift column ${json ? `takes (JSON is staged as VARCHAR(${REDSHIFT_MAX_VARCHAR}) on its way to ${l.ddl})` : `${l.ddl} holds`}; nothing of this chunk was staged`,
      {
        suggestion: json
          ? 'A JSON document cannot be cut and still parse: shorten or leave out the column with a custom_query, or fix the row at the source.'
          : `Set \`oversize: truncate\` on the table to cut such values to ${l.limit} bytes (at a character boundary; the run report counts them), or shorten or leave out the column with a custom_query.`,
      },
    );
  }
}
