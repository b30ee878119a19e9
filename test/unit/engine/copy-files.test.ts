/** The COPY file layout rule (engine/copy-files.ts): counts COPY divides evenly, sizes in range, the deadline first. */
import { expect, test } from 'vitest';
import {
  COPY_FILE_TARGET_BYTES,
  copyFileLayout,
  PARQUET_BYTES_PER_ROW_BYTE,
} from '../../../lambdas/engine/copy-files.js';

const MiB = 1024 * 1024;
/** Rows whose estimated Parquet size is `mib` MiB at 200 B per row. */
const rowsFor = (mib: number) => Math.ceil((mib * MiB) / (200 * PARQUET_BYTES_PER_ROW_BYTE));
const noDeadline = Number.MAX_SAFE_INTEGER;

test('a run of at least slices × 256 MiB: a multiple of the slices, each file 128–256 MiB', () => {
  for (const slices of [2, 4, 16, 32]) {
    for (const mib of [slices * 256, slices * 256 + 1, slices * 700, slices * 2000]) {
      const l = copyFileLayout({ rows: rowsFor(mib), rowBytes: 200, slices, maxRowsPerFile: noDeadline });
      expect(l.by).toBe('slices');
      expect(l.files % slices).toBe(0);
      expect(l.bytesPerFile).toBeGreaterThanOrEqual(COPY_FILE_TARGET_BYTES / 2);
      expect(l.bytesPerFile).toBeLessThanOrEqual(COPY_FILE_TARGET_BYTES + 1);
      expect(l.rowsPerFile * l.files).toBeGreaterThanOrEqual(rowsFor(mib));
    }
  }
});

test('a run between 256 MiB and slices × 256 MiB: a power of two, each file 64–256 MiB', () => {
  for (const mib of [256, 300, 466, 600, 1100, 2047, 3000]) {
    const l = copyFileLayout({ rows: rowsFor(mib), rowBytes: 200, slices: 16, maxRowsPerFile: noDeadline });
    expect(l.by).toBe('power-of-two');
    expect(Number.isInteger(Math.log2(l.files))).toBe(true);
    expect(l.bytesPerFile).toBeGreaterThan(64 * MiB);
    expect(l.bytesPerFile).toBeLessThanOrEqual(COPY_FILE_TARGET_BYTES + 1);
  }
});

test('a run under 256 MiB is one file', () => {
  const l = copyFileLayout({ rows: rowsFor(100), rowBytes: 200, slices: 16, maxRowsPerFile: noDeadline });
  expect(l).toMatchObject({ files: 1, by: 'one-file', rowsPerFile: rowsFor(100) });
  expect(copyFileLayout({ rows: 0, rowBytes: 200, slices: 4, maxRowsPerFile: 10 }).files).toBe(1);
});

test('the deadline wins: more files than the rule, still a count COPY divides evenly', () => {
  // 1,000 small rows, at most 70 a file: 15 files by the deadline, raised to 16 (a power of two under 32 slices).
  const small = copyFileLayout({ rows: 1000, rowBytes: 200, slices: 32, maxRowsPerFile: 70 });
  expect(small).toMatchObject({ files: 16, by: 'deadline' });
  expect(small.rowsPerFile).toBeLessThanOrEqual(70);
  // 5,000 rows, at most 100 a file: 50 files, raised to the next multiple of 16 slices.
  const big = copyFileLayout({ rows: 5000, rowBytes: 200, slices: 16, maxRowsPerFile: 100 });
  expect(big).toMatchObject({ files: 64, by: 'deadline' });
  expect(big.rowsPerFile).toBeLessThanOrEqual(100);
});

test('refuses a slice count or row cap that is not a positive number', () => {
  expect(() => copyFileLayout({ rows: 10, rowBytes: 200, slices: 0, maxRowsPerFile: 10 })).toThrow(/slices/);
  expect(() => copyFileLayout({ rows: 10, rowBytes: 200, slices: 2.5, maxRowsPerFile: 10 })).toThrow(/slices/);
  expect(() => copyFileLayout({ rows: 10, rowBytes: 200, slices: 2, maxRowsPerFile: 0 })).toThrow(/maxRowsPerFile/);
});
