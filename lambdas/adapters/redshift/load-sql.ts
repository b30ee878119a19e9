/**
 * SQL text for one Redshift load. Identifiers are always quoted; no value from the data ever appears. The only
 * literals are the manifest URI and the role ARN that COPY syntax requires, both checked against strict patterns.
 */
import type { MappedColumn } from '../../domain/model.js';
import { quoteAnsi } from '../../engine/sql.js';
import { REDSHIFT_MAX_VARCHAR } from '../../engine/type-map.js';
import { WarehouseError } from '../../errors.js';
import type { TargetTable } from '../../ports/index.js';
import { SOFT_DELETE_COLUMN } from '../../ports/load-request.js';
import { assertIdentifier, columnType, type JsonAs, qualified } from './ddl.js';
import { type BoundSql, bindPositional } from './sql-text.js';

/** s3://bucket/key with S3's bucket rules; the key may not hold a quote, backslash or control character. */
const MANIFEST_RE = /^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\/(.+)$/;

function isSafeManifest(uri: string): boolean {
  const key = MANIFEST_RE.exec(uri)?.[1];
  if (key === undefined) return false;
  return ![...key].some((ch) => ch === "'" || ch === '\\' || ch.charCodeAt(0) < 0x20);
}

function columnList(columns: readonly MappedColumn[]): string {
  return columns.map((c) => quoteAnsi(c.target)).join(', ');
}

/** JSON headed for a SUPER column is staged as text and parsed on the way in (COPY would keep it a string). */
function isParsedJson(column: MappedColumn, jsonAs: JsonAs): boolean {
  return column.type.kind === 'json' && columnType(column, jsonAs) === 'SUPER';
}

export function createStagingSql(stage: TargetTable, columns: readonly MappedColumn[], jsonAs: JsonAs): string {
  assertIdentifier(stage.name, 'staging table name');
  const defs = columns.map(
    (c) =>
      `${quoteAnsi(c.target)} ${isParsedJson(c, jsonAs) ? `VARCHAR(${REDSHIFT_MAX_VARCHAR})` : columnType(c, jsonAs)}`,
  );
  return `CREATE TABLE ${qualified(stage)} (${defs.join(', ')})`;
}

export function copySql(
  stage: TargetTable,
  columns: readonly MappedColumn[],
  manifest: string,
  iamRoleSql: string,
  table: string,
): string {
  if (!isSafeManifest(manifest)) {
    throw new WarehouseError(`load of ${table}: manifest ${JSON.stringify(manifest)} is not an s3://bucket/key URI`);
  }
  return `COPY ${qualified(stage)} (${columnList(columns)}) FROM '${manifest}' IAM_ROLE ${iamRoleSql} FORMAT AS PARQUET MANIFEST`;
}

/** Staged rows and, with a key, distinct staged keys (NULL keys group together, as ROW_NUMBER partitions them). */
export function stagedCountsSql(stage: TargetTable, primaryKey: readonly string[]): string {
  const keys = primaryKey.length
    ? `(SELECT COUNT(*) FROM (SELECT 1 FROM ${qualified(stage)} GROUP BY ${primaryKey.map(quoteAnsi).join(', ')}) AS "k")`
    : `(SELECT COUNT(*) FROM ${qualified(stage)})`;
  return `SELECT (SELECT COUNT(*) FROM ${qualified(stage)}) AS "rows_staged", ${keys} AS "keys_staged"`;
}

/** One row per key: the greatest cursor tuple wins (NULL cursors lose); without a key, every staged row. */
export function insertSql(
  into: TargetTable,
  stage: TargetTable,
  columns: readonly MappedColumn[],
  primaryKey: readonly string[],
  cursorColumns: readonly string[],
  jsonAs: JsonAs,
): string {
  const values = columns
    .map((c) => (isParsedJson(c, jsonAs) ? `JSON_PARSE(${quoteAnsi(c.target)})` : quoteAnsi(c.target)))
    .join(', ');
  const head = `INSERT INTO ${qualified(into)} (${columnList(columns)}) SELECT ${values} FROM `;
  if (primaryKey.length === 0) return `${head}${qualified(stage)}`;
  const order = cursorColumns.length
    ? ` ORDER BY ${cursorColumns.map((c) => `${quoteAnsi(c)} DESC NULLS LAST`).join(', ')}`
    : '';
  return (
    `${head}(SELECT ${columnList(columns)}, ROW_NUMBER() OVER (PARTITION BY ${primaryKey.map(quoteAnsi).join(', ')}${order}) AS "__hw_rn" ` +
    `FROM ${qualified(stage)}) AS "__hw_dedup" WHERE "__hw_rn" = 1`
  );
}

/** Redshift's DELETE has no alias, so both sides are named in full. */
export function deleteMatchingSql(target: TargetTable, stage: TargetTable, primaryKey: readonly string[]): string {
  const match = primaryKey
    .map((k) => `${qualified(target)}.${quoteAnsi(k)} = ${qualified(stage)}.${quoteAnsi(k)}`)
    .join(' AND ');
  return `DELETE FROM ${qualified(target)} USING ${qualified(stage)} WHERE ${match}`;
}

/**
 * Every row of the target, for replace: DELETE (not TRUNCATE, which commits the transaction it runs in,
 * https://docs.aws.amazon.com/redshift/latest/dg/r_TRUNCATE.html) keeps the table, so its grants, owner and the
 * views on it stay, and the batch still commits the new rows with the delete or not at all.
 */
export function deleteAllSql(target: TargetTable): string {
  return `DELETE FROM ${qualified(target)}`;
}

export function countSql(target: TargetTable): string {
  return `SELECT COUNT(*) AS "n" FROM ${qualified(target)}`;
}

export function dropSql(target: TargetTable, ifExists = false): string {
  return `DROP TABLE ${ifExists ? 'IF EXISTS ' : ''}${qualified(target)}`;
}

export function renameSql(from: TargetTable, to: string): string {
  return `ALTER TABLE ${qualified(from)} RENAME TO ${quoteAnsi(to)}`;
}

export function createSchemaSql(schema: string): string {
  return `CREATE SCHEMA IF NOT EXISTS ${quoteAnsi(schema)}`;
}

// ── Deletes at the source (LoadRequest.deletes) ────────────────────────────────────────────────────────────────
//
// The Data API's limits (https://docs.aws.amazon.com/redshift/latest/mgmt/data-api.html, "Considerations when
// calling the Amazon Redshift Data API"): "The maximum query statement size is 100 KB."; "Only the
// execute-statement operation supports SQL statements with parameters." (so a BatchExecuteStatement, the load's
// transaction, cannot carry a key value without putting it into the SQL text); "You can't set a zero length value"
// (the empty string goes as the fixed literal '', as bindPositional does for queries). The page gives no limit on
// the number of parameters, and does not say whether parameter values count towards the 100 KB: the budget below
// counts the SQL text and the values together and stays well under it.

/** Deleted keys per parameterized INSERT: at most this many rows (each row one parameter per key column)… */
export const DELETE_KEYS_PER_STATEMENT = 1000;
/** …and at most this many bytes of SQL text plus parameter values, well below the Data API's 100 KB statement limit. */
export const DELETE_KEYS_STATEMENT_BYTES = 64 * 1024;
/** The Data API's own limit on one statement (see above); a single key bigger than this cannot be sent at all. */
export const DATA_API_MAX_STATEMENT_BYTES = 100 * 1024;
const PARAMETER_NAME_BYTES = 16;

/** A key column of the deleted keys' table: its name and the type its values are cast to. */
export interface KeyColumn {
  name: string;
  type: string;
}

/**
 * The type a deleted key's text is cast to: the column's own type, except that text keys are compared as
 * VARCHAR(65535): an explicit cast to the column's shorter VARCHAR(n) would silently truncate a longer value, which
 * could then match a different row; a longer value simply matches nothing.
 */
export function keyColumnType(column: MappedColumn, jsonAs: JsonAs): string {
  return column.type.kind === 'string' || column.type.kind === 'time'
    ? `VARCHAR(${REDSHIFT_MAX_VARCHAR})`
    : columnType(column, jsonAs);
}

/**
 * The deleted keys' table: a plain table in the target schema beside the staging table (every Data API call is its
 * own session, so a TEMP table would be gone before the apply batch reads it), named after it so a leftover matches
 * `<table>__hw_stage_%` too.
 */
export function createKeysTableSql(keys: TargetTable, columns: readonly KeyColumn[]): string {
  assertIdentifier(keys.name, 'staging table name');
  return `CREATE TABLE ${qualified(keys)} (${columns.map((c) => `${quoteAnsi(c.name)} ${c.type}`).join(', ')})`;
}

function keyInsertSql(keys: TargetTable, columns: readonly KeyColumn[], rows: number): string {
  const tuple = `(${columns.map((c) => `CAST(? AS ${c.type})`).join(', ')})`;
  const names = columns.map((c) => quoteAnsi(c.name)).join(', ');
  return `INSERT INTO ${qualified(keys)} (${names}) VALUES ${Array.from({ length: rows }, () => tuple).join(', ')}`;
}

function boundBytes(bound: BoundSql): number {
  return (
    Buffer.byteLength(bound.sql, 'utf8') +
    bound.parameters.reduce(
      (n, p) => n + Buffer.byteLength(p.name ?? '', 'utf8') + Buffer.byteLength(p.value ?? '', 'utf8'),
      0,
    )
  );
}

/**
 * The parameterized multi-row INSERTs that fill the deleted keys' table, each one ExecuteStatement: every value is a
 * named parameter cast to its key column's type, never SQL text. Rows are packed up to DELETE_KEYS_PER_STATEMENT
 * and DELETE_KEYS_STATEMENT_BYTES; a single key that does not fit one statement is a WarehouseError.
 */
export function keyInsertStatements(
  keys: TargetTable,
  columns: readonly KeyColumn[],
  rows: readonly (readonly string[])[],
  table: string,
): BoundSql[] {
  const out: BoundSql[] = [];
  const perRowSql =
    Buffer.byteLength(keyInsertSql(keys, columns, 2), 'utf8') -
    Buffer.byteLength(keyInsertSql(keys, columns, 1), 'utf8');
  const headSql = Buffer.byteLength(keyInsertSql(keys, columns, 1), 'utf8') - perRowSql;
  let batch: (readonly string[])[] = [];
  let bytes = headSql;
  const flush = () => {
    if (batch.length === 0) return;
    const bound = bindPositional(keyInsertSql(keys, columns, batch.length), batch.flat());
    // The estimate above keeps statements near DELETE_KEYS_STATEMENT_BYTES; this only guards against it being wrong.
    if (boundBytes(bound) > DATA_API_MAX_STATEMENT_BYTES) {
      throw new WarehouseError(
        `load of ${table}: a statement of ${batch.length} deleted keys came to ${boundBytes(bound)} bytes, more than the Data API's ${DATA_API_MAX_STATEMENT_BYTES}-byte statement limit; nothing was changed`,
      );
    }
    out.push(bound);
    batch = [];
    bytes = headSql;
  };
  rows.forEach((row, i) => {
    // Each parameter adds its value and, twice, its name (`:p123` in the text, `p123` in Parameters): 16 bytes
    // covers the name up to 7 digits. The row adds its share of the SQL text.
    const rowBytes = perRowSql + row.reduce((n, v) => n + PARAMETER_NAME_BYTES + Buffer.byteLength(v, 'utf8'), 0);
    if (headSql + rowBytes > DATA_API_MAX_STATEMENT_BYTES) {
      throw new WarehouseError(
        `load of ${table}: deleted key ${i + 1} of ${rows.length} is about ${headSql + rowBytes} bytes as a statement, more than the Data API's ${DATA_API_MAX_STATEMENT_BYTES}-byte statement limit; nothing was changed`,
      );
    }
    if (
      batch.length >= DELETE_KEYS_PER_STATEMENT ||
      (batch.length > 0 && bytes + rowBytes > DELETE_KEYS_STATEMENT_BYTES)
    ) {
      flush();
    }
    batch.push(row);
    bytes += rowBytes;
  });
  flush();
  return out;
}

export function addSoftDeleteColumnSql(target: TargetTable): string {
  return `ALTER TABLE ${qualified(target)} ADD COLUMN ${quoteAnsi(SOFT_DELETE_COLUMN)} TIMESTAMPTZ`;
}

/**
 * Marks the target rows of the deleted keys that are not marked yet. GETDATE() is the current time as a TIMESTAMP in
 * the session's zone (UTC unless changed), which the TIMESTAMPTZ column takes as that instant. The keys are
 * de-duplicated first, so a key listed twice still updates its row once. Like DELETE, the target is named in full.
 */
export function softDeleteSql(target: TargetTable, keys: TargetTable, primaryKey: readonly string[]): string {
  const t = qualified(target);
  const column = quoteAnsi(SOFT_DELETE_COLUMN);
  const names = primaryKey.map(quoteAnsi).join(', ');
  const match = primaryKey.map((k) => `${t}.${quoteAnsi(k)} = "__hw_keys".${quoteAnsi(k)}`).join(' AND ');
  return (
    `UPDATE ${t} SET ${column} = GETDATE() FROM (SELECT DISTINCT ${names} FROM ${qualified(keys)}) AS "__hw_keys" ` +
    `WHERE ${match} AND ${t}.${column} IS NULL`
  );
}
