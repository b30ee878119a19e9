/**
 * `config validate-pipeline` without the I/O: the checks of one pipeline that need no source (schedule, custom SQL)
 * and the checks of one table against the source's description of it (columns, their types for the strategy,
 * primary key). Every problem names the pipeline, the table and the column it is about.
 */
import { HighwaterError } from '../../runtime/errors.js';
import type { SourceColumn, TableSchema } from '../model.js';
import { qualifiedMysql } from '../sql.js';
import { prepareAdditionalWhere, prepareCustomSql } from '../strategies/custom-sql.js';
import { parseSchedule } from './schedule.js';
import type { PipelineConfig, TableConfig } from './types.js';

export interface PipelineProblem {
  severity: 'error' | 'warning';
  pipeline: string;
  table?: string;
  column?: string;
  message: string;
}

/** Integer types: an id cursor must be one of these (so ids order numerically). */
export const INTEGER_TYPES: ReadonlySet<string> = new Set([
  'tinyint',
  'smallint',
  'mediumint',
  'int',
  'integer',
  'bigint',
]);
/** What the engine accepts for `timestamp_format: unix` (table-context.ts). */
const UNIX_TYPES: ReadonlySet<string> = new Set(['int', 'bigint', 'integer', 'mediumint']);
/** What the engine accepts for `timestamp_format: datetime` (table-context.ts). */
const DATETIME_TYPES: ReadonlySet<string> = new Set(['datetime', 'timestamp', 'date']);

/** `error: pipeline sales, table shop.orders, column updated_at: …` */
export function formatProblem(p: PipelineProblem): string {
  const where = [`pipeline ${p.pipeline}`];
  if (p.table !== undefined) where.push(`table ${p.table}`);
  if (p.column !== undefined) where.push(`column ${p.column}`);
  return `${p.severity}: ${where.join(', ')}: ${p.message}`;
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Checks that need no source: the schedule expression, each custom_sql query and each additional_where. */
export function staticPipelineProblems(p: PipelineConfig): PipelineProblem[] {
  const out: PipelineProblem[] = [];
  if (p.schedule !== undefined) {
    try {
      parseSchedule(p.schedule);
    } catch (e) {
      if (!(e instanceof HighwaterError)) throw e;
      out.push({ severity: 'error', pipeline: p.name, message: `${p.origin}: pipeline.schedule: ${e.message}` });
    }
  }
  for (const t of p.tables) {
    if (t.additionalWhere !== undefined && t.additionalWhere.trim() !== '') {
      try {
        prepareAdditionalWhere(t.additionalWhere, `${p.origin}: ${t.name}`);
      } catch (e) {
        if (!(e instanceof HighwaterError)) throw e;
        out.push({ severity: 'error', pipeline: p.name, table: t.name, message: message(e) });
      }
    }
    if (t.strategy !== 'custom_sql') continue;
    if (!t.customQuery) {
      out.push({ severity: 'error', pipeline: p.name, table: t.name, message: 'custom_sql needs custom_query' });
      continue;
    }
    try {
      prepareCustomSql(t.customQuery, qualifiedMysql(t.sourceSchema, t.sourceTable), `${p.origin}: ${t.name}`);
    } catch (e) {
      if (!(e instanceof HighwaterError)) throw e;
      out.push({ severity: 'error', pipeline: p.name, table: t.name, message: message(e) });
    }
  }
  return out;
}

function findColumn(schema: TableSchema, name: string): SourceColumn | undefined {
  return (
    schema.columns.find((c) => c.name === name) ??
    schema.columns.find((c) => c.name.toLowerCase() === name.toLowerCase())
  );
}

/** The table's problems against the source's description of it (as `SourceReader.describeTable` returns it). */
export function liveTableProblems(p: PipelineConfig, t: TableConfig, schema: TableSchema): PipelineProblem[] {
  const out: PipelineProblem[] = [];
  const names = schema.columns.map((c) => c.name).join(', ');
  const problem = (column: string | undefined, msg: string, severity: PipelineProblem['severity'] = 'error') => {
    const entry: PipelineProblem = { severity, pipeline: p.name, table: t.name, message: msg };
    if (column !== undefined) entry.column = column;
    out.push(entry);
  };
  const need = (name: string, key: string): SourceColumn | undefined => {
    const c = findColumn(schema, name);
    if (!c) problem(name, `${key} ${JSON.stringify(name)} does not exist in ${t.name}; its columns: ${names}`);
    return c;
  };
  const checkTimestamp = (c: SourceColumn) => {
    const type = c.dataType.toLowerCase();
    if (t.timestampFormat === 'unix' && !UNIX_TYPES.has(type)) {
      problem(c.name, `timestamp_format unix needs an integer cdc_timestamp_column; ${c.name} is ${c.columnType}`);
    }
    if (t.timestampFormat === 'datetime' && !DATETIME_TYPES.has(type)) {
      problem(
        c.name,
        `cdc_timestamp_column ${c.name} is ${c.columnType}; ${t.strategy} needs a DATETIME/TIMESTAMP column, or an integer column with timestamp_format: unix`,
      );
    }
  };
  const pkNames = t.primaryKey ?? schema.primaryKey;
  if (t.primaryKey) for (const k of t.primaryKey) need(k, 'primary_key column');

  switch (t.strategy) {
    case 'hybrid': {
      const ts = need(t.timestampColumn, 'cdc_timestamp_column');
      if (ts) checkTimestamp(ts);
      const id = need(t.idColumn, 'cdc_id_column');
      if (id && !INTEGER_TYPES.has(id.dataType.toLowerCase())) {
        problem(
          id.name,
          `cdc_id_column ${id.name} is ${id.columnType}, not an integer; it still breaks timestamp ties, but ordering follows the column's collation`,
          'warning',
        );
      }
      break;
    }
    case 'timestamp_only': {
      const ts = need(t.timestampColumn, 'cdc_timestamp_column');
      if (ts) checkTimestamp(ts);
      if (pkNames.length > 1) {
        problem(
          undefined,
          `timestamp_only breaks timestamp ties with the primary key, which must be one column (it is ${pkNames.join(', ')}); use hybrid with cdc_id_column`,
        );
      }
      break;
    }
    case 'id_only': {
      const id = need(t.idColumn, 'cdc_id_column');
      if (id && !INTEGER_TYPES.has(id.dataType.toLowerCase())) {
        problem(id.name, `id_only needs an integer cdc_id_column; ${id.name} is ${id.columnType}`);
      }
      break;
    }
    case 'full_sync':
    case 'custom_sql':
      break;
  }
  const replace = t.strategy === 'full_sync' && t.fullSyncMode === 'replace';
  if (pkNames.length === 0 && !replace) {
    problem(
      undefined,
      `${t.name} has no primary key, which ${t.strategy} needs to merge rows idempotently; set primary_key: in the table config, or use full_sync with full_sync_mode: replace`,
    );
  }
  if (t.distkey !== undefined) need(t.distkey, 'distkey');
  for (const k of t.sortkey ?? []) need(k, 'sortkey column');
  return out;
}
