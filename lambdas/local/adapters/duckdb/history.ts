/**
 * A DuckDB history load (SCD type 2, docs/history.md), inside the load's transaction (load.ts): the deduped staged
 * rows are hashed and compared with each key's current version; a changed one is closed and a new version opened,
 * an unchanged one is left alone (its ignored columns updated in place), a deleted key's version is closed.
 */
import { type DuckDBConnection, type DuckDBType, type DuckDBValue, VARCHAR } from '@duckdb/node-api';
import { ignoredColumns, trackedColumns } from '../../../engine/history.js';
import type { CatalogColumn } from '../../../engine/schema-plan.js';
import { quoteAnsi } from '../../../engine/sql.js';
import { CountMismatchError, WarehouseError } from '../../../errors.js';
import { IS_CURRENT_COLUMN } from '../../../ports/history.js';
import type { LoadDeletes, LoadHistory, LoadRequest } from '../../../ports/index.js';
import { tableLabel } from '../../../ports/load-request.js';
import {
  addHistoryColumnSqls,
  adoptRowsSql,
  closeChangedSql,
  closeDeletedSql,
  closeUnreadSql,
  doubleCurrentSql,
  hashedSql,
  insertVersionsSql,
  newestVersionSql,
  settledKeysSql,
  updateIgnoredSql,
} from './history-sql.js';
import type { Dedupe } from './load-sql.js';

export interface HistoryCounts {
  /** Versions opened. */
  rowsLoaded: number;
  /** Versions closed because their key changed. */
  rowsDeleted: number;
  /** Versions closed because their key was deleted at the source (or, full_sync, not read). */
  rowsDeletedAtSource: number;
}

async function count(conn: DuckDBConnection, sql: string): Promise<number> {
  return Number((await conn.runAndReadAll(sql)).getRows()[0]?.[0] ?? 0);
}

async function changed(conn: DuckDBConnection, sql: string, ts: string): Promise<number> {
  return (await conn.run(sql, [ts], [VARCHAR])).rowsChanged;
}

/**
 * A plain load must not overwrite a history table (its merge would delete every version of a key): refused, naming
 * the table, before anything changes.
 */
export function refusePlainLoad(req: LoadRequest, existing: ReadonlyMap<string, CatalogColumn> | undefined): void {
  if (req.history || !existing?.has(IS_CURRENT_COLUMN)) return;
  throw new WarehouseError(
    `load of ${tableLabel(req)}: the table keeps history (it has ${IS_CURRENT_COLUMN}), and a plain load would overwrite its versions; nothing was changed`,
    { suggestion: 'Set history: scd2 for the table again, or load it into another target_name.' },
  );
}

/**
 * Gives a table the history columns it lacks: a table just created, or a plain table turned into a history table,
 * whose every row becomes the current version opened by this run.
 */
export async function ensureHistoryColumns(
  conn: DuckDBConnection,
  req: LoadRequest,
  history: LoadHistory,
  qualified: string,
  existing: ReadonlyMap<string, CatalogColumn> | undefined,
): Promise<void> {
  if (existing?.has(IS_CURRENT_COLUMN)) return;
  for (const sql of addHistoryColumnSqls(qualified)) await conn.run(sql);
  if (existing) await changed(conn, adoptRowsSql(qualified, trackedColumns(req, history)), history.validFrom);
}

export async function loadHistory(
  conn: DuckDBConnection,
  req: LoadRequest,
  history: LoadHistory,
  qualified: string,
  staged: { relation: string; values: DuckDBValue[]; types: DuckDBType[]; dedupe?: Dedupe | undefined },
  suffix: string,
  stageDeletedKeys: (deletes: LoadDeletes) => Promise<string>,
): Promise<HistoryCounts> {
  const ts = history.validFrom;
  const key = req.primaryKey;
  const hist = `__hw_hist_${suffix}`;
  const [later, newest] = (await conn.runAndReadAll(newestVersionSql(qualified), [ts], [VARCHAR])).getRows()[0] ?? [];
  if (String(later) === 'true') {
    throw new WarehouseError(
      `load of ${tableLabel(req)}: the table has versions from ${String(newest)}, later than this run's ${ts}; history would go backwards, nothing was changed`,
      { suggestion: 'Check the clocks of the machines that run syncs of this table.' },
    );
  }
  await conn.run(hashedSql(hist, staged, req.columns, trackedColumns(req, history)), staged.values, staged.types);
  let rowsDeletedAtSource = 0;
  const deletes = req.mode === 'replace' ? undefined : req.deletes;
  if (deletes && deletes.keys.length > 0) {
    const keysName = await stageDeletedKeys(deletes);
    rowsDeletedAtSource += await changed(conn, closeDeletedSql(qualified, keysName, hist, key), ts);
    await conn.run(`DROP TABLE ${quoteAnsi(keysName)}`);
  }
  if (req.mode === 'replace' && history.closeUnread) {
    rowsDeletedAtSource += await changed(conn, closeUnreadSql(qualified, hist, key), ts);
  }
  const rowsDeleted = await changed(conn, closeChangedSql(qualified, hist, key), ts);
  const ignored = ignoredColumns(req, history);
  if (ignored.length > 0) await conn.run(updateIgnoredSql(qualified, hist, key, ignored));
  const rowsLoaded = await changed(conn, insertVersionsSql(qualified, hist, req.columns, key), ts);

  const read = await count(conn, `SELECT count(*) FROM ${quoteAnsi(hist)}`);
  const settled = await count(conn, settledKeysSql(qualified, hist, key));
  const doubled = await count(conn, doubleCurrentSql(qualified, key));
  if (settled !== read || doubled !== 0) {
    throw new CountMismatchError(
      `load of ${tableLabel(req)}: ${settled} of ${read} read keys have their read version current` +
        `${doubled ? `, and ${doubled} keys have more than one current version` : ''}; rolled back`,
    );
  }
  await conn.run(`DROP TABLE ${quoteAnsi(hist)}`);
  return { rowsLoaded, rowsDeleted, rowsDeletedAtSource };
}
