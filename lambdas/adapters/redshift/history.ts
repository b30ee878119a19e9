/**
 * The history part of a Redshift load (SCD type 2, docs/history.md), hooked into load.ts's apply batch: the history
 * columns for a new (or newly historied) table, then history-sql.ts's statements, with the positions of the counts
 * the load's result is made of.
 */
import { instantLiteral, trackedColumns } from '../../engine/history.js';
import { WarehouseError } from '../../errors.js';
import { IS_CURRENT_COLUMN } from '../../ports/history.js';
import type { LoadHistory, LoadRequest, TargetTable } from '../../ports/index.js';
import type { ResultSet } from './data-api.js';
import type { JsonAs } from './ddl.js';
import { tableLabel } from './ddl.js';
import { addHistoryColumnSqls, adoptRowsSql, historyStatements } from './history-sql.js';
import { countAt } from './values.js';

/** Where, in the apply batch, the history counts are (ApplyDetail.history). */
export interface HistoryPositions {
  closedAtSource: number[];
  closedChanged: number;
}

/**
 * Appends the history statements to `sqls` (the batch so far: the table created or evolved). `hasColumns`: the
 * table exists with the history columns; `exists`: it exists at all (a plain table's rows become current versions).
 */
export function appendHistory(
  sqls: string[],
  req: LoadRequest,
  history: LoadHistory,
  stage: TargetTable,
  keys: TargetTable | undefined,
  table: { exists: boolean; hasColumns: boolean },
  jsonAs: JsonAs,
): { insertAt: number; history: HistoryPositions } {
  if (!table.hasColumns) {
    sqls.push(...addHistoryColumnSqls(req.target));
    if (table.exists) {
      sqls.push(adoptRowsSql(req.target, trackedColumns(req, history), instantLiteral(history.validFrom)));
    }
  }
  const at = sqls.length;
  const h = historyStatements(req, history, stage, keys, jsonAs);
  sqls.push(...h.sqls);
  return {
    insertAt: at + h.insertAt,
    history: { closedAtSource: h.closedAtSource.map((i) => at + i), closedChanged: at + h.closedChanged },
  };
}

/** A plain load must not overwrite a history table (its merge would delete every version of a key). */
export function refusePlainLoad(req: LoadRequest, existing: ReadonlyMap<string, unknown> | undefined): void {
  if (req.history || !existing?.has(IS_CURRENT_COLUMN)) return;
  throw new WarehouseError(
    `load of ${tableLabel(req.target)}: the table keeps history (it has ${IS_CURRENT_COLUMN}), and a plain load would overwrite its versions; nothing was changed`,
    { suggestion: 'Set history: scd2 for the table again, or load it into another target_name.' },
  );
}

/** Refuses a run older than the table's newest version (newestVersionSql's result): history would go backwards. */
export function newestVersionCheck(result: ResultSet, req: LoadRequest, validFrom: string, context: string): void {
  if (countAt(result, 0, 'the newest version check', context) === 0) return;
  const newest = result.rows[0]?.[1]?.stringValue ?? '?';
  throw new WarehouseError(
    `load of ${tableLabel(req.target)}: the table has versions from ${newest}, later than this run's ${validFrom}; history would go backwards, nothing was changed`,
    { suggestion: 'Check the clocks of the machines that run syncs of this table.' },
  );
}
