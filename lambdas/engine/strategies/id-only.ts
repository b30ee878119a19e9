/**
 * id_only: append-only tables; the cursor is the integer `cdc_id_column`, read as id > W up to H = MAX(id).
 *
 * Auto-increment ids are handed out when a row is inserted, not when it commits, so a lower id can become visible
 * after a higher one. Every id a transaction still open now may commit was handed out after that transaction
 * began, so it is above the MAX(id) any earlier plan saw before that moment. The watermark a run commits is
 * therefore the newest such observation — this plan's own H when no write transaction is open — and the ids above
 * it are read again by the next run (harmless: the merge is idempotent). docs/correctness.md states the bound.
 */

import type { MappedColumn, Watermark } from '../../domain/model.js';
import { DataError } from '../../errors.js';
import { quoteMysql } from '../sql.js';
import { isMysqlInteger } from '../type-map.js';
import { findSourceColumn, requireColumn } from './columns.js';
import { NO_CURSOR_DEFAULTS } from './defaults.js';
import { parseMicros, settleTransactionsAfter } from './horizon.js';
import { and, type Fragment, NONE } from './sql/fragment.js';
import { tupleAfter, tupleAtOrBefore } from './sql/keyset.js';
import { additionalWhere, chunkPredicate, fromClause } from './sql/reads.js';
import type { Bounds, BoundsInput, KeyBounds, Observation, Strategy, TableContext } from './strategy.js';

function integerProblem(col: { name: string; columnType: string }): string {
  return `id_only needs an integer cdc_id_column; ${col.name} is ${col.columnType}`;
}

function idWindow(ctx: TableContext, from: Watermark, to: Watermark | null): Fragment {
  const id = ctx.id as MappedColumn;
  if (to !== null && to.id === from.id && to.id !== null) return and([NONE]);
  return and([
    from.id !== null ? tupleAfter([id], [from.id]) : undefined,
    to?.id ? tupleAtOrBefore([id], [to.id]) : undefined,
    additionalWhere(ctx),
  ]);
}

/**
 * When the cursor is the table's whole primary key, a chunk's key range lies inside the window (Plan cut it from
 * window keys), so the window's bounds matter only where they are tighter: `id > max(lower, W)` and
 * `id <= min(upper, H)` — exactly the rows of window ∧ range, as one range condition on the key.
 */
function idChunkWindow(ctx: TableContext, from: Watermark, to: Watermark, chunk: KeyBounds): Fragment {
  const id = ctx.id as MappedColumn;
  const keyIsCursor = ctx.pk.length === 1 && ctx.pk[0]!.source.name === id.source.name;
  if (!keyIsCursor) return and([idWindow(ctx, from, to), chunkPredicate(ctx, chunk)]);
  if (to.id === from.id && to.id !== null) return and([NONE]);
  const lowers = [chunk.lower?.[0], from.id ?? undefined].filter((v): v is string => v !== undefined);
  const uppers = [chunk.upper?.[0], to.id ?? undefined].filter((v): v is string => v !== undefined);
  const lower = lowers.length ? lowers.reduce(maxId) : null;
  const upper = uppers.length ? uppers.reduce(minId) : null;
  return and([
    lower !== null ? tupleAfter([id], [lower]) : undefined,
    upper !== null ? tupleAtOrBefore([id], [upper]) : undefined,
    additionalWhere(ctx),
  ]);
}

function maxId(a: string, b: string): string {
  return BigInt(a) >= BigInt(b) ? a : b;
}

function minId(a: string, b: string): string {
  return BigInt(a) <= BigInt(b) ? a : b;
}

/** The greatest id every transaction still open was handed out after (null when no observation qualifies). */
export function committedFloor(observations: readonly Observation[], oldestOpen: string | null): string | null {
  const bound = oldestOpen === null ? null : parseMicros(oldestOpen);
  let floor: string | null = null;
  for (const o of observations) {
    if (o.upper.id === null) continue;
    if (bound !== null && parseMicros(o.snapshotAt) > bound) continue;
    floor = floor === null ? o.upper.id : maxId(floor, o.upper.id);
  }
  return floor;
}

async function idBounds({ source, ctx, from, clock, history }: BoundsInput): Promise<Bounds> {
  const id = ctx.id as MappedColumn;
  const where = and([from.id !== null ? tupleAfter([id], [from.id]) : undefined, additionalWhere(ctx)]);
  const col = quoteMysql(id.source.name);
  const row = (
    await source.query(`SELECT MAX(${col}) AS h FROM ${fromClause(ctx)} WHERE ${where.sql}`, where.params)
  )[0];
  const h = row?.h === null || row?.h === undefined ? null : String(row.h);
  const warnings = clock.warning ? [clock.warning] : [];
  if (h === null) return { kind: 'nothing', reason: 'no new rows in the window', horizon: null, warnings };
  const seen = [...history, { snapshotAt: clock.now, upper: { ts: null, id: h } }];
  let oldest = clock.oldestTransaction;
  // Short transactions end within moments: wait for those open at this snapshot, so its own H can be committed.
  if (clock.transactionsVisible && oldest !== null) oldest = await settleTransactionsAfter(source, clock.now);
  const floor = committedFloor(seen, oldest);
  let next = floor === null ? from.id : minId(floor, h);
  if (next !== null && from.id !== null) next = maxId(next, from.id);
  if (next !== h) {
    const why = clock.transactionsVisible
      ? `a write transaction open since ${oldest} UTC may still commit ids below ${h}`
      : 'open transactions cannot be seen (see the warning above)';
    warnings.push(
      `watermark held at ${next ?? 'the start'} rather than ${h}: ${why}; the ids above it are read again next run`,
    );
  }
  return {
    kind: 'window',
    to: { ts: null, id: h },
    next: { ts: null, id: next },
    nullCursorRows: null,
    horizon: null,
    warnings,
  };
}

export const idOnly: Strategy = {
  name: 'id_only',
  advancesWatermark: true,
  readsCustomQuery: false,
  defaults: NO_CURSOR_DEFAULTS,
  shownKeys: new Set(['idColumn']),
  mode: () => 'merge',
  requiredColumns: (t) => [{ column: t.idColumn, key: 'cdc_id_column' }],
  configProblems: () => [],
  roles(table, columns) {
    const id = requireColumn(columns, table, table.idColumn, 'cdc_id_column');
    if (!isMysqlInteger(id.source)) throw new DataError(`${table.name}: ${integerProblem(id.source)}`);
    return { ts: undefined, id };
  },
  sourceProblems(table, columns) {
    const id = findSourceColumn(columns, table.idColumn);
    return id && !isMysqlInteger(id) ? [{ severity: 'error', column: id.name, message: integerProblem(id) }] : [];
  },
  window: idWindow,
  cursorWindow: idWindow,
  chunkWindow: idChunkWindow,
  bounds: idBounds,
  lagCursor: (t) => ({ column: t.idColumn, half: 'id' }),
  describe: (t) => `rows with ${t.idColumn} after the watermark (ids still in open transactions are read again)`,
};
