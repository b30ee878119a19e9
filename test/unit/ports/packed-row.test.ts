/**
 * Rows as MySQL's text protocol packs them (lambdas/ports/packed-row.ts): each value a length-encoded string, NULL
 * as 0xfb. The packets here are built by hand to the protocol's rules, with every length form: one byte, 0xfc + 2,
 * 0xfd + 3 and 0xfe + 8 bytes; and rows that are short, long, or carry a byte no value starts with.
 */
import { describe, expect, test } from 'vitest';
import { forEachValue, type PackedRow, PackedRowError, unpackRow } from '../../../lambdas/ports/packed-row.js';

function lengthPrefix(n: number): Buffer {
  if (n < 0xfb) return Buffer.from([n]);
  if (n < 0x10000) return Buffer.from([0xfc, n & 0xff, n >> 8]);
  if (n < 0x1000000) return Buffer.from([0xfd, n & 0xff, (n >> 8) & 0xff, n >> 16]);
  const b = Buffer.alloc(9);
  b[0] = 0xfe;
  b.writeUInt32LE(n % 0x100000000, 1);
  b.writeUInt32LE(Math.floor(n / 0x100000000), 5);
  return b;
}

/** A packet-like buffer with `pad` bytes before the row (a packet's header), as mysql2 hands it over. */
function packed(values: (string | null)[], pad = 4): PackedRow {
  const parts = values.map((v) =>
    v === null ? Buffer.from([0xfb]) : Buffer.concat([lengthPrefix(Buffer.byteLength(v)), Buffer.from(v)]),
  );
  const body = Buffer.concat(parts);
  const buf = Buffer.concat([Buffer.alloc(pad, 0xaa), body, Buffer.alloc(3, 0xbb)]);
  return { buf, start: pad, end: pad + body.length };
}

function texts(row: PackedRow, columns: number): (string | null)[] {
  return unpackRow(row, columns).map((v) => (v === null ? null : v.toString('utf8')));
}

describe('reading a packed row', () => {
  test('short values, an empty string and NULL, in column order, from inside a larger buffer', () => {
    const row = packed(['42', '', null, 'ünï ✓']);
    expect(texts(row, 4)).toEqual(['42', '', null, 'ünï ✓']);
  });

  test('every length form: 250 bytes (one byte), 251 and 65,535 (0xfc), 65,536 (0xfd)', () => {
    const values = [250, 251, 65_535, 65_536].map((n) => 'x'.repeat(n));
    expect(texts(packed(values), 4).map((v) => v?.length)).toEqual([250, 251, 65_535, 65_536]);
  });

  test('an 8-byte length (0xfe) is read, and a value longer than the row is refused', () => {
    const buf = Buffer.concat([lengthPrefix(0x1000000), Buffer.from('abc')]);
    expect(buf[0]).toBe(0xfe);
    expect(() =>
      forEachValue(
        { buf, start: 0, end: buf.length },
        1,
        () => undefined,
        () => undefined,
      ),
    ).toThrow(/value 1 runs past the end of the row/);
  });

  test('the values are views on the packet, not copies', () => {
    const row = packed(['abc']);
    const [v] = unpackRow(row, 1);
    expect(v!.buffer).toBe(row.buf.buffer);
  });

  test('a row with fewer or more values than the columns, or a byte no value starts with, is a PackedRowError', () => {
    const nothing = () => undefined;
    expect(() => forEachValue(packed(['1', '2']), 3, nothing, nothing)).toThrow(PackedRowError);
    expect(() => forEachValue(packed(['1', '2']), 3, nothing, nothing)).toThrow('the row has 2 values, not 3');
    expect(() => forEachValue(packed(['1', '2', '3']), 2, nothing, nothing)).toThrow('more than 2 values');
    const bad = { buf: Buffer.from([0xff, 0x01]), start: 0, end: 2 };
    expect(() => forEachValue(bad, 1, nothing, nothing)).toThrow('value 1 has a bad length prefix');
    const cut = { buf: Buffer.from([0xfc, 0x01]), start: 0, end: 2 };
    expect(() => forEachValue(cut, 1, nothing, nothing)).toThrow('value 1 has a bad length prefix');
  });
});
