/**
 * SQL of a DuckDB history load (docs/history.md). `$1` is always the run's timestamp (LoadHistory.validFrom), bound
 * as text and cast to TIMESTAMPTZ; identifiers are quoted; no value of the data appears in the text.
 */
import type { MappedColumn } from '../../../domain/model.js';
import { historyColumnDefs, keyMatch, rowHashSql } from '../../../engine/history.js';
import { quoteAnsi } from '../../../engine/sql.js';
import { IS_CURRENT_COLUMN, ROW_HASH_COLUMN, VALID_FROM_COLUMN, VALID_TO_COLUMN } from '../../../ports/history.js';
import { columnList, type Dedupe, qualifyNewestSql } from './load-sql.js';

const TS = 'CAST($1 AS TIMESTAMPTZ)';
const CURRENT = `t.${quoteAnsi(IS_CURRENT_COLUMN)}`;
const HASH = quoteAnsi(ROW_HASH_COLUMN);

export function addHistoryColumnSqls(qualifiedName: string): string[] {
  return historyColumnDefs().map((c) => `ALTER TABLE ${qualifiedName} ADD COLUMN ${quoteAnsi(c.name)} ${c.type}`);
}

/** A plain table becoming a history table: each of its rows is the current version, opened by this run. */
export function adoptRowsSql(qualifiedName: string, tracked: readonly MappedColumn[]): string {
  return (
    `UPDATE ${qualifiedName} SET ${quoteAnsi(VALID_FROM_COLUMN)} = ${TS}, ${quoteAnsi(IS_CURRENT_COLUMN)} = true, ` +
    `${HASH} = ${rowHashSql('duckdb', tracked)}`
  );
}

/** The deduped staged rows with their hash. */
export function hashedSql(
  histName: string,
  staged: { relation: string; dedupe?: Dedupe | undefined },
  columns: readonly MappedColumn[],
  tracked: readonly MappedColumn[],
): string {
  const names = columns.map((c) => quoteAnsi(c.target)).join(', ');
  const select = `SELECT ${names}, ${rowHashSql('duckdb', tracked)} AS ${HASH} FROM ${staged.relation} AS s`;
  return `CREATE TEMP TABLE ${quoteAnsi(histName)} AS ${select}${staged.dedupe ? ` ${qualifyNewestSql(staged.dedupe)}` : ''}`;
}

/** The newest version's valid_from, as text: a run older than it would make history go backwards. */
export function newestVersionSql(qualifiedName: string): string {
  return `SELECT CAST(max(${quoteAnsi(VALID_FROM_COLUMN)}) > ${TS} AS VARCHAR), CAST(max(${quoteAnsi(VALID_FROM_COLUMN)}) AS VARCHAR) FROM ${qualifiedName}`;
}

function closeSql(qualifiedName: string, where: string): string {
  return (
    `UPDATE ${qualifiedName} AS t SET ${quoteAnsi(VALID_TO_COLUMN)} = ${TS}, ${quoteAnsi(IS_CURRENT_COLUMN)} = false ` +
    `WHERE ${CURRENT} AND ${where}`
  );
}

/** Closes the current versions of deleted keys, except keys the load also read (present at the source after all). */
export function closeDeletedSql(
  qualifiedName: string,
  keysName: string,
  histName: string,
  key: readonly string[],
): string {
  return closeSql(
    qualifiedName,
    `EXISTS (SELECT 1 FROM ${quoteAnsi(keysName)} AS k WHERE ${keyMatch('t', 'k', key)}) ` +
      `AND NOT EXISTS (SELECT 1 FROM ${quoteAnsi(histName)} AS s WHERE ${keyMatch('t', 's', key)})`,
  );
}

/** Closes the current versions of keys the load did not read (full_sync replace: the source no longer has them). */
export function closeUnreadSql(qualifiedName: string, histName: string, key: readonly string[]): string {
  return closeSql(
    qualifiedName,
    `NOT EXISTS (SELECT 1 FROM ${quoteAnsi(histName)} AS s WHERE ${keyMatch('t', 's', key)})`,
  );
}

/** Closes the current versions whose tracked columns changed (their new version is inserted next). */
export function closeChangedSql(qualifiedName: string, histName: string, key: readonly string[]): string {
  return closeSql(
    qualifiedName,
    `EXISTS (SELECT 1 FROM ${quoteAnsi(histName)} AS s WHERE ${keyMatch('t', 's', key)} AND s.${HASH} <> t.${HASH})`,
  );
}

/** Ignored columns take the read values in the current version, where they differ (NULL-safe). */
export function updateIgnoredSql(
  qualifiedName: string,
  histName: string,
  key: readonly string[],
  ignored: readonly MappedColumn[],
): string {
  const set = ignored.map((c) => `${quoteAnsi(c.target)} = s.${quoteAnsi(c.target)}`).join(', ');
  const differ = ignored
    .map((c) => {
      const [a, b] = [`t.${quoteAnsi(c.target)}`, `s.${quoteAnsi(c.target)}`];
      return `${a} <> ${b} OR (${a} IS NULL) <> (${b} IS NULL)`;
    })
    .join(' OR ');
  return (
    `UPDATE ${qualifiedName} AS t SET ${set} FROM ${quoteAnsi(histName)} AS s ` +
    `WHERE ${keyMatch('t', 's', key)} AND ${CURRENT} AND t.${HASH} = s.${HASH} AND (${differ})`
  );
}

/** Opens a version for every read key without a current one (new, changed, or back after a delete). */
export function insertVersionsSql(
  qualifiedName: string,
  histName: string,
  columns: readonly MappedColumn[],
  key: readonly string[],
): string {
  const names = columnList(columns.map((c) => c.target));
  const own = columnList([VALID_FROM_COLUMN, VALID_TO_COLUMN, IS_CURRENT_COLUMN, ROW_HASH_COLUMN]);
  return (
    `INSERT INTO ${qualifiedName} (${names}, ${own}) SELECT ${names}, ${TS}, NULL, true, ${HASH} FROM ${quoteAnsi(histName)} AS s ` +
    `WHERE NOT EXISTS (SELECT 1 FROM ${qualifiedName} AS t WHERE ${keyMatch('t', 's', key)} AND ${CURRENT})`
  );
}

/** Read keys whose current version now carries the read hash (with doubleCurrentSql's 0: every read key, once). */
export function settledKeysSql(qualifiedName: string, histName: string, key: readonly string[]): string {
  return (
    `SELECT count(*) FROM ${quoteAnsi(histName)} AS s JOIN ${qualifiedName} AS t ` +
    `ON ${keyMatch('t', 's', key)} AND ${CURRENT} AND t.${HASH} = s.${HASH}`
  );
}

/** Keys with more than one current version (never, unless the table was changed behind the load's back). */
export function doubleCurrentSql(qualifiedName: string, key: readonly string[]): string {
  return `SELECT count(*) FROM (SELECT 1 FROM ${qualifiedName} WHERE ${quoteAnsi(IS_CURRENT_COLUMN)} GROUP BY ${columnList(key)} HAVING count(*) > 1)`;
}
