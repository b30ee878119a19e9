/**
 * SQL text for one Redshift load. Identifiers are always quoted; no value from the data ever appears. The only
 * literals are the manifest URI and the role ARN that COPY syntax requires, both checked against strict patterns.
 */
import type { MappedColumn } from '../../domain/model.js';
import { quoteAnsi } from '../../engine/sql.js';
import { REDSHIFT_MAX_VARCHAR } from '../../engine/type-map.js';
import { WarehouseError } from '../../errors.js';
import type { TargetTable } from '../../ports/index.js';
import { assertIdentifier, columnType, type JsonAs, qualified } from './ddl.js';

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
