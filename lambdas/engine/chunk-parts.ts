/**
 * Whether the ledger holds every planned chunk exactly once, its parts included. Plan splits a window into chunks
 * 0 … planned − 1; an extract that nears its deadline stops at a key boundary and hands the rest of its range back
 * as the next part of the same chunk (ChunkSpec.part). The rows of a chunk are then read exactly once when its
 * parts are 0, 1, … k without a gap, part 0 starts where Plan's chunk starts, each later part starts right after
 * the last key of the part before (`after` = the previous `through`), and only part k — which read to the chunk's
 * end — has no `through`. Load refuses anything else before it stages a single file.
 */
import { byChunkAndPart, type ChunkRecord, partOf } from '../domain/records.js';

export { byChunkAndPart, partOf };

function sameKey(a: readonly string[] | undefined, b: readonly string[] | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

function keyText(k: readonly string[] | undefined): string {
  return k === undefined ? 'none' : JSON.stringify(k);
}

export interface ChunkLedgerSummary {
  /** Distinct planned chunks present. */
  chunks: number;
  /** Records (files), every part counted. */
  parts: number;
  rows: number;
}

/**
 * Checks the ledger's records of one run against its planned chunk count: the first problem as a sentence, or the
 * totals when every chunk is there exactly once and whole.
 */
export function checkChunkParts(
  records: readonly ChunkRecord[],
  planned: number,
): { ok: true; summary: ChunkLedgerSummary } | { ok: false; problem: string } {
  const byIndex = new Map<number, ChunkRecord[]>();
  for (const c of records) {
    const list = byIndex.get(c.index);
    if (list) list.push(c);
    else byIndex.set(c.index, [c]);
  }
  if (byIndex.size !== planned || [...byIndex.keys()].some((i) => i >= planned)) {
    const extra = [...byIndex.keys()].filter((i) => i >= planned);
    return {
      ok: false,
      problem: `${planned} chunks were planned, the ledger holds ${byIndex.size}${extra.length ? ` (including unplanned ${extra.join(', ')})` : ''}`,
    };
  }
  let rows = 0;
  for (const [index, list] of byIndex) {
    const parts = [...list].sort(byChunkAndPart);
    for (const [p, c] of parts.entries()) {
      rows += c.rows;
      const part = partOf(c);
      if (part !== p) {
        return {
          ok: false,
          problem: `chunk ${index}: part ${p} is ${part < p ? 'recorded twice' : 'missing'} (the ledger has parts ${parts.map(partOf).join(', ')})`,
        };
      }
      const previous = parts[p - 1];
      if (p === 0 && c.after !== undefined) {
        return {
          ok: false,
          problem: `chunk ${index}: part 0 starts after ${keyText(c.after)}, not where Plan's chunk starts`,
        };
      }
      if (previous && !sameKey(c.after, previous.through)) {
        return {
          ok: false,
          problem: `chunk ${index}: part ${p} starts after ${keyText(c.after)} but part ${p - 1} stopped at ${keyText(previous.through)}`,
        };
      }
      const last = p === parts.length - 1;
      if (last && c.through !== undefined) {
        return {
          ok: false,
          problem: `chunk ${index}: part ${p} stopped at ${keyText(c.through)} and no part ${p + 1} reads the rest`,
        };
      }
      if (!last && c.through === undefined) {
        return { ok: false, problem: `chunk ${index}: part ${p} read to the chunk's end, yet part ${p + 1} exists` };
      }
    }
  }
  return { ok: true, summary: { chunks: byIndex.size, parts: records.length, rows } };
}
