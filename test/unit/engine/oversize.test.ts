/** Values longer than their Redshift column: the limits per logical type, UTF-8-safe cuts, errors naming the key. */
import { describe, expect, test } from 'vitest';
import type { LogicalType, MappedColumn } from '../../../lambdas/domain/model.js';
import { byteLimits, cutUtf8, OversizeGuard } from '../../../lambdas/engine/oversize.js';
import { DataError } from '../../../lambdas/errors.js';
import type { RawRow } from '../../../lambdas/ports/index.js';

function col(name: string, type: LogicalType): MappedColumn {
  return {
    source: {
      name: name.toUpperCase(),
      dataType: 'x',
      columnType: 'x',
      nullable: true,
      charMaxLength: null,
      numericPrecision: null,
      numericScale: null,
      ordinal: 0,
    },
    target: name,
    type,
    nullable: true,
  };
}

const columns = [
  col('id', { kind: 'int64' }),
  col('body', { kind: 'string', maxBytes: 65_535 }),
  col('code', { kind: 'string', maxBytes: 8 }),
  col('doc', { kind: 'json' }),
  col('blob', { kind: 'binary', maxBytes: 4 }),
];

describe('byteLimits', () => {
  test('Redshift: strings, binary and JSON have limits; nothing is limited on DuckDB', () => {
    expect(byteLimits(columns, 'redshift').map((l) => [l.column.target, l.limit, l.ddl, l.cut])).toEqual([
      ['body', 65_535, 'VARCHAR(65535)', 'utf8'],
      ['code', 8, 'VARCHAR(8)', 'utf8'],
      ['doc', 65_535, 'SUPER', 'never'],
      ['blob', 4, 'VARBYTE(4)', 'bytes'],
    ]);
    expect(byteLimits(columns, 'duckdb')).toEqual([]);
  });
});

describe('cutUtf8', () => {
  test('never leaves part of a character: 2-, 3- and 4-byte characters at the cut', () => {
    expect(cutUtf8(Buffer.from('abc'), 5).toString()).toBe('abc');
    expect(cutUtf8(Buffer.from('aéé'), 4).toString()).toBe('aé'); // 1 + 2 + 2 bytes: the second é would be split
    expect(cutUtf8(Buffer.from('€€'), 5).toString()).toBe('€');
    expect(cutUtf8(Buffer.from('€€'), 6).toString()).toBe('€€');
    expect(cutUtf8(Buffer.from('a😀'), 4).toString()).toBe('a');
    expect(cutUtf8(Buffer.from('😀'), 3).length).toBe(0);
  });
});

describe('OversizeGuard', () => {
  const limits = byteLimits(columns, 'redshift');
  const row = (over: Partial<Record<'body' | 'code' | 'doc' | 'blob', string | Buffer>>): RawRow => [
    Buffer.from('42'),
    over.body === undefined ? null : Buffer.from(over.body),
    over.code === undefined ? null : Buffer.from(over.code),
    over.doc === undefined ? null : Buffer.from(over.doc),
    over.blob === undefined ? null : Buffer.from(over.blob),
  ];
  const guard = (mode: 'error' | 'truncate', keyed = true) =>
    new OversizeGuard({
      table: 'shop.docs',
      limits,
      keyIndexes: keyed ? [0] : [],
      keyNames: keyed ? ['ID'] : [],
      mode,
    });

  test('error: names the table, the source column, the key, both sizes and the column type', () => {
    const g = guard('error');
    g.check(row({ code: '12345678' }), 1); // exactly the limit fits
    const err = (() => {
      try {
        g.check(row({ code: 'ééééé' }), 2);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(DataError);
    expect((err as Error).message).toBe(
      'shop.docs column CODE: the value at key (ID=42) is 10 bytes, longer than the 8 bytes its Redshift column VARCHAR(8) holds; nothing of this chunk was staged',
    );
    expect((err as DataError).suggestion).toContain('oversize: truncate');
  });

  test('a table without a key is named by the row number', () => {
    expect(() => guard('error', false).check(row({ blob: 'abcde' }), 7)).toThrow(
      /column BLOB: the value at row 7 of the chunk \(the table has no primary key\) is 5 bytes/,
    );
  });

  test('truncate: cuts text at a character boundary, binary anywhere, and counts per column', () => {
    const g = guard('truncate');
    const r1 = row({ code: 'abcdéfgh', blob: 'abcdef' });
    g.check(r1, 1);
    expect(r1[2]?.toString()).toBe('abcdéfg'); // 9 bytes in, 8 out
    expect(r1[4]?.toString()).toBe('abcd');
    const r2 = row({ code: '€€€' });
    g.check(r2, 2);
    expect(r2[2]?.toString()).toBe('€€');
    expect(g.truncated).toEqual({ code: 2, blob: 1 });
  });

  test('truncate never cuts JSON: it would not parse', () => {
    const big = `{"a":"${'x'.repeat(70_000)}"}`;
    expect(() => guard('truncate').check(row({ doc: big }), 1)).toThrow(
      /column DOC: the value at key \(ID=42\) is 70008 bytes, longer than the 65535 bytes its Redshift column takes \(JSON is staged as VARCHAR\(65535\) on its way to SUPER\)/,
    );
  });
});
