/** Catalog look-ups inside the caller's transaction. Names compare case-insensitively, as DuckDB resolves them. */
import type { DuckDBConnection } from '@duckdb/node-api';
import type { CatalogColumn } from '../../../engine/schema-plan.js';
import type { TargetTable } from '../../../ports/index.js';

export async function tableExists(conn: DuckDBConnection, target: TargetTable): Promise<boolean> {
  const reader = await conn.runAndReadAll(
    `SELECT 1 FROM duckdb_tables() WHERE database_name = current_database()
       AND lower(schema_name) = lower($1) AND lower(table_name) = lower($2)`,
    [target.schema, target.name],
  );
  return reader.currentRowCount > 0;
}

/**
 * Columns keyed by lower-cased name, with DuckDB's canonical type spelling (`FLOAT`, `TIMESTAMP WITH TIME ZONE`,
 * `DECIMAL(38,10)`, …: the spellings WAREHOUSE_TYPES.duckdb in engine/type-widening.ts lists).
 */
export async function existingColumns(
  conn: DuckDBConnection,
  target: TargetTable,
): Promise<Map<string, CatalogColumn>> {
  const reader = await conn.runAndReadAll(
    `SELECT column_name, data_type, is_nullable FROM duckdb_columns() WHERE database_name = current_database()
       AND lower(schema_name) = lower($1) AND lower(table_name) = lower($2) ORDER BY column_index`,
    [target.schema, target.name],
  );
  const out = new Map<string, CatalogColumn>();
  for (const [name, dataType, nullable] of reader.getRows()) {
    out.set(String(name).toLowerCase(), { name: String(name), type: String(dataType), notNull: nullable === false });
  }
  return out;
}
