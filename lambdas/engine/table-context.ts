/**
 * Resolves, for one table, which columns play which role in its strategy: the primary key, the timestamp
 * cursor and the tie-breaker. Plan and ExtractChunk both build it from the same inputs, so they agree.
 */

import type { TableConfig } from '../domain/config.js';
import type { MappedColumn } from '../domain/model.js';
import { DataError } from '../errors.js';
import { requireColumn } from './strategies/columns.js';
import { strategyFor } from './strategies/index.js';
import type { TableContext } from './strategies/strategy.js';

export type { TableContext } from './strategies/strategy.js';

export function buildTableContext(
  table: TableConfig,
  columns: MappedColumn[],
  sourcePk: readonly string[],
): TableContext {
  const strategy = strategyFor(table.strategy);
  const pk = (table.primaryKey ?? sourcePk).map((n) => requireColumn(columns, table, n, 'primary_key'));
  const { ts, id } = strategy.roles(table, columns, pk);
  const mode = strategy.mode(table);
  if (mode !== 'replace' && pk.length === 0) {
    throw new DataError(
      `${table.name} has no primary key, which ${table.strategy}${mode === 'append' ? ' append' : ''} needs to merge rows idempotently`,
      {
        suggestion:
          'Declare primary_key: in the table config, or use cdc_strategy: full_sync with full_sync_mode: replace.',
      },
    );
  }
  if (table.history) {
    if (pk.length === 0) {
      throw new DataError(
        `${table.name} has no primary key, which history: scd2 needs to tell the versions of one row from another`,
        { suggestion: 'Declare business_key: (the columns that identify a row) in the table config.' },
      );
    }
    for (const c of table.history.ignoredColumns) requireColumn(columns, table, c, 'history_ignore_columns');
  }
  const pkIsPrimaryIndex =
    sourcePk.length > 0 && pk.length === sourcePk.length && pk.every((c, i) => c.source.name === sourcePk[i]);
  return { table, strategy, columns, pk, pkIsPrimaryIndex, ts, id, mode };
}

/** The cursor columns in order (timestamp first), for windows, limits and dedupe. */
export function cursorColumns(ctx: Pick<TableContext, 'ts' | 'id'>): MappedColumn[] {
  return [ctx.ts, ctx.id].filter((c): c is MappedColumn => c !== undefined);
}

/** Whether a committed run of this table moves a watermark. */
export function advancesWatermark(ctx: TableContext): boolean {
  return ctx.strategy.advancesWatermark && cursorColumns(ctx).length > 0;
}
