/** Finding a configured column among a table's columns, the way MySQL resolves names (case-insensitively). */

import type { TableConfig } from '../../domain/config.js';
import type { MappedColumn, SourceColumn } from '../../domain/model.js';
import { DataError } from '../../errors.js';

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
    throw new DataError(
      `${table.name}: column ${JSON.stringify(name)} (${key}) does not exist; the table has ${columns.map((c) => c.source.name).join(', ')}`,
    );
  }
  return col;
}
