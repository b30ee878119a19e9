/**
 * Catalog look-ups through the Data API. Only leader-node catalog tables are read (information_schema.tables and
 * pg_attribute/format_type), never mixed with user tables, as Redshift requires.
 */

import type { CatalogColumn } from '../../engine/schema-plan.js';
import type { TargetTable } from '../../ports/index.js';
import type { DataApi } from './data-api.js';
import { fieldValue } from './values.js';

export async function tableExists(api: DataApi, context: string, target: TargetTable): Promise<boolean> {
  const result = await api.select(
    context,
    `SELECT 1 AS present FROM information_schema.tables
      WHERE table_schema = :schema AND table_name = :table AND table_type = 'BASE TABLE'`,
    [
      { name: 'schema', value: target.schema },
      { name: 'table', value: target.name },
    ],
  );
  return result.rows.length > 0;
}

/**
 * Column name (lower case) → the column, its type as format_type spells it (`character varying(256)`, `super`, …:
 * the spellings WAREHOUSE_TYPES.redshift in engine/type-widening.ts lists) and whether it is NOT NULL.
 */
export async function existingColumns(
  api: DataApi,
  context: string,
  target: TargetTable,
): Promise<Map<string, CatalogColumn>> {
  const result = await api.select(
    context,
    `SELECT a.attname AS column_name, format_type(a.atttypid, a.atttypmod) AS column_type, a.attnotnull AS not_null
       FROM pg_catalog.pg_attribute a
       JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
       JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = :schema AND c.relname = :table AND a.attnum > 0 AND NOT a.attisdropped
      ORDER BY a.attnum`,
    [
      { name: 'schema', value: target.schema },
      { name: 'table', value: target.name },
    ],
  );
  const out = new Map<string, CatalogColumn>();
  for (const [name, type, notNull] of result.rows) {
    if (!name || !type) continue;
    const column = String(fieldValue(name));
    const flag = notNull === undefined ? null : fieldValue(notNull);
    out.set(column.toLowerCase(), {
      name: column,
      type: String(fieldValue(type)),
      notNull: flag === true || flag === 't' || flag === 'true',
    });
  }
  return out;
}
