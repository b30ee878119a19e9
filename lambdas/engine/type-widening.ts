/**
 * The one rule for a column whose warehouse type differs from the type the source now maps to: the same (nothing
 * to do), a widening (every value the old column holds is exactly a value of the new type), or incompatible. Pure:
 * it compares type spellings and never touches a warehouse.
 *
 * Each warehouse spells a type one way in our DDL (`duckdbType` / `redshiftType` in type-map.ts) and another way in
 * its catalog (DuckDB's `duckdb_columns().data_type`: `FLOAT`, `TIMESTAMP WITH TIME ZONE`; Redshift's
 * `format_type`: `numeric(20,6)`, `character varying(256)`). WAREHOUSE_TYPES names every base type both ways, per
 * warehouse; the rule itself (`compareColumnTypes`) is written once, over the parsed form. docs/type-map.md
 * ("Schema changes") is the same rule for people.
 */

export type WarehouseName = 'duckdb' | 'redshift';

/** What the rule compares: integers by width, decimals by digits, strings and bytes by length, the rest exactly. */
export type TypeFamily = 'integer' | 'float' | 'decimal' | 'varchar' | 'varbyte' | 'other';

/** A column type parsed from either spelling; `spelling` is always the catalog's (what reports and errors show). */
export type ColumnType =
  | { family: 'integer' | 'float'; spelling: string; bytes: number }
  | { family: 'decimal'; spelling: string; precision: number; scale: number }
  /** length undefined: unbounded (DuckDB's VARCHAR and BLOB have no length). */
  | { family: 'varchar' | 'varbyte'; spelling: string; length: number | undefined }
  | { family: 'other'; spelling: string };

export interface BaseType {
  /** How our DDL writes the base type (type-map.ts), without its `(…)` arguments. */
  ddl: string;
  /** How the warehouse's catalog spells it. */
  catalog: string;
  family: TypeFamily;
  /** Storage width of integers and floats, in bytes. */
  bytes?: number;
  /** Other spellings the catalog may use for the same type. */
  aliases?: readonly string[];
}

/** Every base type our DDL produces, per warehouse: the DDL keyword, the catalog's spelling, and its family. */
export const WAREHOUSE_TYPES: Readonly<Record<WarehouseName, readonly BaseType[]>> = {
  duckdb: [
    { ddl: 'BOOLEAN', catalog: 'BOOLEAN', family: 'other' },
    { ddl: 'SMALLINT', catalog: 'SMALLINT', family: 'integer', bytes: 2 },
    { ddl: 'INTEGER', catalog: 'INTEGER', family: 'integer', bytes: 4 },
    { ddl: 'BIGINT', catalog: 'BIGINT', family: 'integer', bytes: 8 },
    { ddl: 'REAL', catalog: 'FLOAT', family: 'float', bytes: 4 },
    { ddl: 'DOUBLE', catalog: 'DOUBLE', family: 'float', bytes: 8 },
    { ddl: 'DECIMAL', catalog: 'DECIMAL', family: 'decimal' },
    { ddl: 'VARCHAR', catalog: 'VARCHAR', family: 'varchar' },
    { ddl: 'BLOB', catalog: 'BLOB', family: 'varbyte' },
    { ddl: 'JSON', catalog: 'JSON', family: 'other' },
    { ddl: 'DATE', catalog: 'DATE', family: 'other' },
    { ddl: 'TIMESTAMP', catalog: 'TIMESTAMP', family: 'other' },
    { ddl: 'TIMESTAMPTZ', catalog: 'TIMESTAMP WITH TIME ZONE', family: 'other' },
  ],
  redshift: [
    { ddl: 'BOOLEAN', catalog: 'boolean', family: 'other' },
    { ddl: 'SMALLINT', catalog: 'smallint', family: 'integer', bytes: 2 },
    { ddl: 'INTEGER', catalog: 'integer', family: 'integer', bytes: 4 },
    { ddl: 'BIGINT', catalog: 'bigint', family: 'integer', bytes: 8 },
    { ddl: 'REAL', catalog: 'real', family: 'float', bytes: 4 },
    { ddl: 'DOUBLE PRECISION', catalog: 'double precision', family: 'float', bytes: 8 },
    { ddl: 'DECIMAL', catalog: 'numeric', family: 'decimal' },
    { ddl: 'VARCHAR', catalog: 'character varying', family: 'varchar' },
    { ddl: 'VARBYTE', catalog: 'varbyte', family: 'varbyte', aliases: ['binary varying', 'varbinary'] },
    { ddl: 'SUPER', catalog: 'super', family: 'other' },
    { ddl: 'DATE', catalog: 'date', family: 'other' },
    { ddl: 'TIMESTAMP', catalog: 'timestamp without time zone', family: 'other' },
    { ddl: 'TIMESTAMPTZ', catalog: 'timestamp with time zone', family: 'other' },
  ],
};

/** `name` or `name(a)` or `name(a,b)`, the name being words separated by single spaces. */
const SPELLING_RE = /^\s*([A-Za-z]+(?: [A-Za-z]+)*)\s*(?:\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\))?\s*$/;

/** Digits of the largest value of a signed integer of this many bytes (32767, 2147483647, 9223372036854775807). */
const INTEGER_DIGITS: Readonly<Record<number, number>> = { 2: 5, 4: 10, 8: 19 };

function baseType(warehouse: WarehouseName, name: string): BaseType | undefined {
  const key = name.toLowerCase();
  return WAREHOUSE_TYPES[warehouse].find(
    (b) => b.ddl.toLowerCase() === key || b.catalog.toLowerCase() === key || b.aliases?.some((a) => a === key) === true,
  );
}

/**
 * Parses a type as our DDL writes it (`DECIMAL(20,6)`) or as the warehouse's catalog spells it (`numeric(20,6)`).
 * Anything not in WAREHOUSE_TYPES (a column someone altered by hand, say `character(10)`) is `other` and matches
 * only its own exact spelling.
 */
export function parseColumnType(warehouse: WarehouseName, text: string): ColumnType {
  const m = SPELLING_RE.exec(text);
  const base = m?.[1] === undefined ? undefined : baseType(warehouse, m[1]);
  if (!m || !base) return { family: 'other', spelling: text.trim() };
  const args = [m[2], m[3]].filter((a) => a !== undefined).map(Number);
  const spelling = args.length ? `${base.catalog}(${args.join(',')})` : base.catalog;
  const other: ColumnType = { family: 'other', spelling };
  switch (base.family) {
    case 'integer':
    case 'float':
      return args.length === 0 && base.bytes !== undefined
        ? { family: base.family, spelling, bytes: base.bytes }
        : other;
    case 'decimal': {
      const [precision, scale] = args;
      return precision !== undefined && scale !== undefined ? { family: 'decimal', spelling, precision, scale } : other;
    }
    case 'varchar':
    case 'varbyte':
      return args.length <= 1 ? { family: base.family, spelling, length: args[0] } : other;
    case 'other':
      return other;
  }
}

/** The catalog's spelling of a DDL type: `DECIMAL(20,6)` → `numeric(20,6)` on Redshift, `REAL` → `FLOAT` on DuckDB. */
export function catalogSpelling(warehouse: WarehouseName, ddl: string): string {
  return parseColumnType(warehouse, ddl).spelling;
}

export type TypeComparison =
  | { kind: 'same' }
  | { kind: 'widening'; from: ColumnType; to: ColumnType }
  /** narrowing: the same kind of type, smaller; type change: a different kind of type. */
  | { kind: 'incompatible'; from: ColumnType; to: ColumnType; why: 'narrowing' | 'type change' };

type Verdict = 'same' | 'widening' | 'narrowing' | 'type change';

/** Whether a DECIMAL(p,s) holds every value with `intDigits` digits before the point and `scale` after it. */
function holds(to: { precision: number; scale: number }, intDigits: number, scale: number): boolean {
  return to.scale >= scale && to.precision - to.scale >= intDigits;
}

function verdict(from: ColumnType, to: ColumnType): Verdict {
  if (from.family === 'integer' && to.family === 'decimal') {
    return holds(to, INTEGER_DIGITS[from.bytes] ?? Number.POSITIVE_INFINITY, 0) ? 'widening' : 'narrowing';
  }
  if (from.family === 'decimal' && to.family === 'decimal') {
    return holds(to, from.precision - from.scale, from.scale) ? 'widening' : 'narrowing';
  }
  if ((from.family === 'integer' || from.family === 'float') && to.family === from.family) {
    return to.bytes > from.bytes ? 'widening' : 'narrowing';
  }
  if ((from.family === 'varchar' || from.family === 'varbyte') && to.family === from.family) {
    // A length is only a limit: a column already at least as long takes every value unchanged, so it stays.
    if (from.length === undefined) return 'same';
    if (to.length === undefined) return 'widening';
    return to.length > from.length ? 'widening' : 'same';
  }
  return 'type change';
}

/**
 * Compares a warehouse column's type (`existing`, as the catalog spells it) with the type the source now maps to
 * (`wanted`, as our DDL writes it). Widenings: VARCHAR / VARBYTE longer; SMALLINT → INTEGER → BIGINT; REAL →
 * DOUBLE; DECIMAL(p,s) → DECIMAL(p',s') with s' ≥ s and p'−s' ≥ p−s; an integer → a DECIMAL with room for all its
 * digits before the point. A VARCHAR / VARBYTE already longer than wanted is the same (it takes every value).
 * Everything else that differs is incompatible: a narrowing, or a type change (VARCHAR → INTEGER, TIMESTAMP ↔ DATE,
 * TIMESTAMP ↔ TIMESTAMPTZ, BOOLEAN ↔ an integer, a DECIMAL → an integer, an integer ↔ a float, …).
 */
export function compareColumnTypes(warehouse: WarehouseName, existing: string, wanted: string): TypeComparison {
  const from = parseColumnType(warehouse, existing);
  const to = parseColumnType(warehouse, wanted);
  if (from.spelling === to.spelling) return { kind: 'same' };
  const v = verdict(from, to);
  if (v === 'same') return { kind: 'same' };
  if (v === 'widening') return { kind: 'widening', from, to };
  return { kind: 'incompatible', from, to, why: v };
}
