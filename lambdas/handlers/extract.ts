/**
 * ExtractChunk: stream one key range of the run's window out of MySQL into one Parquet file in staging, at a key
 * that is deterministic per (run, chunk) so a retry overwrites instead of duplicating. Rows read must equal rows
 * written; the chunk is recorded in the ledger only once its file is durable.
 */
import { type ChunkResult, ExtractInputSchema, type RunContext } from '../domain/manifests.js';
import type { MappedColumn, Watermark } from '../domain/model.js';
import { chunkKey } from '../engine/naming.js';
import { byteLimits, OversizeGuard, type OversizeMode } from '../engine/oversize.js';
import { chunkQuery } from '../engine/strategies/sql/reads.js';
import { mysqlValueClass } from '../engine/type-map.js';
import { CountMismatchError } from '../errors.js';
import type { RawRow } from '../ports/index.js';
import type { Runtime } from '../ports/runtime.js';
import { NO_DEADLINE, type StepContext } from '../ports/step-context.js';
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

/** Tracks the greatest (ts, id) among the rows passing through (custom_sql finds its window while reading). */
class CursorTracker {
  private best: (Buffer | null)[] | null = null;
  constructor(private readonly cols: { col: MappedColumn; index: number }[]) {}

  see(row: RawRow): void {
    const values = this.cols.map((c) => row[c.index] ?? null);
    if (values.some((v) => v === null)) return;
    if (this.best === null || this.compare(values as Buffer[], this.best as Buffer[]) > 0) {
      this.best = values.map((v) => Buffer.from(v!));
    }
  }

  private compare(a: Buffer[], b: Buffer[]): number {
    for (const [i, c] of this.cols.entries()) {
      const d = compareRaw(c.col, a[i]!, b[i]!);
      if (d !== 0) return d;
    }
    return 0;
  }

  result(hasTs: boolean): Watermark | null {
    if (this.best === null) return null;
    const s = this.best.map((b) => b!.toString('utf8'));
    return hasTs ? { ts: s[0] ?? null, id: s[1] ?? null } : { ts: null, id: s[0] ?? null };
  }
}

async function* counted(
  rows: AsyncIterable<RawRow>,
  counter: { n: number },
  tracker?: CursorTracker,
  guard?: OversizeGuard,
) {
  for await (const row of rows) {
    counter.n++;
    tracker?.see(row);
    guard?.check(row, counter.n);
    yield row;
  }
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

export async function extractChunk(
  input: unknown,
  rt: Runtime,
  _step: StepContext = NO_DEADLINE,
): Promise<ChunkResult> {
  const startedAt = new Date().toISOString();
  const { run, chunk } = ExtractInputSchema.parse(input);
  const { pipeline, ctx, keyParts } = runScope(rt, run);
  const state = await rt.state(pipeline);
  const staging = await rt.staging(pipeline);
  const key = chunkKey(staging.prefix, keyParts, run.runId, chunk.index);
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
      )
    : undefined;

  const guard = oversizeGuard(run, pipeline.target.type, ctx.table.oversize);
  const writeParquet = await rt.parquet();
  const source = await rt.openSource(pipeline);
  const read = { n: 0 };
  let written: { rows: number };
  let bytes: number;
  try {
    const out = staging.createWriteStream(key);
    const done = staging.finished(out);
    // The writer may fail the stream before we get to await `done`; mark it handled now, await it below.
    done.catch(() => undefined);
    try {
      const rows = counted(source.stream(query.sql, query.params), read, tracker, guard);
      written = await writeParquet(rows, run.columns, out, {
        rowGroupRows: ctx.table.batchSize,
      });
    } catch (e) {
      out.destroy(e instanceof Error ? e : new Error(String(e)));
      await done.catch(() => undefined);
      throw e;
    }
    bytes = (await done).bytes;
  } finally {
    await source.close();
  }
  if (written.rows !== read.n) {
    throw new CountMismatchError(
      `${run.table} chunk ${chunk.index}: read ${read.n} rows from MySQL but wrote ${written.rows} to Parquet`,
    );
  }
  const maxCursor = tracker?.result(ctx.ts !== undefined) ?? null;
  const finishedAt = new Date().toISOString();
  const truncated = guard && Object.keys(guard.truncated).length > 0 ? { truncated: guard.truncated } : {};
  await state.recordChunk(run.runId, {
    index: chunk.index,
    key,
    rows: read.n,
    bytes,
    startedAt,
    finishedAt,
    ...truncated,
  });
  if (isCustom && maxCursor) {
    // custom_sql finds its window while reading: the commit advances to the greatest cursor read.
    const planned = (await state.getRun(run.runId))?.plan ?? null;
    await state.updateRun(run.runId, { to: maxCursor, plan: planned ? { ...planned, next: maxCursor } : null });
  }
  await state.renewLease(run.tableKey, run.holder, pipeline.processing.leaseSeconds);
  return { index: chunk.index, key, rows: read.n, bytes, maxCursor, ...truncated };
}
