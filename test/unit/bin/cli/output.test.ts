/** Text tables: padded by display width, numbers right-aligned. */
import { describe, expect, test } from 'vitest';
import { table } from '../../../../bin/cli/output.js';

describe('table', () => {
  test('a column of numbers is right-aligned, header included; text stays left-aligned', () => {
    expect(
      table(
        [
          ['table', 'rows', 'size'],
          ['shop.orders', '1,234,567', '12.5 MB'],
          ['shop.x', '89', '3 kB'],
        ],
        true,
      ),
    ).toEqual([
      'table             rows     size', //
      'shop.orders  1,234,567  12.5 MB',
      'shop.x              89     3 kB',
    ]);
  });

  test('widths are display widths: a CJK character and an emoji take two cells, a combining accent none', () => {
    const lines = table([
      ['顧客', 'x'],
      ['ab', 'y'],
      ['👍', 'z'],
      ['e\u0301e', 'w'],
    ]);
    expect(lines).toEqual(['顧客  x', 'ab    y', '👍    z', 'e\u0301e    w']);
  });

  test('a column with text among its numbers, and missing values, is not treated as numbers', () => {
    expect(
      table(
        [
          ['id', 'note'],
          ['1', 'a'],
          ['x2', 'b'],
          ['-', 'c'],
        ],
        true,
      ),
    ).toEqual(['id  note', '1   a', 'x2  b', '-   c']);
  });
});
