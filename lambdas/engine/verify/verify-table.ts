/**
 * `highwater verify`: does the warehouse table equal the source, over the rows its committed watermark covers?
 * Both databases checksum key ranges themselves (bisect.ts); only the rows of small differing ranges are fetched,
 * then compared by meaning (compare-rows.ts). The differing keys come in three lists — missing from the
 * warehouse, extra in it, changed (with the columns) — and a warehouse row whose source version is newer than the
 * watermark is pending (the next run brings it), not a difference.
 */
import type { PipelineConfig, TableConfig } from '../../domain/config.js';
import { EMPTY_WATERMARK, type Watermark } from '../../domain/model.js';
import { ConfigError } from '../../errors.js';
import { IS_CURRENT_COLUMN } from '../../ports/history.js';
import type { SourceReader, StateStore, TargetTable, Warehouse } from '../../ports/index.js';
import { pipelineTableParts, tableKey } from '../naming.js';
import { strategyFor } from '../strategies/index.js';
import { and, frag } from '../strategies/sql/fragment.js';
import { fromClause } from '../strategies/sql/reads.js';
import { buildTableContext, type TableContext } from '../table-context.js';
import { mapColumns } from '../type-map.js';
import { type BisectOptions, bisect, type CanonicalRow, DEFAULT_BISECT, keyId, type VerifySide } from './bisect.js';
import { changedColumns } from './compare-rows.js';
import { checksumQuery, type KeyRange, type SideTable, WHOLE_RANGE } from './side-sql.js';
import { SOFT_DELETE_COLUMN, side, sourceQuery, warehouseColumns, warehouseQuery, warehouseSide } from './sides.js';

export { SOFT_DELETE_COLUMN } from './sides.js';

/** How many keys of each list a report carries (the counts are always whole). */
export const REPORT_KEYS = 1000;
/** Changed rows whose columns a report names. */
export const CHANGED_SAMPLE = 20;

export interface VerifyPorts {
  source: SourceReader;
  state: StateStore;
  warehouse: Warehouse;
}

export interface ChangedRow {
  key: string[];
  /** Target names of the columns that differ (for the first CHANGED_SAMPLE rows; empty after). */
  columns: string[];
}

export interface VerifyReport {
  table: string;
  tableKey: string;
  strategy: string;
  target: TargetTable;
  /** The watermark the comparison stops at (null for full_sync, and when nothing is committed). */
  watermark: Watermark | null;
  /** What was compared: `up to the watermark`, `whole table`, or `nothing committed`. */
  scope: string;
  /** Key columns (target names); empty when the table has no primary key. */
  key: string[];
  columnsCompared: string[];
  equal: boolean;
  rows: { source: number; warehouse: number };
  rangesChecked: number;
  rowsFetched: number;
  durationMs: number;
  missing: { count: number; keys: string[][] };
  extra: { count: number; keys: string[][] };
  changed: { count: number; rows: ChangedRow[] };
  /** Warehouse rows whose source row is newer than the watermark: the next run brings them. */
  pending: number;
  /** The key ranges holding every difference: what `--repair` reads again. */
  differingRanges: KeyRange[];
  notes: string[];
}

async function sourceContext(source: SourceReader, table: TableConfig): Promise<TableContext> {
  const schema = await source.describeTable(table.sourceSchema, table.sourceTable);
  if (schema.columns.length === 0) {
    throw new ConfigError(`table ${table.name} does not exist in the source database`, {
      suggestion: 'Check the schema.table name (and the pipeline with -p).',
    });
  }
  return buildTableContext(table, mapColumns(table.name, schema.columns), schema.primaryKey);
}

export interface VerifyOptions {
  bisect?: BisectOptions;
  now?: () => number;
}

export async function verifyTable(
  ports: VerifyPorts,
  pipeline: PipelineConfig,
  table: TableConfig,
  opts: VerifyOptions = {},
): Promise<VerifyReport> {
  const now = opts.now ?? Date.now;
  const started = now();
  const key = tableKey(pipelineTableParts(pipeline, table.name));
  const rules = strategyFor(table.strategy);
  if (rules.readsCustomQuery) {
    throw new ConfigError(
      `${table.name}: verify compares a table with its copy, and custom_sql copies a query's result instead`,
      { suggestion: 'Use `highwater watermark-count validate-counts` for this table.' },
    );
  }
  const ctx = await sourceContext(ports.source, table);
  const target: TargetTable = { schema: pipeline.target.schema, name: table.targetName.toLowerCase() };
  const cursor = rules.lagCursor(table) !== undefined && rules.advancesWatermark;
  const watermark = cursor ? ((await ports.state.getWatermark(key))?.watermark ?? null) : null;
  const committed = watermark !== null && (watermark.ts !== null || watermark.id !== null);
  const scope = !cursor ? 'whole table' : committed ? 'up to the watermark' : 'nothing committed';
  const notes: string[] = [];

  const whCols = await warehouseColumns(ports.warehouse, target);
  const keyCols = ctx.pk;
  const others = ctx.columns.filter((c) => !keyCols.includes(c));
  const compared = whCols ? others.filter((c) => whCols.has(c.target)) : others;
  const absent = others.filter((c) => !compared.includes(c));
  if (absent.length > 0) {
    notes.push(`not in the warehouse yet, so not compared: ${absent.map((c) => c.target).join(', ')}`);
  }
  if (!whCols) notes.push(`the target table ${target.schema}.${target.name} does not exist`);

  const sourceScope = !cursor
    ? ctx.strategy.window(ctx, EMPTY_WATERMARK, null)
    : committed
      ? ctx.strategy.window(ctx, EMPTY_WATERMARK, watermark)
      : frag('1=0');
  const src: SideTable = {
    dialect: 'mysql',
    from: fromClause(ctx),
    keys: keyCols,
    columns: compared,
    scope: sourceScope,
  };
  const softDeletes = whCols?.has(SOFT_DELETE_COLUMN) ?? false;
  const wh = warehouseSide(ports.warehouse, target, keyCols, compared, whCols ?? new Set());
  if (whCols?.has(IS_CURRENT_COLUMN))
    notes.push('a history table: its current versions are compared, closed ones are history');
  else if (softDeletes) notes.push(`rows with ${SOFT_DELETE_COLUMN} set (deleted at the source) are set aside`);

  const report: VerifyReport = {
    table: table.name,
    tableKey: key,
    strategy: table.strategy,
    target,
    watermark,
    scope,
    key: keyCols.map((c) => c.target),
    columnsCompared: [...keyCols, ...compared].map((c) => c.target),
    equal: false,
    rows: { source: 0, warehouse: 0 },
    rangesChecked: 0,
    rowsFetched: 0,
    durationMs: 0,
    missing: { count: 0, keys: [] },
    extra: { count: 0, keys: [] },
    changed: { count: 0, rows: [] },
    pending: 0,
    differingRanges: [],
    notes,
  };
  const srcQuery = sourceQuery(ports.source);
  const whQuery = warehouseQuery(ports.warehouse);

  if (!whCols) {
    // No warehouse table: the source's count is what is missing (no hashes needed).
    const count = checksumQuery(src, WHOLE_RANGE, []);
    const [n] = await srcQuery(count.sql, count.params);
    report.rows.source = Number(n?.n ?? 0);
    report.missing.count = report.rows.source;
    report.equal = report.rows.source === 0;
    report.differingRanges = report.equal ? [] : [WHOLE_RANGE];
    report.durationMs = now() - started;
    return report;
  }

  if (keyCols.length === 0) {
    // No key: one checksum of the whole table on each side. Rows cannot be named; a resync repairs.
    const a = await side(src, srcQuery).checksum(WHOLE_RANGE);
    const b = await side(wh, whQuery).checksum(WHOLE_RANGE);
    report.rows = { source: a.n, warehouse: b.n };
    report.rangesChecked = 1;
    report.equal = a.n === b.n && a.s === b.s;
    if (!report.equal) {
      notes.push('the table has no primary key, so differing rows cannot be named; `highwater resync` rebuilds it');
      if (b.n < a.n) report.missing.count = a.n - b.n;
      if (b.n > a.n) report.extra.count = b.n - a.n;
    }
    report.durationMs = now() - started;
    return report;
  }

  const srcSide = side(src, srcQuery);
  const whSide = side(wh, whQuery);
  const result = await bisect(srcSide, whSide, WHOLE_RANGE, opts.bisect ?? DEFAULT_BISECT);
  const f = result.findings;
  // A row seen on one side only may sit in another range on the other side (the two collations order a VARCHAR
  // key differently): look each up by its key, which both sides compare alike, before calling it missing or extra.
  const settle = async (only: Map<string, CanonicalRow>, other: VerifySide, sourceIsOnly: boolean) => {
    for (const row of await other.rowsByKeys([...only.values()].map((r) => r.key))) {
      const mine = only.get(keyId(row.key));
      if (!mine) continue;
      only.delete(keyId(row.key));
      f.both.push(sourceIsOnly ? { source: mine, warehouse: row } : { source: row, warehouse: mine });
    }
  };
  await settle(f.sourceOnly, whSide, true);
  await settle(f.warehouseOnly, srcSide, false);
  const changedByKey = new Map<string, ChangedRow>();
  for (const { source, warehouse } of f.both) {
    const columns = changedColumns(compared, source.cells, warehouse.cells);
    if (columns.length > 0) changedByKey.set(keyId(source.key), { key: source.key, columns });
  }
  const changed = [...changedByKey.values()];
  let extra = [...f.warehouseOnly.values()].map((r) => r.key);
  if (cursor && extra.length > 0) {
    // Rows the source has beyond the watermark (updated since the last run) are the next run's, not extra.
    const everything: SideTable = { ...src, scope: and([ctx.strategy.window(ctx, EMPTY_WATERMARK, null)]) };
    const atSource = new Set((await side(everything, srcQuery).rowsByKeys(extra)).map((r) => keyId(r.key)));
    report.pending = atSource.size;
    extra = extra.filter((k) => !atSource.has(keyId(k)));
  }
  const missing = [...f.sourceOnly.values()].map((r) => r.key);
  report.rows = { source: result.sourceRows, warehouse: result.warehouseRows };
  report.rangesChecked = result.rangesChecked;
  report.rowsFetched = result.rowsFetched;
  report.missing = { count: missing.length, keys: missing.slice(0, REPORT_KEYS) };
  report.extra = { count: extra.length, keys: extra.slice(0, REPORT_KEYS) };
  report.changed = {
    count: changed.length,
    rows: changed.slice(0, REPORT_KEYS).map((r, i) => (i < CHANGED_SAMPLE ? r : { key: r.key, columns: [] })),
  };
  report.equal = missing.length === 0 && extra.length === 0 && changed.length === 0;
  report.differingRanges = report.equal ? [] : f.ranges;
  if (report.pending > 0) {
    notes.push(`${report.pending} warehouse row(s) have a newer version at the source that the next run brings`);
  }
  report.durationMs = now() - started;
  return report;
}
