/**
 * The apply batch of a Redshift history load (SCD type 2, docs/history.md): the same steps, in the same order, as
 * DuckDB's (local/adapters/duckdb/history.ts), as UPDATE + INSERT in the load's one transaction (no MERGE). A batch
 * takes no parameters, so the run's timestamp is a literal (engine/history.ts instantLiteral: a strictly checked
 * instant, nothing else); no value of the data appears in the text. The target is named in full (Redshift's DELETE
 * takes no alias; UPDATE is written the same way). Every subquery is correlated one level deep in a WHERE clause,
 * a pattern Redshift decorrelates (https://docs.aws.amazon.com/redshift/latest/dg/r_correlated_subqueries.html
 * lists the unsupported ones: skip-level references, references from an ON clause or a window function).
 */
import type { MappedColumn } from '../../domain/model.js';
import {
  historyColumnDefs,
  ignoredColumns,
  instantLiteral,
  keyMatch,
  rowHashSql,
  trackedColumns,
} from '../../engine/history.js';
import { quoteAnsi } from '../../engine/sql.js';
import { IS_CURRENT_COLUMN, ROW_HASH_COLUMN, VALID_FROM_COLUMN, VALID_TO_COLUMN } from '../../ports/history.js';
import type { LoadHistory, LoadRequest, TargetTable } from '../../ports/index.js';
import { assertIdentifier, columnType, type JsonAs, qualified } from './ddl.js';
import { dropSql } from './load-sql.js';

const HASH = quoteAnsi(ROW_HASH_COLUMN);

/** The statements of the apply batch that changes history, and where the counts of the result are. */
export interface HistoryStatements {
  sqls: string[];
  /** Offsets within `sqls` (the caller adds where they start in the batch). */
  closedAtSource: number[];
  closedChanged: number;
  insertAt: number;
}

function columnList(columns: readonly MappedColumn[]): string {
  return columns.map((c) => quoteAnsi(c.target)).join(', ');
}

export function addHistoryColumnSqls(target: TargetTable): string[] {
  return historyColumnDefs().map((c) => `ALTER TABLE ${qualified(target)} ADD COLUMN ${quoteAnsi(c.name)} ${c.type}`);
}

/** A plain table becoming a history table: each of its rows is the current version, opened by this run. */
export function adoptRowsSql(target: TargetTable, tracked: readonly MappedColumn[], ts: string): string {
  return (
    `UPDATE ${qualified(target)} SET ${quoteAnsi(VALID_FROM_COLUMN)} = ${ts}, ${quoteAnsi(IS_CURRENT_COLUMN)} = TRUE, ` +
    `${HASH} = ${rowHashSql('redshift', tracked)}`
  );
}

/** The newest version's valid_from later than this run (1) or not (0), and that instant as text, for batch A. */
export function newestVersionSql(target: TargetTable, validFrom: string): string {
  const from = quoteAnsi(VALID_FROM_COLUMN);
  return (
    `SELECT CASE WHEN MAX(${from}) > ${instantLiteral(validFrom)} THEN 1 ELSE 0 END AS "later", ` +
    `CAST(MAX(${from}) AS VARCHAR) AS "newest" FROM ${qualified(target)}`
  );
}

/** The deduped staged rows (the newest cursor per key, as insertSql keeps), JSON parsed, with their hash. */
function hashedSql(
  hist: TargetTable,
  stage: TargetTable,
  req: LoadRequest,
  tracked: readonly MappedColumn[],
  jsonAs: JsonAs,
): string {
  const parsed = req.columns
    .map((c) =>
      c.type.kind === 'json' && columnType(c, jsonAs) === 'SUPER'
        ? `JSON_PARSE(${quoteAnsi(c.target)}) AS ${quoteAnsi(c.target)}`
        : quoteAnsi(c.target),
    )
    .join(', ');
  const order = req.cursorColumns.length
    ? ` ORDER BY ${req.cursorColumns.map((c) => `${quoteAnsi(c)} DESC NULLS LAST`).join(', ')}`
    : '';
  const dedup =
    `SELECT ${parsed} FROM (SELECT ${columnList(req.columns)}, ROW_NUMBER() OVER (PARTITION BY ` +
    `${req.primaryKey.map(quoteAnsi).join(', ')}${order}) AS "__hw_rn" FROM ${qualified(stage)}) AS "__hw_d" WHERE "__hw_rn" = 1`;
  return `CREATE TABLE ${qualified(hist)} AS SELECT *, CAST(${rowHashSql('redshift', tracked)} AS VARCHAR(32)) AS ${HASH} FROM (${dedup}) AS "__hw_h"`;
}

function closeSql(target: TargetTable, ts: string, where: string): string {
  const t = qualified(target);
  return (
    `UPDATE ${t} SET ${quoteAnsi(VALID_TO_COLUMN)} = ${ts}, ${quoteAnsi(IS_CURRENT_COLUMN)} = FALSE ` +
    `WHERE ${t}.${quoteAnsi(IS_CURRENT_COLUMN)} AND ${where}`
  );
}

/** Differs, NULL-safe (Redshift has no IS DISTINCT FROM); SUPER compared as its serialised text. */
function differs(a: string, b: string, column: MappedColumn, jsonAs: JsonAs): string {
  const [x, y] =
    column.type.kind === 'json' && columnType(column, jsonAs) === 'SUPER'
      ? [`JSON_SERIALIZE(${a})`, `JSON_SERIALIZE(${b})`]
      : [a, b];
  return `${x} <> ${y} OR (${x} IS NULL) <> (${y} IS NULL)`;
}

/**
 * Every statement of the history step of the apply batch, after the table is created or evolved (and given the
 * history columns) and the deleted keys are staged in `keys`: hash the read rows, close deleted (and, full_sync,
 * unread) keys, close changed keys, update ignored columns in place, open versions, check, drop the work tables.
 */
export function historyStatements(
  req: LoadRequest,
  history: LoadHistory,
  stage: TargetTable,
  keys: TargetTable | undefined,
  jsonAs: JsonAs,
): HistoryStatements {
  const target = req.target;
  const t = qualified(target);
  const hist: TargetTable = { schema: stage.schema, name: `${stage.name}_hist` };
  assertIdentifier(hist.name, 'staging table name');
  const h = qualified(hist);
  const ts = instantLiteral(history.validFrom);
  const key = req.primaryKey;
  const current = `${t}.${quoteAnsi(IS_CURRENT_COLUMN)}`;
  const sqls = [hashedSql(hist, stage, req, trackedColumns(req, history), jsonAs)];
  const closedAtSource: number[] = [];
  const readHere = `EXISTS (SELECT 1 FROM ${h} AS "s" WHERE ${keyMatch(t, '"s"', key)})`;
  if (keys && req.mode !== 'replace') {
    const deleted = `EXISTS (SELECT 1 FROM ${qualified(keys)} AS "k" WHERE ${keyMatch(t, '"k"', key)})`;
    closedAtSource.push(sqls.push(closeSql(target, ts, `${deleted} AND NOT ${readHere}`)) - 1);
  }
  if (req.mode === 'replace' && history.closeUnread) {
    closedAtSource.push(sqls.push(closeSql(target, ts, `NOT ${readHere}`)) - 1);
  }
  const changed = `EXISTS (SELECT 1 FROM ${h} AS "s" WHERE ${keyMatch(t, '"s"', key)} AND "s".${HASH} <> ${t}.${HASH})`;
  const closedChanged = sqls.push(closeSql(target, ts, changed)) - 1;
  const ignored = ignoredColumns(req, history);
  if (ignored.length > 0) {
    const set = ignored.map((c) => `${quoteAnsi(c.target)} = "s".${quoteAnsi(c.target)}`).join(', ');
    const differ = ignored
      .map((c) => differs(`${t}.${quoteAnsi(c.target)}`, `"s".${quoteAnsi(c.target)}`, c, jsonAs))
      .join(' OR ');
    sqls.push(
      `UPDATE ${t} SET ${set} FROM ${h} AS "s" WHERE ${keyMatch(t, '"s"', key)} AND ${current} ` +
        `AND ${t}.${HASH} = "s".${HASH} AND (${differ})`,
    );
  }
  const names = columnList(req.columns);
  const own = [VALID_FROM_COLUMN, VALID_TO_COLUMN, IS_CURRENT_COLUMN, ROW_HASH_COLUMN].map(quoteAnsi).join(', ');
  const insertAt =
    sqls.push(
      `INSERT INTO ${t} (${names}, ${own}) SELECT ${names}, ${ts}, NULL, TRUE, ${HASH} FROM ${h} AS "s" ` +
        `WHERE NOT EXISTS (SELECT 1 FROM ${t} WHERE ${keyMatch(t, '"s"', key)} AND ${current})`,
    ) - 1;
  // The hand-off check, inside the transaction: every read key has exactly one current version and it carries the
  // read hash, and no key has two. A batch cannot branch, so a failed check divides by zero: the statement fails,
  // and with it the whole batch rolls back (the load reports the error; nothing changed).
  const settled = `(SELECT COUNT(*) FROM ${h} AS "s" JOIN ${t} ON ${keyMatch(t, '"s"', key)} AND ${current} AND ${t}.${HASH} = "s".${HASH})`;
  const read = `(SELECT COUNT(*) FROM ${h})`;
  const doubled = `(SELECT COUNT(*) FROM (SELECT 1 FROM ${t} WHERE ${current} GROUP BY ${key.map(quoteAnsi).join(', ')} HAVING COUNT(*) > 1) AS "d")`;
  sqls.push(
    `SELECT 1 / (CASE WHEN ${settled} = ${read} AND ${doubled} = 0 THEN 1 ELSE 0 END) AS "history_versions_check"`,
  );
  sqls.push(dropSql(hist));
  return { sqls, closedAtSource, closedChanged, insertAt };
}
