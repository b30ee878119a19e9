/**
 * `highwater query`: one SQL statement against the local DuckDB warehouse, opened read-only (so nothing can be
 * written to it, see adapters/duckdb/read-only.ts) and cut at a row limit. Which file: the target of a pipeline
 * (`-p`, default `default`) or a target connection named with `--target`.
 */
import { resolve } from 'node:path';
import type { LoadedConfig, TargetConnection } from '../../domain/config.js';
import { getTableConfig } from '../../engine/config/index.js';
import { instantLiteral, validAtSql } from '../../engine/history.js';
import { qualifiedAnsi } from '../../engine/sql.js';
import { ConfigError } from '../../errors.js';
import type { Runtime } from '../../ports/runtime.js';
import type { JsValue } from '../adapters/duckdb/values.js';

export interface QueryResult {
  /** The warehouse file the statement ran against. */
  warehouse: string;
  columns: { name: string; type: string }[];
  rows: JsValue[][];
  rowCount: number;
  /** More rows followed the last one returned (raise --max-rows, or add a LIMIT). */
  truncated: boolean;
}

/** The most rows a query may ask for: the output is meant for a terminal or a file, not a bulk export. */
export const MAX_QUERY_ROWS = 1_000_000;

function duckdbPath(config: LoadedConfig, target: TargetConnection, what: string): string {
  if (target.type !== 'duckdb') {
    throw new ConfigError(
      `${what} is a ${target.type} warehouse; highwater query reads the local DuckDB warehouse only`,
      { suggestion: 'Query Redshift with its own tools (the query editor, psql or the Data API).' },
    );
  }
  return resolve(config.home, target.path);
}

/** The DuckDB file to query: `--target NAME`, else the target of pipeline `pipeline`. */
export function warehousePathFor(rt: Runtime, opts: { pipeline: string; target?: string }): string {
  if (opts.target !== undefined) {
    const t = rt.config.targets[opts.target];
    if (!t) {
      const known = Object.keys(rt.config.targets);
      throw new ConfigError(
        `target ${opts.target} is not a connection of the configuration; targets: ${known.length ? known.join(', ') : '(none)'}`,
      );
    }
    return duckdbPath(rt.config, t, `target ${opts.target}`);
  }
  const p = rt.pipeline(opts.pipeline);
  return duckdbPath(rt.config, p.target, `the target ${p.target.name} of pipeline ${p.name}`);
}

export async function queryWarehouse(path: string, sql: string, maxRows: number): Promise<QueryResult> {
  if (sql.trim() === '') throw new ConfigError('query: the SQL statement is empty');
  if (!Number.isInteger(maxRows) || maxRows < 1 || maxRows > MAX_QUERY_ROWS) {
    throw new ConfigError(`--max-rows must be a whole number from 1 to ${MAX_QUERY_ROWS}, got ${maxRows}`);
  }
  const { openReadOnlyWarehouse } = await import('../adapters/duckdb/read-only.js');
  const warehouse = await openReadOnlyWarehouse(path);
  try {
    const r = await warehouse.query(sql, maxRows);
    return { warehouse: path, ...r, rowCount: r.rows.length };
  } finally {
    warehouse.close();
  }
}

/** `--as-of`: an ISO-8601 date or date-time; without a zone it is UTC. Returned as a canonical instant. */
export function parseAsOf(text: string): string {
  const t = text.trim();
  const m = /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?)(Z|[+-]\d{2}:?\d{2})?)?$/.exec(t);
  const ms = m ? Date.parse(`${m[1]}T${m[2] ?? '00:00:00'}${m[3] === undefined ? 'Z' : m[3]}`) : Number.NaN;
  if (!m || Number.isNaN(ms)) {
    throw new ConfigError(
      `--as-of ${JSON.stringify(text)} is not a date or date-time: give 2024-05-01, 2024-05-01 10:00:00 (UTC) or 2024-05-01T10:00:00+02:00`,
    );
  }
  return new Date(ms).toISOString();
}

/**
 * The versions of a history table valid at `at` (docs/history.md): the table of `-t` (a table of the pipeline, as
 * sync names it) in the pipeline's target. The instant is a checked literal (the read-only query takes no
 * parameters); the history columns are shown with the rest.
 */
export function asOfQuery(rt: Runtime, pipeline: string, table: string, at: string): string {
  const p = rt.pipeline(pipeline);
  const t = getTableConfig(p, table);
  if (!t.history) {
    throw new ConfigError(`${t.name} keeps no history (history: scd2), so it has no versions to read --as-of`, {
      suggestion: `Query its rows as they are: highwater query "SELECT * FROM ${p.target.schema}.${t.targetName.toLowerCase()}"`,
    });
  }
  const from = qualifiedAnsi(p.target.schema, t.targetName.toLowerCase());
  return `SELECT * FROM ${from} WHERE ${validAtSql(instantLiteral(at))}`;
}
