/**
 * Two canonical rows with the same key: which columns differ. Texts that differ are compared by what they mean
 * where one value has two spellings: JSON (key order, spacing, number spelling) and floats (a last digit that
 * rounding put on the other side of a tie).
 */
import { isDeepStrictEqual } from 'node:util';
import type { MappedColumn } from '../../domain/model.js';
import { FLOAT_DIGITS } from './canonical.js';

function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false };
  }
}

/** Objects compare without regard to key order (isDeepStrictEqual does that already); arrays in order. */
function sameJson(a: string, b: string): boolean {
  const x = parseJson(a);
  const y = parseJson(b);
  return x.ok && y.ok && isDeepStrictEqual(x.value, y.value);
}

/** `<mantissa of digits digits>e<exponent>` (or `0`), canonical.ts's float text → the number. */
function floatOf(text: string, digits: number): number {
  const [m, e] = text.split('e');
  if (e === undefined) return Number(m);
  return Number(m) * 10 ** (Number(e) - (digits - 1));
}

function sameFloat(a: string, b: string, digits: number): boolean {
  const x = floatOf(a, digits);
  const y = floatOf(b, digits);
  if (!Number.isFinite(x) || !Number.isFinite(y)) return false;
  const scale = Math.max(Math.abs(x), Math.abs(y));
  return Math.abs(x - y) <= scale * 10 ** -(digits - 1);
}

export function sameValue(col: MappedColumn, a: string | null, b: string | null): boolean {
  if (a === b) return true;
  if (a === null || b === null) return false;
  if (col.type.kind === 'json') return sameJson(a, b);
  if (col.type.kind === 'float32' || col.type.kind === 'float64') return sameFloat(a, b, FLOAT_DIGITS[col.type.kind]);
  return false;
}

/** The target names of the columns whose values differ. */
export function changedColumns(
  cols: readonly MappedColumn[],
  source: readonly (string | null)[],
  warehouse: readonly (string | null)[],
): string[] {
  return cols.filter((c, i) => !sameValue(c, source[i] ?? null, warehouse[i] ?? null)).map((c) => c.target);
}
