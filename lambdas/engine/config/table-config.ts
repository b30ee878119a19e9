/** One table's YAML (already shape-checked, with default_table_config merged under it) → the engine's TableConfig. */

import type { ProcessingConfig, TableConfig } from '../../domain/config.js';
import { ConfigError } from '../../errors.js';
import type { TableRef } from '../naming.js';
import { targetIdentifier } from '../naming.js';
import { qualifiedMysql } from '../sql.js';
import { strategyFor } from '../strategies/index.js';
import { prepareAdditionalWhere, prepareCustomSql } from '../strategies/sql/user-sql.js';
import { isColumnName } from './identifiers.js';
import type { TableYaml } from './schemas.js';
import type { YamlPath } from './yaml-source.js';

/** Makes an error located at a key of this table (a file position when the table came from YAML). */
export type TableFail = (key: YamlPath, message: string) => ConfigError;

/** Deep merge for plain objects; arrays and scalars in `over` replace, absent/null keys keep `base`. */
export function deepMerge<T extends Record<string, unknown>>(
  base: T | null | undefined,
  over: T | null | undefined,
): T {
  const out: Record<string, unknown> = { ...(base ?? {}) };
  for (const [k, v] of Object.entries(over ?? {})) {
    if (v === undefined || v === null) continue;
    const b = out[k];
    const bothObjects = isPlainObject(b) && isPlainObject(v);
    out[k] = bothObjects ? deepMerge(b as Record<string, unknown>, v as Record<string, unknown>) : v;
  }
  return out as T;
}

function isPlainObject(v: unknown): boolean {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function columns(value: string | string[] | undefined, key: string, fail: TableFail): string[] | undefined {
  if (value === undefined) return undefined;
  const list = typeof value === 'string' ? value.split(',').map((s) => s.trim()) : value;
  for (const c of list) {
    if (!isColumnName(c)) throw fail([key], `column ${JSON.stringify(c)} may only use letters, digits, _ and $ (1–64)`);
  }
  return list;
}

function column(value: string, key: string, fail: TableFail): string {
  return columns(value, key, fail)![0]!;
}

export function buildTableConfig(
  name: string,
  ref: TableRef,
  y: TableYaml,
  processing: ProcessingConfig,
  fail: TableFail,
): TableConfig {
  const strategy = y.cdc_strategy ?? 'hybrid';
  const rules = strategyFor(strategy);
  if (!rules.readsCustomQuery && y.custom_query !== undefined) {
    throw fail(
      ['custom_query'],
      `custom_query is only used with cdc_strategy: custom_sql (this table uses ${strategy})`,
    );
  }
  // Checked now so bad SQL is reported with its file and line, not halfway through a run.
  const atKey = (key: string, check: () => void) => {
    try {
      check();
    } catch (e) {
      if (e instanceof ConfigError) throw fail([key], e.message.replace(`${name}: `, ''));
      throw e;
    }
  };
  if (y.custom_query !== undefined) {
    const query = y.custom_query;
    atKey('custom_query', () => prepareCustomSql(query, qualifiedMysql(ref.schema, ref.table), name));
  }
  const additionalWhere = y.additional_where;
  if (additionalWhere !== undefined && additionalWhere.trim() !== '') {
    atKey('additional_where', () => prepareAdditionalWhere(additionalWhere, name));
  }
  const rawTarget = y.target_name ?? ref.table;
  if (rawTarget.includes('.')) {
    throw fail(
      ['target_name'],
      `target_name ${JSON.stringify(rawTarget)} must be a bare table name; the schema comes from the target connection`,
    );
  }
  if (!isColumnName(rawTarget)) {
    throw fail(
      ['target_name'],
      `target_name ${JSON.stringify(rawTarget)} may only use letters, digits, _ and $ (1–64)`,
    );
  }
  const diststyle = y.diststyle;
  const distkey = y.distkey === undefined ? undefined : column(y.distkey, 'distkey', fail);
  if (diststyle === 'KEY' && distkey === undefined) throw fail(['diststyle'], 'diststyle KEY needs distkey');

  const table: TableConfig = {
    name,
    sourceSchema: ref.schema,
    sourceTable: ref.table,
    strategy,
    timestampColumn: column(y.cdc_timestamp_column ?? 'updated_at', 'cdc_timestamp_column', fail),
    idColumn: column(y.cdc_id_column ?? 'id', 'cdc_id_column', fail),
    targetName: targetIdentifier(rawTarget),
    fullSyncMode: y.full_sync_mode === 'append' ? 'append' : 'replace',
    timestampFormat: y.timestamp_format === 'unix' ? 'unix' : 'datetime',
    lagSeconds: y.lag ?? rules.defaults.lagSeconds,
    lookbackSeconds: y.lookback ?? rules.defaults.lookbackSeconds,
    clockSkewSeconds: y.clock_skew ?? rules.defaults.clockSkewSeconds,
    onColumnDrop: y.on_column_drop ?? 'keep',
    oversize: y.oversize ?? 'error',
    chunkRows: y.chunk_rows ?? y.processing?.chunk_rows ?? processing.chunkRows,
    chunkBytes: y.processing?.chunk_bytes ?? processing.chunkBytes,
    chunkSeconds: y.processing?.chunk_seconds ?? processing.chunkSeconds,
    readRowsPerSecond: y.processing?.read_rows_per_second ?? processing.readRowsPerSecond,
    deleteDetection: y.delete_detection ?? false,
    deleteDetectionEverySeconds: y.delete_detection_every ?? null,
    verifyEvery: y.verify_every ?? null,
    batchSize: y.processing?.batch_size ?? processing.batchSize,
    dependsOn: [],
    history: null,
  };
  if (y.custom_query !== undefined) table.customQuery = y.custom_query;
  if (y.additional_where !== undefined) table.additionalWhere = y.additional_where;
  const pk = columns(y.primary_key, 'primary_key', fail);
  if (pk) table.primaryKey = pk;
  const businessKey = historyConfig(table, y, fail);
  if (businessKey) table.primaryKey = businessKey;
  if (distkey !== undefined) table.distkey = distkey;
  const sortkey = columns(y.sortkey, 'sortkey', fail);
  if (sortkey) table.sortkey = sortkey;
  if (diststyle !== undefined) table.diststyle = diststyle;
  const problem = rules.configProblems(table)[0];
  if (problem) throw fail([problem.key], problem.message);
  return table;
}

function sameColumns(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((c, i) => c.toLowerCase() === b[i]!.toLowerCase());
}

/**
 * `history`, `business_key` and `history_ignore_columns` (docs/history.md): sets `table.history` and returns the
 * business key when one is given (it becomes the table's key). Refuses what history cannot keep exactly: a
 * full_sync append (no key to compare), a custom_sql query without a declared key.
 */
function historyConfig(table: TableConfig, y: TableYaml, fail: TableFail): string[] | undefined {
  const businessKey = columns(y.business_key, 'business_key', fail);
  const ignored = columns(y.history_ignore_columns, 'history_ignore_columns', fail);
  if (y.history !== 'scd2') {
    for (const key of ['business_key', 'history_ignore_columns'] as const) {
      if (y[key] !== undefined)
        throw fail([key], `${key} is only used with history: scd2 (this table keeps no history)`);
    }
    return undefined;
  }
  if (table.strategy === 'full_sync' && table.fullSyncMode === 'append') {
    throw fail(
      ['history'],
      'history: scd2 cannot be kept with full_sync_mode: append (append keeps every read as new rows, with no key to compare); use full_sync_mode: replace',
    );
  }
  if (businessKey && table.primaryKey && !sameColumns(businessKey, table.primaryKey)) {
    throw fail(
      ['business_key'],
      `business_key (${businessKey.join(', ')}) differs from primary_key (${table.primaryKey.join(', ')}); the business key is the table's key, give one of them`,
    );
  }
  const key = businessKey ?? table.primaryKey;
  if (table.strategy === 'custom_sql' && !key) {
    throw fail(
      ['history'],
      'history: scd2 with custom_sql needs business_key (a query has no primary key of its own to compare versions by)',
    );
  }
  for (const c of ignored ?? []) {
    if (key?.some((k) => k.toLowerCase() === c.toLowerCase())) {
      throw fail(['history_ignore_columns'], `${c} is a column of the business key; a key column cannot be ignored`);
    }
  }
  table.history = { ignoredColumns: ignored ?? [] };
  return businessKey;
}
