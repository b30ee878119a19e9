/**
 * Parsers for MySQL text-protocol values, straight from the bytes (no JS strings on the fast paths). Each reads the
 * value at b[s, e) — a row packet holds every value of its row, so no per-value Buffer is made — and returns a sentinel
 * on bad input; the caller turns that into a DataError naming the column and row.
 */

const MINUS = 45;
const DOT = 46;
const ZERO = 48;
/** 15 decimal digits always fit a double exactly (< 2^53). */
const SAFE_DIGITS = 15;
const TWO_32 = 4294967296;

/** An integer of at most 15 digits, or NaN (bad text) / Infinity (too many digits for the fast path). */
export function parseSmallInt(b: Uint8Array, s = 0, e = b.length): number {
  const n = e;
  let i = s;
  let neg = false;
  if (n > s && b[s] === MINUS) {
    neg = true;
    i = s + 1;
  }
  if (i === n) return Number.NaN;
  if (n - i > SAFE_DIGITS) return Number.POSITIVE_INFINITY;
  let x = 0;
  for (; i < n; i++) {
    const d = b[i]! - ZERO;
    if (d < 0 || d > 9) return Number.NaN;
    x = x * 10 + d;
  }
  return neg ? -x : x;
}

/** Exact powers of ten as doubles (10^22 is the largest). */
const POW10 = Array.from({ length: 23 }, (_, k) => 10 ** k);

/**
 * A float as MySQL prints it. Plain `[-]digits[.digits]` with at most 15 digits takes the exact fast path
 * (mantissa / 10^k is correctly rounded, so it equals Number(text)); anything else goes through Number().
 */
export function parseFloatAscii(b: Uint8Array, s = 0, e = b.length): number {
  const n = e;
  let i = s;
  let neg = false;
  if (n > s && b[s] === MINUS) {
    neg = true;
    i = s + 1;
  }
  let m = 0;
  let digits = 0;
  let frac = -1;
  for (; i < n; i++) {
    const c = b[i]!;
    if (c === DOT && frac < 0) {
      frac = 0;
      continue;
    }
    const d = c - ZERO;
    if (d < 0 || d > 9 || digits === SAFE_DIGITS) return n === s ? Number.NaN : Number(latin1(b, s, e));
    m = m * 10 + d;
    digits++;
    if (frac >= 0) frac++;
  }
  if (digits === 0) return Number.NaN;
  const v = frac > 0 ? m / POW10[frac]! : m;
  return neg ? -v : v;
}

const INT_TEXT_RE = /^-?\d+$/;

function latin1(b: Uint8Array, s = 0, e = b.length): string {
  return Buffer.from(b.buffer, b.byteOffset + s, e - s).toString('latin1');
}

/** Any integer as BigInt, or undefined for bad text. */
export function parseBigInt(b: Uint8Array, s = 0, e = b.length): bigint | undefined {
  const text = latin1(b, s, e);
  return INT_TEXT_RE.test(text) ? BigInt(text) : undefined;
}

/** Writes an exact integer |n| < 2^53 as a little-endian int64 into words[at], words[at+1]. */
export function writeInt64Number(words: Int32Array, at: number, n: number): void {
  words[at] = n >>> 0;
  words[at + 1] = Math.floor(n / TWO_32);
}

export function writeInt64BigInt(words: Int32Array, at: number, v: bigint): void {
  words[at] = Number(BigInt.asIntN(32, v));
  words[at + 1] = Number(BigInt.asIntN(32, v >> 32n));
}

/**
 * A DECIMAL's unscaled value (digits with the point removed, padded to `scale` fraction digits). Returns a number
 * when it has at most 15 digits, a bigint otherwise, or undefined for bad text or more fraction digits than `scale`.
 */
export function parseDecimalUnscaled(b: Uint8Array, scale: number, s = 0, e = b.length): number | bigint | undefined {
  const n = e;
  let i = s;
  let neg = false;
  if (n > s && b[s] === MINUS) {
    neg = true;
    i = s + 1;
  }
  let x = 0;
  let digits = 0;
  let frac = -1; // digits after the point; -1 while no point seen
  for (; i < n; i++) {
    const c = b[i]!;
    if (c === DOT) {
      if (frac >= 0) return undefined;
      frac = 0;
      continue;
    }
    const d = c - ZERO;
    if (d < 0 || d > 9) return undefined;
    x = x * 10 + d;
    digits++;
    if (frac >= 0) frac++;
  }
  if (digits === 0) return undefined;
  const f = Math.max(frac, 0);
  if (f > scale) return undefined;
  const pad = scale - f;
  if (digits + pad <= SAFE_DIGITS) {
    const v = x * 10 ** pad;
    return neg ? -v : v;
  }
  const text = latin1(b, s, e).replace('.', '');
  return BigInt(text) * 10n ** BigInt(pad);
}

const TWO_128 = 1n << 128n;
const MASK_32 = 0xffffffffn;

/** Writes a value as Arrow Decimal128 (four little-endian 32-bit words, two's complement). */
export function writeDecimal128(words: Uint32Array, at: number, v: number | bigint): void {
  if (typeof v === 'number') {
    const lo = v >>> 0;
    const hi = Math.floor(v / TWO_32);
    const ext = v < 0 ? 0xffffffff : 0;
    words[at] = lo;
    words[at + 1] = hi >>> 0;
    words[at + 2] = ext;
    words[at + 3] = ext;
    return;
  }
  let u = v < 0n ? TWO_128 + v : v;
  for (let k = 0; k < 4; k++) {
    words[at + k] = Number(u & MASK_32);
    u >>= 32n;
  }
}

/** The largest unscaled magnitude a DECIMAL(precision, ·) holds. */
export function decimalLimit(precision: number): bigint {
  return 10n ** BigInt(precision);
}

function digit2(b: Uint8Array, i: number): number {
  const a = b[i]! - ZERO;
  const c = b[i + 1]! - ZERO;
  return a >= 0 && a <= 9 && c >= 0 && c <= 9 ? a * 10 + c : Number.NaN;
}

function isLeap(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil). */
export function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/** Sentinels of the date parsers. */
export const ZERO_DATE = Number.NEGATIVE_INFINITY;
export const BAD_DATE = Number.NaN;

/** `YYYY-MM-DD` → days since epoch; ZERO_DATE for a zero date or a zero month/day, BAD_DATE for bad text. */
export function parseDate(b: Uint8Array, s = 0, e = b.length): number {
  if (e - s < 10 || b[s + 4] !== MINUS || b[s + 7] !== MINUS) return BAD_DATE;
  const y = digit2(b, s) * 100 + digit2(b, s + 2);
  const m = digit2(b, s + 5);
  const d = digit2(b, s + 8);
  if (Number.isNaN(y + m + d)) return BAD_DATE;
  if (m === 0 || d === 0) return ZERO_DATE;
  if (m > 12 || d > (m === 2 && isLeap(y) ? 29 : MONTH_DAYS[m - 1]!)) return BAD_DATE;
  return daysFromCivil(y, m, d);
}

/** Microseconds since the epoch fit a double exactly while |seconds| < 9e9 (years ~1685–2255). */
const SAFE_SECONDS = 9e9;

/**
 * `YYYY-MM-DD HH:MM:SS[.ffffff]` → microseconds since epoch: a number when exact, a bigint outside ~1685–2255,
 * ZERO_DATE for zero dates, BAD_DATE for bad text.
 */
export function parseDateTimeMicros(b: Uint8Array, s = 0, e = b.length): number | bigint {
  const days = parseDate(b, s, e);
  if (Number.isNaN(days) || days === ZERO_DATE) return days;
  const n = e - s;
  if (n < 19 || b[s + 10] !== 32 || b[s + 13] !== 58 || b[s + 16] !== 58) return BAD_DATE;
  const hh = digit2(b, s + 11);
  const mi = digit2(b, s + 14);
  const ss = digit2(b, s + 17);
  if (Number.isNaN(hh + mi + ss) || hh > 23 || mi > 59 || ss > 59) return BAD_DATE;
  let frac = 0;
  if (n > 19) {
    if (b[s + 19] !== DOT || n > 26 || n === 20) return BAD_DATE;
    let scale = 100000;
    for (let i = s + 20; i < e; i++) {
      const d = b[i]! - ZERO;
      if (d < 0 || d > 9) return BAD_DATE;
      frac += d * scale;
      scale /= 10;
    }
  }
  const secs = days * 86400 + hh * 3600 + mi * 60 + ss;
  if (Math.abs(secs) < SAFE_SECONDS) return secs * 1e6 + frac;
  return BigInt(secs) * 1_000_000n + BigInt(frac);
}
