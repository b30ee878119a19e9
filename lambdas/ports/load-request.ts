/**
 * Checks every warehouse adapter applies to a LoadRequest and its result, so DuckDB and Redshift refuse and
 * verify the same things.
 */

import { CountMismatchError, WarehouseError } from '../errors.js';
import type { LoadRequest } from './index.js';

export function tableLabel(req: Pick<LoadRequest, 'target'>): string {
  return `${req.target.schema}.${req.target.name}`;
}

/** Rejects requests no warehouse could carry out, before anything is touched. */
export function validateRequest(req: LoadRequest): void {
  const table = tableLabel(req);
  if (req.columns.length === 0) throw new WarehouseError(`load of ${table}: no columns given`);
  const names = new Set<string>();
  for (const c of req.columns) {
    const key = c.target.toLowerCase();
    if (names.has(key)) throw new WarehouseError(`load of ${table}: column ${c.target} is listed twice`);
    names.add(key);
  }
  for (const [role, list] of [
    ['primary key', req.primaryKey],
    ['cursor', req.cursorColumns],
  ] as const) {
    for (const name of list) {
      if (!names.has(name.toLowerCase())) {
        throw new WarehouseError(`load of ${table}: ${role} column ${name} is not among the loaded columns`);
      }
    }
  }
  if (req.mode === 'merge' && req.primaryKey.length === 0) {
    throw new WarehouseError(`load of ${table}: merge needs a primary key and none was given`, {
      suggestion: 'Declare a primary key for the table, or use full_sync.',
    });
  }
  if (req.onColumnDrop !== 'keep' && req.onColumnDrop !== 'drop') {
    throw new WarehouseError(
      `load of ${table}: onColumnDrop must be keep or drop, got ${JSON.stringify(req.onColumnDrop)}`,
    );
  }
  if (!Number.isSafeInteger(req.expectedRows) || req.expectedRows < 0) {
    throw new WarehouseError(`load of ${table}: expectedRows must be a non-negative integer, got ${req.expectedRows}`);
  }
}

/** The last hand-off check: every distinct staged key (or staged row, without a key) became exactly one row. */
export function checkInserted(table: string, inserted: number, expected: number, keyed: boolean): void {
  if (inserted === expected) return;
  throw new CountMismatchError(
    `load of ${table}: inserted ${inserted} rows but staged ${expected} ${keyed ? 'distinct keys' : 'rows'}; rolled back`,
  );
}
