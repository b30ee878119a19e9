import { describe, expect, test } from 'vitest';
import type { ChunkRecord } from '../../../lambdas/domain/records.js';
import { checkChunkParts } from '../../../lambdas/engine/chunk-parts.js';

const whole = (index: number, rows = 1): ChunkRecord => ({ index, key: `c${index}`, rows, bytes: rows * 10 });

/** Chunk `index` read in parts that stopped at the given keys (each part `rows` rows). */
function parts(index: number, stops: string[], rows = 2): ChunkRecord[] {
  return [...stops, null].map((through, part) => {
    const c: ChunkRecord = { index, key: `c${index}p${part}`, rows, bytes: rows * 10 };
    if (part > 0) {
      c.part = part;
      c.after = [stops[part - 1]!];
    }
    if (through !== null) c.through = [through];
    return c;
  });
}

describe('checkChunkParts: every planned chunk exactly once, its parts contiguous', () => {
  test('whole chunks and chunks in parts: counted by chunk, every part and row included', () => {
    const r = checkChunkParts([whole(0, 5), ...parts(1, ['10', '20']), whole(2, 1)], 3);
    expect(r).toEqual({ ok: true, summary: { chunks: 3, parts: 5, rows: 12 } });
  });

  test('order in the ledger does not matter', () => {
    expect(checkChunkParts([...parts(0, ['a']).reverse(), whole(1)], 2).ok).toBe(true);
  });

  test('a missing chunk, or one the plan never had', () => {
    expect(checkChunkParts([whole(0), whole(2)], 3)).toEqual({
      ok: false,
      problem: '3 chunks were planned, the ledger holds 2',
    });
    expect(checkChunkParts([whole(0), whole(1), whole(3)], 3)).toMatchObject({
      ok: false,
      problem: expect.stringMatching(/including unplanned 3/),
    });
  });

  test('a part that stopped with no part after it: the rest of the chunk was never read', () => {
    const [p0, p1] = parts(4, ['10', '20']);
    const r = checkChunkParts([whole(0), whole(1), whole(2), whole(3), p0!, p1!], 5);
    expect(r).toEqual({
      ok: false,
      problem: 'chunk 4: part 1 stopped at ["20"] and no part 2 reads the rest',
    });
  });

  test('a gap in the parts', () => {
    const [p0, , p2] = parts(0, ['10', '20']);
    expect(checkChunkParts([p0!, p2!], 1)).toEqual({
      ok: false,
      problem: 'chunk 0: part 1 is missing (the ledger has parts 0, 2)',
    });
  });

  test('a part that does not start where the one before stopped (rows lost or read twice)', () => {
    const [p0, p1] = parts(0, ['10']);
    expect(checkChunkParts([p0!, { ...p1!, after: ['11'] }], 1)).toEqual({
      ok: false,
      problem: 'chunk 0: part 1 starts after ["11"] but part 0 stopped at ["10"]',
    });
  });

  test('a part that read to the end followed by another part', () => {
    const [p0, p1] = parts(0, ['10']);
    const { through: _through, ...p0ToEnd } = p0!;
    expect(checkChunkParts([p0ToEnd, p1!], 1)).toEqual({
      ok: false,
      problem: "chunk 0: part 0 read to the chunk's end, yet part 1 exists",
    });
  });

  test("part 0 that starts after a key is not Plan's chunk", () => {
    expect(checkChunkParts([{ ...whole(0), after: ['1'] }], 1)).toMatchObject({
      ok: false,
      problem: expect.stringMatching(/part 0 starts after \["1"\]/),
    });
  });
});
