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
}

export interface BisectOptions {
  /** A range with at most this many rows on either side is compared row by row. */
  leafRows: number;
  /** How many parts a differing range is split into. */
  fanout: number;
  /** Queries in flight on each side at once. */
  concurrency: number;
}

/** Levels of splitting at most: 16^8 parts is far beyond any table. */
const MAX_DEPTH = 8;

export const DEFAULT_BISECT: BisectOptions = { leafRows: 1000, fanout: 16, concurrency: 4 };

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
  const visit = async (r: KeyRange, depth: number, parentRows: number): Promise<void> => {
    const [a, b] = await Promise.all([src.run(() => source.checksum(r)), wh.run(() => warehouse.checksum(r))]);
    result.rangesChecked++;
    if (depth === 0) {
      result.sourceRows = a.n;
      result.warehouseRows = b.n;
    }
    if (a.n === b.n && a.s === b.s) return;
    const n = Math.max(a.n, b.n);
    if (n <= opts.leafRows || n >= parentRows || depth >= MAX_DEPTH) return leaf(r);
    // Split at the keys of the side with more rows: the other may have none in this range at all.
    const bySource = a.n >= b.n;
    const step = Math.ceil(n / opts.fanout);
    const bounds = await (bySource ? src.run(() => source.sample(r, step)) : wh.run(() => warehouse.sample(r, step)));
    const parts = splitRange(r, bounds);
    if (parts.length < 2) return leaf(r);
    await Promise.all(parts.map((p) => visit(p, depth + 1, n)));
  };

  await visit(range, 0, Number.POSITIVE_INFINITY);
  return result;
}
