/**
 * Checks every warehouse adapter applies to a LoadRequest and its result, so DuckDB and Redshift refuse and
 * verify the same things.
 */

import type { MappedColumn } from '../domain/model.js';
import { CountMismatchError, WarehouseError } from '../errors.js';
import { validateHistory } from './history.js';
import type { LoadDeletes, LoadRequest } from './index.js';

/**
 * The column a soft delete sets (TIMESTAMPTZ; NULL = live). Highwater's own, never a source column: schema changes
 * leave it alone (engine/schema-plan.ts), and a request whose columns include it cannot soft-delete.
 */
export const SOFT_DELETE_COLUMN = '_hw_deleted_at';

/** Key types whose MySQL text a warehouse cannot compare as a bound, cast parameter (raw bytes, JSON documents). */
const UNDELETABLE_KEY_KINDS = new Set(['binary', 'json']);

export function tableLabel(req: Pick<LoadRequest, 'target'>): string {
  return `${req.target.schema}.${req.target.name}`;
}

/**
 * The deletes a load applies before its merge: none for replace (its new content already leaves out the rows the
 * source deleted) and none without `deletes`. An empty key list is returned as is (soft still makes sure the column
 * is there).
 */
export function deletesToApply(req: LoadRequest): LoadDeletes | undefined {
  return req.mode === 'replace' ? undefined : req.deletes;
}

function validateDeletes(req: LoadRequest, table: string): void {
  const deletes = req.deletes;
  if (deletes === undefined) return;
  if (deletes.mode !== 'hard' && deletes.mode !== 'soft') {
    throw new WarehouseError(
      `load of ${table}: deletes.mode must be hard or soft, got ${JSON.stringify(deletes.mode)}`,
    );
  }
  if (deletes.mode === 'soft' && req.columns.some((c) => c.target.toLowerCase() === SOFT_DELETE_COLUMN)) {
    throw new WarehouseError(
      `load of ${table}: soft deletes set ${SOFT_DELETE_COLUMN}, but the source has a column of that name`,
      { suggestion: `Rename the column in the table's column mapping, or use hard deletes.` },
    );
  }
  if (req.mode === 'replace') return;
  if (!Array.isArray(deletes.keys)) throw new WarehouseError(`load of ${table}: deletes.keys must be a list of keys`);
  if (req.primaryKey.length === 0) {
    throw new WarehouseError(`load of ${table}: deletes need a primary key and none was given`);
  }
  const byName = new Map(req.columns.map((c) => [c.target.toLowerCase(), c]));
  for (const name of req.primaryKey) {
    const kind = byName.get(name.toLowerCase())?.type.kind;
    if (kind !== undefined && UNDELETABLE_KEY_KINDS.has(kind)) {
      throw new WarehouseError(`load of ${table}: deletes cannot match on primary key column ${name} of type ${kind}`);
    }
  }
  deletes.keys.forEach((key, i) => {
    if (!Array.isArray(key) || key.length !== req.primaryKey.length || key.some((v) => typeof v !== 'string')) {
      throw new WarehouseError(
        `load of ${table}: deleted key ${i + 1} must be ${req.primaryKey.length} text value${req.primaryKey.length > 1 ? 's' : ''} (${req.primaryKey.join(', ')}), got ${JSON.stringify(key)}`,
      );
    }
  });
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
  validateDeletes(req, table);
  validateHistory(req, table);
  for (const [i, group] of (req.fileGroups ?? []).entries()) {
    if (group.columns.length === 0) throw new WarehouseError(`load of ${table}: file group ${i + 1} has no columns`);
    const mine = new Set<string>();
    for (const c of group.columns) {
      const key = c.target.toLowerCase();
      if (mine.has(key))
        throw new WarehouseError(`load of ${table}: file group ${i + 1} lists column ${c.target} twice`);
      mine.add(key);
    }
  }
}

/**
 * The staging table's columns: the request's, then any column only a file group has (so its files stage whole);
 * those extra columns are not loaded.
 */
export function stagingColumns(req: LoadRequest): MappedColumn[] {
  const out = [...req.columns];
  const seen = new Set(out.map((c) => c.target.toLowerCase()));
  for (const group of req.fileGroups ?? []) {
    for (const c of group.columns) {
      if (seen.has(c.target.toLowerCase())) continue;
      seen.add(c.target.toLowerCase());
      out.push({ ...c, nullable: true });
    }
  }
  return out;
}

/** Every file the load stages: the request's own, then each group's. */
export function allFiles(req: LoadRequest): string[] {
  return [...req.files, ...(req.fileGroups ?? []).flatMap((g) => g.files)];
}

/** The last hand-off check: every distinct staged key (or staged row, without a key) became exactly one row. */
export function checkInserted(table: string, inserted: number, expected: number, keyed: boolean): void {
  if (inserted === expected) return;
  throw new CountMismatchError(
    `load of ${table}: inserted ${inserted} rows but staged ${expected} ${keyed ? 'distinct keys' : 'rows'}; rolled back`,
  );
}
