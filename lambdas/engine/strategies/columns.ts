/** Finding a configured column among a table's columns, the way MySQL resolves names (case-insensitively). */

import type { TableConfig } from '../../domain/config.js';
import type { MappedColumn, SourceColumn } from '../../domain/model.js';
import { ConfigError } from '../../errors.js';

export function findSourceColumn<C extends SourceColumn>(columns: readonly C[], name: string): C | undefined {
  return columns.find((c) => c.name === name) ?? columns.find((c) => c.name.toLowerCase() === name.toLowerCase());
}

export function findColumn(columns: readonly MappedColumn[], name: string): MappedColumn | undefined {
  return (
    columns.find((c) => c.source.name === name) ??
    columns.find((c) => c.source.name.toLowerCase() === name.toLowerCase())
  );
}

/** The column `name` configured under `key`; a DataError naming the table, the key and its columns otherwise. */
export function requireColumn(
  columns: readonly MappedColumn[],
  table: TableConfig,
  name: string,
  key: string,
): MappedColumn {
  const col = findColumn(columns, name);
  if (!col) {
    throw new ConfigError(
      `${table.name}: column ${JSON.stringify(name)} (${key}) does not exist; the table has ${columns.map((c) => c.source.name).join(', ')}`,
      { suggestion: missingColumnHint(table, key) },
    );
  }
  return col;
}

/** What to change when a configured column is missing: the key, and for a missing cursor the strategies without it. */
function missingColumnHint(table: TableConfig, key: string): string {
  const where = `tables: ${table.name}: ${key} in the pipeline's YAML (single-connection mode: run \`highwater config setup\` and edit config/pipelines/default.yml)`;
  if (key === 'cdc_timestamp_column') {
    return `Set ${where} to a column the application updates on every change; for an append-only table set cdc_strategy: id_only there instead (full_sync for a small table with neither).`;
  }
  return `Set ${where} to one of the table's columns.`;
}
