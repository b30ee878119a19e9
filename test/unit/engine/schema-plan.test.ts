/** The schema plan both warehouses share (lambdas/engine/schema-plan.ts): what a load changes, and what it refuses. */
import { describe, expect, test } from 'vitest';
import type { LogicalType, MappedColumn } from '../../../lambdas/domain/model.js';
import { type CatalogColumn, isInternalColumn, planSchemaChanges } from '../../../lambdas/engine/schema-plan.js';
import { duckdbType, redshiftType } from '../../../lambdas/engine/type-map.js';
import { WarehouseError } from '../../../lambdas/errors.js';
import type { LoadRequest } from '../../../lambdas/ports/index.js';

function column(target: string, type: LogicalType, nullable = true): MappedColumn {
  return {
    source: {
      name: target,
      dataType: type.kind,
      columnType: type.kind,
      nullable,
      charMaxLength: null,
      numericPrecision: null,
      numericScale: null,
      ordinal: 0,
    },
    target,
    type,
    nullable,
  };
}

function request(columns: MappedColumn[], extra: Partial<LoadRequest> = {}): LoadRequest {
  return {
    target: { schema: 'dw', name: 'orders' },
    columns,
    primaryKey: ['id'],
    cursorColumns: [],
    mode: 'merge',
    files: [],
    expectedRows: 0,
    onColumnDrop: 'keep',
    ...extra,
  };
}

function catalog(...cols: [string, string, boolean][]): Map<string, CatalogColumn> {
  return new Map(cols.map(([name, type, notNull]) => [name.toLowerCase(), { name, type, notNull }]));
}

const INT: LogicalType = { kind: 'int32' };
const redshift = (c: MappedColumn) => redshiftType(c.type);
const duckdb = (c: MappedColumn) => duckdbType(c.type);

describe('planSchemaChanges', () => {
  test('nothing to change: an empty plan', () => {
    const plan = planSchemaChanges(
      request([column('id', INT, false), column('name', { kind: 'string', maxBytes: 10 })]),
      catalog(['id', 'integer', true], ['name', 'character varying(40)', false]),
      'redshift',
      redshift,
    );
    expect(plan).toEqual({ add: [], widen: [], relax: [], drop: [], changes: [] });
  });

  test('adds, widens, and keeps (relaxes) a NOT NULL column the request lacks; a nullable one changes nothing', () => {
    const email = column('email', { kind: 'string', maxBytes: 40 });
    const amount = column('amount', { kind: 'decimal', precision: 20, scale: 6 });
    const plan = planSchemaChanges(
      request([column('id', INT, false), amount, email]),
      catalog(
        ['id', 'INTEGER', true],
        ['amount', 'DECIMAL(10,2)', true],
        ['legacy', 'INTEGER', true],
        ['note', 'VARCHAR', false],
      ),
      'duckdb',
      duckdb,
    );
    expect(plan.add).toEqual([email]);
    expect(plan.widen.map((w) => [w.column.target, w.from.spelling, w.to.spelling])).toEqual([
      ['amount', 'DECIMAL(10,2)', 'DECIMAL(20,6)'],
    ]);
    expect(plan.relax).toEqual([{ name: 'legacy', type: 'INTEGER', notNull: true }]);
    expect(plan.drop).toEqual([]);
    expect(plan.changes).toEqual([
      { column: 'email', change: 'added', to: 'VARCHAR' },
      { column: 'amount', change: 'widened', from: 'DECIMAL(10,2)', to: 'DECIMAL(20,6)' },
      { column: 'legacy', change: 'kept', from: 'INTEGER NOT NULL', to: 'INTEGER' },
    ]);
  });

  test('drop: every column the request lacks, NOT NULL or not; internal __hw columns are never touched', () => {
    const plan = planSchemaChanges(
      request([column('id', INT, false)], { onColumnDrop: 'drop' }),
      catalog(
        ['id', 'integer', true],
        ['Legacy', 'integer', true],
        ['note', 'character varying(10)', false],
        ['__hw_tmp_0', 'integer', false],
      ),
      'redshift',
      redshift,
    );
    expect(plan.drop.map((c) => c.name)).toEqual(['Legacy', 'note']);
    expect(plan.changes).toEqual([
      { column: 'Legacy', change: 'dropped', from: 'integer' },
      { column: 'note', change: 'dropped', from: 'character varying(10)' },
    ]);
    const keep = planSchemaChanges(
      request([column('id', INT, false)]),
      catalog(['id', 'integer', true], ['__hw_rn', 'bigint', true]),
      'redshift',
      redshift,
    );
    expect(keep.relax).toEqual([]);
  });

  test('the soft-delete column _hw_deleted_at is highwater’s own: never dropped, never kept-and-reported', () => {
    const existing = catalog(
      ['id', 'integer', true],
      ['_HW_Deleted_At', 'timestamp with time zone', true],
      ['legacy', 'integer', true],
    );
    for (const onColumnDrop of ['drop', 'keep'] as const) {
      const plan = planSchemaChanges(
        request([column('id', INT, false)], { onColumnDrop }),
        existing,
        'redshift',
        redshift,
      );
      expect([...plan.drop, ...plan.relax].map((c) => c.name)).toEqual(['legacy']);
      expect(plan.changes.map((c) => c.column)).toEqual(['legacy']);
    }
    expect(isInternalColumn('_hw_deleted_at')).toBe(true);
    expect(isInternalColumn('__hw_tmp_0')).toBe(true);
    expect(isInternalColumn('hw_deleted_at')).toBe(false);
    expect(isInternalColumn('_hw_deleted_at_2')).toBe(false);
  });

  test('matches names case-insensitively, as the warehouses resolve them', () => {
    const plan = planSchemaChanges(
      request([column('ID', { kind: 'int64' }, false)]),
      catalog(['id', 'integer', true]),
      'redshift',
      redshift,
    );
    expect(plan.add).toEqual([]);
    expect(plan.changes).toEqual([{ column: 'ID', change: 'widened', from: 'integer', to: 'bigint' }]);
  });

  test('refuses every incompatible column at once, naming table, columns and both types, with the resync command', () => {
    const req = request(
      [
        column('id', INT, false),
        column('amount', { kind: 'decimal', precision: 10, scale: 2 }),
        column('code', INT),
        column('n', { kind: 'int64' }),
      ],
      { onColumnDrop: 'drop' },
    );
    const existing = catalog(
      ['id', 'integer', true],
      ['amount', 'numeric(20,6)', false],
      ['code', 'character varying(40)', false],
      ['n', 'integer', false],
      ['gone', 'integer', false],
    );
    const err = (() => {
      try {
        planSchemaChanges(req, existing, 'redshift', redshift);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(WarehouseError);
    expect((err as Error).message).toBe(
      'table dw.orders column amount is numeric(20,6) in the warehouse but the source now maps it to numeric(10,2), ' +
        'a narrowing that would not keep every value; column code is character varying(40) in the warehouse but the ' +
        'source now maps it to integer, a different type that would not keep every value; nothing was changed',
    );
    expect((err as WarehouseError).suggestion).toContain('`highwater resync -t dw.orders`');
    expect(() => planSchemaChanges({ ...req, sourceTable: 'shop.orders' }, existing, 'redshift', redshift)).toThrow(
      expect.objectContaining({ suggestion: expect.stringContaining('`highwater resync -t shop.orders`') }),
    );
  });
});
