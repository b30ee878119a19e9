/**
 * The canonical text of a value, as SQL each database evaluates itself, so equal data hashes equal on MySQL,
 * DuckDB and Redshift without a row leaving either side. The text is the value as the warehouse holds it after
 * the type map (zero dates → NULL, BIGINT UNSIGNED as DECIMAL(20,0), booleans as 1/0), so a difference in text
 * is a difference in data — except where two spellings of one value survive (JSON key order and spacing, a
 * float's last digit), which the row comparison (compare-rows.ts) settles semantically for the few rows of a
 * differing range. See docs/correctness.md, "Verification".
 *
 * Redshift functions used, from the Database Developer Guide (https://docs.aws.amazon.com/redshift/latest/dg/):
 * STRTOL (r_STRTOL.html: "The converted value must be within the signed 64-bit range", hence 15 hex digits), MD5
 * (r_MD5.html), TO_CHAR of TIMESTAMP/TIMESTAMPTZ (r_TO_CHAR.html) with the `US` microseconds pattern
 * (r_FORMAT_strings.html), TO_HEX/FROM_HEX of VARBYTE (r_TO_HEX.html, r_FROM_HEX.html), JSON_SERIALIZE of SUPER
 * (JSON_SERIALIZE.html), LOG, base 10 (r_LOG.html), CHR (r_CHR.html).
 */
import type { MappedColumn } from '../../domain/model.js';
import { quoteAnsi, quoteMysql } from '../sql.js';
import { WAREHOUSE_DDL } from '../type-map.js';

export type Dialect = 'mysql' | 'duckdb' | 'redshift';

/** Significant digits a float is compared at: what MySQL's text protocol delivers of a FLOAT (6) and a DOUBLE. */
export const FLOAT_DIGITS = { float32: 6, float64: 15 } as const;

export function quoteFor(dialect: Dialect, name: string): string {
  return dialect === 'mysql' ? quoteMysql(name) : quoteAnsi(name);
}

function isBit(col: MappedColumn): boolean {
  return col.source.dataType.toLowerCase() === 'bit';
}

/**
 * `digits` significant digits as `<integer mantissa>e<exponent>`: the same text in every engine for the same
 * double, computed in IEEE double arithmetic alone. The exponent is FLOOR(LOG10(|x|)); the mantissa is |x| scaled
 * by one power of ten (multiplied when the power is positive, divided otherwise, so the power is an integer power
 * of ten, exact up to 10^22) and rounded half up by FLOOR(m + 0.5), which is exact below 2^52 — one correctly
 * rounded IEEE operation, so every engine gets the same bits. (A DECIMAL(38,20) round trip did the same, ten times
 * slower in DuckDB.)
 */
function significant(dialect: Dialect, c: string, digits: number): string {
  const shift = digits - 1;
  const x = dialect === 'mysql' ? c : `CAST(${c} AS DOUBLE PRECISION)`;
  const e = dialect === 'mysql' ? `FLOOR(LOG10(ABS(${x})))` : `FLOOR(LOG(ABS(${x})))`;
  const pow = dialect === 'mysql' ? 'POW' : 'POWER';
  // Below 1e-286 the power would pass 10^300 (a double overflows past 1.8e308): scale in two steps.
  const scaled = `CASE WHEN ${e} > ${shift} THEN ABS(${x}) / ${pow}(10, ${e} - ${shift}) WHEN ${e} >= ${shift - 300} THEN ABS(${x}) * ${pow}(10, ${shift} - ${e}) ELSE ABS(${x}) * ${pow}(10, 300) * ${pow}(10, ${shift - 300} - ${e}) END`;
  const mantissa = `SIGN(${x}) * FLOOR(${scaled} + 0.5)`;
  if (dialect === 'mysql') {
    return `CASE WHEN ${c} IS NULL THEN NULL WHEN ${c} = 0 THEN '0' ELSE CONCAT(CAST(${mantissa} AS SIGNED), 'e', CAST(${e} AS SIGNED)) END`;
  }
  // DuckDB's and Redshift's (and PostgreSQL's) LOG is base 10.
  return `CASE WHEN ${c} IS NULL THEN NULL WHEN ${c} = 0 THEN '0' ELSE CAST(CAST(${mantissa} AS BIGINT) AS VARCHAR) || 'e' || CAST(CAST(${e} AS INTEGER) AS VARCHAR) END`;
}

const MYSQL_NOT_ZERO_DATE = (c: string) => `MONTH(${c}) = 0 OR DAYOFMONTH(${c}) = 0`;

/** The canonical text of one column, NULL for NULL. */
export function canonicalValue(dialect: Dialect, col: MappedColumn): string {
  const c = quoteFor(dialect, dialect === 'mysql' ? col.source.name : col.target);
  const t = col.type;
  if (dialect === 'mysql') {
    const n = isBit(col) ? `(${c} + 0)` : c;
    switch (t.kind) {
      case 'boolean':
        return `CASE WHEN ${c} IS NULL THEN NULL WHEN ${n} <> 0 THEN '1' ELSE '0' END`;
      case 'int16':
      case 'int32':
      case 'int64':
      case 'decimal':
        return `CAST(${n} AS CHAR)`;
      case 'float32':
      case 'float64':
        return significant(dialect, c, FLOAT_DIGITS[t.kind]);
      case 'string':
      case 'json':
      case 'time':
        return `CONVERT(${c} USING utf8mb4)`;
      case 'binary':
        return `HEX(${c})`;
      case 'date':
        return `CASE WHEN ${MYSQL_NOT_ZERO_DATE(c)} THEN NULL ELSE DATE_FORMAT(${c}, '%Y-%m-%d') END`;
      case 'timestamp':
        return `CASE WHEN ${MYSQL_NOT_ZERO_DATE(c)} THEN NULL ELSE DATE_FORMAT(${c}, '%Y-%m-%d %H:%i:%s.%f') END`;
    }
  }
  switch (t.kind) {
    case 'boolean':
      return `CASE WHEN ${c} IS NULL THEN NULL WHEN ${c} THEN '1' ELSE '0' END`;
    case 'int16':
    case 'int32':
    case 'int64':
      return `CAST(${c} AS VARCHAR)`;
    case 'decimal':
      // At the source's scale, so a warehouse column widened to more digits still prints as the source does.
      return `CAST(CAST(${c} AS DECIMAL(${t.precision},${t.scale})) AS VARCHAR)`;
    case 'float32':
    case 'float64':
      return significant(dialect, c, FLOAT_DIGITS[t.kind]);
    case 'string':
    case 'time':
      return `CAST(${c} AS VARCHAR)`;
    case 'json':
      return dialect === 'redshift' && !isVarcharJson(col) ? `JSON_SERIALIZE(${c})` : `CAST(${c} AS VARCHAR)`;
    case 'binary':
      return dialect === 'redshift' ? `UPPER(TO_HEX(${c}))` : `hex(${c})`;
    case 'date':
      return dialect === 'redshift' ? `TO_CHAR(${c}, 'YYYY-MM-DD')` : `strftime(${c}, '%Y-%m-%d')`;
    case 'timestamp':
      if (dialect === 'duckdb') return `strftime(${c}, '%Y-%m-%d %H:%M:%S.%f')`;
      return `TO_CHAR(${t.utc ? `${c} AT TIME ZONE 'UTC'` : c}, 'YYYY-MM-DD HH24:MI:SS.US')`;
  }
}

function isVarcharJson(col: MappedColumn): boolean {
  return col.type.kind !== 'json';
}

/**
 * The row's text: every compared column's canonical text joined by U+001F, NULL written as U+001E (so NULL and ''
 * differ). Each value is evaluated once, which is what keeps MySQL's side of a checksum near a plain read. A value
 * that itself holds U+001E or U+001F could make two different rows spell alike; the leaf comparison is exact, so
 * only a difference shaped exactly like that could hide from a checksum (docs/correctness.md).
 */
export function rowText(dialect: Dialect, cols: readonly MappedColumn[]): string {
  if (cols.length === 0) return `''`;
  const values = cols.map((c) => canonicalValue(dialect, c));
  if (dialect === 'mysql') {
    return `CONCAT_WS(CHAR(31 USING utf8mb4), ${values.map((v) => `IFNULL(${v}, CHAR(30 USING utf8mb4))`).join(', ')})`;
  }
  return values.map((v) => `COALESCE(${v}, CHR(30))`).join(' || CHR(31) || ');
}

/** The row's hash: the first 60 bits of the MD5 of its text, as a non-negative integer every engine can sum exactly. */
export function rowHash(dialect: Dialect, cols: readonly MappedColumn[]): string {
  const md5 = `LEFT(MD5(${rowText(dialect, cols)}), 15)`;
  if (dialect === 'mysql') return `CAST(CONV(${md5}, 16, 10) AS UNSIGNED)`;
  if (dialect === 'duckdb') return `CAST('0x' || ${md5} AS BIGINT)`;
  return `STRTOL(${md5}, 16)`;
}

/**
 * Two universal hashes `((k mod P) * A + B) mod P` of an integer key, for a checksum over the key alone (delete
 * detection): exact integer arithmetic every engine does alike (MOD keeps the dividend's sign in MySQL, DuckDB and
 * Redshift), no MD5 per row. Two different key sets of one count hash alike only if their keys differ by multiples
 * of both primes at once.
 */
const KEY_HASHES = [
  { p: 2147483647, a: 48271, b: 11 },
  { p: 2147483629, a: 69621, b: 7 },
] as const;

function isSignedInteger(col: MappedColumn): boolean {
  return col.type.kind === 'int16' || col.type.kind === 'int32' || col.type.kind === 'int64';
}

function keyOnlyChecksum(dialect: Dialect, col: MappedColumn): string {
  const k = quoteFor(dialect, dialect === 'mysql' ? col.source.name : col.target);
  const text = dialect === 'mysql' ? 'CHAR' : 'VARCHAR';
  const sums = KEY_HASHES.map(
    ({ p, a, b }) => `CAST(COALESCE(SUM(MOD(MOD(${k}, ${p}) * ${a} + ${b}, ${p})), 0) AS ${text})`,
  );
  const s = dialect === 'mysql' ? `CONCAT(${sums.join(", ':', ")})` : sums.join(" || ':' || ");
  return `COUNT(*) AS n, ${s} AS s`;
}

/** `COUNT(*) AS n, <sum of row hashes as text> AS s`: one range's checksum. */
export function checksumSelect(dialect: Dialect, cols: readonly MappedColumn[]): string {
  if (cols.length === 1 && isSignedInteger(cols[0]!)) return keyOnlyChecksum(dialect, cols[0]!);
  const h = rowHash(dialect, cols);
  if (dialect === 'mysql') return `COUNT(*) AS n, CAST(COALESCE(SUM(${h}), 0) AS CHAR) AS s`;
  if (dialect === 'duckdb') return `COUNT(*) AS n, CAST(COALESCE(SUM(${h}), 0) AS VARCHAR) AS s`;
  // 60-bit hashes overflow a BIGINT sum after 16 rows: sum them as DECIMAL(38,0) (exact to 10^38).
  return `COUNT(*) AS n, CAST(COALESCE(SUM(CAST(${h} AS DECIMAL(38,0))), 0) AS VARCHAR) AS s`;
}

/** A bound value compared with a key column: cast to the column's type so the comparison is typed, not textual. */
export function bindKey(dialect: 'duckdb' | 'redshift', col: MappedColumn): string {
  const t = col.type;
  if (t.kind === 'string' || t.kind === 'time' || t.kind === 'json') return 'CAST(? AS VARCHAR)';
  if (t.kind === 'binary') return dialect === 'redshift' ? 'FROM_HEX(?)' : 'unhex(?)';
  if (t.kind === 'boolean') return 'CAST(? AS BOOLEAN)';
  return `CAST(? AS ${WAREHOUSE_DDL[dialect][t.kind](t as never, {})})`;
}
