/**
 * History tables (SCD type 2, docs/history.md): the columns a history table has besides the source's, and the checks
 * every warehouse adapter applies to a LoadRequest that keeps history, so DuckDB and Redshift refuse the same things.
 */
import { WarehouseError } from '../errors.js';
import type { LoadRequest } from './index.js';

/** When the version became the current one: the timestamp of the run that read it (LoadHistory.validFrom). */
export const VALID_FROM_COLUMN = '_hw_valid_from';
/** When the version stopped being current (the next version's valid_from, or the deleting run's); NULL while current. */
export const VALID_TO_COLUMN = '_hw_valid_to';
/** TRUE on the one current version of a key; FALSE on closed ones. */
export const IS_CURRENT_COLUMN = '_hw_is_current';
/** MD5 (32 hex digits) of the tracked columns' canonical text (engine/history.ts). */
export const ROW_HASH_COLUMN = '_hw_row_hash';

export const HISTORY_COLUMNS = [VALID_FROM_COLUMN, VALID_TO_COLUMN, IS_CURRENT_COLUMN, ROW_HASH_COLUMN] as const;

/** Whether a warehouse column is one of the history columns (highwater's own, never a source column). */
export function isHistoryColumn(name: string): boolean {
  return (HISTORY_COLUMNS as readonly string[]).includes(name.toLowerCase());
}

/** An instant as the runs record it: ISO-8601 UTC with milliseconds (new Date().toISOString()). */
const INSTANT_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

export function isInstant(s: string): boolean {
  return INSTANT_RE.test(s) && !Number.isNaN(Date.parse(s));
}

/** Rejects a history load no warehouse could carry out exactly, before anything is touched. */
export function validateHistory(req: LoadRequest, table: string): void {
  const history = req.history;
  if (history === undefined) return;
  if (!isInstant(history.validFrom)) {
    throw new WarehouseError(
      `load of ${table}: history.validFrom must be an ISO-8601 UTC instant like 2024-05-01T10:00:00.000Z, got ${JSON.stringify(history.validFrom)}`,
    );
  }
  if (req.primaryKey.length === 0) {
    throw new WarehouseError(`load of ${table}: a history table needs a business key and none was given`, {
      suggestion: 'Declare business_key: (or primary_key:) for the table.',
    });
  }
  if (req.mode === 'append') {
    throw new WarehouseError(
      `load of ${table}: a history table cannot be appended to (append keeps every read as new rows, with no key to compare)`,
      { suggestion: 'Use full_sync_mode: replace, or another strategy.' },
    );
  }
  const clash = req.columns.find((c) => isHistoryColumn(c.target));
  if (clash) {
    throw new WarehouseError(
      `load of ${table}: the source has a column ${clash.target}, which is one of the history table's own columns`,
      { suggestion: 'Rename the column in the source (or a view), or do not keep history for this table.' },
    );
  }
  const byName = new Map(req.columns.map((c) => [c.target.toLowerCase(), c]));
  const keys = new Set(req.primaryKey.map((k) => k.toLowerCase()));
  for (const name of history.ignoredColumns) {
    if (!byName.has(name.toLowerCase())) {
      throw new WarehouseError(
        `load of ${table}: history ignores column ${name}, which is not among the loaded columns`,
      );
    }
    if (keys.has(name.toLowerCase())) {
      throw new WarehouseError(`load of ${table}: history cannot ignore ${name}, a column of the business key`);
    }
  }
}
