/**
 * Resolves, for one table, which columns play which role in its strategy: the primary key, the timestamp
 * cursor and the tie-breaker. Plan and ExtractChunk both build it from the same inputs, so they agree.
 */
import { ConfigError, DataError } from '../runtime/errors.js';
import type { TableConfig } from './config/types.js';
import type { MappedColumn } from './model.js';

export interface TableContext {
  table: TableConfig;
  columns: MappedColumn[];
  /** Primary key (configured `primary_key`, else the source's); empty when the table has none. */
  pk: MappedColumn[];
  /** The timestamp cursor (hybrid, timestamp_only; custom_sql when the column exists). */
  ts: MappedColumn | undefined;
  /** Breaks ties on `ts` (hybrid: cdc_id_column; timestamp_only: the primary key), or is the cursor (id_only). */
  id: MappedColumn | undefined;
  mode: 'merge' | 'replace' | 'append';
}

function find(columns: readonly MappedColumn[], table: TableConfig, name: string, key: string): MappedColumn {
  const col =
    columns.find((c) => c.source.name === name) ??
    columns.find((c) => c.source.name.toLowerCase() === name.toLowerCase());
  if (!col) {
    throw new DataError(
      `${table.name}: column ${JSON.stringify(name)} (${key}) does not exist; the table has ${columns.map((c) => c.source.name).join(', ')}`,
    );
  }
  return col;
}

export function buildTableContext(
  table: TableConfig,
  columns: MappedColumn[],
  sourcePk: readonly string[],
): TableContext {
  const pkNames = table.primaryKey ?? sourcePk;
  const pk = pkNames.map((n) => find(columns, table, n, 'primary_key'));
  const optional = (name: string): MappedColumn | undefined =>
    columns.find((c) => c.source.name.toLowerCase() === name.toLowerCase());
  let ts: MappedColumn | undefined;
  let id: MappedColumn | undefined;
  switch (table.strategy) {
    case 'hybrid':
      ts = find(columns, table, table.timestampColumn, 'cdc_timestamp_column');
      id = find(columns, table, table.idColumn, 'cdc_id_column');
      break;
    case 'timestamp_only':
      ts = find(columns, table, table.timestampColumn, 'cdc_timestamp_column');
      if (pk.length !== 1) {
        throw new DataError(
          `${table.name}: timestamp_only breaks cursor ties with the primary key, which must be one column (it has ${pk.length}); use hybrid with cdc_id_column`,
        );
      }
      id = pk[0];
      break;
    case 'id_only':
      id = find(columns, table, table.idColumn, 'cdc_id_column');
      break;
    case 'full_sync':
      break;
    case 'custom_sql':
      ts = optional(table.timestampColumn);
      id = optional(table.idColumn);
      if (!table.customQuery) throw new ConfigError(`${table.name}: custom_sql needs custom_query`);
      break;
  }
  if (ts) checkTimestampColumn(table, ts);
  const mode: TableContext['mode'] =
    table.strategy === 'full_sync' ? (table.fullSyncMode === 'replace' ? 'replace' : 'append') : 'merge';
  if (mode !== 'replace' && pk.length === 0) {
    throw new DataError(
      `${table.name} has no primary key, which ${table.strategy}${table.strategy === 'full_sync' ? ' append' : ''} needs to merge rows idempotently`,
      {
        suggestion:
          'Declare primary_key: in the table config, or use cdc_strategy: full_sync with full_sync_mode: replace.',
      },
    );
  }
  return { table, columns, pk, ts, id, mode };
}

function checkTimestampColumn(table: TableConfig, ts: MappedColumn): void {
  const t = ts.source.dataType;
  const isInt = ['int', 'bigint', 'integer', 'mediumint'].includes(t);
  if (table.timestampFormat === 'unix' && !isInt) {
    throw new DataError(
      `${table.name}: timestamp_format unix needs an integer column; ${ts.source.name} is ${ts.source.columnType}`,
    );
  }
  if (table.timestampFormat === 'datetime' && !['datetime', 'timestamp', 'date'].includes(t)) {
    throw new DataError(
      `${table.name}: cdc_timestamp_column ${ts.source.name} is ${ts.source.columnType}; use a DATETIME/TIMESTAMP column or timestamp_format: unix`,
    );
  }
}

/** The cursor columns in order (timestamp first), for windows, limits and dedupe. */
export function cursorColumns(ctx: TableContext): MappedColumn[] {
  return [ctx.ts, ctx.id].filter((c): c is MappedColumn => c !== undefined);
}

/** Whether a committed run of this table moves a watermark. */
export function advancesWatermark(ctx: TableContext): boolean {
  return ctx.table.strategy !== 'full_sync' && cursorColumns(ctx).length > 0;
}
