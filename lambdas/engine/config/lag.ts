/** How far a table's watermark is behind the source's newest cursor value (for `status`). No I/O. */

import type { TableConfig } from '../../domain/config.js';
import type { Watermark } from '../../domain/model.js';
import { strategyFor } from '../strategies/index.js';

export interface Lag {
  state: 'up-to-date' | 'behind' | 'never-synced' | 'source-empty' | 'not-applicable';
  /** The source's MAX of the cursor column, as MySQL prints it. */
  sourceMax: string | null;
  /** Timestamp cursors: seconds between the watermark and the source's newest value. */
  seconds?: number;
  /** id_only: how many ids the source is ahead (a string: ids may exceed 2^53). */
  ids?: string;
  text: string;
}

/** The column whose MAX is compared with the watermark, and which half of the watermark it is compared with. */
export function lagCursor(t: TableConfig): { column: string; half: 'ts' | 'id' } | undefined {
  return strategyFor(t.strategy).lagCursor(t);
}

/** `YYYY-MM-DD[ HH:MM:SS[.ffffff]]` (a wall-clock value) → epoch milliseconds, or undefined. */
export function mysqlDatetimeMs(s: string): number | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?)?$/.exec(s.trim());
  if (!m) return undefined;
  const [, y, mo, d, h = '0', mi = '0', sec = '0', frac = ''] = m;
  const ms = Number(frac.padEnd(3, '0').slice(0, 3));
  return Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(sec), ms);
}

export function formatDuration(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  const parts: string[] = [];
  const d = Math.floor(s / 86_400);
  const h = Math.floor((s % 86_400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d) parts.push(`${d}d`);
  if (h) parts.push(`${h}h`);
  if (m && !d) parts.push(`${m}m`);
  return parts.join(' ');
}

function isInt(s: string): boolean {
  return /^-?\d+$/.test(s);
}

export function computeLag(t: TableConfig, watermark: Watermark | undefined, sourceMax: string | null): Lag {
  const cursor = lagCursor(t);
  if (!cursor) {
    return { state: 'not-applicable', sourceMax, text: `n/a (${t.strategy}: ${strategyFor(t.strategy).describe(t)})` };
  }
  if (sourceMax === null) return { state: 'source-empty', sourceMax, text: 'source table is empty' };
  const w = watermark?.[cursor.half] ?? null;
  if (w === null) return { state: 'never-synced', sourceMax, text: `never synced (source max ${sourceMax})` };
  let seconds: number | undefined;
  let ids: string | undefined;
  if (cursor.half === 'id' || t.timestampFormat === 'unix') {
    if (!isInt(w) || !isInt(sourceMax)) return { state: 'behind', sourceMax, text: `source max ${sourceMax}` };
    const diff = BigInt(sourceMax) - BigInt(w);
    if (diff <= 0n) return { state: 'up-to-date', sourceMax, text: `up to date (source max ${sourceMax})` };
    if (cursor.half === 'id') ids = diff.toString();
    else seconds = Number(diff);
  } else {
    const a = mysqlDatetimeMs(sourceMax);
    const b = mysqlDatetimeMs(w);
    if (a === undefined || b === undefined) return { state: 'behind', sourceMax, text: `source max ${sourceMax}` };
    if (a <= b) return { state: 'up-to-date', sourceMax, text: `up to date (source max ${sourceMax})` };
    seconds = (a - b) / 1000;
  }
  const lag: Lag = {
    state: 'behind',
    sourceMax,
    text:
      ids !== undefined
        ? `${ids} ids behind (source max ${sourceMax})`
        : `${formatDuration(seconds ?? 0)} behind (source max ${sourceMax})`,
  };
  if (seconds !== undefined) lag.seconds = seconds;
  if (ids !== undefined) lag.ids = ids;
  return lag;
}
