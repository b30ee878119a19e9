/**
 * Data API result fields → plain JS. The Data API already sends exact types as text (DECIMAL, timestamps, SUPER
 * as JSON text, VARBYTE as hex), so only the typed members need converting.
 */
import type { Field } from '@aws-sdk/client-redshift-data';
import { WarehouseError } from '../../errors.js';
import type { ResultSet } from './data-api.js';

export type RedshiftValue = null | boolean | number | string | Buffer;

export function fieldValue(f: Field): RedshiftValue {
  if (f.isNull) return null;
  if (f.booleanValue !== undefined) return f.booleanValue;
  if (f.longValue !== undefined) return f.longValue;
  if (f.doubleValue !== undefined) return f.doubleValue;
  if (f.stringValue !== undefined) return f.stringValue;
  if (f.blobValue !== undefined) return Buffer.from(f.blobValue);
  return null;
}

export function toObjects(result: ResultSet): Record<string, RedshiftValue>[] {
  return result.rows.map((row) => {
    const out: Record<string, RedshiftValue> = {};
    result.columns.forEach((name, i) => {
      const f = row[i];
      out[name] = f === undefined ? null : fieldValue(f);
    });
    return out;
  });
}

/** The single number a `SELECT COUNT(*) …` returned in column `index` of its first row. */
export function countAt(result: ResultSet, index: number, what: string, context: string): number {
  const f = result.rows[0]?.[index];
  const v = f === undefined ? null : fieldValue(f);
  const n = typeof v === 'string' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isSafeInteger(n)) {
    throw new WarehouseError(`${context}: expected a row count for ${what}, got ${JSON.stringify(v)}`);
  }
  return n;
}
