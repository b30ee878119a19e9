/**
 * Reading the local DuckDB warehouse file the way a user would inspect it (a separate DuckDB instance on the file,
 * opened and closed around each look so a spawned `highwater` can open it next), and comparing it with MySQL cell by
 * cell. Cells are compared as text: both sides cast every value to a string in their own SQL (DuckDB VARCHAR,
 * MySQL CHAR), so 12.340000, 3000000000 and 2024-01-01 00:00:00 compare exactly, and NULL stays null.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import type mysql from 'mysql2/promise';

export type Cell = string | null;

export interface WarehouseColumn {
  name: string;
  /** DuckDB's spelling (`duckdb_columns().data_type`): VARCHAR, INTEGER, BIGINT, DECIMAL(20,6), … */
  type: string;
  nullable: boolean;
}

/** Runs `sql` on the warehouse file under `home` and returns its rows as JSON values; the file is closed after. */
export async function queryWarehouse(home: string, sql: string): Promise<Record<string, unknown>[]> {
  const path = join(home, 'warehouse.duckdb');
  if (!existsSync(path)) throw new Error(`no warehouse file at ${path}`);
  const db = await DuckDBInstance.create(path);
  const conn = await db.connect();
  try {
    return (await conn.runAndReadAll(sql)).getRowObjectsJson();
  } finally {
    conn.closeSync();
    db.closeSync();
  }
}

/** The warehouse table's columns in order, from DuckDB's catalog (empty when the table does not exist). */
export async function warehouseColumns(home: string, table: string, schema = 'public'): Promise<WarehouseColumn[]> {
  const rows = await queryWarehouse(
    home,
    `SELECT column_name, data_type, is_nullable FROM duckdb_columns()
       WHERE schema_name = '${schema}' AND table_name = '${table}' ORDER BY column_index`,
  );
  return rows.map((r) => ({
    name: String(r.column_name),
    type: String(r.data_type),
    nullable: Boolean(r.is_nullable),
  }));
}

/** Every row of a warehouse table as text cells of `columns`, ordered by `orderBy`. */
export async function warehouseCells(
  home: string,
  table: string,
  columns: readonly string[],
  orderBy = 'id',
  schema = 'public',
): Promise<Cell[][]> {
  const list = columns.map((c) => `CAST("${c}" AS VARCHAR) AS "${c}"`).join(', ');
  // Ordered by the table's own column, not the text alias of the same name (10 would sort before 9).
  const rows = await queryWarehouse(
    home,
    `SELECT ${list} FROM "${schema}"."${table}" AS "t" ORDER BY "t"."${orderBy}"`,
  );
  return rows.map((r) => columns.map((c) => (r[c] === null || r[c] === undefined ? null : String(r[c]))));
}

/**
 * The rows a MySQL query returns, as text cells in the order of `columns`, ordered by `orderBy` outside the query
 * (MariaDB ignores an ORDER BY inside a derived table).
 */
export async function mysqlCells(
  conn: mysql.Connection,
  sql: string,
  columns: readonly string[],
  orderBy = 'id',
): Promise<Cell[][]> {
  const list = columns.map((c) => `CAST(\`q\`.\`${c}\` AS CHAR) AS \`${c}\``).join(', ');
  const [rows] = await conn.query(`SELECT ${list} FROM (${sql}) AS \`q\` ORDER BY \`q\`.\`${orderBy}\``);
  return (rows as Record<string, unknown>[]).map((r) => columns.map((c) => (r[c] === null ? null : String(r[c]))));
}

/** A source table's rows as text cells, ordered by `orderBy`. */
export function mysqlTableCells(
  conn: mysql.Connection,
  table: string,
  columns: readonly string[],
  orderBy = 'id',
): Promise<Cell[][]> {
  return mysqlCells(conn, `SELECT * FROM \`${table}\``, columns, orderBy);
}
