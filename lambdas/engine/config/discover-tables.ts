/**
 * `connections discover`: what a source's tables are and how each could be synced. The suggestion reads only the
 * schema, so it says why: an update timestamp makes hybrid (or timestamp_only without a one-column key) exact for
 * inserts and updates; without one, an integer key allows id_only, which copies new rows only; a table with
 * neither is copied whole (full_sync).
 */
import type { CdcStrategy } from '../../domain/config.js';
import type { SourceColumn, TableSchema } from '../../domain/model.js';

export interface TableSuggestion {
  strategy: CdcStrategy;
  timestampColumn?: string;
  idColumn?: string;
  why: string;
}

export interface DiscoveredTable {
  /** schema.table */
  name: string;
  /** information_schema's estimate (InnoDB samples it), null when unknown. */
  rowsEstimate: number | null;
  primaryKey: string[];
  suggestion: TableSuggestion;
}

/** Column names applications use for "last changed", most telling first. */
const UPDATE_TIMESTAMP_NAMES = [
  'updated_at',
  'modified_at',
  'last_modified',
  'last_modified_at',
  'updated',
  'modified',
  'last_update',
  'last_updated',
  'changed_at',
  'update_time',
  'mtime',
];
const TEMPORAL = new Set(['datetime', 'timestamp']);
const INTEGER = new Set(['tinyint', 'smallint', 'mediumint', 'int', 'integer', 'bigint']);

function updateTimestamp(columns: readonly SourceColumn[]): SourceColumn | undefined {
  for (const name of UPDATE_TIMESTAMP_NAMES) {
    const c = columns.find((col) => col.name.toLowerCase() === name && TEMPORAL.has(col.dataType.toLowerCase()));
    if (c) return c;
  }
  return undefined;
}

export function suggestStrategy(schema: TableSchema): TableSuggestion {
  const ts = updateTimestamp(schema.columns);
  const pk = schema.primaryKey;
  const single = pk.length === 1 ? schema.columns.find((c) => c.name === pk[0]) : undefined;
  if (ts && single) {
    return {
      strategy: 'hybrid',
      timestampColumn: ts.name,
      idColumn: single.name,
      why: `${ts.name} marks every change; ${single.name} breaks ties`,
    };
  }
  if (ts && pk.length > 1) {
    return {
      strategy: 'timestamp_only',
      timestampColumn: ts.name,
      why: `${ts.name} marks every change; the key (${pk.join(', ')}) has several columns`,
    };
  }
  if (single && INTEGER.has(single.dataType.toLowerCase())) {
    return {
      strategy: 'id_only',
      idColumn: single.name,
      why: `no update timestamp: new rows by ${single.name} only; if rows change, add one or use full_sync`,
    };
  }
  return {
    strategy: 'full_sync',
    why:
      pk.length === 0 ? 'no primary key: copied whole every run' : 'no update timestamp nor integer key: copied whole',
  };
}

/** The YAML a suggestion becomes under `tables:` (only what differs from the defaults is written). */
export function suggestionYaml(s: TableSuggestion): Record<string, string> {
  const out: Record<string, string> = { cdc_strategy: s.strategy };
  if (s.timestampColumn !== undefined && s.timestampColumn !== 'updated_at')
    out.cdc_timestamp_column = s.timestampColumn;
  if (s.idColumn !== undefined && s.idColumn !== 'id') out.cdc_id_column = s.idColumn;
  return out;
}
