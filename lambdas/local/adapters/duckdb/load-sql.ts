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

/**
 * NOT NULL follows the source. No PRIMARY KEY: DuckDB's index made the 10M-row full load a third slower and a 1%
 * merge slower, not faster (the delete's probe stays, the insert and commit maintain the index; decision 0007).
 */
export function createTableSql(qualifiedName: string, columns: readonly MappedColumn[]): string {
  const defs = columns.map((c) => `  ${quoteAnsi(c.target)} ${duckdbType(c.type)}${c.nullable ? '' : ' NOT NULL'}`);
  return `CREATE TABLE ${qualifiedName} (\n${defs.join(',\n')}\n)`;
}

/** Staging columns take the target types but no constraints, so bad rows fail at the insert with the target named. */
export function createStagingSql(stageName: string, columns: readonly MappedColumn[]): string {
  const defs = columns.map((c) => `${quoteAnsi(c.target)} ${duckdbType(c.type)}`);
  return `CREATE TEMP TABLE ${quoteAnsi(stageName)} (${defs.join(', ')})`;
}

const READ_FILES = 'read_parquet($1, hive_partitioning = false)';

/** `$1` is the list of Parquet locations; columns are selected by name so a missing one fails loudly. */
export function fillStagingSql(stageName: string, columns: readonly MappedColumn[]): string {
  const names = columnList(columns.map((c) => c.target));
  // The staging keys hold `run=<id>/`, which DuckDB would otherwise take for a hive partition column on every file.
  return `INSERT INTO ${quoteAnsi(stageName)} (${names}) SELECT ${names} FROM ${READ_FILES}`;
}

/**
 * The staged rows read straight from the files (`$1`, the list of Parquet locations) as a relation with the target's
 * types: what a staging table would hold, without copying the rows into one first. DuckDB pushes the projection
 * into the Parquet reader, so a statement that needs only the key columns reads only those.
 */
export function filesRelationSql(columns: readonly MappedColumn[]): string {
  const casts = columns.map((c) => `CAST(${quoteAnsi(c.target)} AS ${duckdbType(c.type)}) AS ${quoteAnsi(c.target)}`);
  return `(SELECT ${casts.join(', ')} FROM ${READ_FILES})`;
}

/** A relation of the columns' types and no rows: what a load of no files reads. */
export function emptyRelationSql(columns: readonly MappedColumn[]): string {
  const nulls = columns.map((c) => `CAST(NULL AS ${duckdbType(c.type)}) AS ${quoteAnsi(c.target)}`);
  return `(SELECT ${nulls.join(', ')} WHERE false)`;
}

/** The files' row count: DuckDB answers `count(*)` of Parquet files from their footers, without reading the rows. */
export function filesRowCountSql(): string {
  return `SELECT count(*) FROM ${READ_FILES}`;
}

/** How many distinct keys `relation` holds (equal to its row count when no key was read twice). */
export function distinctKeysSql(relation: string, primaryKey: readonly string[]): string {
  return `SELECT count(*) FROM (SELECT DISTINCT ${columnList(primaryKey)} FROM ${relation} AS s)`;
}

/** Whether the table has any row (a merge into an empty table has nothing to delete first). */
export function hasRowsSql(qualifiedName: string): string {
  return `SELECT EXISTS (SELECT 1 FROM ${qualifiedName})`;
}

/**
 * Rows whose key `relation` holds, deleted ahead of the insert. `relation` is SQL text: a quoted table name or
 * filesRelationSql's subquery.
 */
export function deleteMatchingSql(qualifiedName: string, relation: string, primaryKey: readonly string[]): string {
  const match = primaryKey.map((k) => `t.${quoteAnsi(k)} = s.${quoteAnsi(k)}`).join(' AND ');
  return `DELETE FROM ${qualifiedName} AS t WHERE EXISTS (SELECT 1 FROM ${relation} AS s WHERE ${match})`;
}

/** Which of several staged rows of one key is kept: the greatest cursor tuple (NULL cursors lose); any one without. */
export interface Dedupe {
  primaryKey: readonly string[];
  cursorColumns: readonly string[];
}

/** The insert of `relation`'s rows; with `dedupe`, one row per key (only asked for when a key was read twice). */
export function insertSql(
  qualifiedName: string,
  relation: string,
  columns: readonly MappedColumn[],
  dedupe?: Dedupe,
): string {
  const names = columnList(columns.map((c) => c.target));
  const insert = `INSERT INTO ${qualifiedName} (${names}) SELECT ${names} FROM ${relation} AS s`;
  return dedupe ? `${insert} ${qualifyNewestSql(dedupe)}` : insert;
}

/** The QUALIFY clause that keeps one row per key: the greatest cursor tuple, NULL cursors last. */
export function qualifyNewestSql(dedupe: Dedupe): string {
  const order = dedupe.cursorColumns.length
    ? ` ORDER BY ${dedupe.cursorColumns.map((c) => `${quoteAnsi(c)} DESC NULLS LAST`).join(', ')}`
    : '';
  return `QUALIFY row_number() OVER (PARTITION BY ${columnList(dedupe.primaryKey)}${order}) = 1`;
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
