/**
 * What changed in a source table's columns since the last committed run, decided from the type map's logical
 * types (so `int(11)` → `int` is no change, and VARCHAR(10) → VARCHAR(40) is a widening every warehouse can take):
 *
 * - added: rows already in the warehouse need the column's value, so the run re-reads the whole table;
 * - dropped: the warehouse keeps the column, NULL from then on (or drops it: `on_column_drop: drop`), with a warning;
 * - a drop and an add of the same type at the same position: reported as a likely rename (still drop + add);
 * - widened: the warehouse column is widened by the load;
 * - anything else (a narrowing, a new type): a SchemaChangeError before anything is read or changed;
 *   `highwater resync` rebuilds the table.
 */

import type { LogicalType, SourceColumn } from '../domain/model.js';
import { SchemaChangeError } from '../errors.js';
import { historyTypeChangeSuggestion } from './history.js';
import { logicalType } from './type-map.js';

export type TypeChange = 'same' | 'widened' | 'incompatible';

/** Decimal digits every value of an integer kind can need. */
const INTEGER_DIGITS: Partial<Record<LogicalType['kind'], number>> = { int16: 5, int32: 10, int64: 19 };
const INTEGER_RANK: Partial<Record<LogicalType['kind'], number>> = { int16: 1, int32: 2, int64: 3 };

/** Whether a warehouse column holding `from` values can be made to hold `to` values without losing any. */
export function logicalChange(from: LogicalType, to: LogicalType): TypeChange {
  if (from.kind === 'decimal' && to.kind === 'decimal') {
    if (from.precision === to.precision && from.scale === to.scale) return 'same';
    const fits = to.scale >= from.scale && to.precision - to.scale >= from.precision - from.scale;
    return fits ? 'widened' : 'incompatible';
  }
  const fromRank = INTEGER_RANK[from.kind];
  if (fromRank !== undefined) {
    const toRank = INTEGER_RANK[to.kind];
    if (toRank !== undefined) return toRank === fromRank ? 'same' : toRank > fromRank ? 'widened' : 'incompatible';
    if (to.kind === 'decimal') {
      // Every old value fits when the integer part has room for every digit (the warehouses' rule too).
      return to.precision - to.scale >= (INTEGER_DIGITS[from.kind] ?? 99) ? 'widened' : 'incompatible';
    }
    return 'incompatible';
  }
  if ((from.kind === 'string' && to.kind === 'string') || (from.kind === 'binary' && to.kind === 'binary')) {
    // A wider warehouse column already takes every value of a narrower source column.
    return to.maxBytes > from.maxBytes ? 'widened' : 'same';
  }
  if (from.kind === 'float32' && to.kind === 'float64') return 'widened';
  if (from.kind === 'timestamp' && to.kind === 'timestamp') return from.utc === to.utc ? 'same' : 'incompatible';
  return from.kind === to.kind ? 'same' : 'incompatible';
}

export interface ColumnTypeChange {
  column: string;
  from: string;
  to: string;
}

export interface SchemaDiff {
  added: SourceColumn[];
  dropped: SourceColumn[];
  widened: ColumnTypeChange[];
  incompatible: ColumnTypeChange[];
  /** Drop + add pairs that look like a rename (same type, same position). */
  renamed: { from: string; to: string }[];
}

const key = (name: string) => name.toLowerCase();

/** The difference from the columns of the last committed run (`previous`, null when unknown) to `current`. */
export function diffColumns(previous: readonly SourceColumn[] | null, current: readonly SourceColumn[]): SchemaDiff {
  const diff: SchemaDiff = { added: [], dropped: [], widened: [], incompatible: [], renamed: [] };
  if (previous === null) return diff;
  const before = new Map(previous.map((c) => [key(c.name), c]));
  const now = new Map(current.map((c) => [key(c.name), c]));
  for (const c of current) {
    const old = before.get(key(c.name));
    if (!old) {
      diff.added.push(c);
      continue;
    }
    const change = logicalChange(logicalType(old), logicalType(c));
    if (change === 'same') continue;
    const entry = { column: c.name, from: old.columnType, to: c.columnType };
    (change === 'widened' ? diff.widened : diff.incompatible).push(entry);
  }
  for (const c of previous) if (!now.has(key(c.name))) diff.dropped.push(c);
  for (const d of diff.dropped) {
    const twin = diff.added.find((a) => a.ordinal === d.ordinal && a.columnType === d.columnType);
    if (twin) diff.renamed.push({ from: d.name, to: twin.name });
  }
  return diff;
}

/**
 * Refuses changes the warehouse cannot follow in place, naming table, column, old and new type. A history table
 * (`history`) is never rebuilt, so its refusal does not suggest resync (engine/history.ts).
 */
export function refuseIncompatible(table: string, diff: SchemaDiff, history = false): void {
  const first = diff.incompatible[0];
  if (!first) return;
  const all = diff.incompatible.map((c) => `${c.column} ${c.from} → ${c.to}`).join(', ');
  const what = history ? "the history table's column" : 'the warehouse column';
  throw new SchemaChangeError(
    `${table}: column ${first.column} changed from ${first.from} to ${first.to} at the source, which ${what} cannot take in place (${all}); nothing was read or changed`,
    {
      suggestion: history
        ? historyTypeChangeSuggestion(table)
        : `Run \`highwater resync -t ${table}\` to rebuild the table from the source, then sync as before.`,
    },
  );
}

/** One line per change, for the run report and `status`. */
export function schemaWarnings(diff: SchemaDiff, onColumnDrop: 'keep' | 'drop'): string[] {
  const out: string[] = [];
  const renamed = new Set(diff.renamed.flatMap((r) => [key(r.from), key(r.to)]));
  for (const r of diff.renamed) {
    out.push(
      `column ${r.from} is gone and ${r.to} is new (a rename?): ${r.to} is filled for every row by re-reading the table; ` +
        (onColumnDrop === 'drop'
          ? `${r.from} is dropped from the warehouse`
          : `${r.from} stays in the warehouse, NULL from now on`),
    );
  }
  for (const a of diff.added) {
    if (renamed.has(key(a.name))) continue;
    out.push(
      `column ${a.name} (${a.columnType}) is new at the source: this run re-reads the whole table so every row gets it`,
    );
  }
  for (const d of diff.dropped) {
    if (renamed.has(key(d.name))) continue;
    out.push(
      onColumnDrop === 'drop'
        ? `column ${d.name} was dropped at the source and is dropped from the warehouse (on_column_drop: drop)`
        : `column ${d.name} was dropped at the source: the warehouse keeps it, NULL for rows loaded from now on (on_column_drop: drop removes it)`,
    );
  }
  for (const w of diff.widened)
    out.push(`column ${w.column} widened from ${w.from} to ${w.to}: the warehouse column is widened`);
  return out;
}
