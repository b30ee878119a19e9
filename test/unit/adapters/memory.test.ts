/**
 * lambdas/adapters/memory/index.ts: a released buffer's memory is gone at once (its views are empty, the process's
 * ArrayBuffer total falls), releasing twice or releasing a shared view's buffer is harmless, and the heap reduction
 * gives V8's emptied pages back without exposing `gc` to the program.
 */
import { getHeapStatistics } from 'node:v8';
import { describe, expect, test } from 'vitest';
import { collectGarbage, heapBytes, reduceHeap, releaseBuffer } from '../../../lambdas/adapters/memory/index.js';

const MB = 1024 * 1024;

describe('releaseBuffer', () => {
  test('frees the memory now: the views are empty and the ArrayBuffer total falls by the buffer', () => {
    const values = new Float64Array(8 * MB); // 64 MB
    values.fill(1);
    const view = new Uint8Array(values.buffer, 16, 32);
    const before = process.memoryUsage().arrayBuffers;
    releaseBuffer(values.buffer);
    const after = process.memoryUsage().arrayBuffers;
    expect(values.length).toBe(0);
    expect(view.length).toBe(0);
    expect((values.buffer as ArrayBuffer & { detached: boolean }).detached).toBe(true);
    expect(before - after).toBeGreaterThanOrEqual(60 * MB);
  });

  test('a second release of the same buffer does nothing', () => {
    const b = new ArrayBuffer(1024);
    releaseBuffer(b);
    expect(() => releaseBuffer(b)).not.toThrow();
    expect(b.byteLength).toBe(0);
  });

  test('a buffer without ArrayBuffer.prototype.transfer (Node < 21) is left as it is', () => {
    const b = new ArrayBuffer(1024);
    Object.defineProperty(b, 'transfer', { value: undefined });
    releaseBuffer(b);
    expect(b.byteLength).toBe(1024);
  });
});

describe('reduceHeap and collectGarbage', () => {
  test('reduceHeap gives back the pages that garbage filled', () => {
    let garbage: unknown[] | null = Array.from({ length: 400_000 }, (_, i) => ({ i, s: `row ${i}` }));
    expect(garbage.length).toBe(400_000);
    const filled = heapBytes();
    expect(filled).toBe(getHeapStatistics().total_heap_size);
    garbage = null;
    reduceHeap();
    expect(heapBytes()).toBeLessThan(filled - 10 * MB);
  });

  test('the collector is reached without a global gc', () => {
    collectGarbage();
    reduceHeap();
    expect((globalThis as { gc?: unknown }).gc).toBeUndefined();
  });
});
