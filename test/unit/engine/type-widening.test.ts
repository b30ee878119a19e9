/** The widening rule (lambdas/engine/type-widening.ts): every branch, in both warehouses' spellings. */
import { describe, expect, test } from 'vitest';
import type { LogicalType } from '../../../lambdas/domain/model.js';
import { duckdbType, redshiftType } from '../../../lambdas/engine/type-map.js';
import {
  catalogSpelling,
  compareColumnTypes,
  parseColumnType,
  WAREHOUSE_TYPES,
  type WarehouseName,
} from '../../../lambdas/engine/type-widening.js';

/** existing catalog spelling, wanted DDL, expected verdict */
type Case = [string, string, 'same' | 'widening' | 'narrowing' | 'type change'];

function verdictOf(warehouse: WarehouseName, existing: string, wanted: string): string {
  const c = compareColumnTypes(warehouse, existing, wanted);
  return c.kind === 'incompatible' ? c.why : c.kind;
}

describe('parseColumnType', () => {
  test('reads the DDL and the catalog spelling of a type into the same parsed form', () => {
    expect(parseColumnType('redshift', 'DECIMAL(20,6)')).toEqual({
      family: 'decimal',
      spelling: 'numeric(20,6)',
      precision: 20,
      scale: 6,
    });
    expect(parseColumnType('redshift', 'numeric( 20 , 6 )')).toEqual(parseColumnType('redshift', 'DECIMAL(20,6)'));
    expect(parseColumnType('redshift', 'VARCHAR(10)')).toEqual({
      family: 'varchar',
      spelling: 'character varying(10)',
      length: 10,
    });
    expect(parseColumnType('redshift', 'DOUBLE PRECISION')).toEqual({
      family: 'float',
      spelling: 'double precision',
      bytes: 8,
    });
    expect(parseColumnType('duckdb', 'REAL')).toEqual({ family: 'float', spelling: 'FLOAT', bytes: 4 });
    expect(parseColumnType('duckdb', 'FLOAT')).toEqual({ family: 'float', spelling: 'FLOAT', bytes: 4 });
    expect(parseColumnType('duckdb', 'smallint')).toEqual({ family: 'integer', spelling: 'SMALLINT', bytes: 2 });
    expect(parseColumnType('duckdb', 'VARCHAR')).toEqual({ family: 'varchar', spelling: 'VARCHAR', length: undefined });
    expect(parseColumnType('duckdb', 'BLOB')).toEqual({ family: 'varbyte', spelling: 'BLOB', length: undefined });
    expect(parseColumnType('redshift', 'varbyte')).toEqual({
      family: 'varbyte',
      spelling: 'varbyte',
      length: undefined,
    });
  });

  test('a catalog alias parses as its type', () => {
    expect(parseColumnType('redshift', 'binary varying(16)')).toEqual({
      family: 'varbyte',
      spelling: 'varbyte(16)',
      length: 16,
    });
  });

  test('types compared only exactly are "other", spelled as the catalog spells them', () => {
    expect(parseColumnType('duckdb', 'TIMESTAMPTZ')).toEqual({ family: 'other', spelling: 'TIMESTAMP WITH TIME ZONE' });
    expect(parseColumnType('redshift', 'TIMESTAMP')).toEqual({
      family: 'other',
      spelling: 'timestamp without time zone',
    });
    expect(parseColumnType('redshift', 'SUPER')).toEqual({ family: 'other', spelling: 'super' });
  });

  test('anything it does not know, or with arguments its type does not take, is "other" with its own text', () => {
    for (const [warehouse, text] of [
      ['redshift', 'character(10)'], // not in the table
      ['duckdb', 'HUGEINT'],
      ['duckdb', 'INTEGER[]'], // not a plain name(args)
      ['duckdb', 'STRUCT(a INTEGER)'],
      ['redshift', 'integer(4)'], // an integer takes no arguments
      ['redshift', 'numeric(10)'], // a decimal needs both
      ['redshift', 'character varying(10,2)'], // a length is one number
    ] as const) {
      const parsed = parseColumnType(warehouse, text);
      expect(parsed.family, text).toBe('other');
    }
    expect(parseColumnType('duckdb', ' HUGEINT ')).toEqual({ family: 'other', spelling: 'HUGEINT' });
    expect(parseColumnType('redshift', 'integer(4)')).toEqual({ family: 'other', spelling: 'integer(4)' });
  });

  test('no spelling names two types in one warehouse’s table', () => {
    for (const rows of Object.values(WAREHOUSE_TYPES)) {
      const owner = new Map<string, number>();
      rows.forEach((r, i) => {
        for (const name of new Set([r.ddl, r.catalog, ...(r.aliases ?? [])].map((n) => n.toLowerCase()))) {
          expect(owner.get(name) ?? i, name).toBe(i);
          owner.set(name, i);
        }
      });
    }
  });

  test('every type the type map produces is in its warehouse’s table', () => {
    const types: LogicalType[] = [
      { kind: 'boolean' },
      { kind: 'int16' },
      { kind: 'int32' },
      { kind: 'int64' },
      { kind: 'float32' },
      { kind: 'float64' },
      { kind: 'decimal', precision: 38, scale: 10 },
      { kind: 'string', maxBytes: 40 },
      { kind: 'json' },
      { kind: 'binary', maxBytes: 16 },
      { kind: 'date' },
      { kind: 'timestamp', utc: false },
      { kind: 'timestamp', utc: true },
      { kind: 'time' },
    ];
    const base = (ddl: string) => ddl.replace(/\(.*$/, '');
    for (const t of types) {
      for (const ddl of [redshiftType(t), redshiftType(t, { jsonAs: 'varchar' })]) {
        expect(
          WAREHOUSE_TYPES.redshift.some((r) => r.ddl === base(ddl)),
          ddl,
        ).toBe(true);
      }
      const ddl = duckdbType(t);
      expect(
        WAREHOUSE_TYPES.duckdb.some((r) => r.ddl === base(ddl)),
        ddl,
      ).toBe(true);
    }
  });
});

describe('catalogSpelling', () => {
  test.each([
    ['redshift', 'DECIMAL(20,6)', 'numeric(20,6)'],
    ['redshift', 'VARCHAR(65535)', 'character varying(65535)'],
    ['redshift', 'VARBYTE(16)', 'varbyte(16)'],
    ['redshift', 'TIMESTAMPTZ', 'timestamp with time zone'],
    ['redshift', 'BOOLEAN', 'boolean'],
    ['duckdb', 'DECIMAL(20,0)', 'DECIMAL(20,0)'],
    ['duckdb', 'REAL', 'FLOAT'],
    ['duckdb', 'TIMESTAMPTZ', 'TIMESTAMP WITH TIME ZONE'],
    ['duckdb', 'JSON', 'JSON'],
  ] as const)('%s %s → %s', (warehouse, ddl, catalog) => {
    expect(catalogSpelling(warehouse, ddl)).toBe(catalog);
  });
});

describe('compareColumnTypes', () => {
  const redshift: Case[] = [
    // same
    ['integer', 'INTEGER', 'same'],
    ['numeric(10,2)', 'DECIMAL(10,2)', 'same'],
    ['timestamp with time zone', 'TIMESTAMPTZ', 'same'],
    ['super', 'SUPER', 'same'],
    // VARCHAR / VARBYTE: longer widens; already longer (or no length known) stays
    ['character varying(10)', 'VARCHAR(200)', 'widening'],
    ['character varying(200)', 'VARCHAR(10)', 'same'],
    ['character varying', 'VARCHAR(10)', 'same'],
    ['character varying(10)', 'VARCHAR', 'widening'],
    ['varbyte(16)', 'VARBYTE(32)', 'widening'],
    ['varbyte(32)', 'VARBYTE(16)', 'same'],
    ['varbyte', 'VARBYTE(32)', 'same'],
    // integers
    ['smallint', 'INTEGER', 'widening'],
    ['integer', 'BIGINT', 'widening'],
    ['smallint', 'BIGINT', 'widening'],
    ['bigint', 'INTEGER', 'narrowing'],
    ['integer', 'SMALLINT', 'narrowing'],
    // floats
    ['real', 'DOUBLE PRECISION', 'widening'],
    ['double precision', 'REAL', 'narrowing'],
    // decimals: scale' ≥ scale and precision'−scale' ≥ precision−scale
    ['numeric(10,2)', 'DECIMAL(20,6)', 'widening'],
    ['numeric(10,2)', 'DECIMAL(12,2)', 'widening'],
    ['numeric(10,2)', 'DECIMAL(11,3)', 'widening'],
    ['numeric(20,6)', 'DECIMAL(10,2)', 'narrowing'],
    ['numeric(10,2)', 'DECIMAL(10,3)', 'narrowing'], // loses an integer digit
    ['numeric(10,2)', 'DECIMAL(12,1)', 'narrowing'], // loses a fraction digit
    // an integer into a DECIMAL with room for all its digits before the point
    ['smallint', 'DECIMAL(5,0)', 'widening'],
    ['smallint', 'DECIMAL(4,0)', 'narrowing'],
    ['integer', 'DECIMAL(10,0)', 'widening'],
    ['integer', 'DECIMAL(9,0)', 'narrowing'],
    ['integer', 'DECIMAL(12,2)', 'widening'],
    ['bigint', 'DECIMAL(19,0)', 'widening'],
    ['bigint', 'DECIMAL(20,0)', 'widening'],
    ['bigint', 'DECIMAL(20,2)', 'narrowing'],
    // type changes
    ['character varying(256)', 'INTEGER', 'type change'],
    ['integer', 'VARCHAR(256)', 'type change'],
    ['timestamp without time zone', 'DATE', 'type change'],
    ['date', 'TIMESTAMP', 'type change'],
    ['timestamp without time zone', 'TIMESTAMPTZ', 'type change'],
    ['timestamp with time zone', 'TIMESTAMP', 'type change'],
    ['boolean', 'SMALLINT', 'type change'],
    ['smallint', 'BOOLEAN', 'type change'],
    ['numeric(20,0)', 'BIGINT', 'type change'],
    ['integer', 'REAL', 'type change'],
    ['real', 'INTEGER', 'type change'],
    ['numeric(10,2)', 'DOUBLE PRECISION', 'type change'],
    ['super', 'VARCHAR(65535)', 'type change'],
    ['character varying(10)', 'VARBYTE(10)', 'type change'],
    ['character(10)', 'VARCHAR(10)', 'type change'],
  ];
  test.each(redshift)('redshift: %s → %s is %s', (existing, wanted, expected) => {
    expect(verdictOf('redshift', existing, wanted)).toBe(expected);
  });

  const duckdb: Case[] = [
    ['INTEGER', 'INTEGER', 'same'],
    ['FLOAT', 'REAL', 'same'],
    ['TIMESTAMP WITH TIME ZONE', 'TIMESTAMPTZ', 'same'],
    ['VARCHAR', 'VARCHAR', 'same'],
    ['BLOB', 'BLOB', 'same'],
    ['JSON', 'JSON', 'same'],
    ['DECIMAL(10,2)', 'DECIMAL(20,6)', 'widening'],
    ['DECIMAL(20,6)', 'DECIMAL(10,2)', 'narrowing'],
    ['SMALLINT', 'INTEGER', 'widening'],
    ['INTEGER', 'BIGINT', 'widening'],
    ['BIGINT', 'INTEGER', 'narrowing'],
    ['FLOAT', 'DOUBLE', 'widening'],
    ['DOUBLE', 'REAL', 'narrowing'],
    ['INTEGER', 'DECIMAL(10,0)', 'widening'],
    ['BIGINT', 'DECIMAL(18,0)', 'narrowing'],
    ['VARCHAR', 'INTEGER', 'type change'],
    ['JSON', 'VARCHAR', 'type change'],
    ['TIMESTAMP', 'TIMESTAMPTZ', 'type change'],
    ['DATE', 'TIMESTAMP', 'type change'],
    ['BOOLEAN', 'INTEGER', 'type change'],
    ['HUGEINT', 'BIGINT', 'type change'],
  ];
  test.each(duckdb)('duckdb: %s → %s is %s', (existing, wanted, expected) => {
    expect(verdictOf('duckdb', existing, wanted)).toBe(expected);
  });

  test('a widening and a refusal carry both types in the catalog’s spelling', () => {
    expect(compareColumnTypes('redshift', 'numeric(10,2)', 'DECIMAL(20,6)')).toEqual({
      kind: 'widening',
      from: { family: 'decimal', spelling: 'numeric(10,2)', precision: 10, scale: 2 },
      to: { family: 'decimal', spelling: 'numeric(20,6)', precision: 20, scale: 6 },
    });
    expect(compareColumnTypes('duckdb', 'VARCHAR', 'INTEGER')).toEqual({
      kind: 'incompatible',
      why: 'type change',
      from: { family: 'varchar', spelling: 'VARCHAR', length: undefined },
      to: { family: 'integer', spelling: 'INTEGER', bytes: 4 },
    });
    expect(compareColumnTypes('redshift', 'character varying(200)', 'VARCHAR(10)')).toEqual({ kind: 'same' });
  });
});
