/**
 * The numbers a sync's progress shows — counts, rates, durations and the ETA — as pure functions of what the run
 * events said and the clock, so they are tested on their own (test/unit/bin/cli/progress-format.test.ts).
 */

/**
 * `1,234,567`: counts are grouped the same way whatever the machine's locale. By hand rather than
 * `toLocaleString('en-US')`, whose first call loads ICU's number formatting: 10–12 ms on the main thread, at the
 * moment a run's extract starts.
 */
export function formatCount(n: number): string {
  const rounded = Math.round(n);
  const digits = String(Math.abs(rounded)).replace(/\B(?=(\d{3})+$)/g, ',');
  return rounded < 0 ? `-${digits}` : digits;
}

/** Below this much elapsed time a rate is noise (a chunk that finished within a few milliseconds of the start). */
const MIN_RATE_WINDOW_MS = 200;

/** Rows per second over `elapsedMs`; null while too little time has passed to say. */
export function rowsPerSecond(rows: number, elapsedMs: number): number | null {
  if (!(elapsedMs >= MIN_RATE_WINDOW_MS) || rows < 0) return null;
  return (rows * 1000) / elapsedMs;
}

/** `52,000 rows/s`, `0.5 rows/s`, or `– rows/s` while unknown. */
export function formatRate(rate: number | null): string {
  if (rate === null) return '– rows/s';
  return `${rate >= 10 ? formatCount(rate) : rate.toFixed(1)} rows/s`;
}

/**
 * How long the rest takes at the rate so far: (total − done) ÷ (done ÷ elapsed). Null when it cannot be said: no
 * total (the plan had no estimate), nothing done yet, or too little time passed. Zero once done reaches the total
 * (an estimate can be passed: rows changed after the plan).
 */
export function etaMs(done: number, total: number | null, elapsedMs: number): number | null {
  if (total === null) return null;
  if (done >= total) return 0;
  const rate = rowsPerSecond(done, elapsedMs);
  if (rate === null || rate === 0) return null;
  return ((total - done) / rate) * 1000;
}

/** `0.4s` (tenths below ten seconds), `42s`, `3m05s`, `1h02m`, `2d03h`. */
export function formatElapsed(ms: number): string {
  const safe = Math.max(0, ms);
  if (safe < 10_000) return `${(Math.floor(safe / 100) / 10).toFixed(1)}s`;
  const s = Math.floor(safe / 1000);
  if (s < 60) return `${s}s`;
  const pad = (n: number) => String(n).padStart(2, '0');
  if (s < 3600) return `${Math.floor(s / 60)}m${pad(s % 60)}s`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h${pad(Math.floor((s % 3600) / 60))}m`;
  return `${Math.floor(s / 86_400)}d${pad(Math.floor((s % 86_400) / 3600))}h`;
}

/** `ETA 23s`, or `ETA –` while unknown. */
export function formatEta(ms: number | null): string {
  return ms === null ? 'ETA –' : `ETA ${formatElapsed(ms)}`;
}

/** `40%` of a total, or null without one. Never 100% before done reaches the total. */
export function percentOf(done: number, total: number | null): string | null {
  if (total === null || total <= 0) return null;
  if (done >= total) return '100%';
  return `${Math.min(99, Math.floor((done / total) * 100))}%`;
}
