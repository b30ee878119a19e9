/**
 * Redshift DDL from a LoadRequest: column types from the shared type map, DISTSTYLE / DISTKEY / SORTKEY from the
 * table's YAML, and the canonical spelling the catalog reports (format_type) so existing columns can be compared.
 */
import type { MappedColumn } from '../../domain/model.js';
import { qualifiedAnsi, quoteAnsi } from '../../engine/sql.js';
import { redshiftType } from '../../engine/type-map.js';
import { WarehouseError } from '../../errors.js';
import type { LoadRequest, TargetTable } from '../../ports/index.js';

/** Redshift identifiers are at most 127 bytes of UTF-8; longer ones would be truncated silently, so refuse them. */
export const MAX_IDENTIFIER_BYTES = 127;
const DISTSTYLES = new Set(['AUTO', 'EVEN', 'KEY', 'ALL']);

export type PhysicalRequest = Pick<LoadRequest, 'target' | 'columns' | 'distkey' | 'sortkey' | 'diststyle'>;
export type JsonAs = 'super' | 'varchar';

export function tableLabel(target: TargetTable): string {
  return `${target.schema}.${target.name}`;
}

export function qualified(target: TargetTable): string {
  return qualifiedAnsi(target.schema, target.name);
}

export function columnType(column: MappedColumn, jsonAs: JsonAs): string {
  return redshiftType(column.type, { jsonAs });
}

export function assertIdentifier(name: string, what: string): void {
  if (Buffer.byteLength(name, 'utf8') > MAX_IDENTIFIER_BYTES) {
    throw new WarehouseError(`${what} ${name} is longer than Redshift's ${MAX_IDENTIFIER_BYTES}-byte identifier limit`);
  }
}

/** The table attributes clause (`DISTSTYLE KEY DISTKEY ("a") COMPOUND SORTKEY ("b", "c")`), validated. */
export function tableAttributes(req: PhysicalRequest): string {
  const table = tableLabel(req.target);
  const names = new Set(req.columns.map((c) => c.target.toLowerCase()));
  const missing = [...(req.distkey ? [req.distkey] : []), ...(req.sortkey ?? [])].filter(
    (n) => !names.has(n.toLowerCase()),
  );
  if (missing.length > 0) {
    throw new WarehouseError(
      `table ${table}: distkey/sortkey column${missing.length > 1 ? 's' : ''} ${missing.join(', ')} ${missing.length > 1 ? 'are' : 'is'} not among the loaded columns`,
      { suggestion: 'Fix distkey / sortkey in the table YAML to name target columns.' },
    );
  }
  const style = req.diststyle?.trim().toUpperCase();
  if (style !== undefined && !DISTSTYLES.has(style)) {
    throw new WarehouseError(`table ${table}: diststyle ${req.diststyle} is not one of AUTO, EVEN, KEY, ALL`);
  }
  if (req.distkey && style !== undefined && style !== 'KEY') {
    throw new WarehouseError(`table ${table}: distkey ${req.distkey} needs diststyle KEY, not ${style}`);
  }
  if (style === 'KEY' && !req.distkey) throw new WarehouseError(`table ${table}: diststyle KEY needs a distkey`);
  const parts: string[] = [];
  if (req.distkey) parts.push(`DISTSTYLE KEY DISTKEY (${quoteAnsi(req.distkey)})`);
  else if (style) parts.push(`DISTSTYLE ${style}`);
  const sortkey = req.sortkey ?? [];
  if (sortkey.length === 1) parts.push(`SORTKEY (${quoteAnsi(sortkey[0] ?? '')})`);
  else if (sortkey.length > 1) parts.push(`COMPOUND SORTKEY (${sortkey.map(quoteAnsi).join(', ')})`);
  return parts.join(' ');
}

/** CREATE TABLE with NOT NULL from the source; no PRIMARY KEY (Redshift does not enforce it, so it would only mislead). */
export function createTableSql(target: TargetTable, req: PhysicalRequest, jsonAs: JsonAs): string {
  assertIdentifier(target.name, 'table name');
  const defs = req.columns.map((c) => {
    assertIdentifier(c.target, `table ${tableLabel(req.target)} column`);
    return `  ${quoteAnsi(c.target)} ${columnType(c, jsonAs)}${c.nullable ? '' : ' NOT NULL'}`;
  });
  const attributes = tableAttributes(req);
  return `CREATE TABLE ${qualified(target)} (\n${defs.join(',\n')}\n)${attributes ? `\n${attributes}` : ''}`;
}

/** One column per statement (Redshift's ADD COLUMN takes one); always nullable, as old rows have no value. */
export function addColumnSql(target: TargetTable, column: MappedColumn, jsonAs: JsonAs): string {
  assertIdentifier(column.target, `table ${tableLabel(target)} column`);
  return `ALTER TABLE ${qualified(target)} ADD COLUMN ${quoteAnsi(column.target)} ${columnType(column, jsonAs)}`;
}

// ── Schema changes (the rule is engine/type-widening.ts; the plan is engine/schema-plan.ts) ───────────────────────
//
// Redshift's ALTER TABLE (https://docs.aws.amazon.com/redshift/latest/dg/r_ALTER_TABLE.html):
// - ALTER COLUMN … TYPE is "A clause that changes the size of a column defined as a VARCHAR data type", with
//   "You can't alter columns within a transaction block (BEGIN ... END)." A Data API batch is one transaction ("The
//   SQL statements in the Sqls parameter of BatchExecuteStatement API operation are run as a single transaction.",
//   https://docs.aws.amazon.com/redshift/latest/mgmt/data-api.html), so it runs as its own statement, before the
//   apply batch.
// - Its ALTER COLUMN takes only TYPE and ENCODE: there is no DROP NOT NULL, and no other type change. Those are a
//   rebuild of the one column inside the apply batch: ADD COLUMN tmp; UPDATE SET tmp = col; DROP COLUMN col;
//   RENAME COLUMN tmp TO col.
// - "You can add only one column in each ALTER TABLE statement." and "You can't add a column that is the
//   distribution key (DISTKEY) or a sort key (SORTKEY) of the table." / "You can't drop a column that is the
//   distribution key (DISTKEY) or a sort key (SORTKEY) of the table." — so a DISTKEY/SORTKEY column cannot be
//   rebuilt (load.ts refuses that before anything runs).

/**
 * Widens a VARCHAR in place, as its own statement (never inside a batch: see above). A wider VARCHAR takes every
 * value the narrower one held, unchanged, so committing it ahead of the load's transaction is safe: if the load
 * then fails, the column is merely wider than it needs to be, and the next load finds it the same.
 */
export function widenVarcharSql(target: TargetTable, column: MappedColumn, jsonAs: JsonAs): string {
  return `ALTER TABLE ${qualified(target)} ALTER COLUMN ${quoteAnsi(column.target)} TYPE ${columnType(column, jsonAs)}`;
}

/** The temporary column of the i-th rebuild in one batch; renamed to the real name by the batch's end. */
export function rebuildColumnName(i: number): string {
  return `__hw_tmp_${i}`;
}

/**
 * Rebuilds one column as `type` inside the apply batch: add a nullable copy, copy every value (the rule only
 * allows widenings, so the assignment cast never loses one), drop the original, rename the copy. The copy is
 * nullable, so a rebuilt column ends nullable even where it was NOT NULL: an added NOT NULL column needs a DEFAULT
 * for the rows already there, and a column with a DEFAULT could never be widened in place again ("You can't alter
 * columns with default values."). The source still sends it NOT NULL, so no NULL arrives. The column moves to the
 * end of the table; every statement names its columns, so the order does not matter.
 */
export function rebuildColumnSqls(target: TargetTable, column: string, type: string, tmp: string): string[] {
  const t = qualified(target);
  return [
    `ALTER TABLE ${t} ADD COLUMN ${quoteAnsi(tmp)} ${type}`,
    `UPDATE ${t} SET ${quoteAnsi(tmp)} = ${quoteAnsi(column)}`,
    `ALTER TABLE ${t} DROP COLUMN ${quoteAnsi(column)}`,
    `ALTER TABLE ${t} RENAME COLUMN ${quoteAnsi(tmp)} TO ${quoteAnsi(column)}`,
  ];
}

export function dropColumnSql(target: TargetTable, column: string): string {
  return `ALTER TABLE ${qualified(target)} DROP COLUMN ${quoteAnsi(column)}`;
}
