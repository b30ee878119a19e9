/**
 * The commit horizon: the instant below which every row a cursor can see is committed and readable. A run's upper
 * bound H never passes it, so no row can still appear under H once the run has read the window.
 *
 *   cutoff = min(NOW(6) − lag, start of the oldest open read-write transaction) − clock_skew
 *
 * read in the planning snapshot. Why this is enough (docs/correctness.md has the bounds): a row that commits after
 * the window was read belongs to a transaction that was either open when the horizon was read — its cursor is at
 * least that transaction's start less clock_skew, so at or above the cutoff — or that began afterwards, so its
 * cursor is at least NOW less clock_skew. Either way it lands at or above the cutoff, where the next run reads it.
 * `clock_skew` is the margin for cursors an application sets from its own clock (a little behind the server, or
 * taken a moment before the statement ran). The cutoff is then truncated to the cursor column's precision and used
 * with `<`, because a DATETIME written later in the same second can round or truncate down to that second.
 *
 * Where `information_schema.innodb_trx` is not readable (the user lacks PROCESS), open transactions are assumed
 * to be no older than UNSEEN_TRANSACTION_SECONDS, and the run report says once which grant is missing.
 */

import type { MappedColumn } from '../../domain/model.js';
import { ConfigError, SourceStatementError } from '../../errors.js';
import type { SourceReader } from '../../ports/index.js';
import { temporalPrecision } from '../type-map.js';

/** Without innodb_trx, transactions are assumed to commit within this long after they start. */
export const UNSEEN_TRANSACTION_SECONDS = 300;

export interface SourceClock {
  /** NOW(6) on the server (UTC), `YYYY-MM-DD HH:MM:SS.ffffff`. */
  now: string;
  /** Start (UTC) of the oldest read-write transaction another session has open; null when there is none. */
  oldestTransaction: string | null;
  /** False when innodb_trx could not be read; `oldestTransaction` is then now − UNSEEN_TRANSACTION_SECONDS. */
  transactionsVisible: boolean;
  /** The server's default time zone, seconds east of UTC now (DATETIME written by NOW() in a default session). */
  serverOffsetSeconds: number;
  /** Said once in the run report when the horizon had to be assumed. */
  warning: string | null;
}

/** Grants whose absence hides innodb_trx (MySQL and MariaDB answer one of these). */
const NO_PROCESS_GRANT = new Set([
  'ER_SPECIFIC_ACCESS_DENIED_ERROR',
  'ER_TABLEACCESS_DENIED_ERROR',
  'ER_DBACCESS_DENIED_ERROR',
  'ER_ACCESS_DENIED_NO_PASSWORD_ERROR',
]);

const CLOCK_SQL = `SELECT DATE_FORMAT(NOW(6), '%Y-%m-%d %H:%i:%s.%f') AS now,
  TIMESTAMPDIFF(SECOND, UTC_TIMESTAMP(), CONVERT_TZ(UTC_TIMESTAMP(), '+00:00', @@global.time_zone)) AS server_offset`;

// trx_started is in the server's SYSTEM zone whatever the session's time_zone (measured on MariaDB 10.11).
// Read-only transactions (our own planning snapshot) and autocommit SELECTs (extract streams) can never write.
const OLDEST_TRX_SQL = `SELECT DATE_FORMAT(CONVERT_TZ(MIN(trx_started), 'SYSTEM', '+00:00'), '%Y-%m-%d %H:%i:%s.%f') AS oldest
FROM information_schema.INNODB_TRX
WHERE trx_mysql_thread_id <> CONNECTION_ID() AND trx_is_read_only = 0 AND trx_autocommit_non_locking = 0`;

/** How long an id_only plan waits for the write transactions open at its snapshot to end (see id-only.ts). */
export const SETTLE_TIMEOUT_MS = 3000;
const SETTLE_POLL_MS = 250;

async function oldestTransaction(source: SourceReader): Promise<string | null> {
  const row = (await source.query<{ oldest: unknown }>(OLDEST_TRX_SQL))[0];
  return typeof row?.oldest === 'string' ? row.oldest : null;
}

/**
 * Waits (up to `timeoutMs`) until every write transaction open now began after `instant`, and returns the oldest
 * open transaction's start as last read (null: none open). Only meaningful when transactions are visible.
 */
export async function settleTransactionsAfter(
  source: SourceReader,
  instant: string,
  timeoutMs = SETTLE_TIMEOUT_MS,
): Promise<string | null> {
  const bound = parseMicros(instant);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const oldest = await oldestTransaction(source);
    // trx_started has whole seconds: a transaction begun later in the same second still counts as before `instant`.
    if (oldest === null || parseMicros(oldest) > bound || Date.now() >= deadline) return oldest;
    await new Promise((r) => setTimeout(r, SETTLE_POLL_MS));
  }
}

/** Reads the server's clock and its oldest open write transaction; call inside the planning snapshot. */
export async function readSourceClock(source: SourceReader, user: string): Promise<SourceClock> {
  const clock = (await source.query<{ now: unknown; server_offset: unknown }>(CLOCK_SQL))[0];
  const now = typeof clock?.now === 'string' ? clock.now : null;
  if (now === null) throw new Error('the source did not answer NOW(6)');
  const serverOffsetSeconds = Number(clock?.server_offset ?? 0) || 0;
  try {
    return {
      now,
      oldestTransaction: await oldestTransaction(source),
      transactionsVisible: true,
      serverOffsetSeconds,
      warning: null,
    };
  } catch (e) {
    if (!(e instanceof SourceStatementError) || !NO_PROCESS_GRANT.has(e.mysqlCode)) throw e;
    return {
      now,
      oldestTransaction: formatMicros(parseMicros(now) - BigInt(UNSEEN_TRANSACTION_SECONDS) * 1_000_000n, 6),
      transactionsVisible: false,
      serverOffsetSeconds,
      warning:
        `cannot read information_schema.innodb_trx (${e.mysqlCode}): open transactions are assumed to commit within ` +
        `${UNSEEN_TRANSACTION_SECONDS} s, so rows newer than that wait for a later run; GRANT PROCESS ON *.* TO ${user} lets Highwater see them`,
    };
  }
}

// ── Instants as microseconds since the epoch (UTC), exact ─────────────────────────────────────────────────────

const DATETIME_RE = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?)?$/;

/** `YYYY-MM-DD[ HH:MM:SS[.ffffff]]` read as UTC → microseconds since the epoch. */
export function parseMicros(text: string): bigint {
  const m = DATETIME_RE.exec(text.trim());
  if (!m) throw new Error(`not a MySQL datetime: ${JSON.stringify(text)}`);
  const [, y, mo, d, h = '0', mi = '0', s = '0', frac = ''] = m;
  const ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
  return BigInt(ms) * 1000n + BigInt(frac.padEnd(6, '0'));
}

const pad = (n: number | bigint, w = 2) => String(n).padStart(w, '0');

/** Microseconds → `YYYY-MM-DD HH:MM:SS[.f…]` with `digits` fractional digits (0–6), or `YYYY-MM-DD` for -1. */
export function formatMicros(us: bigint, digits: number): string {
  const ms = Number(us / 1000n) - (us % 1000n < 0n ? 1 : 0);
  const d = new Date(ms);
  const day = `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
  if (digits < 0) return day;
  const time = `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
  if (digits === 0) return `${day} ${time}`;
  const frac = pad(((us % 1_000_000n) + 1_000_000n) % 1_000_000n, 6).slice(0, digits);
  return `${day} ${time}.${frac}`;
}

const SECOND = 1_000_000n;
const DAY = 86_400n * SECOND;

/** Rounds down to a multiple of `unit` (also for instants before the epoch). */
function floorTo(us: bigint, unit: bigint): bigint {
  const r = ((us % unit) + unit) % unit;
  return us - r;
}

// ── Time zones ─────────────────────────────────────────────────────────────────────────────────────────────────

const OFFSET_RE = /^([+-])(0?\d|1[0-4]):([0-5]\d)$/;

/** Whether `tz` is something `time_zone:` accepts: `+08:00`, `-05:00`, `UTC`, or an IANA name. */
export function checkTimeZone(tz: string): string | undefined {
  if (OFFSET_RE.test(tz) || tz.toUpperCase() === 'UTC') return undefined;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return undefined;
  } catch {
    return `time_zone ${JSON.stringify(tz)} is neither an offset like +08:00 nor a time zone name like Asia/Shanghai`;
  }
}

/** Seconds east of UTC of `tz` at the instant `atUs` (UTC microseconds). */
export function zoneOffsetSeconds(tz: string, atUs: bigint): number {
  const m = OFFSET_RE.exec(tz);
  if (m) return (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 3600 + Number(m[3]) * 60);
  if (tz.toUpperCase() === 'UTC') return 0;
  const problem = checkTimeZone(tz);
  if (problem) throw new ConfigError(problem);
  const at = new Date(Number(floorTo(atUs, SECOND) / 1000n));
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: tz,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  }).formatToParts(at);
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  const wall = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  return Math.round((wall - at.getTime()) / 1000);
}

// ── The cutoff for one cursor column ───────────────────────────────────────────────────────────────────────────

export interface HorizonSettings {
  lagSeconds: number;
  clockSkewSeconds: number;
  /** The source's `time_zone` for DATETIME cursors; undefined: the server's default zone. */
  timeZone: string | undefined;
}

/** The cutoff instant (UTC microseconds) and which term decided it. */
export function cutoffInstant(clock: SourceClock, s: HorizonSettings): { us: bigint; reason: string } {
  const now = parseMicros(clock.now);
  const lagged = now - BigInt(Math.round(s.lagSeconds * 1e6));
  const oldest = clock.oldestTransaction === null ? null : parseMicros(clock.oldestTransaction);
  const skew = BigInt(Math.round(s.clockSkewSeconds * 1e6));
  const byTransaction = oldest !== null && oldest < lagged;
  const us = (byTransaction ? oldest : lagged) - skew;
  const held = !clock.transactionsVisible
    ? `transactions assumed to commit within ${UNSEEN_TRANSACTION_SECONDS} s`
    : `a write transaction open since ${clock.oldestTransaction} UTC`;
  const reason = byTransaction
    ? `${held}, less clock_skew ${s.clockSkewSeconds} s`
    : `server time${s.lagSeconds ? ` less lag ${s.lagSeconds} s` : ''} less clock_skew ${s.clockSkewSeconds} s`;
  return { us, reason };
}

/** A cursor's bound: rows with a cursor strictly below `value` are final. */
export interface CursorCutoff {
  /** Bound as a parameter: a datetime string in the column's own frame, or whole unix seconds. */
  value: string;
  /** For messages: the bound and why it is there. */
  description: string;
}

/**
 * The cutoff in the frame the cursor column is written in: TIMESTAMP columns are read in a UTC session; DATETIME
 * and DATE hold wall-clock values of the source's time zone; `unix` integers are seconds since the epoch.
 */
export function cursorCutoff(
  column: MappedColumn,
  unix: boolean,
  clock: SourceClock,
  settings: HorizonSettings,
): CursorCutoff {
  const { us, reason } = cutoffInstant(clock, settings);
  if (unix) {
    const seconds = floorTo(us, SECOND) / SECOND;
    return { value: seconds.toString(), description: `${column.source.name} < ${seconds} (${reason})` };
  }
  const utc = column.type.kind === 'timestamp' && column.type.utc;
  let wall = us;
  let zone = 'UTC';
  if (!utc) {
    const offset =
      settings.timeZone === undefined ? clock.serverOffsetSeconds : zoneOffsetSeconds(settings.timeZone, us);
    wall = us + BigInt(offset) * SECOND;
    zone = settings.timeZone ?? `the server's zone (UTC${offset >= 0 ? '+' : '−'}${formatOffset(Math.abs(offset))})`;
  }
  const digits = temporalPrecision(column.source);
  const unit = digits < 0 ? DAY : 10n ** BigInt(6 - digits);
  const value = formatMicros(floorTo(wall, unit), digits);
  return { value, description: `${column.source.name} < ${value} in ${zone} (${reason})` };
}

function formatOffset(seconds: number): string {
  return `${pad(Math.floor(seconds / 3600))}:${pad(Math.floor((seconds % 3600) / 60))}`;
}
