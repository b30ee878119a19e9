/**
 * A query's result on stdout: a text table (numbers right-aligned, widths by display width, long cells cut), CSV
 * as RFC 4180 writes it, or JSON. Pure functions of the result, tested on their own.
 */
import type { JsValue } from '../../lambdas/local/adapters/duckdb/values.js';
import { truncateTo } from './display-width.js';
import { type Align, textTable } from './text-table.js';

/** DuckDB's numeric types: their columns are right-aligned. */
const NUMERIC =
  /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT|FLOAT|DOUBLE|DECIMAL)/;

/** A text cell is cut to this many columns (the full value is in --csv and --json). */
export const MAX_CELL_WIDTH = 60;

/** A value as one line of text: NULL as `NULL`, bytes as `\x…` hex, nested values as JSON, controls escaped. */
export function cellText(v: JsValue, nullText = 'NULL'): string {
  if (v === null) return nullText;
  if (Buffer.isBuffer(v)) return `\\x${v.toString('hex')}`;
  if (typeof v === 'object') return JSON.stringify(toJson(v));
  return String(v);
}

/** A value for JSON output: bytes as `\x…` hex text (JSON has no bytes), the rest as it is. */
export function toJson(v: JsValue): unknown {
  if (v === null || typeof v !== 'object') return v;
  if (Buffer.isBuffer(v)) return `\\x${v.toString('hex')}`;
  if (Array.isArray(v)) return v.map(toJson);
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, toJson(x)]));
}

/** Control characters (a newline in a cell) shown as escapes, so a row stays one line. */
function oneLine(s: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is escaped here
  return s.replace(/[\u0000-\u001f\u007f]/g, (c) =>
    c === '\n'
      ? '\\n'
      : c === '\t'
        ? '\\t'
        : c === '\r'
          ? '\\r'
          : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`,
  );
}

export function renderTextTable(
  columns: readonly { name: string; type: string }[],
  rows: readonly JsValue[][],
): string[] {
  const align: Align[] = columns.map((c) => (NUMERIC.test(c.type) ? 'right' : 'left'));
  const cells = rows.map((r) => r.map((v) => truncateTo(oneLine(cellText(v)), MAX_CELL_WIDTH)));
  return textTable([columns.map((c) => truncateTo(oneLine(c.name), MAX_CELL_WIDTH)), ...cells], align);
}

/**
 * One CSV field as RFC 4180 section 2 quotes it (https://www.rfc-editor.org/rfc/rfc4180#section-2): in double
 * quotes when it holds a comma, a double quote, CR or LF, with each double quote doubled. NULL is an empty field.
 */
export function csvField(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** The header and each row as CSV records, CRLF-terminated as RFC 4180 writes them. */
export function renderCsv(columns: readonly { name: string }[], rows: readonly JsValue[][]): string {
  const records = [columns.map((c) => csvField(c.name)).join(',')];
  for (const r of rows) records.push(r.map((v) => csvField(cellText(v, ''))).join(','));
  return `${records.join('\r\n')}\r\n`;
}
