import { describe, expect, test } from 'vitest';
import {
  daysFromCivil,
  parseDate,
  parseDateTimeMicros,
  parseDecimalUnscaled,
  parseFloatAscii,
  parseSmallInt,
  writeDecimal128,
  writeInt64BigInt,
  writeInt64Number,
  ZERO_DATE,
} from '../../../../lambdas/adapters/parquet/ascii.js';

const b = (s: string) => Buffer.from(s, 'latin1');

function int64Of(write: (w: Int32Array) => void): bigint {
  const v = new BigInt64Array(1);
  write(new Int32Array(v.buffer));
  return v[0]!;
}

function decimalOf(v: number | bigint): bigint {
  const w = new Uint32Array(4);
  writeDecimal128(w, 0, v);
  const u = BigInt(w[0]!) | (BigInt(w[1]!) << 32n) | (BigInt(w[2]!) << 64n) | (BigInt(w[3]!) << 96n);
  return BigInt.asIntN(128, u);
}

describe('integers', () => {
  test('small integers, bad text, and the hand-off to BigInt above 15 digits', () => {
    expect(parseSmallInt(b('0'))).toBe(0);
    expect(parseSmallInt(b('-2147483648'))).toBe(-2147483648);
    expect(parseSmallInt(b('999999999999999'))).toBe(999999999999999);
    expect(parseSmallInt(b('1000000000000000'))).toBe(Number.POSITIVE_INFINITY);
    expect(parseSmallInt(b('12a'))).toBeNaN();
    expect(parseSmallInt(b('-'))).toBeNaN();
    expect(parseSmallInt(b(''))).toBeNaN();
  });

  test('int64 words are exact for numbers and bigints, negatives included', () => {
    for (const n of [0, 1, -1, 4294967296, -4294967297, 2 ** 53 - 1, -(2 ** 53 - 1)]) {
      expect(int64Of((w) => writeInt64Number(w, 0, n))).toBe(BigInt(n));
    }
    for (const v of [9223372036854775807n, -9223372036854775808n, -1n]) {
      expect(int64Of((w) => writeInt64BigInt(w, 0, v))).toBe(v);
    }
  });
});

describe('decimals', () => {
  test.each([
    ['0.0000', 4, 0n],
    ['-0.0001', 4, -1n],
    ['12345.6789', 4, 123456789n],
    ['-99999999999.9999', 4, -999999999999999n],
    ['5', 2, 500n],
    ['1.5', 3, 1500n],
    ['18446744073709551615', 0, 18446744073709551615n],
    ['-9999999999999999999999999999.9999999999', 10, -99999999999999999999999999999999999999n],
  ] as const)('%s with scale %i → %s', (text, scale, unscaled) => {
    const v = parseDecimalUnscaled(b(text), scale);
    expect(v).toBeDefined();
    expect(decimalOf(v!)).toBe(unscaled);
  });

  test('bad text and more fraction digits than the scale are refused', () => {
    expect(parseDecimalUnscaled(b('1.23'), 1)).toBeUndefined();
    expect(parseDecimalUnscaled(b('1.2.3'), 4)).toBeUndefined();
    expect(parseDecimalUnscaled(b('abc'), 0)).toBeUndefined();
    expect(parseDecimalUnscaled(b('-'), 0)).toBeUndefined();
  });
});

describe('floats', () => {
  test.each(['0', '-1.5', '0.1', '142.7143', '3.14159', '1.7976931348623157e308', '2.5e-300', '-0', '1e20'])(
    '%s equals Number(text)',
    (s) => {
      expect(Object.is(parseFloatAscii(b(s)), Number(s))).toBe(true);
    },
  );
  test('bad text is NaN', () => {
    expect(parseFloatAscii(b(''))).toBeNaN();
    expect(parseFloatAscii(b('x1'))).toBeNaN();
  });
});

describe('dates and timestamps', () => {
  test('days since the epoch match Date.UTC', () => {
    for (const [y, m, d] of [
      [1970, 1, 1],
      [2024, 2, 29],
      [1000, 1, 1],
      [9999, 12, 31],
      [1969, 12, 31],
      [2000, 3, 1],
    ] as const) {
      expect(daysFromCivil(y, m, d)).toBe(Date.UTC(y, m - 1, d) / 86_400_000);
    }
  });

  test('zero dates and zero month/day are ZERO_DATE; impossible dates are bad', () => {
    expect(parseDate(b('0000-00-00'))).toBe(ZERO_DATE);
    expect(parseDate(b('2024-00-15'))).toBe(ZERO_DATE);
    expect(parseDate(b('2024-05-00'))).toBe(ZERO_DATE);
    expect(parseDate(b('2023-02-29'))).toBeNaN();
    expect(parseDate(b('2024-13-01'))).toBeNaN();
    expect(parseDate(b('20240101'))).toBeNaN();
    expect(parseDate(b('2024-02-29'))).toBe(19782);
  });

  test('datetimes to microseconds, exact inside and outside the double-safe range', () => {
    expect(parseDateTimeMicros(b('1970-01-01 00:00:00'))).toBe(0);
    expect(parseDateTimeMicros(b('1969-12-31 23:59:59.999999'))).toBe(-1);
    expect(parseDateTimeMicros(b('2024-01-01 00:00:01.5'))).toBe(1704067201500000);
    expect(parseDateTimeMicros(b('9999-12-31 23:59:59.999999'))).toBe(253402300799999999n);
    expect(parseDateTimeMicros(b('1000-01-01 00:00:00'))).toBe(-30610224000000000n);
    expect(parseDateTimeMicros(b('0000-00-00 00:00:00'))).toBe(ZERO_DATE);
    expect(parseDateTimeMicros(b('2024-01-01 24:00:00'))).toBeNaN();
    expect(parseDateTimeMicros(b('2024-01-01 00:00:00.1234567'))).toBeNaN();
    expect(parseDateTimeMicros(b('2024-01-01T00:00:00'))).toBeNaN();
  });
});
