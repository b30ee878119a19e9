/**
 * Redshift DDL from a LoadRequest: column types from the shared type map, DISTSTYLE / DISTKEY / SORTKEY from the
 * table's YAML, and the canonical spelling the catalog reports (format_type) so existing columns can be compared.
 */
import type { MappedColumn } from '../../engine/model.js';
import { qualifiedAnsi, quoteAnsi } from '../../engine/sql.js';
import { redshiftType } from '../../engine/type-map.js';
import type { LoadRequest, TargetTable } from '../../ports/index.js';
import { WarehouseError } from '../../runtime/errors.js';

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

// ── Comparing with the catalog ─────────────────────────────────────────────────────────────────────────────────

export interface ParsedType {
  base: string;
  args: number[];
}

/** `character varying(256)` → { base: 'character varying', args: [256] }. */
export function parseType(text: string): ParsedType {
  const m = /^\s*([a-z ]+?)\s*(?:\(([\d,\s]+)\))?\s*$/i.exec(text);
  if (!m) return { base: text.trim().toLowerCase(), args: [] };
  const args = (m[2] ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map(Number);
  return { base: (m[1] ?? '').toLowerCase(), args };
}

const CANONICAL: Record<string, string> = {
  VARCHAR: 'character varying',
  DECIMAL: 'numeric',
  TIMESTAMP: 'timestamp without time zone',
  TIMESTAMPTZ: 'timestamp with time zone',
};

/** Our DDL spelling → the catalog's (`format_type`): VARCHAR(10) → character varying(10), DECIMAL → numeric, … */
export function canonicalType(ddl: string): ParsedType {
  const p = parseType(ddl);
  return { base: CANONICAL[p.base.toUpperCase()] ?? p.base.toLowerCase(), args: p.args };
}

/** Length-limited types where a wider existing column still takes every value the source sends. */
const WIDENABLE = new Set(['character varying', 'varbyte']);

/** undefined when the existing column takes the wanted type's values; otherwise why not. */
export function typeConflict(existing: string, wantedDdl: string): string | undefined {
  const have = parseType(existing);
  const want = canonicalType(wantedDdl);
  if (have.base !== want.base) return `${existing} in the warehouse but the source now maps to ${wantedDdl}`;
  const [haveLen] = have.args;
  const [wantLen] = want.args;
  if (WIDENABLE.has(have.base)) {
    if (haveLen !== undefined && wantLen !== undefined && haveLen < wantLen) {
      return `${existing} in the warehouse, narrower than the ${wantedDdl} the source now needs`;
    }
    return undefined;
  }
  if (have.args.length && want.args.length && have.args.join(',') !== want.args.join(',')) {
    return `${existing} in the warehouse but the source now maps to ${wantedDdl}`;
  }
  return undefined;
}
