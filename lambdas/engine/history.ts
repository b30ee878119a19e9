/**
 * What a history table is, the same for every warehouse (docs/history.md): its own columns and their types, which
 * columns a version tracks, and the row hash. The hash reuses verify's canonical text of each value
 * (verify/canonical.ts), so a value hashes alike on DuckDB and Redshift whatever type widening did to its column.
 *
 * The hashed text names each tracked column and leaves NULLs out: `name` U+001D `value` U+001F for every non-NULL
 * value, columns in name order. So NULL and '' differ (one contributes nothing, the other `name` U+001D U+001F), and
 * a column added to the table — NULL in every existing row — leaves every existing hash as it was: adding a column
 * opens no version by itself. A value holding U+001D or U+001F could make two rows spell alike (docs/history.md).
 */
import type { MappedColumn } from '../domain/model.js';
import { WarehouseError } from '../errors.js';
import { IS_CURRENT_COLUMN, isInstant, ROW_HASH_COLUMN, VALID_FROM_COLUMN, VALID_TO_COLUMN } from '../ports/history.js';
import type { LoadHistory, LoadRequest } from '../ports/index.js';
import { quoteAnsi } from './sql.js';
import { canonicalValue } from './verify/canonical.js';

export type HistoryDialect = 'duckdb' | 'redshift';

/** The history columns' DDL, in table order. TIMESTAMPTZ in both warehouses: an instant, whatever the session zone. */
export function historyColumnDefs(): { name: string; type: string }[] {
  return [
    { name: VALID_FROM_COLUMN, type: 'TIMESTAMPTZ' },
    { name: VALID_TO_COLUMN, type: 'TIMESTAMPTZ' },
    { name: IS_CURRENT_COLUMN, type: 'BOOLEAN' },
    { name: ROW_HASH_COLUMN, type: 'VARCHAR(32)' },
  ];
}

/** The columns whose changes open a new version: every loaded column except the ignored ones, in name order. */
export function trackedColumns(req: Pick<LoadRequest, 'columns'>, history: LoadHistory): MappedColumn[] {
  const ignored = new Set(history.ignoredColumns.map((c) => c.toLowerCase()));
  return req.columns
    .filter((c) => !ignored.has(c.target.toLowerCase()))
    .sort((a, b) => (a.target < b.target ? -1 : a.target > b.target ? 1 : 0));
}

/** The loaded columns whose changes open no version (updated in the current version in place). */
export function ignoredColumns(req: Pick<LoadRequest, 'columns'>, history: LoadHistory): MappedColumn[] {
  const ignored = new Set(history.ignoredColumns.map((c) => c.toLowerCase()));
  return req.columns.filter((c) => ignored.has(c.target.toLowerCase()));
}

/** A column name as a SQL string literal (names are identifiers, not data; a quote inside is doubled). */
function nameLiteral(name: string): string {
  if (name.includes('\0')) throw new WarehouseError(`column name ${JSON.stringify(name)} contains NUL`);
  return `'${name.replace(/'/g, "''")}'`;
}

/**
 * The row's hash over `tracked` (unqualified column references, evaluated on the table being selected from): the
 * lower-case hex MD5 of the text described above. MD5 is the same function on DuckDB, PostgreSQL and Redshift.
 */
export function rowHashSql(dialect: HistoryDialect, tracked: readonly MappedColumn[]): string {
  if (tracked.length === 0) return `MD5('')`;
  const parts = tracked.map(
    (c) => `COALESCE(${nameLiteral(c.target)} || CHR(29) || ${canonicalValue(dialect, c)} || CHR(31), '')`,
  );
  return `MD5(${parts.join(' || ')})`;
}

/**
 * The run's timestamp as a SQL literal, for Redshift's batches (which take no parameters): only an instant matching
 * isInstant's strict pattern gets here, so the literal holds digits, `-`, `:`, `.`, `T` and `Z` and nothing else.
 */
export function instantLiteral(instant: string): string {
  if (!isInstant(instant)) throw new WarehouseError(`not an ISO-8601 UTC instant: ${JSON.stringify(instant)}`);
  return `CAST('${instant.replace('T', ' ').replace('Z', '+00')}' AS TIMESTAMPTZ)`;
}

/** The key match of the target (`t`, qualified as the caller writes it) and another table (`s`). */
export function keyMatch(t: string, s: string, key: readonly string[]): string {
  return key.map((k) => `${t}.${quoteAnsi(k)} = ${s}.${quoteAnsi(k)}`).join(' AND ');
}

/**
 * The versions valid at an instant, as a predicate on the history table: opened at or before it, and not closed at
 * or before it (`_hw_valid_to` is exclusive). `at` is SQL for a TIMESTAMPTZ (a bound, cast parameter).
 */
export function validAtSql(at: string): string {
  const from = quoteAnsi(VALID_FROM_COLUMN);
  const to = quoteAnsi(VALID_TO_COLUMN);
  return `${from} <= ${at} AND (${to} IS NULL OR ${to} > ${at})`;
}

/**
 * What to do when a history table's column cannot take the source's new type (a narrowing, another type). Not
 * `highwater resync`: a history table is never rebuilt (that would drop its versions), so resync would be refused
 * the same way. `table` is the source table, as `-t` takes it.
 */
export function historyTypeChangeSuggestion(table: string): string {
  return (
    'A history table is never rebuilt (that would lose its versions), so `highwater resync` cannot fix this. ' +
    'To keep the history: change the warehouse column by hand to a type that holds the old and the new values ' +
    `(every version keeps its value), then run \`highwater resync -t ${table}\` (it compares every row with its ` +
    'current version). To start a new history instead: give the table a new target_name and run ' +
    `\`highwater resync -t ${table}\` (the old table keeps the versions so far). Or change the source column back.`
  );
}
