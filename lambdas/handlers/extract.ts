/**
 * ExtractChunk: stream one key range of the run's window out of MySQL into one Parquet file in staging, at a key
 * that is deterministic per (run, chunk, part) so a retry overwrites instead of duplicating. Rows read must equal
 * rows written; the part is recorded in the ledger only once its file is durable.
 *
 * A step that nears its deadline (StepContext) stops at a key boundary — the rows are read in key order — closes
 * and records what it wrote, and returns the rest of its range as the chunk's next part, which the state machine
 * runs next. Load then finds each chunk's parts contiguous in the ledger (engine/chunk-parts.ts).
 */
import { type ChunkResult, type ChunkSpec, ExtractInputSchema, type RunContext } from '../domain/manifests.js';
import type { MappedColumn } from '../domain/model.js';
import { chunkKey } from '../engine/naming.js';
import { byteLimits, OversizeGuard, type OversizeMode } from '../engine/oversize.js';
import { chunkQuery } from '../engine/strategies/sql/reads.js';
import { mysqlValueClass } from '../engine/type-map.js';
import { ChunkDeadlineError, CountMismatchError, DataError } from '../errors.js';
import type { RawRow } from '../ports/index.js';
import type { PackedRow } from '../ports/packed-row.js';
import type { Runtime } from '../ports/runtime.js';
import { NO_DEADLINE, type StepContext } from '../ports/step-context.js';
import { ChunkRows, CursorTracker, DeadlineWatch } from './chunk-rows.js';
import { runScope } from './shared.js';

/** Orders two raw cursor values of one column the way MySQL does for the types a cursor can have. */
export function compareRaw(col: MappedColumn, a: Buffer, b: Buffer): number {
  if (mysqlValueClass(col.source) === 'integer') {
    const x = BigInt(a.toString('latin1'));
    const y = BigInt(b.toString('latin1'));
    return x < y ? -1 : x > y ? 1 : 0;
  }
  return Buffer.compare(a, b);
}

/**
 * Lease renewals skipped while this process renewed the run's lease within the last quarter of its length: a
 * renewal is a durable write, and with small chunks it was most of a chunk's cost. The lease still has at least
 * three quarters of its length left whenever a renewal is skipped.
 */
const renewedAt = new Map<string, number>();

function renewalDue(holder: string, leaseSeconds: number, now: number): boolean {
  const at = renewedAt.get(holder);
  return at === undefined || now - at >= (leaseSeconds * 1000) / 4;
}

/** The chunk's check of values against their Redshift column lengths (none for a DuckDB target). */
function oversizeGuard(run: RunContext, target: 'redshift' | 'duckdb', mode: OversizeMode): OversizeGuard | undefined {
  const limits = byteLimits(run.columns, target);
  if (limits.length === 0) return undefined;
  const keyIndexes = run.primaryKey.map((k) => run.columns.findIndex((c) => c.target === k)).filter((i) => i >= 0);
  return new OversizeGuard({
    table: run.table,
    limits,
    keyIndexes,
    keyNames: keyIndexes.map((i) => run.columns[i]!.source.name),
    mode,
  });
}

/** Rows with each value checked against its column's length (`oversize: truncate` cuts them in place). */
async function* guarded(rows: AsyncIterable<RawRow>, guard: OversizeGuard): AsyncIterable<RawRow> {
  let n = 0;
  for await (const row of rows) {
    guard.check(row, ++n);
    yield row;
  }
}

function describeRange(chunk: ChunkSpec): string {
  const part = chunk.part ? ` part ${chunk.part}` : '';
  return `chunk ${chunk.index}${part} (keys after ${JSON.stringify(chunk.lower)} up to ${JSON.stringify(chunk.upper)})`;
}

export async function extractChunk(input: unknown, rt: Runtime, step: StepContext = NO_DEADLINE): Promise<ChunkResult> {
  const startedAt = new Date().toISOString();
  const watch = new DeadlineWatch(step);
  const { run, chunk } = ExtractInputSchema.parse(input);
  const part = chunk.part ?? 0;
  const { pipeline, ctx, keyParts } = runScope(rt, run);
  const state = await rt.state(pipeline);
  const staging = await rt.staging(pipeline);
  const key = chunkKey(staging.prefix, keyParts, run.runId, chunk.index, part);
  const isCustom = ctx.strategy.readsCustomQuery;
  const query = chunkQuery(
    ctx,
    run.from,
    run.to,
    chunk,
    isCustom
      ? {
          last_timestamp: run.from.ts,
          last_id: run.from.id,
          upper_timestamp: run.customUpperTimestamp,
          upper_id: null,
          limit: null,
        }
      : undefined,
  );
  const tracker = isCustom
    ? new CursorTracker(
        [ctx.ts, ctx.id]
          .filter((c): c is MappedColumn => c !== undefined)
          .map((col) => ({ col, index: ctx.columns.indexOf(col) })),
        compareRaw,
      )
    : undefined;
  // Rows come in key order (reads.ts chunkQuery), so the last key read is a boundary; custom_sql has no key order.
  const keyIndexes = isCustom ? [] : ctx.pk.map((c) => ctx.columns.indexOf(c));
  const guard = oversizeGuard(run, pipeline.target.type, ctx.table.oversize);

  if (part > 0 && chunk.lower === null) {
    throw new DataError(`${run.table} chunk ${chunk.index} part ${part}: a continuation must start after a key`);
  }
  if (watch.due()) {
    throw new ChunkDeadlineError(
      `${run.table} ${describeRange(chunk)}: the step had ${Math.round(step.remainingMs())} ms left, within its ${Math.round(watch.margin)} ms safety margin, before reading any row`,
    );
  }
  const writeParquet = await rt.parquet();
  const source = await rt.openSource(pipeline);
  let rows: ChunkRows;
  let written: { rows: number };
  let bytes: number;
  try {
    // Rows as their packets hold them, unless each value is looked at on the way (oversize checks; custom_sql's cursor
    // tracker): no object per value on the one thread that reads every row (ports/packed-row.ts).
    let read: AsyncIterable<RawRow | PackedRow>;
    if (guard) read = guarded(source.stream(query.sql, query.params), guard);
    else if (tracker || !source.streamPacked) read = source.stream(query.sql, query.params);
    else read = source.streamPacked(query.sql, query.params);
    rows = new ChunkRows(read, {
      watch,
      keyIndexes,
      columnCount: run.columns.length,
      ...(tracker ? { tracker } : {}),
    });
    const out = staging.createWriteStream(key);
    const done = staging.finished(out);
    // The writer may fail the stream before we get to await `done`; mark it handled now, await it below.
    done.catch(() => undefined);
    try {
      written = await writeParquet(rows, run.columns, out, { rowGroupRows: ctx.table.batchSize });
    } catch (e) {
      out.destroy(e instanceof Error ? e : new Error(String(e)));
      await done.catch(() => undefined);
      throw e;
    }
    bytes = (await done).bytes;
  } finally {
    await source.close();
  }
  if (written.rows !== rows.count) {
    throw new CountMismatchError(
      `${run.table} chunk ${chunk.index}: read ${rows.count} rows from MySQL but wrote ${written.rows} to Parquet`,
    );
  }
  const through = rows.stopped === 'deadline' ? rows.lastKey() : null;
  if (rows.stopped === 'deadline' && through === null) {
    // Nothing to hand back: no row read (no progress), or a range that cannot be cut (no key, custom_sql).
    throw new ChunkDeadlineError(
      rows.count === 0
        ? `${run.table} ${describeRange(chunk)}: no row arrived before the step's deadline (it keeps ${Math.round(watch.margin)} ms to close its file); the range cannot be read in one step`
        : `${run.table} ${describeRange(chunk)}: the step's deadline came after ${rows.count} rows, and ${isCustom ? 'a custom_sql query' : 'a table without a primary key'} cannot be continued from a key`,
    );
  }
  const before = chunk.before ?? { rows: 0, bytes: 0 };
  const truncated = guard && Object.keys(guard.truncated).length > 0 ? { truncated: guard.truncated } : {};
  await state.recordChunk(run.runId, {
    index: chunk.index,
    key,
    rows: rows.count,
    bytes,
    ...(part > 0 && chunk.lower ? { part, after: chunk.lower } : {}),
    ...(through ? { through } : {}),
    startedAt,
    finishedAt: new Date().toISOString(),
    ...truncated,
  });
  const maxCursor = tracker?.result(ctx.ts !== undefined) ?? null;
  if (isCustom && maxCursor) {
    // custom_sql finds its window while reading: the commit advances to the greatest cursor read.
    const planned = (await state.getRun(run.runId))?.plan ?? null;
    await state.updateRun(run.runId, { to: maxCursor, plan: planned ? { ...planned, next: maxCursor } : null });
  }
  const now = Date.now();
  if (renewalDue(run.holder, pipeline.processing.leaseSeconds, now)) {
    await state.renewLease(run.tableKey, run.holder, pipeline.processing.leaseSeconds);
    // One entry per run this process extracted for; a long-lived process forgets them now and then.
    if (renewedAt.size > 1000) renewedAt.clear();
    renewedAt.set(run.holder, now);
  }
  const total = { rows: before.rows + rows.count, bytes: before.bytes + bytes };
  const rest: ChunkSpec | null = through
    ? { index: chunk.index, part: part + 1, lower: through, upper: chunk.upper, before: total }
    : null;
  return { index: chunk.index, key, rows: total.rows, bytes: total.bytes, maxCursor, rest, ...truncated };
}
