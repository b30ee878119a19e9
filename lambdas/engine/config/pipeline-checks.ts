/**
 * `config validate-pipeline` without the I/O: the checks of one pipeline that need no source (schedule, custom SQL)
 * and the checks of one table against the source's description of it (columns, their types for the strategy,
 * primary key). Every problem names the pipeline, the table and the column it is about.
 */

import type { PipelineConfig, TableConfig } from '../../domain/config.js';
import type { SourceColumn, TableSchema } from '../../domain/model.js';
import { HighwaterError } from '../../errors.js';
import { qualifiedMysql } from '../sql.js';
import { findSourceColumn } from '../strategies/columns.js';
import { strategyFor } from '../strategies/index.js';
import { prepareAdditionalWhere, prepareCustomSql } from '../strategies/sql/user-sql.js';
import { parseSchedule } from './schedule.js';

export interface PipelineProblem {
  severity: 'error' | 'warning';
  pipeline: string;
  table?: string;
  column?: string;
  message: string;
}

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
    for (const c of strategyFor(t.strategy).configProblems(t)) {
      out.push({ severity: 'error', pipeline: p.name, table: t.name, message: `${c.key}: ${c.message}` });
    }
    if (t.additionalWhere !== undefined && t.additionalWhere.trim() !== '') {
      try {
        prepareAdditionalWhere(t.additionalWhere, `${p.origin}: ${t.name}`);
      } catch (e) {
        if (!(e instanceof HighwaterError)) throw e;
        out.push({ severity: 'error', pipeline: p.name, table: t.name, message: message(e) });
      }
    }
    if (t.customQuery === undefined) continue;
    try {
      prepareCustomSql(t.customQuery, qualifiedMysql(t.sourceSchema, t.sourceTable), `${p.origin}: ${t.name}`);
    } catch (e) {
      if (!(e instanceof HighwaterError)) throw e;
      out.push({ severity: 'error', pipeline: p.name, table: t.name, message: message(e) });
    }
  }
  return out;
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
    const c = findSourceColumn(schema.columns, name);
    if (!c) problem(name, `${key} ${JSON.stringify(name)} does not exist in ${t.name}; its columns: ${names}`);
    return c;
  };
  const pkNames = t.primaryKey ?? schema.primaryKey;
  if (t.primaryKey) for (const k of t.primaryKey) need(k, 'primary_key column');
  const rules = strategyFor(t.strategy);
  for (const r of rules.requiredColumns(t)) need(r.column, r.key);
  for (const p of rules.sourceProblems(t, schema.columns, pkNames)) problem(p.column, p.message, p.severity);
  if (pkNames.length === 0 && rules.mode(t) !== 'replace') {
    problem(
      undefined,
      `${t.name} has no primary key, which ${t.strategy} needs to merge rows idempotently; set primary_key: in the table config, or use full_sync with full_sync_mode: replace`,
    );
  }
  if (t.distkey !== undefined) need(t.distkey, 'distkey');
  for (const k of t.sortkey ?? []) need(k, 'sortkey column');
  return out;
}
