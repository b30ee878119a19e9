/**
 * A watermark typed by hand (`watermark set`), checked against the cursor columns before it is stored: a value
 * the next run's window cannot compare with its column (`2025-13-45`, an id `abc` for an integer key) would make
 * that run fail, or worse, compare as text and skip rows.
 */
import type { TableConfig } from '../domain/config.js';
import type { SourceColumn } from '../domain/model.js';
import { ConfigError } from '../errors.js';
import { findSourceColumn } from './strategies/columns.js';

const DATETIME_RE = /^(\d{4})-(\d{2})-(\d{2})(?: (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?)?$/;
const INTEGER_TYPES = new Set(['tinyint', 'smallint', 'mediumint', 'int', 'integer', 'bigint', 'year']);

/** Why `text` is not a date-time MySQL stores, or undefined when it is one. */
export function dateTimeProblem(text: string): string | undefined {
  const m = DATETIME_RE.exec(text);
  if (!m) return "is not 'YYYY-MM-DD HH:MM:SS[.ffffff]'";
  const [y, mo, d, h = '0', mi = '0', s = '0'] = m.slice(1).map((v) => v ?? '0') as string[];
  const [year, month, day, hour, minute, second] = [y, mo, d, h, mi, s].map(Number) as number[];
  if (month! < 1 || month! > 12) return `has month ${mo}`;
  const days = new Date(Date.UTC(year!, month!, 0)).getUTCDate();
  if (day! < 1 || day! > days) return `has day ${d}, and ${y}-${mo} has ${days} days`;
  if (hour! > 23 || minute! > 59 || second! > 59) return `has time ${h}:${mi}:${s}`;
  return undefined;
}

function integerColumn(c: SourceColumn): { unsigned: boolean } | undefined {
  const t = c.dataType.toLowerCase();
  if (INTEGER_TYPES.has(t)) return { unsigned: /unsigned/.test(c.columnType.toLowerCase()) };
  if ((t === 'decimal' || t === 'numeric') && c.numericScale === 0) return { unsigned: /unsigned/.test(c.columnType) };
  return undefined;
}

/**
 * Checks `--timestamp` and `--id` for the table; `columns` are the source's (or the last run's) when known —
 * without them only the format of the timestamp can be checked.
 */
export function checkWatermarkInput(
  table: TableConfig,
  columns: readonly SourceColumn[] | undefined,
  input: { ts?: string; id?: string },
): void {
  if (input.ts !== undefined) {
    if (table.timestampFormat === 'unix') {
      if (!/^\d+$/.test(input.ts)) {
        throw new ConfigError(
          `--timestamp ${JSON.stringify(input.ts)} is not a whole number of seconds (timestamp_format unix)`,
        );
      }
    } else {
      const problem = dateTimeProblem(input.ts);
      if (problem) throw new ConfigError(`--timestamp ${JSON.stringify(input.ts)} ${problem}`);
    }
  }
  if (input.id !== undefined) {
    if (input.id.trim() === '') throw new ConfigError('--id must not be empty');
    const col = columns ? findSourceColumn(columns, table.idColumn) : undefined;
    const integer = col ? integerColumn(col) : undefined;
    if (col && integer) {
      const re = integer.unsigned ? /^\d+$/ : /^-?\d+$/;
      if (!re.test(input.id)) {
        throw new ConfigError(
          `--id ${JSON.stringify(input.id)} is not ${integer.unsigned ? 'a non-negative integer' : 'an integer'}, and ${table.name}.${col.name} (cdc_id_column) is ${col.columnType}`,
        );
      }
    }
  }
}
