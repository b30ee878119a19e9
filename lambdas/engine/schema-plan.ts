/**
 * What a load must change in an existing target table, decided the same way for every warehouse before anything
 * runs: columns to add, columns to widen (lambdas/engine/type-widening.ts decides), columns the source dropped to
 * keep (made nullable) or drop, and the SchemaChange list the load reports. A type change that is not a widening
 * is refused here, naming every such column, so no warehouse starts a load it cannot finish.
 */
import type { MappedColumn } from '../domain/model.js';
import { WarehouseError } from '../errors.js';
import { isHistoryColumn } from '../ports/history.js';
import type { LoadRequest, SchemaChange } from '../ports/index.js';
import { SOFT_DELETE_COLUMN, tableLabel } from '../ports/load-request.js';
import { historyTypeChangeSuggestion } from './history.js';
import { type ColumnType, catalogSpelling, compareColumnTypes, type WarehouseName } from './type-widening.js';

/** Columns whose names start with this are highwater's own (staging, rebuilds); schema changes never touch them. */
export const INTERNAL_COLUMN_PREFIX = '__hw';

/**
 * Whether a warehouse column is highwater's own rather than a source column: the `__hw…` columns and the soft-delete
 * column `_hw_deleted_at` (ports/load-request.ts), and a history table's `_hw_valid_from`, `_hw_valid_to`,
 * `_hw_is_current`, `_hw_row_hash` (ports/history.ts). A request never carries them, and that is not a dropped column.
 */
export function isInternalColumn(name: string): boolean {
  const key = name.toLowerCase();
  return key.startsWith(INTERNAL_COLUMN_PREFIX) || key === SOFT_DELETE_COLUMN || isHistoryColumn(key);
}

/** A target column as the warehouse's catalog describes it. */
export interface CatalogColumn {
  name: string;
  /** The catalog's spelling (DuckDB `duckdb_columns().data_type`, Redshift `format_type`). */
  type: string;
  notNull: boolean;
}

export interface Widening {
  column: MappedColumn;
  /** The existing column as the catalog spells it. */
  existing: CatalogColumn;
  from: ColumnType;
  to: ColumnType;
}

export interface SchemaPlan {
  add: MappedColumn[];
  widen: Widening[];
  /** onColumnDrop keep: NOT NULL columns the request lacks, to be made nullable. */
  relax: CatalogColumn[];
  /** onColumnDrop drop: columns the request lacks. */
  drop: CatalogColumn[];
  /** What the plan changes, in the order above. */
  changes: SchemaChange[];
}

/**
 * The suggestion every refused schema change carries: the resync command rebuilds the table from the source — except
 * a history table's, which is never rebuilt (engine/history.ts historyTypeChangeSuggestion).
 */
export function resyncSuggestion(req: Pick<LoadRequest, 'target' | 'sourceTable' | 'history'>): string {
  if (req.history) return historyTypeChangeSuggestion(req.sourceTable ?? tableLabel(req));
  return (
    `Rebuild the table from the source with \`highwater resync -t ${req.sourceTable ?? tableLabel(req)}\` ` +
    '(a full reload in replace mode), or change the warehouse column by hand, then run the sync again.'
  );
}

/**
 * Compares the request with the existing table's columns (keyed by lower-cased name). `ddlType` is the
 * warehouse's DDL type for a request column (its WarehouseCapabilities.columnType).
 */
export function planSchemaChanges(
  req: LoadRequest,
  existing: ReadonlyMap<string, CatalogColumn>,
  warehouse: WarehouseName,
  ddlType: (column: MappedColumn) => string,
): SchemaPlan {
  const plan: SchemaPlan = { add: [], widen: [], relax: [], drop: [], changes: [] };
  const refused: string[] = [];
  for (const column of req.columns) {
    const have = existing.get(column.target.toLowerCase());
    if (have === undefined) {
      plan.add.push(column);
      continue;
    }
    const cmp = compareColumnTypes(warehouse, have.type, ddlType(column));
    if (cmp.kind === 'widening') plan.widen.push({ column, existing: have, from: cmp.from, to: cmp.to });
    if (cmp.kind === 'incompatible') {
      refused.push(
        `column ${column.target} is ${have.type} in the warehouse but the source now maps it to ${cmp.to.spelling}, ` +
          `${cmp.why === 'narrowing' ? 'a narrowing' : 'a different type'} that would not keep every value`,
      );
    }
  }
  if (refused.length > 0) {
    const history = req.history ? ', and it is a history table, which is never rebuilt' : '';
    throw new WarehouseError(`table ${tableLabel(req)} ${refused.join('; ')}${history}; nothing was changed`, {
      suggestion: resyncSuggestion(req),
    });
  }
  const wanted = new Set(req.columns.map((c) => c.target.toLowerCase()));
  for (const [key, have] of existing) {
    if (wanted.has(key) || isInternalColumn(key)) continue;
    if (req.onColumnDrop === 'drop') plan.drop.push(have);
    else if (have.notNull) plan.relax.push(have);
  }
  plan.changes = [
    ...plan.add.map(
      (c): SchemaChange => ({
        column: c.target,
        change: 'added',
        to: catalogSpelling(warehouse, ddlType(c)),
      }),
    ),
    ...plan.widen.map(
      (w): SchemaChange => ({
        column: w.column.target,
        change: 'widened',
        from: w.existing.type,
        to: w.to.spelling,
      }),
    ),
    ...plan.relax.map(
      (c): SchemaChange => ({
        column: c.name,
        change: 'kept',
        from: `${c.type} NOT NULL`,
        to: c.type,
      }),
    ),
    ...plan.drop.map((c): SchemaChange => ({ column: c.name, change: 'dropped', from: c.type })),
  ];
  return plan;
}
