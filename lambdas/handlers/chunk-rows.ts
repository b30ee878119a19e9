/**
 * The rows of one chunk (part) on their way from the source to the Parquet writer: counted, the greatest cursor
 * tracked (custom_sql), and cut at a key boundary when the step nears its deadline. An extract that stops there
 * still closes its file and records it; the rest of its key range becomes the chunk's next part (extract.ts).
 *
 * The deadline rule: reading stops once the step has less than its safety margin left, the margin being a quarter
 * of the time the step had when it started, at most STOP_MARGIN_MAX_MS — the time to encode the last row group,
 * write the footer, finish the upload and record the part. A step that reaches the margin before its first row
 * has made no progress: it fails (ChunkDeadlineError) rather than hand back the same range for ever.
 *
 * Rows pass through without a promise each: buffered rows go by `readSync()` (the Parquet writer's fast path),
 * as they come from the MySQL source.
 */
import type { MappedColumn } from '../domain/model.js';
import type { RawRow } from '../ports/index.js';
import { isPackedRow, type PackedRow, unpackRow } from '../ports/packed-row.js';
import type { StepContext } from '../ports/step-context.js';

/**
 * The most a step keeps in hand for closing its file once it stops reading: 60 s of a Lambda's 900 s
 * (https://docs.aws.amazon.com/lambda/latest/dg/configuration-timeout.html), ample for the last row group, the
 * footer, the last multipart part and the ledger write.
 */
export const STOP_MARGIN_MAX_MS = 60_000;
/** The share of the step's time kept in hand when that is less than STOP_MARGIN_MAX_MS. */
export const STOP_MARGIN_SHARE = 0.25;
/** How often (rows) the deadline is looked at while rows are flowing; a wait for rows looks at it too. */
export const DEADLINE_CHECK_ROWS = 64;
/** While a wait for a row outlasts the expected deadline but the StepContext says it is not due yet. */
const STALL_RECHECK_MS = 1000;

/** A row as the source streams it: one Buffer per value, or as its packet holds it. */
type SourceRow = RawRow | PackedRow;

interface SyncRowReader {
  readSync(): SourceRow | null;
}

function hasReadSync(it: AsyncIterator<SourceRow>): it is AsyncIterator<SourceRow> & SyncRowReader {
  return typeof (it as Partial<SyncRowReader>).readSync === 'function';
}

/** When a step must stop reading, from its StepContext. */
export class DeadlineWatch {
  private readonly marginMs: number;
  readonly unbounded: boolean;
  /** Wall-clock time (Date.now) at which the margin is expected to be reached: when a stalled read is given up. */
  private readonly wallDueAt: number;

  constructor(private readonly step: StepContext) {
    const remaining = step.remainingMs();
    this.unbounded = !Number.isFinite(remaining);
    this.marginMs = this.unbounded ? 0 : Math.min(STOP_MARGIN_MAX_MS, remaining * STOP_MARGIN_SHARE);
    this.wallDueAt = this.unbounded ? Number.POSITIVE_INFINITY : Date.now() + remaining - this.marginMs;
  }

  /** True once the time left is within the margin. */
  due(): boolean {
    return !this.unbounded && this.step.remainingMs() <= this.marginMs;
  }

  /**
   * Wall-clock milliseconds until the margin is expected (Infinity without a deadline). Computed from the start,
   * so waiting for a row does not ask the StepContext each time; due() has the last word when it is reached.
   */
  untilDue(): number {
    return this.unbounded ? Number.POSITIVE_INFINITY : Math.max(0, this.wallDueAt - Date.now());
  }

  get margin(): number {
    return this.marginMs;
  }
}

/** Tracks the greatest (ts, id) among the rows passing through (custom_sql finds its window while reading). */
export class CursorTracker {
  private best: (Buffer | null)[] | null = null;
  constructor(
    private readonly cols: { col: MappedColumn; index: number }[],
    private readonly compare: (col: MappedColumn, a: Buffer, b: Buffer) => number,
  ) {}

  see(row: RawRow): void {
    const values = this.cols.map((c) => row[c.index] ?? null);
    if (values.some((v) => v === null)) return;
    if (this.best === null || this.compareRows(values as Buffer[], this.best as Buffer[]) > 0) {
      this.best = values.map((v) => Buffer.from(v!));
    }
  }

  private compareRows(a: Buffer[], b: Buffer[]): number {
    for (const [i, c] of this.cols.entries()) {
      const d = this.compare(c.col, a[i]!, b[i]!);
      if (d !== 0) return d;
    }
    return 0;
  }

  result(hasTs: boolean): { ts: string | null; id: string | null } | null {
    if (this.best === null) return null;
    const s = this.best.map((b) => b!.toString('utf8'));
    return hasTs ? { ts: s[0] ?? null, id: s[1] ?? null } : { ts: null, id: s[0] ?? null };
  }
}

export interface ChunkRowsOptions {
  watch: DeadlineWatch;
  /** Positions of the primary-key columns in a row; empty when the range cannot be cut (no key, custom_sql). */
  keyIndexes: readonly number[];
  /** Values per row: what a packed row is read with (ports/packed-row.ts). */
  columnCount: number;
  tracker?: CursorTracker;
}

const DONE: IteratorResult<never> = { done: true, value: undefined };

export class ChunkRows implements AsyncIterableIterator<SourceRow>, SyncRowReader {
  /** Rows handed to the writer. */
  count = 0;
  /** Why reading stopped before the source's end: null while it has not. */
  stopped: 'deadline' | null = null;
  private last: SourceRow | null = null;
  private readonly source: AsyncIterator<SourceRow>;
  private readonly sourceSync: (() => SourceRow | null) | null;
  private nextCheck = 0;
  private ended = false;

  constructor(
    rows: AsyncIterable<SourceRow>,
    private readonly opts: ChunkRowsOptions,
  ) {
    this.source = rows[Symbol.asyncIterator]();
    const it = this.source;
    this.sourceSync = hasReadSync(it) ? () => it.readSync() : null;
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<SourceRow> {
    return this;
  }

  /** The key of the last row handed out, as canonical key text (what a ChunkSpec bound holds). */
  lastKey(): string[] | null {
    const last = this.last;
    if (last === null || this.opts.keyIndexes.length === 0) return null;
    const row = isPackedRow(last) ? unpackRow(last, this.opts.columnCount) : last;
    return this.opts.keyIndexes.map((i) => row[i]?.toString('utf8') ?? '');
  }

  /** Whether reading must stop now (checked every DEADLINE_CHECK_ROWS rows, and at the first). */
  private stopNow(): boolean {
    if (this.stopped !== null) return true;
    if (this.count < this.nextCheck) return false;
    this.nextCheck = this.count + DEADLINE_CHECK_ROWS;
    if (!this.opts.watch.due()) return false;
    this.stopped = 'deadline';
    return true;
  }

  private take(row: SourceRow): SourceRow {
    this.count++;
    this.last = row;
    if (this.opts.tracker) this.opts.tracker.see(isPackedRow(row) ? unpackRow(row, this.opts.columnCount) : row);
    return row;
  }

  readSync(): SourceRow | null {
    if (this.ended || this.sourceSync === null || this.stopNow()) return null;
    const row = this.sourceSync();
    return row === null ? null : this.take(row);
  }

  async next(): Promise<IteratorResult<SourceRow>> {
    if (this.ended) return DONE;
    if (this.stopNow()) return this.stop();
    const r = await this.nextOrDeadline();
    if (r === 'deadline') {
      this.stopped = 'deadline';
      return this.stop();
    }
    if (r.done) {
      this.ended = true;
      return DONE;
    }
    return { done: false, value: this.take(r.value) };
  }

  /**
   * The source's next row, unless the deadline comes first: a source that stalls (a slow scan to the next row of
   * the window, a tunnel that stops moving) is left where it is and the part ends at the last row read.
   */
  private nextOrDeadline(): Promise<IteratorResult<SourceRow> | 'deadline'> {
    const pending = this.source.next();
    const wait = this.opts.watch.untilDue();
    if (!Number.isFinite(wait)) return pending;
    let timer: NodeJS.Timeout | undefined;
    const due = new Promise<'deadline'>((resolve) => {
      const arm = (ms: number) => {
        timer = setTimeout(() => {
          // Timers run on wall time; the deadline is the StepContext's: stop only when it says so, else look again
          // a little later.
          if (this.opts.watch.due()) resolve('deadline');
          else arm(Math.max(STALL_RECHECK_MS, this.opts.watch.untilDue()));
        }, ms);
        timer.unref?.();
      };
      arm(wait);
    });
    return Promise.race([pending, due]).finally(() => clearTimeout(timer));
  }

  /** Reading ends here: the source drops the rest of its result (the writer sees the end of the rows). */
  private async stop(): Promise<IteratorResult<SourceRow>> {
    this.ended = true;
    await this.source.return?.();
    return DONE;
  }

  /** The writer stopped early (or failed): the source is told, so it drops the rest of its result. */
  async return(): Promise<IteratorResult<SourceRow>> {
    if (this.ended) return DONE;
    this.ended = true;
    await this.source.return?.();
    return DONE;
  }
}
