/**
 * Columns of text for the terminal: widths by display width (display-width.ts), numbers right-aligned, two spaces
 * between columns, no trailing blanks.
 */
import { displayWidth, padTo } from './display-width.js';

export type Align = 'left' | 'right';

/** `rows[0]` is the header; `align[i]` says how column i is aligned (left unless given). */
export function textTable(rows: readonly (readonly string[])[], align: readonly Align[] = []): string[] {
  const widths: number[] = [];
  for (const r of rows) {
    for (const [i, c] of r.entries()) widths[i] = Math.max(widths[i] ?? 0, displayWidth(c));
  }
  return rows.map((r) =>
    r
      .map((c, i) => padTo(c, widths[i]!, align[i] ?? 'left'))
      .join('  ')
      .trimEnd(),
  );
}

/** `87.1 MB`: bytes in the unit that keeps three significant digits (powers of 1,000, as disks are sold). */
export function formatBytes(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let v = bytes;
  let u = 0;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return u === 0 ? `${v} B` : `${v >= 100 ? v.toFixed(0) : v.toFixed(1)} ${units[u]}`;
}
