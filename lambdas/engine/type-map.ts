/**
 * The one type map: MySQL column → LogicalType → Redshift / DuckDB DDL type. Pure data and functions, no I/O, so
 * the extractor, both warehouses and docs/type-map.md all read the same table.
 */

import type { LogicalType, MappedColumn, SourceColumn } from '../domain/model.js';
import { DataError } from '../errors.js';
import { targetColumnNames, targetIdentifier } from './naming.js';
import { quoteMysql } from './sql.js';

/** Redshift VARCHAR's maximum length in bytes. */
export const REDSHIFT_MAX_VARCHAR = 65535;
/** Redshift VARBYTE's maximum length in bytes. */
export const REDSHIFT_MAX_VARBYTE = 1_024_000;
/** Largest DECIMAL precision Parquet (Decimal128) and Redshift accept. */
export const MAX_DECIMAL_PRECISION = 38;
/** utf8mb4: a character is up to 4 bytes. */
const UTF8MB4_BYTES_PER_CHAR = 4;
/** `-838:59:59.000000` is 17 characters. */
const TIME_TEXT_BYTES = 17;

export interface MapOptions {
  /** How JSON lands in Redshift: SUPER (default) or VARCHAR(65535). */
  jsonAs?: 'super' | 'varchar';
}

/** One row of the human-readable table (docs/type-map.md is generated from / checked against this). */
export interface TypeMapRow {
  mysql: string;
  logical: string;
  parquet: string;
  redshift: string;
  duckdb: string;
  notes: string;
}

export const TYPE_MAP_ROWS: readonly TypeMapRow[] = [
  {
    mysql: 'TINYINT(1), BOOLEAN',
    logical: 'boolean',
    parquet: 'BOOLEAN',
    redshift: 'BOOLEAN',
    duckdb: 'BOOLEAN',
    notes: 'any non-zero value is true (MySQL semantics)',
  },
  {
    mysql: 'TINYINT [UNSIGNED]',
    logical: 'int16',
    parquet: 'INT32 (INT(16))',
    redshift: 'SMALLINT',
    duckdb: 'SMALLINT',
    notes: '',
  },
  {
    mysql: 'SMALLINT',
    logical: 'int16',
    parquet: 'INT32 (INT(16))',
    redshift: 'SMALLINT',
    duckdb: 'SMALLINT',
    notes: '',
  },
  {
    mysql: 'SMALLINT UNSIGNED',
    logical: 'int32',
    parquet: 'INT32',
    redshift: 'INTEGER',
    duckdb: 'INTEGER',
    notes: '0..65535 does not fit SMALLINT',
  },
  {
    mysql: 'MEDIUMINT [UNSIGNED]',
    logical: 'int32',
    parquet: 'INT32',
    redshift: 'INTEGER',
    duckdb: 'INTEGER',
    notes: '',
  },
  { mysql: 'INT', logical: 'int32', parquet: 'INT32', redshift: 'INTEGER', duckdb: 'INTEGER', notes: '' },
  {
    mysql: 'INT UNSIGNED',
    logical: 'int64',
    parquet: 'INT64',
    redshift: 'BIGINT',
    duckdb: 'BIGINT',
    notes: '0..4294967295 does not fit INTEGER',
  },
  { mysql: 'BIGINT', logical: 'int64', parquet: 'INT64', redshift: 'BIGINT', duckdb: 'BIGINT', notes: '' },
  {
    mysql: 'BIGINT UNSIGNED (SERIAL)',
    logical: 'decimal(20,0)',
    parquet: 'FIXED_LEN_BYTE_ARRAY(9) DECIMAL(20,0)',
    redshift: 'DECIMAL(20,0)',
    duckdb: 'DECIMAL(20,0)',
    notes: '18446744073709551615 exact',
  },
  {
    mysql: 'DECIMAL(p,s), NUMERIC',
    logical: 'decimal(p,s)',
    parquet: 'INT32 (p≤9) / INT64 (p≤18) / FIXED_LEN_BYTE_ARRAY DECIMAL(p,s)',
    redshift: 'DECIMAL(p,s)',
    duckdb: 'DECIMAL(p,s)',
    notes: 'exact, built from the digits; p > 38 is refused (DataError)',
  },
  { mysql: 'FLOAT', logical: 'float32', parquet: 'FLOAT', redshift: 'REAL', duckdb: 'REAL', notes: '' },
  {
    mysql: 'DOUBLE, REAL',
    logical: 'float64',
    parquet: 'DOUBLE',
    redshift: 'DOUBLE PRECISION',
    duckdb: 'DOUBLE',
    notes: '',
  },
  {
    mysql: 'BIT(1)',
    logical: 'boolean',
    parquet: 'BOOLEAN',
    redshift: 'BOOLEAN',
    duckdb: 'BOOLEAN',
    notes: 'from the raw bit bytes',
  },
  {
    mysql: 'BIT(2..64)',
    logical: 'int64',
    parquet: 'INT64',
    redshift: 'BIGINT',
    duckdb: 'BIGINT',
    notes: 'BIT(64) values ≥ 2^63 are refused (DataError), never wrapped',
  },
  { mysql: 'YEAR', logical: 'int16', parquet: 'INT32 (INT(16))', redshift: 'SMALLINT', duckdb: 'SMALLINT', notes: '' },
  {
    mysql: 'DATE',
    logical: 'date',
    parquet: 'INT32 DATE',
    redshift: 'DATE',
    duckdb: 'DATE',
    notes: 'zero dates (0000-00-00, zero month/day) → NULL',
  },
  {
    mysql: 'DATETIME[(fsp)]',
    logical: 'timestamp (utc=false)',
    parquet: 'INT64 TIMESTAMP(MICROS, isAdjustedToUTC=false)',
    redshift: 'TIMESTAMP',
    duckdb: 'TIMESTAMP',
    notes: 'wall-clock value as stored; zero dates → NULL',
  },
  {
    mysql: 'TIMESTAMP[(fsp)]',
    logical: 'timestamp (utc=true)',
    parquet: 'INT64 TIMESTAMP(MICROS, isAdjustedToUTC=true)',
    redshift: 'TIMESTAMPTZ',
    duckdb: 'TIMESTAMPTZ',
    notes: 'read in a UTC session (time_zone +00:00); zero dates → NULL',
  },
  {
    mysql: 'TIME[(fsp)]',
    logical: 'time',
    parquet: 'BYTE_ARRAY STRING',
    redshift: `VARCHAR(${TIME_TEXT_BYTES})`,
    duckdb: 'VARCHAR',
    notes: 'text as MySQL prints it; the range -838:59:59..838:59:59 does not fit a TIME type',
  },
  {
    mysql: 'CHAR(n), VARCHAR(n), TINYTEXT/TEXT/MEDIUMTEXT/LONGTEXT',
    logical: 'string',
    parquet: 'BYTE_ARRAY STRING',
    redshift: 'VARCHAR(min(4n, 65535))',
    duckdb: 'VARCHAR',
    notes: 'Redshift lengths are bytes: utf8mb4 needs 4 per character',
  },
  {
    mysql: 'ENUM, SET',
    logical: 'string',
    parquet: 'BYTE_ARRAY STRING',
    redshift: 'VARCHAR(min(4n, 65535))',
    duckdb: 'VARCHAR',
    notes: 'n: the longest member (ENUM) / all members (SET)',
  },
  {
    mysql: 'UUID, INET4, INET6 (MariaDB)',
    logical: 'string',
    parquet: 'BYTE_ARRAY STRING',
    redshift: 'VARCHAR(36/15/39)',
    duckdb: 'VARCHAR',
    notes: 'their text form',
  },
  {
    mysql: 'JSON',
    logical: 'json',
    parquet: 'BYTE_ARRAY STRING',
    redshift: 'SUPER (VARCHAR(65535) with json_as: varchar)',
    duckdb: 'JSON',
    notes: 'MariaDB JSON (LONGTEXT + json_valid check) is detected too',
  },
  {
    mysql: 'BINARY(n), VARBINARY(n), TINYBLOB/BLOB/MEDIUMBLOB/LONGBLOB',
    logical: 'binary',
    parquet: 'BYTE_ARRAY',
    redshift: 'VARBYTE(min(n, 1024000))',
    duckdb: 'BLOB',
    notes: '',
  },
  {
    mysql: 'GEOMETRY, POINT, … (anything else)',
    logical: '—',
    parquet: '—',
    redshift: '—',
    duckdb: '—',
    notes: 'refused: DataError naming the table and column',
  },
];

/**
 * How a MySQL column's values order and bind, classified once for every engine module that compares or binds a
 * cursor or key: integers (signed or unsigned) compare numerically and bind as exact integers, decimals bind at
 * their own precision, temporal values compare as MySQL prints them (fixed-width text, so byte order is time order).
 */
export type MysqlValueClass = 'integer' | 'decimal' | 'temporal' | 'other';

const INTEGER_DATA_TYPES: ReadonlySet<string> = new Set([
  'tinyint',
  'smallint',
  'mediumint',
  'int',
  'integer',
  'bigint',
]);
const TEMPORAL_DATA_TYPES: ReadonlySet<string> = new Set(['date', 'datetime', 'timestamp']);

export function mysqlValueClass(col: SourceColumn): MysqlValueClass {
  const t = col.dataType.toLowerCase();
  if (INTEGER_DATA_TYPES.has(t) || t === 'year') return 'integer';
  if (t === 'decimal' || t === 'numeric') return 'decimal';
  if (TEMPORAL_DATA_TYPES.has(t)) return 'temporal';
  return 'other';
}

/** An integer column type (YEAR excluded): what an id cursor or a unix-seconds timestamp must be. */
export function isMysqlInteger(col: SourceColumn): boolean {
  return INTEGER_DATA_TYPES.has(col.dataType.toLowerCase());
}

/** A DATE, DATETIME or TIMESTAMP column: what a `timestamp_format: datetime` cursor must be. */
export function isMysqlTemporal(col: SourceColumn): boolean {
  return TEMPORAL_DATA_TYPES.has(col.dataType.toLowerCase());
}

export function isMysqlUnsigned(col: SourceColumn): boolean {
  return /\bunsigned\b/.test(col.columnType);
}

/**
 * Fractional-second digits a temporal column keeps (`datetime(3)` → 3); DATE keeps whole days (-1). A cursor's
 * horizon is truncated to this, because a value written later can round or truncate down to it but never below.
 */
export function temporalPrecision(col: SourceColumn): number {
  if (col.dataType.toLowerCase() === 'date') return -1;
  const m = /\((\d)\)/.exec(col.columnType);
  return m ? Number(m[1]) : 0;
}

const STRING_TYPES = new Set(['char', 'varchar', 'tinytext', 'text', 'mediumtext', 'longtext', 'enum', 'set']);
const BINARY_TYPES = new Set(['binary', 'varbinary', 'tinyblob', 'blob', 'mediumblob', 'longblob']);
/** MariaDB's own types with a fixed-width text form. */
const FIXED_TEXT_TYPES: Record<string, number> = { uuid: 36, inet4: 15, inet6: 39 };

/** The length in a column type such as `bit(12)` or `tinyint(1)`, if written. */
function typeLength(col: SourceColumn): number | undefined {
  const m = /^[a-z]+\((\d+)\)/.exec(col.columnType);
  return m ? Number(m[1]) : undefined;
}

function stringBytes(chars: number | null): number {
  const c = chars ?? REDSHIFT_MAX_VARCHAR;
  return Math.max(1, Math.min(c * UTF8MB4_BYTES_PER_CHAR, REDSHIFT_MAX_VARCHAR));
}

function unsupported(table: string, col: SourceColumn, why: string): DataError {
  return new DataError(`${table}.${col.name}: ${why}`, {
    suggestion: 'Exclude the column with a custom_query, or cast it in the query to a supported type.',
  });
}

/** The logical type of one source column; `table` only names it in errors. */
export function logicalType(col: SourceColumn, opts: MapOptions = {}, table = 'table'): LogicalType {
  const t = col.dataType.toLowerCase();
  switch (t) {
    case 'tinyint':
      return typeLength(col) === 1 ? { kind: 'boolean' } : { kind: 'int16' };
    case 'smallint':
      return isMysqlUnsigned(col) ? { kind: 'int32' } : { kind: 'int16' };
    case 'mediumint':
      return { kind: 'int32' };
    case 'int':
    case 'integer':
      return isMysqlUnsigned(col) ? { kind: 'int64' } : { kind: 'int32' };
    case 'bigint':
      return isMysqlUnsigned(col) ? { kind: 'decimal', precision: 20, scale: 0 } : { kind: 'int64' };
    case 'decimal':
    case 'numeric': {
      const precision = col.numericPrecision ?? 10;
      const scale = col.numericScale ?? 0;
      if (precision > MAX_DECIMAL_PRECISION) {
        throw unsupported(
          table,
          col,
          `${col.columnType} has precision ${precision}; at most 38 fits Parquet and Redshift`,
        );
      }
      return { kind: 'decimal', precision, scale };
    }
    case 'float':
      return { kind: 'float32' };
    case 'double':
    case 'real':
      return { kind: 'float64' };
    case 'bit':
      return (typeLength(col) ?? 1) === 1 ? { kind: 'boolean' } : { kind: 'int64' };
    case 'year':
      return { kind: 'int16' };
    case 'date':
      return { kind: 'date' };
    case 'datetime':
      return { kind: 'timestamp', utc: false };
    case 'timestamp':
      return { kind: 'timestamp', utc: true };
    case 'time':
      return { kind: 'time' };
    case 'json':
      return opts.jsonAs === 'varchar' ? { kind: 'string', maxBytes: REDSHIFT_MAX_VARCHAR } : { kind: 'json' };
  }
  if (STRING_TYPES.has(t)) return { kind: 'string', maxBytes: stringBytes(col.charMaxLength) };
  if (BINARY_TYPES.has(t)) {
    const n = col.charMaxLength ?? REDSHIFT_MAX_VARBYTE;
    return { kind: 'binary', maxBytes: Math.max(1, Math.min(n, REDSHIFT_MAX_VARBYTE)) };
  }
  const fixed = FIXED_TEXT_TYPES[t];
  if (fixed !== undefined) return { kind: 'string', maxBytes: fixed };
  throw unsupported(table, col, `MySQL type ${col.columnType} has no mapping to Parquet/Redshift`);
}

/** Zero dates become NULL, so date and timestamp columns are nullable in Parquet and the warehouse regardless. */
function mappedNullable(col: SourceColumn, type: LogicalType): boolean {
  return col.nullable || type.kind === 'date' || type.kind === 'timestamp';
}

export function mapColumn(col: SourceColumn, opts: MapOptions & { table?: string } = {}): MappedColumn {
  const type = logicalType(col, opts, opts.table);
  return { source: col, target: targetIdentifier(col.name), type, nullable: mappedNullable(col, type) };
}

/** Maps a table's columns in order; two columns whose target names collide are a ConfigError. */
export function mapColumns(table: string, cols: SourceColumn[], opts: MapOptions = {}): MappedColumn[] {
  const names = targetColumnNames(
    table,
    cols.map((c) => c.name),
  );
  return cols.map((c, i) => ({ ...mapColumn(c, { ...opts, table }), target: names[i]! }));
}

/** How one warehouse writes each logical type in DDL: a table per warehouse, one entry per kind. */
type DdlTable = { [K in LogicalType['kind']]: (t: Extract<LogicalType, { kind: K }>, opts: MapOptions) => string };

const decimal = (t: { precision: number; scale: number }) => `DECIMAL(${t.precision},${t.scale})`;

export const WAREHOUSE_DDL: Readonly<Record<'redshift' | 'duckdb', DdlTable>> = {
  redshift: {
    boolean: () => 'BOOLEAN',
    int16: () => 'SMALLINT',
    int32: () => 'INTEGER',
    int64: () => 'BIGINT',
    float32: () => 'REAL',
    float64: () => 'DOUBLE PRECISION',
    decimal,
    string: (t) => `VARCHAR(${Math.max(1, Math.min(t.maxBytes, REDSHIFT_MAX_VARCHAR))})`,
    json: (_t, opts) => (opts.jsonAs === 'varchar' ? `VARCHAR(${REDSHIFT_MAX_VARCHAR})` : 'SUPER'),
    binary: (t) => `VARBYTE(${Math.max(1, Math.min(t.maxBytes, REDSHIFT_MAX_VARBYTE))})`,
    date: () => 'DATE',
    timestamp: (t) => (t.utc ? 'TIMESTAMPTZ' : 'TIMESTAMP'),
    time: () => `VARCHAR(${TIME_TEXT_BYTES})`,
  },
  duckdb: {
    boolean: () => 'BOOLEAN',
    int16: () => 'SMALLINT',
    int32: () => 'INTEGER',
    int64: () => 'BIGINT',
    float32: () => 'REAL',
    float64: () => 'DOUBLE',
    decimal,
    string: () => 'VARCHAR',
    json: () => 'JSON',
    binary: () => 'BLOB',
    date: () => 'DATE',
    timestamp: (t) => (t.utc ? 'TIMESTAMPTZ' : 'TIMESTAMP'),
    time: () => 'VARCHAR',
  },
};

function ddlFor(table: DdlTable, t: LogicalType, opts: MapOptions): string {
  const rule = table[t.kind] as (t: LogicalType, opts: MapOptions) => string;
  return rule(t, opts);
}

export function redshiftType(t: LogicalType, opts: MapOptions = {}): string {
  return ddlFor(WAREHOUSE_DDL.redshift, t, opts);
}

export function duckdbType(t: LogicalType): string {
  return ddlFor(WAREHOUSE_DDL.duckdb, t, {});
}

/**
 * The select-list expression that delivers a column in the text form the Parquet writer decodes. Every mapped
 * type arrives decodable as is (BIT as raw bytes, TIMESTAMP in the UTC session), so this is the quoted name.
 */
export function selectExpression(col: MappedColumn): string {
  return quoteMysql(col.source.name);
}
