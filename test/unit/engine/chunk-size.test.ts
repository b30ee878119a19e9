import { describe, expect, test } from 'vitest';
import {
  averageRowBytes,
  chunkRowsFor,
  DEFAULT_CHUNK_BYTES,
  DEFAULT_CHUNK_SECONDS,
  DEFAULT_READ_ROWS_PER_SECOND,
  describeChunkSizing,
  UNKNOWN_ROW_BYTES,
} from '../../../lambdas/engine/chunk-size.js';
import { parseByteSize } from '../../../lambdas/engine/config/byte-size.js';

const DEFAULTS = {
  chunkRows: null,
  chunkBytes: DEFAULT_CHUNK_BYTES,
  chunkSeconds: DEFAULT_CHUNK_SECONDS,
  readRowsPerSecond: DEFAULT_READ_ROWS_PER_SECOND,
};
const size = (avgRowLength: number | null, dataLength: number | null = null, tableRows: number | null = null) => ({
  avgRowLength,
  dataLength,
  tableRows,
});

describe('rows per chunk: the fewest of bytes ÷ row length, seconds × rows/s, and chunk_rows', () => {
  test('a wide table is cut by bytes: 256 MiB of 4 KiB rows is 65,536 rows', () => {
    expect(chunkRowsFor(DEFAULTS, size(4096))).toEqual({
      rows: 65_536,
      rowBytes: 4096,
      by: 'chunk_bytes',
      estimated: true,
    });
  });

  test('a narrow table is cut by time: 5 minutes at 20,000 rows/s is 6,000,000 rows', () => {
    expect(chunkRowsFor(DEFAULTS, size(20))).toMatchObject({ rows: 6_000_000, by: 'chunk_seconds' });
  });

  test('the defaults meet where 256 MiB / 6,000,000 rows: about 45 bytes a row', () => {
    expect(chunkRowsFor(DEFAULTS, size(44)).by).toBe('chunk_seconds');
    expect(chunkRowsFor(DEFAULTS, size(45)).by).toBe('chunk_bytes');
  });

  test('chunk_rows caps the sized count (the old YAML keeps its meaning as a ceiling)', () => {
    expect(chunkRowsFor({ ...DEFAULTS, chunkRows: 100_000 }, size(200))).toMatchObject({
      rows: 100_000,
      by: 'chunk_rows',
    });
    // …but never raises it: a wide table still gets fewer rows.
    expect(chunkRowsFor({ ...DEFAULTS, chunkRows: 100_000 }, size(8192))).toMatchObject({
      rows: 32_768,
      by: 'chunk_bytes',
    });
  });

  test('the pipeline’s own targets: a slow source and a smaller byte target', () => {
    const slow = { ...DEFAULTS, chunkBytes: 64 * 1024 * 1024, chunkSeconds: 120, readRowsPerSecond: 500 };
    expect(chunkRowsFor(slow, size(100))).toMatchObject({ rows: 60_000, by: 'chunk_seconds' });
    expect(chunkRowsFor(slow, size(10_000))).toMatchObject({ rows: 6710, by: 'chunk_bytes' });
  });

  test('the row length: AVG_ROW_LENGTH, else DATA_LENGTH ÷ TABLE_ROWS, else assumed', () => {
    expect(averageRowBytes(size(300, 1000, 2))).toBe(300);
    expect(averageRowBytes(size(0, 16384, 64))).toBe(256);
    expect(averageRowBytes(size(null, 16384, 0))).toBeNull();
    expect(averageRowBytes(undefined)).toBeNull();
    expect(chunkRowsFor(DEFAULTS, size(0, 0, 0))).toEqual({
      rows: DEFAULT_CHUNK_BYTES / UNKNOWN_ROW_BYTES,
      rowBytes: UNKNOWN_ROW_BYTES,
      by: 'chunk_bytes',
      estimated: false,
    });
  });

  test('at least one row, whatever the row length', () => {
    expect(chunkRowsFor({ ...DEFAULTS, chunkBytes: 1000 }, size(1_000_000)).rows).toBe(1);
  });

  test('described for a dry run', () => {
    expect(describeChunkSizing(chunkRowsFor(DEFAULTS, size(4096)))).toBe(
      "65536 rows per chunk, set by chunk_bytes; 4096 B per row (MySQL's estimate)",
    );
  });
});

describe('sizes in YAML', () => {
  test.each([
    [268435456, 268435456],
    ['256MiB', 268435456],
    ['1GB', 1e9],
    ['512 kb', 512_000],
    ['1.5GiB', 1610612736],
  ])('%s is %d bytes', (text, bytes) => {
    expect(parseByteSize(text)).toBe(bytes);
  });
  test.each([['0'], ['-1MB'], ['12 parsecs'], [''], [0]])('%s is not a size', (text) => {
    expect(parseByteSize(text)).toBeUndefined();
  });
});
