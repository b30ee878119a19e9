/** How `highwater query` prints a result: RFC 4180 CSV, one-line cells, numbers right-aligned. */
import { expect, test } from 'vitest';
import { cellText, csvField, renderCsv, renderTextTable, toJson } from '../../../../bin/cli/query-output.js';

test('CSV fields are quoted as RFC 4180 says: only when they hold a comma, quote, CR or LF; quotes doubled', () => {
  expect(csvField('plain')).toBe('plain');
  expect(csvField('a,b')).toBe('"a,b"');
  expect(csvField('say "hi"')).toBe('"say ""hi"""');
  expect(csvField('two\nlines')).toBe('"two\nlines"');
  expect(csvField('cr\r')).toBe('"cr\r"');
  expect(csvField('')).toBe('');
  expect(
    renderCsv(
      [{ name: 'id' }, { name: 'label, text' }, { name: 'n' }],
      [
        [1, 'a "quoted" word', null],
        [2, 'line\nbreak', '3.50'],
      ],
    ),
  ).toBe('id,"label, text",n\r\n1,"a ""quoted"" word",\r\n2,"line\nbreak",3.50\r\n');
});

test('cells: NULL, bytes as hex, nested values as JSON; JSON output keeps nesting and hex bytes', () => {
  expect(cellText(null)).toBe('NULL');
  expect(cellText(Buffer.from([0xde, 0xad]))).toBe('\\xdead');
  expect(cellText([1, { a: 'x' }])).toBe('[1,{"a":"x"}]');
  expect(cellText(true)).toBe('true');
  expect(toJson({ b: Buffer.from([1]), l: [null, 2] })).toEqual({ b: '\\x01', l: [null, 2] });
});

test('the text table right-aligns numeric columns, keeps rows on one line and cuts long cells', () => {
  const lines = renderTextTable(
    [
      { name: 'id', type: 'BIGINT' },
      { name: 'label', type: 'VARCHAR' },
      { name: 'amount', type: 'DECIMAL(10,2)' },
    ],
    [
      [1, 'a\nb', '10.00'],
      [1234, 'x'.repeat(100), '5.50'],
    ],
  );
  expect(lines[0]).toBe(`  id  label${' '.repeat(55)}  amount`);
  expect(lines[1]).toBe(`   1  a\\nb${' '.repeat(56)}   10.00`);
  expect(lines[2]).toBe(`1234  ${'x'.repeat(59)}…    5.50`);
});
