/** Terminal columns by display width: CJK and emoji take two, combining marks none; numbers right-aligned. */
import stringWidth from 'string-width';
import { expect, test } from 'vitest';
import { displayWidth, padTo, truncateTo } from '../../../../bin/cli/display-width.js';
import { formatBytes, textTable } from '../../../../bin/cli/text-table.js';

test('display width: ASCII one column, CJK and fullwidth two, emoji two per cluster, combining marks none', () => {
  expect(displayWidth('orders')).toBe(6);
  expect(displayWidth('注文')).toBe(4);
  expect(displayWidth('주문')).toBe(4);
  expect(displayWidth('ｱｲ')).toBe(2); // halfwidth katakana stay narrow
  expect(displayWidth('ＡＢ')).toBe(4); // fullwidth Latin
  expect(displayWidth('😀')).toBe(2);
  expect(displayWidth('👨‍👩‍👧')).toBe(2); // one ZWJ sequence, one picture
  expect(displayWidth('🇯🇵')).toBe(2); // a flag: two regional indicators
  expect(displayWidth('❤️')).toBe(2); // text-default symbol asked for as emoji (VS16)
  expect(displayWidth('❤')).toBe(1); // the same symbol as text
  expect(displayWidth('é')).toBe(1); // e + combining acute
  expect(displayWidth('\u200b')).toBe(0);
  expect(displayWidth('a\tb')).toBe(2); // a control character draws nothing
  expect(displayWidth('')).toBe(0);
});

test('printable ASCII, measured without string-width, has the width string-width gives it', () => {
  const ascii = Array.from({ length: 0x7f - 0x20 }, (_, i) => String.fromCharCode(0x20 + i)).join('');
  expect(displayWidth(ascii)).toBe(stringWidth(ascii));
  for (const ch of ascii) expect(displayWidth(ch)).toBe(stringWidth(ch));
  // Control characters are not on the ASCII fast path: they draw nothing.
  expect(displayWidth('\x1b')).toBe(stringWidth('\x1b'));
  expect(displayWidth('\x7f')).toBe(0);
});

test('padding and cutting by display width', () => {
  expect(padTo('注文', 6)).toBe('注文  ');
  expect(padTo('42', 5, 'right')).toBe('   42');
  expect(truncateTo('注文注文', 5)).toBe('注文…');
  expect(displayWidth(truncateTo('注文注文', 5))).toBeLessThanOrEqual(5);
  expect(truncateTo('short', 10)).toBe('short');
});

test('a table lines up CJK and emoji cells and right-aligns numbers', () => {
  const lines = textTable(
    [
      ['name', 'rows'],
      ['注文', '1,234'],
      ['😀 emoji', '7'],
      ['plain', '12'],
    ],
    ['left', 'right'],
  );
  expect(lines).toEqual(['name       rows', '注文      1,234', '😀 emoji      7', 'plain        12']);
  // Every row ends at the same column.
  expect(new Set(lines.map((l) => displayWidth(l)))).toEqual(new Set([15]));
  expect(formatBytes(0)).toBe('0 B');
  expect(formatBytes(999)).toBe('999 B');
  expect(formatBytes(87_100_000)).toBe('87.1 MB');
  expect(formatBytes(123_456_789_000)).toBe('123 GB');
});
