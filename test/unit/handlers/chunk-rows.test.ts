import { describe, expect, test } from 'vitest';
import { ChunkRows, DEADLINE_CHECK_ROWS, DeadlineWatch } from '../../../lambdas/handlers/chunk-rows.js';
import type { RawRow } from '../../../lambdas/ports/index.js';
import type { PackedRow } from '../../../lambdas/ports/packed-row.js';
import { deadlineIn, NO_DEADLINE, type StepContext } from '../../../lambdas/ports/step-context.js';

/** A source of `n` rows (key, value), with the Parquet writer's readSync fast path, recording whether it was told to stop. */
function source(n: number) {
  let i = 0;
  const state = { returned: false };
  const it = {
    readSync(): RawRow | null {
      if (i >= n || state.returned) return null;
      i++;
      return [Buffer.from(String(i)), Buffer.from(`v${i}`)];
    },
    async next(): Promise<IteratorResult<RawRow>> {
      const row = it.readSync();
      return row === null ? { done: true, value: undefined } : { done: false, value: row };
    },
    async return(): Promise<IteratorResult<RawRow>> {
      state.returned = true;
      return { done: true, value: undefined };
    },
  };
  return { rows: { [Symbol.asyncIterator]: () => it }, state };
}

async function drain(rows: ChunkRows): Promise<number> {
  let n = 0;
  for (;;) {
    if (rows.readSync() !== null) {
      n++;
      continue;
    }
    const r = await rows.next();
    if (r.done) return n;
    n++;
  }
}

/** A step clock that moves `step` ms each time it is read. */
function ticking(total: number, step: number): StepContext {
  let t = 0;
  return deadlineIn(total, () => {
    t += step;
    return t;
  });
}

describe('ChunkRows', () => {
  test('without a deadline every row passes, through the synchronous fast path', async () => {
    const { rows } = source(1000);
    const chunk = new ChunkRows(rows, { watch: new DeadlineWatch(NO_DEADLINE), keyIndexes: [0], columnCount: 2 });
    expect(chunk.readSync()).not.toBeNull();
    expect(await drain(chunk)).toBe(999);
    expect(chunk.count).toBe(1000);
    expect(chunk.stopped).toBeNull();
    expect(chunk.lastKey()).toEqual(['1000']);
  });

  test('near the deadline it stops at a row boundary, keeps the last key, and tells the source to stop', async () => {
    const { rows, state } = source(10_000);
    // 1,000 ms, 100 ms per reading: margin 225 ms (a quarter of the 900 left at the start), due after 7 checks.
    const watch = new DeadlineWatch(ticking(1000, 100));
    const chunk = new ChunkRows(rows, { watch, keyIndexes: [0], columnCount: 2 });
    const n = await drain(chunk);
    expect(chunk.stopped).toBe('deadline');
    expect(n).toBe(chunk.count);
    expect(chunk.count % DEADLINE_CHECK_ROWS).toBe(0);
    expect(chunk.count).toBeGreaterThan(0);
    expect(chunk.lastKey()).toEqual([String(chunk.count)]);
    expect(state.returned).toBe(true);
    expect(await chunk.next()).toEqual({ done: true, value: undefined });
  });

  test('packed rows (as the extract reads them): the last key is read from the last row’s packet', async () => {
    const pack = (values: string[]): PackedRow => {
      const buf = Buffer.concat(values.flatMap((v) => [Buffer.from([Buffer.byteLength(v)]), Buffer.from(v)]));
      return { buf, start: 0, end: buf.length };
    };
    let i = 0;
    const rows = {
      [Symbol.asyncIterator]: () => ({
        async next(): Promise<IteratorResult<PackedRow>> {
          i++;
          return i > 10_000 ? { done: true, value: undefined } : { done: false, value: pack([`k${i}`, `v${i}`]) };
        },
      }),
    };
    const chunk = new ChunkRows(rows, {
      watch: new DeadlineWatch(ticking(1000, 100)),
      keyIndexes: [0],
      columnCount: 2,
    });
    await drain(chunk);
    expect(chunk.stopped).toBe('deadline');
    expect(chunk.count).toBeGreaterThan(0);
    expect(chunk.lastKey()).toEqual([`k${chunk.count}`]);
  });

  test('no key columns: no key to continue from', async () => {
    const { rows } = source(10_000);
    const chunk = new ChunkRows(rows, { watch: new DeadlineWatch(ticking(1000, 100)), keyIndexes: [], columnCount: 2 });
    await drain(chunk);
    expect(chunk.stopped).toBe('deadline');
    expect(chunk.lastKey()).toBeNull();
  });

  test('a source that stalls is given up at the deadline, with nothing read', async () => {
    let returned = false;
    const stalled = {
      [Symbol.asyncIterator]: () => ({
        next: () => new Promise<IteratorResult<RawRow>>(() => undefined),
        return: async () => {
          returned = true;
          return { done: true as const, value: undefined };
        },
      }),
    };
    const chunk = new ChunkRows(stalled, { watch: new DeadlineWatch(deadlineIn(40)), keyIndexes: [0], columnCount: 2 });
    expect(await chunk.next()).toEqual({ done: true, value: undefined });
    expect(chunk.stopped).toBe('deadline');
    expect(chunk.count).toBe(0);
    expect(chunk.lastKey()).toBeNull();
    expect(returned).toBe(true);
  });

  test('the margin is a quarter of the step, at most 60 s', () => {
    expect(new DeadlineWatch(deadlineIn(1000, () => 0)).margin).toBe(250);
    expect(new DeadlineWatch(deadlineIn(900_000, () => 0)).margin).toBe(60_000);
    expect(new DeadlineWatch(NO_DEADLINE).unbounded).toBe(true);
  });
});
