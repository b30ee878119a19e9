/**
 * DuckDB result values → JSON-friendly JS (see README "Query results"). Exact types stay exact: 64/128-bit
 * integers beyond 2^53 and DECIMALs become strings rather than lossy doubles.
 */
import {
  DuckDBArrayValue,
  DuckDBBlobValue,
  DuckDBDecimalValue,
  DuckDBListValue,
  DuckDBMapValue,
  DuckDBStructValue,
  DuckDBTimestampTZValue,
  DuckDBTimestampValue,
  DuckDBUnionValue,
  type DuckDBValue,
} from '@duckdb/node-api';

export type JsValue = null | boolean | number | string | Buffer | JsValue[] | { [key: string]: JsValue };

const MICROS_PER_DAY = 86_400_000_000n;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

function pad(n: number | bigint, width: number): string {
  return String(n).padStart(width, '0');
}

/**
 * `YYYY-MM-DD HH:MM:SS[.ffffff]` in UTC for microseconds since the epoch; the fraction is printed (6 digits)
 * only when non-zero. Undefined outside years 1–9999, where the caller falls back to DuckDB's own rendering.
 */
export function formatTimestampMicros(micros: bigint): string | undefined {
  let days = micros / MICROS_PER_DAY;
  let rem = micros % MICROS_PER_DAY;
  if (rem < 0n) {
    rem += MICROS_PER_DAY;
    days -= 1n;
  }
  const date = new Date(Number(days) * 86_400_000);
  const year = date.getUTCFullYear();
  if (Number.isNaN(year) || year < 1 || year > 9999) return undefined;
  const secondsOfDay = Number(rem / 1_000_000n);
  const fraction = rem % 1_000_000n;
  const hh = Math.floor(secondsOfDay / 3600);
  const mm = Math.floor((secondsOfDay % 3600) / 60);
  const ss = secondsOfDay % 60;
  const base = `${pad(year, 4)}-${pad(date.getUTCMonth() + 1, 2)}-${pad(date.getUTCDate(), 2)} ${pad(hh, 2)}:${pad(mm, 2)}:${pad(ss, 2)}`;
  return fraction === 0n ? base : `${base}.${pad(fraction, 6)}`;
}

export function toJsValue(v: DuckDBValue): JsValue {
  if (v === null || typeof v === 'boolean' || typeof v === 'number' || typeof v === 'string') return v;
  if (typeof v === 'bigint') return v > MAX_SAFE || v < -MAX_SAFE ? v.toString() : Number(v);
  if (v instanceof DuckDBDecimalValue) return v.toString();
  if (v instanceof DuckDBTimestampValue) return (v.isFinite && formatTimestampMicros(v.micros)) || v.toString();
  // Rendered in UTC with an explicit offset, independent of the process time zone (DuckDB's toString uses it).
  if (v instanceof DuckDBTimestampTZValue) {
    const text = v.isFinite ? formatTimestampMicros(v.micros) : undefined;
    return text === undefined ? v.toString() : `${text}+00`;
  }
  if (v instanceof DuckDBBlobValue) return Buffer.from(v.bytes);
  if (v instanceof DuckDBListValue || v instanceof DuckDBArrayValue) return v.items.map(toJsValue);
  if (v instanceof DuckDBStructValue) {
    return Object.fromEntries(Object.entries(v.entries).map(([k, item]) => [k, toJsValue(item)]));
  }
  if (v instanceof DuckDBMapValue) return v.entries.map((e) => ({ key: toJsValue(e.key), value: toJsValue(e.value) }));
  if (v instanceof DuckDBUnionValue) return toJsValue(v.value);
  // DATE, TIME, INTERVAL, UUID, BIT, other timestamp precisions: DuckDB's canonical text.
  return v.toString();
}

export function toJsRow(row: Record<string, DuckDBValue>): Record<string, JsValue> {
  const out: Record<string, JsValue> = {};
  for (const [k, v] of Object.entries(row)) out[k] = toJsValue(v);
  return out;
}
