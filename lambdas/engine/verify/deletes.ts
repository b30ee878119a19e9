/**
 * Delete detection: which warehouse rows the source no longer has. The key sets of both sides are compared by
 * range checksums over the primary key alone (a key scan, no row read), bisected down to the ranges that differ;
 * a warehouse key the source lacks there is looked up by its key before it counts as deleted. The source side is
 * every row the pipeline selects (its additional_where included), whatever its cursor.
 */
import { EMPTY_WATERMARK } from '../../domain/model.js';
import type { SourceReader, TargetTable, Warehouse } from '../../ports/index.js';
import { fromClause } from '../strategies/sql/reads.js';
import type { TableContext } from '../table-context.js';
import { type BisectOptions, bisect, DEFAULT_BISECT, keyId } from './bisect.js';
import { type SideTable, WHOLE_RANGE } from './side-sql.js';
import { side, sourceQuery, warehouseColumns, warehouseQuery, warehouseSide } from './sides.js';

export interface DetectedDeletes {
  /** Keys (canonical text, key order) the warehouse has live and the source does not. */
  keys: string[][];
  sourceKeys: number;
  warehouseKeys: number;
  rangesChecked: number;
}

export async function detectDeletes(
  ports: { source: SourceReader; warehouse: Warehouse },
  ctx: TableContext,
  target: TargetTable,
  opts: BisectOptions = DEFAULT_BISECT,
): Promise<DetectedDeletes> {
  const existing = await warehouseColumns(ports.warehouse, target);
  if (!existing || ctx.pk.length === 0) return { keys: [], sourceKeys: 0, warehouseKeys: 0, rangesChecked: 0 };
  const src: SideTable = {
    dialect: 'mysql',
    from: fromClause(ctx),
    keys: ctx.pk,
    columns: [],
    scope: ctx.strategy.window(ctx, EMPTY_WATERMARK, null),
  };
  const wh = warehouseSide(ports.warehouse, target, ctx.pk, [], existing);
  const srcSide = side(src, sourceQuery(ports.source));
  const result = await bisect(srcSide, side(wh, warehouseQuery(ports.warehouse)), WHOLE_RANGE, opts);
  const candidates = [...result.findings.warehouseOnly.values()].map((r) => r.key);
  const atSource = new Set((await srcSide.rowsByKeys(candidates)).map((r) => keyId(r.key)));
  return {
    keys: candidates.filter((k) => !atSource.has(keyId(k))),
    sourceKeys: result.sourceRows,
    warehouseKeys: result.warehouseRows,
    rangesChecked: result.rangesChecked,
  };
}
