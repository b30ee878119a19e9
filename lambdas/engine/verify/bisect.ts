/**
 * Checksum bisection across two databases (the method of data-diff and pt-table-checksum): each side computes the
 * count and hash sum of a key range itself; equal ranges are done, a differing range is split at sample keys of
 * its larger side and each part compared again, until a part is small enough to fetch from both sides and
 * compare row by row. An equal table costs one checksum scan on each side; each differing row costs a few
 * scans of ranges that shrink by `fanout` at every level.
 */
import type { KeyRange } from './side-sql.js';

export interface RangeChecksum {
  n: number;
  s: string;
}

export interface CanonicalRow {
  key: string[];
  cells: (string | null)[];
}

/** One database's half of a verification. */
export interface VerifySide {
  checksum(range: KeyRange): Promise<RangeChecksum>;
  /** Every `step`-th key of the range, in key order. */
  sample(range: KeyRange, step: number): Promise<string[][]>;
  rows(range: KeyRange): Promise<CanonicalRow[]>;
  /** The rows of exactly these keys (within the side's scope). */
  rowsByKeys(keys: readonly string[][]): Promise<CanonicalRow[]>;
  /** The smallest and greatest key of the range (single integer keys only; null when empty or not such a key). */
  keyBounds?(range: KeyRange): Promise<{ min: bigint; max: bigint } | null>;
}

export interface BisectOptions {
  /** A range with at most this many rows on either side is compared row by row. */
  leafRows: number;
  /** How many parts a differing range is split into. */
  fanout: number;
  /** Queries in flight on each side at once. */
  concurrency: number;
  /** Parts the whole table is cut into before anything is compared, when its key is one integer column. */
  initialParts?: number;
}

/** Levels of splitting at most: 16^8 parts is far beyond any table. */
const MAX_DEPTH = 8;

export const DEFAULT_BISECT: BisectOptions = { leafRows: 2000, fanout: 16, concurrency: 2, initialParts: 64 };

/** What a leaf comparison found, before reconciliation. */
export interface LeafFindings {
  /** Rows only the source has (keyed by JSON of the key). */
  sourceOnly: Map<string, CanonicalRow>;
  /** Rows only the warehouse has. */
  warehouseOnly: Map<string, CanonicalRow>;
  /** Keys both have, with both rows, whose rows differ in text. */
  both: { source: CanonicalRow; warehouse: CanonicalRow }[];
  /** The leaf ranges where anything differed (what a repair re-reads). */
  ranges: KeyRange[];
}

export interface BisectResult {
  findings: LeafFindings;
  /** The whole range's counts on each side. */
  sourceRows: number;
  warehouseRows: number;
  /** Range checksums compared (both sides counted once). */
  rangesChecked: number;
  /** Rows fetched by leaf comparisons, both sides together. */
  rowsFetched: number;
}

class Limiter {
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  constructor(private readonly max: number) {}
  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.active >= this.max) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.active++;
    try {
      return await task();
    } finally {
      this.active--;
      this.waiting.shift()?.();
    }
  }
}

export const keyId = (key: readonly string[]): string => JSON.stringify(key);

function sameKey(a: readonly string[] | null, b: readonly string[] | null): boolean {
  return a !== null && b !== null && keyId(a) === keyId(b);
}

/** The parts of `range` cut at `bounds` (ascending; any equal to the range's own upper bound is dropped). */
export function splitRange(range: KeyRange, bounds: readonly string[][]): KeyRange[] {
  const cuts = bounds.filter((b, i) => !sameKey(b, range.upper) && (i === 0 || !sameKey(b, bounds[i - 1]!)));
  const parts: KeyRange[] = [];
  let lower = range.lower;
  for (const b of cuts) {
    parts.push({ lower, upper: b });
    lower = b;
  }
  parts.push({ lower, upper: range.upper });
  return parts;
}

/**
 * `parts` ranges of about equal width between `min` and `max` (an integer key), the first and last open-ended so
 * that together they hold every key of `range`; null when the span is too small to cut.
 */
export function numericParts(range: KeyRange, min: bigint, max: bigint, parts: number): KeyRange[] | null {
  const lo = range.lower ? BigInt(range.lower[0]!) : min - 1n;
  const hi = range.upper ? BigInt(range.upper[0]!) : max;
  const span = hi - lo;
  const n = BigInt(parts);
  if (parts < 2 || span < n) return null;
  const cuts: string[][] = [];
  for (let i = 1n; i < n; i++) cuts.push([String(lo + (span * i) / n)]);
  return splitRange(range, cuts);
}

export async function bisect(
  source: VerifySide,
  warehouse: VerifySide,
  range: KeyRange,
  opts: BisectOptions = DEFAULT_BISECT,
): Promise<BisectResult> {
  const src = new Limiter(opts.concurrency);
  const wh = new Limiter(opts.concurrency);
  const findings: LeafFindings = { sourceOnly: new Map(), warehouseOnly: new Map(), both: [], ranges: [] };
  const result: BisectResult = { findings, sourceRows: 0, warehouseRows: 0, rangesChecked: 0, rowsFetched: 0 };

  const leaf = async (r: KeyRange): Promise<void> => {
    const [a, b] = await Promise.all([src.run(() => source.rows(r)), wh.run(() => warehouse.rows(r))]);
    result.rowsFetched += a.length + b.length;
    const theirs = new Map(b.map((row) => [keyId(row.key), row]));
    let differs = false;
    for (const row of a) {
      const id = keyId(row.key);
      const other = theirs.get(id);
      theirs.delete(id);
      if (!other) {
        findings.sourceOnly.set(id, row);
        differs = true;
      } else if (keyId(row.cells as string[]) !== keyId(other.cells as string[])) {
        findings.both.push({ source: row, warehouse: other });
        differs = true;
      }
    }
    for (const [id, row] of theirs) {
      findings.warehouseOnly.set(id, row);
      differs = true;
    }
    // The checksums differed but the rows did not: a hash sum collision is not it (the rows are compared in
    // full); it is rows that moved between the two reads. Record the range so the caller can say so.
    if (differs || a.length !== b.length) findings.ranges.push(r);
  };

  // `parentRows`: the larger count of the range this one was cut from. A cut that does not shrink it (keys the
  // two sides' collations order differently, so one side's bounds do not split the other's rows) ends in a leaf.
  // `cutBy`: how this range was cut from its parent. A cut by value that did not shrink the range (keys clustered
  // in one part) is tried again by sampling; a sampled cut that did not is a leaf.
  const visit = async (
    r: KeyRange,
    depth: number,
    parentRows: number,
    count?: (source: number, warehouse: number) => void,
    cutBy: 'value' | 'sample' = 'sample',
  ): Promise<void> => {
    const [a, b] = await Promise.all([src.run(() => source.checksum(r)), wh.run(() => warehouse.checksum(r))]);
    result.rangesChecked++;
    if (depth === 0) {
      result.sourceRows = a.n;
      result.warehouseRows = b.n;
    }
    count?.(a.n, b.n);
    if (a.n === b.n && a.s === b.s) return;
    const n = Math.max(a.n, b.n);
    const stuck = n >= parentRows;
    if (n <= opts.leafRows || depth >= MAX_DEPTH || (stuck && cutBy === 'sample')) return leaf(r);
    const byValue = stuck ? null : await numericSplit(r, opts.fanout);
    const parts = byValue ?? (await sampledSplit(r, a.n >= b.n, n));
    if (parts.length < 2) return leaf(r);
    const how = byValue ? 'value' : 'sample';
    await Promise.all(parts.map((p) => visit(p, depth + 1, n, undefined, how)));
  };

  /** An integer key is cut by value (two index lookups), no sample scan; null when it cannot be. */
  const numericSplit = async (r: KeyRange, parts: number): Promise<KeyRange[] | null> => {
    if (!source.keyBounds || !warehouse.keyBounds) return null;
    if (r.lower && r.upper) return numericParts(r, 0n, 0n, parts);
    const [x, y] = await Promise.all([src.run(() => source.keyBounds!(r)), wh.run(() => warehouse.keyBounds!(r))]);
    if (!x && !y) return null;
    const both = [x, y].filter((b): b is { min: bigint; max: bigint } => b !== null);
    // biome-ignore lint/complexity/useMathMinMax: bigints (Math.min takes numbers only)
    const min = both.reduce((m, b) => (b.min < m ? b.min : m), both[0]!.min);
    // biome-ignore lint/complexity/useMathMinMax: bigints
    const max = both.reduce((m, b) => (b.max > m ? b.max : m), both[0]!.max);
    return numericParts(r, min, max, parts);
  };

  // Split at the keys of the side with more rows: the other may have none in this range at all.
  const sampledSplit = async (r: KeyRange, bySource: boolean, n: number): Promise<KeyRange[]> => {
    const step = Math.ceil(n / opts.fanout);
    const bounds = await (bySource ? src.run(() => source.sample(r, step)) : wh.run(() => warehouse.sample(r, step)));
    return splitRange(r, bounds);
  };

  // An integer key: the table is cut by value first and the parts compared side by side, so even an equal table's
  // checksums run as parallel range scans rather than one scan of the whole.
  const initial = opts.initialParts ? await numericSplit(range, opts.initialParts) : null;
  if (initial) {
    await Promise.all(initial.map((p) => visitCounted(p)));
  } else {
    await visit(range, 0, Number.POSITIVE_INFINITY);
  }
  return result;

  async function visitCounted(p: KeyRange): Promise<void> {
    await visit(
      p,
      1,
      Number.POSITIVE_INFINITY,
      (a, b) => {
        result.sourceRows += a;
        result.warehouseRows += b;
      },
      'value',
    );
  }
}
