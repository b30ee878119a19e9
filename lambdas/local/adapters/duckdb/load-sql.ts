/** SQL text for one load, built from a validated LoadRequest. Identifiers are always quoted; values never appear. */
import type { MappedColumn } from '../../../domain/model.js';
import { qualifiedAnsi, quoteAnsi } from '../../../engine/sql.js';
import { duckdbType } from '../../../engine/type-map.js';
import type { TargetTable } from '../../../ports/index.js';
import { SOFT_DELETE_COLUMN } from '../../../ports/load-request.js';

export function qualifiedTarget(target: TargetTable): string {
  return qualifiedAnsi(target.schema, target.name);
}

export function columnList(names: readonly string[]): string {
  return names.map(quoteAnsi).join(', ');
}

/** NOT NULL follows the source; no PRIMARY KEY (DuckDB's ART index refuses delete+insert of a key in one transaction). */
export function createTableSql(qualifiedName: string, columns: readonly MappedColumn[]): string {
  const defs = columns.map((c) => `  ${quoteAnsi(c.target)} ${duckdbType(c.type)}${c.nullable ? '' : ' NOT NULL'}`);
  return `CREATE TABLE ${qualifiedName} (\n${defs.join(',\n')}\n)`;
}

/** Staging columns take the target types but no constraints, so bad rows fail at the insert with the target named. */
export function createStagingSql(stageName: string, columns: readonly MappedColumn[]): string {
  const defs = columns.map((c) => `${quoteAnsi(c.target)} ${duckdbType(c.type)}`);
  return `CREATE TEMP TABLE ${quoteAnsi(stageName)} (${defs.join(', ')})`;
}

/** `$1` is the list of Parquet locations; columns are selected by name so a missing one fails loudly. */
export function fillStagingSql(stageName: string, columns: readonly MappedColumn[]): string {
  const names = columnList(columns.map((c) => c.target));
  // The staging keys hold `run=<id>/`, which DuckDB would otherwise take for a hive partition column on every file.
  return `INSERT INTO ${quoteAnsi(stageName)} (${names}) SELECT ${names} FROM read_parquet($1, hive_partitioning = false)`;
}

/** One row per key: the greatest cursor tuple wins (NULL cursors lose); any one row when there is no cursor. */
export function dedupeSql(
  dedupName: string,
  stageName: string,
  columns: readonly MappedColumn[],
  primaryKey: readonly string[],
  cursorColumns: readonly string[],
): string {
  const order = cursorColumns.length
    ? ` ORDER BY ${cursorColumns.map((c) => `${quoteAnsi(c)} DESC NULLS LAST`).join(', ')}`
    : '';
  const names = columnList(columns.map((c) => c.target));
  return (
    `CREATE TEMP TABLE ${quoteAnsi(dedupName)} AS SELECT ${names} FROM ${quoteAnsi(stageName)} ` +
    `QUALIFY row_number() OVER (PARTITION BY ${columnList(primaryKey)}${order}) = 1`
  );
}

export function deleteMatchingSql(qualifiedName: string, sourceName: string, primaryKey: readonly string[]): string {
  const match = primaryKey.map((k) => `t.${quoteAnsi(k)} = s.${quoteAnsi(k)}`).join(' AND ');
  return `DELETE FROM ${qualifiedName} AS t WHERE EXISTS (SELECT 1 FROM ${quoteAnsi(sourceName)} AS s WHERE ${match})`;
}

export function insertSql(qualifiedName: string, sourceName: string, columns: readonly MappedColumn[]): string {
  const names = columnList(columns.map((c) => c.target));
  return `INSERT INTO ${qualifiedName} (${names}) SELECT ${names} FROM ${quoteAnsi(sourceName)}`;
}

/** Added columns are nullable: DuckDB cannot add a constrained column, and existing rows have no value anyway. */
export function addColumnSql(qualifiedName: string, column: MappedColumn): string {
  return `ALTER TABLE ${qualifiedName} ADD COLUMN ${quoteAnsi(column.target)} ${duckdbType(column.type)}`;
}

/**
 * Widens a column in place (DuckDB converts every value, keeps NOT NULL, and the ALTER rolls back with the load's
 * transaction). Only widenings reach here (engine/type-widening.ts), so the conversion never loses a value.
 */
export function alterTypeSql(qualifiedName: string, column: MappedColumn): string {
  return `ALTER TABLE ${qualifiedName} ALTER COLUMN ${quoteAnsi(column.target)} TYPE ${duckdbType(column.type)}`;
}

/** A column the source no longer sends (onColumnDrop keep) takes NULL in new rows. */
export function dropNotNullSql(qualifiedName: string, column: string): string {
  return `ALTER TABLE ${qualifiedName} ALTER COLUMN ${quoteAnsi(column)} DROP NOT NULL`;
}

export function dropColumnSql(qualifiedName: string, column: string): string {
  return `ALTER TABLE ${qualifiedName} DROP COLUMN ${quoteAnsi(column)}`;
}

// ── Deletes at the source (LoadRequest.deletes) ────────────────────────────────────────────────────────────────

/** The primary-key columns of the request, in key order, as the deleted keys' temp table holds them. */
export function keysTableSql(keysName: string, keyColumns: readonly MappedColumn[]): string {
  const defs = keyColumns.map((c) => `${quoteAnsi(c.target)} ${duckdbType(c.type)}`);
  return `CREATE TEMP TABLE ${quoteAnsi(keysName)} (${defs.join(', ')})`;
}

/**
 * One multi-row INSERT of `rows` deleted keys: every value is a `?` parameter (bound as VARCHAR, MySQL's text of
 * the value) cast to its key column's type, so no value ever appears in the SQL text.
 */
export function insertKeysSql(keysName: string, keyColumns: readonly MappedColumn[], rows: number): string {
  const tuple = `(${keyColumns.map((c) => `CAST(? AS ${duckdbType(c.type)})`).join(', ')})`;
  return `INSERT INTO ${quoteAnsi(keysName)} (${columnList(keyColumns.map((c) => c.target))}) VALUES ${Array.from({ length: rows }, () => tuple).join(', ')}`;
}

export function addSoftDeleteColumnSql(qualifiedName: string): string {
  return `ALTER TABLE ${qualifiedName} ADD COLUMN ${quoteAnsi(SOFT_DELETE_COLUMN)} TIMESTAMPTZ`;
}

/**
 * Marks the rows of the deleted keys that are not marked yet with the transaction's time (DuckDB's
 * current_timestamp is the start of the transaction, so one load marks every row with the same instant).
 */
export function softDeleteSql(qualifiedName: string, keysName: string, primaryKey: readonly string[]): string {
  const match = primaryKey.map((k) => `t.${quoteAnsi(k)} = s.${quoteAnsi(k)}`).join(' AND ');
  const column = quoteAnsi(SOFT_DELETE_COLUMN);
  return (
    `UPDATE ${qualifiedName} AS t SET ${column} = current_timestamp WHERE t.${column} IS NULL ` +
    `AND EXISTS (SELECT 1 FROM ${quoteAnsi(keysName)} AS s WHERE ${match})`
  );
}
