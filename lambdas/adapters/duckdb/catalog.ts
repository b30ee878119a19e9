/** Catalog look-ups inside the caller's transaction. Names compare case-insensitively, as DuckDB resolves them. */
import type { DuckDBConnection } from '@duckdb/node-api';
import type { TargetTable } from '../../ports/index.js';

export interface ExistingColumn {
  name: string;
  /** DuckDB's canonical spelling: `FLOAT`, `TIMESTAMP WITH TIME ZONE`, `DECIMAL(38,10)`, … */
  dataType: string;
}

export async function tableExists(conn: DuckDBConnection, target: TargetTable): Promise<boolean> {
  const reader = await conn.runAndReadAll(
    `SELECT 1 FROM duckdb_tables() WHERE database_name = current_database()
       AND lower(schema_name) = lower($1) AND lower(table_name) = lower($2)`,
    [target.schema, target.name],
  );
  return reader.currentRowCount > 0;
}

/** Columns keyed by lower-cased name. */
export async function existingColumns(
  conn: DuckDBConnection,
  target: TargetTable,
): Promise<Map<string, ExistingColumn>> {
  const reader = await conn.runAndReadAll(
    `SELECT column_name, data_type FROM duckdb_columns() WHERE database_name = current_database()
       AND lower(schema_name) = lower($1) AND lower(table_name) = lower($2) ORDER BY column_index`,
    [target.schema, target.name],
  );
  const out = new Map<string, ExistingColumn>();
  for (const [name, dataType] of reader.getRows()) {
    out.set(String(name).toLowerCase(), { name: String(name), dataType: String(dataType) });
  }
  return out;
}

/** Asks DuckDB how it spells each DDL type (`REAL` → `FLOAT`), so comparisons with the catalog are exact. */
export async function canonicalTypes(conn: DuckDBConnection, ddlTypes: readonly string[]): Promise<string[]> {
  if (ddlTypes.length === 0) return [];
  const exprs = ddlTypes.map((t, i) => `typeof(CAST(NULL AS ${t})) AS c${i}`);
  const reader = await conn.runAndReadAll(`SELECT ${exprs.join(', ')}`);
  const row = reader.getRows()[0] ?? [];
  return ddlTypes.map((_, i) => String(row[i]));
}
