import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import type { LogicalType, SourceColumn } from '../../../lambdas/domain/model.js';
import {
  duckdbType,
  mapColumn,
  mapColumns,
  redshiftType,
  selectExpression,
  TYPE_MAP_ROWS,
} from '../../../lambdas/engine/type-map.js';
import { ConfigError, DataError } from '../../../lambdas/errors.js';

function col(columnType: string, extra: Partial<SourceColumn> = {}): SourceColumn {
  const dataType = /^[a-z]+/.exec(columnType)![0];
  return {
    name: 'c',
    dataType,
    columnType,
    nullable: false,
    charMaxLength: null,
    numericPrecision: null,
    numericScale: null,
    ordinal: 1,
    ...extra,
  };
}

describe('MySQL → logical type, row by row', () => {
  const cases: [string, Partial<SourceColumn>, LogicalType][] = [
    ['tinyint(1)', {}, { kind: 'boolean' }],
    ['tinyint(1) unsigned', {}, { kind: 'boolean' }],
    ['tinyint(4)', {}, { kind: 'int16' }],
    ['tinyint', {}, { kind: 'int16' }],
    ['tinyint(3) unsigned', {}, { kind: 'int16' }],
    ['smallint(6)', {}, { kind: 'int16' }],
    ['smallint(5) unsigned', {}, { kind: 'int32' }],
    ['mediumint(9)', {}, { kind: 'int32' }],
    ['mediumint(8) unsigned', {}, { kind: 'int32' }],
    ['int(11)', {}, { kind: 'int32' }],
    ['int(10) unsigned', {}, { kind: 'int64' }],
    ['int unsigned', {}, { kind: 'int64' }],
    ['bigint(20)', {}, { kind: 'int64' }],
    ['bigint(20) unsigned', {}, { kind: 'decimal', precision: 20, scale: 0 }],
    ['decimal(15,4)', { numericPrecision: 15, numericScale: 4 }, { kind: 'decimal', precision: 15, scale: 4 }],
    ['decimal(38,10)', { numericPrecision: 38, numericScale: 10 }, { kind: 'decimal', precision: 38, scale: 10 }],
    ['numeric(10,0)', { numericPrecision: 10, numericScale: 0 }, { kind: 'decimal', precision: 10, scale: 0 }],
    ['float', {}, { kind: 'float32' }],
    ['double', {}, { kind: 'float64' }],
    ['real', {}, { kind: 'float64' }],
    ['bit(1)', {}, { kind: 'boolean' }],
    ['bit(12)', {}, { kind: 'int64' }],
    ['bit(64)', {}, { kind: 'int64' }],
    ['year(4)', {}, { kind: 'int16' }],
    ['date', {}, { kind: 'date' }],
    ['datetime', {}, { kind: 'timestamp', utc: false }],
    ['datetime(6)', {}, { kind: 'timestamp', utc: false }],
    ['timestamp', {}, { kind: 'timestamp', utc: true }],
    ['timestamp(6)', {}, { kind: 'timestamp', utc: true }],
    ['time', {}, { kind: 'time' }],
    ['char(10)', { charMaxLength: 10 }, { kind: 'string', maxBytes: 40 }],
    ['varchar(255)', { charMaxLength: 255 }, { kind: 'string', maxBytes: 1020 }],
    ['varchar(20000)', { charMaxLength: 20000 }, { kind: 'string', maxBytes: 65535 }],
    ['text', { charMaxLength: 65535 }, { kind: 'string', maxBytes: 65535 }],
    ['tinytext', { charMaxLength: 255 }, { kind: 'string', maxBytes: 1020 }],
    ['mediumtext', { charMaxLength: 16777215 }, { kind: 'string', maxBytes: 65535 }],
    ['longtext', { charMaxLength: 4294967295 }, { kind: 'string', maxBytes: 65535 }],
    ["enum('a','bb')", { charMaxLength: 2 }, { kind: 'string', maxBytes: 8 }],
    ["set('x','y')", { charMaxLength: 3 }, { kind: 'string', maxBytes: 12 }],
    ['char(0)', { charMaxLength: 0 }, { kind: 'string', maxBytes: 1 }],
    ['json', {}, { kind: 'json' }],
    ['binary(16)', { charMaxLength: 16 }, { kind: 'binary', maxBytes: 16 }],
    ['varbinary(300)', { charMaxLength: 300 }, { kind: 'binary', maxBytes: 300 }],
    ['blob', { charMaxLength: 65535 }, { kind: 'binary', maxBytes: 65535 }],
    ['longblob', { charMaxLength: 4294967295 }, { kind: 'binary', maxBytes: 1_024_000 }],
    ['uuid', {}, { kind: 'string', maxBytes: 36 }],
  ];
  test.each(cases)('%s', (columnType, extra, expected) => {
    expect(mapColumn(col(columnType, extra)).type).toEqual(expected);
  });

  test('JSON becomes VARCHAR(65535) text with jsonAs varchar', () => {
    const m = mapColumn(col('json'), { jsonAs: 'varchar' });
    expect(m.type).toEqual({ kind: 'string', maxBytes: 65535 });
    expect(redshiftType(m.type)).toBe('VARCHAR(65535)');
  });
});

describe('refused types', () => {
  test('DECIMAL with precision above 38 is a DataError naming table and column', () => {
    const c = col('decimal(65,30)', { name: 'huge', numericPrecision: 65, numericScale: 30 });
    expect(() => mapColumns('shop.orders', [c])).toThrow(DataError);
    expect(() => mapColumns('shop.orders', [c])).toThrow(/shop\.orders\.huge: decimal\(65,30\) has precision 65/);
  });

  test.each(['geometry', 'point', 'polygon', 'linestring'])('%s is a DataError naming table and column', (t) => {
    const c = col(t, { name: 'shape' });
    expect(() => mapColumns('geo.places', [c])).toThrow(DataError);
    expect(() => mapColumns('geo.places', [c])).toThrow(`geo.places.shape: MySQL type ${t} has no mapping`);
  });
});

describe('names and nullability', () => {
  test('target names are lower-cased and digit-leading names get col_', () => {
    const cols = mapColumns('t', [col('int', { name: 'OrderID' }), col('int', { name: '1st_col', ordinal: 2 })]);
    expect(cols.map((c) => c.target)).toEqual(['orderid', 'col_1st_col']);
    expect(cols[0]!.source.name).toBe('OrderID');
  });

  test('two columns mapping to the same target name are a ConfigError', () => {
    expect(() => mapColumns('t', [col('int', { name: 'Total' }), col('int', { name: 'TOTAL', ordinal: 2 })])).toThrow(
      ConfigError,
    );
  });

  test('nullability follows the source, but dates and timestamps are always nullable (zero dates → NULL)', () => {
    expect(mapColumn(col('int', { nullable: false })).nullable).toBe(false);
    expect(mapColumn(col('int', { nullable: true })).nullable).toBe(true);
    expect(mapColumn(col('date', { nullable: false })).nullable).toBe(true);
    expect(mapColumn(col('datetime', { nullable: false })).nullable).toBe(true);
    expect(mapColumn(col('timestamp', { nullable: false })).nullable).toBe(true);
  });

  test('selectExpression quotes the source name', () => {
    expect(selectExpression(mapColumn(col('int', { name: 'order' })))).toBe('`order`');
    expect(selectExpression(mapColumn(col('int', { name: 'we`ird' })))).toBe('`we``ird`');
  });
});

describe('warehouse DDL types', () => {
  const rows: [LogicalType, string, string][] = [
    [{ kind: 'boolean' }, 'BOOLEAN', 'BOOLEAN'],
    [{ kind: 'int16' }, 'SMALLINT', 'SMALLINT'],
    [{ kind: 'int32' }, 'INTEGER', 'INTEGER'],
    [{ kind: 'int64' }, 'BIGINT', 'BIGINT'],
    [{ kind: 'float32' }, 'REAL', 'REAL'],
    [{ kind: 'float64' }, 'DOUBLE PRECISION', 'DOUBLE'],
    [{ kind: 'decimal', precision: 20, scale: 0 }, 'DECIMAL(20,0)', 'DECIMAL(20,0)'],
    [{ kind: 'decimal', precision: 38, scale: 10 }, 'DECIMAL(38,10)', 'DECIMAL(38,10)'],
    [{ kind: 'string', maxBytes: 1020 }, 'VARCHAR(1020)', 'VARCHAR'],
    [{ kind: 'string', maxBytes: 100_000 }, 'VARCHAR(65535)', 'VARCHAR'],
    [{ kind: 'json' }, 'SUPER', 'JSON'],
    [{ kind: 'binary', maxBytes: 16 }, 'VARBYTE(16)', 'BLOB'],
    [{ kind: 'binary', maxBytes: 5_000_000 }, 'VARBYTE(1024000)', 'BLOB'],
    [{ kind: 'date' }, 'DATE', 'DATE'],
    [{ kind: 'timestamp', utc: false }, 'TIMESTAMP', 'TIMESTAMP'],
    [{ kind: 'timestamp', utc: true }, 'TIMESTAMPTZ', 'TIMESTAMPTZ'],
    [{ kind: 'time' }, 'VARCHAR(17)', 'VARCHAR'],
  ];
  test.each(rows)('%j → Redshift %s, DuckDB %s', (t, redshift, duckdb) => {
    expect(redshiftType(t)).toBe(redshift);
    expect(duckdbType(t)).toBe(duckdb);
  });

  test('json → VARCHAR(65535) in Redshift with jsonAs varchar', () => {
    expect(redshiftType({ kind: 'json' }, { jsonAs: 'varchar' })).toBe('VARCHAR(65535)');
  });

  test('the human table lists every logical type the code produces', () => {
    const logical = new Set(TYPE_MAP_ROWS.map((r) => r.logical.split(/[ (]/)[0]));
    for (const k of ['boolean', 'int16', 'int32', 'int64', 'float32', 'float64', 'decimal', 'string', 'json']) {
      expect(logical).toContain(k);
    }
    for (const k of ['binary', 'date', 'timestamp', 'time']) expect(logical).toContain(k);
  });
});

test('docs/type-map.md shows every row of the code’s table', () => {
  const doc = readFileSync(new URL('../../../docs/type-map.md', import.meta.url), 'utf8');
  for (const r of TYPE_MAP_ROWS) {
    expect(doc).toContain(`| ${r.mysql} | ${r.logical} | ${r.parquet} | ${r.redshift} | ${r.duckdb} |`);
  }
});
