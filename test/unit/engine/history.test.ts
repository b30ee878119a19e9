/**
 * History tables' shared rules (engine/history.ts, ports/history.ts, table-context.ts): what a history load refuses
 * before anything is touched, and the hashed text's shape (NULL left out, so an added NULL column changes no hash).
 */
import { describe, expect, test } from 'vitest';
import type { TableConfig } from '../../../lambdas/domain/config.js';
import type { LogicalType, MappedColumn } from '../../../lambdas/domain/model.js';
import { instantLiteral, rowHashSql, trackedColumns, validAtSql } from '../../../lambdas/engine/history.js';
import { isInternalColumn } from '../../../lambdas/engine/schema-plan.js';
import { buildTableContext } from '../../../lambdas/engine/table-context.js';
import { ConfigError, WarehouseError } from '../../../lambdas/errors.js';
import type { LoadRequest } from '../../../lambdas/ports/index.js';
import { validateRequest } from '../../../lambdas/ports/load-request.js';

function column(target: string, type: LogicalType = { kind: 'int32' }): MappedColumn {
  return {
    source: {
      name: target,
      dataType: type.kind,
      columnType: type.kind,
      nullable: true,
      charMaxLength: null,
      numericPrecision: null,
      numericScale: null,
      ordinal: 0,
    },
    target,
    type,
    nullable: true,
  };
}

const history = { validFrom: '2024-05-01T10:00:00.000Z', ignoredColumns: ['seen'], closeUnread: false };

function request(extra: Partial<LoadRequest> = {}): LoadRequest {
  return {
    target: { schema: 'dw', name: 'dims' },
    columns: [column('id'), column('name', { kind: 'string', maxBytes: 40 }), column('seen')],
    primaryKey: ['id'],
    cursorColumns: [],
    mode: 'merge',
    files: [],
    expectedRows: 0,
    onColumnDrop: 'keep',
    history,
    ...extra,
  };
}

function refused(req: LoadRequest): string {
  try {
    validateRequest(req);
  } catch (e) {
    expect(e).toBeInstanceOf(WarehouseError);
    return (e as Error).message;
  }
  throw new Error('expected the request to be refused');
}

describe('a history load is refused before anything is touched', () => {
  test('a valid one passes', () => {
    expect(() => validateRequest(request())).not.toThrow();
  });
  test('validFrom not an instant', () => {
    expect(refused(request({ history: { ...history, validFrom: "2024-05-01'; DROP" } }))).toContain(
      'history.validFrom must be an ISO-8601 UTC instant',
    );
  });
  test('no key', () => {
    expect(refused(request({ primaryKey: [], mode: 'replace' }))).toBe(
      'load of dw.dims: a history table needs a business key and none was given',
    );
  });
  test('append', () => {
    expect(refused(request({ mode: 'append' }))).toContain('a history table cannot be appended to');
  });
  test('a source column named like a history column', () => {
    expect(
      refused(
        request({ columns: [column('id'), column('_hw_valid_from')], history: { ...history, ignoredColumns: [] } }),
      ),
    ).toContain('the source has a column _hw_valid_from');
  });
  test('an ignored column that is not loaded, or is a key column', () => {
    expect(refused(request({ history: { ...history, ignoredColumns: ['nope'] } }))).toBe(
      'load of dw.dims: history ignores column nope, which is not among the loaded columns',
    );
    expect(refused(request({ history: { ...history, ignoredColumns: ['id'] } }))).toBe(
      'load of dw.dims: history cannot ignore id, a column of the business key',
    );
  });
});

describe('the hash and the predicates', () => {
  test('tracked columns leave the ignored out, in name order; each non-NULL value is named, NULL adds nothing', () => {
    const tracked = trackedColumns(request(), history);
    expect(tracked.map((c) => c.target)).toEqual(['id', 'name']);
    const sql = rowHashSql('duckdb', tracked);
    expect(sql).toBe(
      `MD5(COALESCE('id' || CHR(29) || CAST("id" AS VARCHAR) || CHR(31), '') || COALESCE('name' || CHR(29) || CAST("name" AS VARCHAR) || CHR(31), ''))`,
    );
  });
  test('a quote in a column name is doubled in its literal', () => {
    expect(rowHashSql('redshift', [column("o'k")])).toContain(`'o''k' || CHR(29)`);
  });
  test('the run timestamp literal takes only a strict instant', () => {
    expect(instantLiteral('2024-05-01T10:00:00.000Z')).toBe(`CAST('2024-05-01 10:00:00.000+00' AS TIMESTAMPTZ)`);
    expect(() => instantLiteral("2024-05-01T10:00:00.000Z' OR 1=1")).toThrow(WarehouseError);
  });
  test('valid at: opened at or before, closed after', () => {
    expect(validAtSql('?')).toBe(`"_hw_valid_from" <= ? AND ("_hw_valid_to" IS NULL OR "_hw_valid_to" > ?)`);
  });
  test('history columns are highwater’s own: schema changes leave them alone', () => {
    for (const c of ['_hw_valid_from', '_hw_valid_to', '_hw_is_current', '_hw_row_hash'])
      expect(isInternalColumn(c)).toBe(true);
  });
});

describe('the table context refuses history it cannot keep', () => {
  const table = (over: Partial<TableConfig>): TableConfig =>
    ({
      name: 'shop.dims',
      sourceSchema: 'shop',
      sourceTable: 'dims',
      strategy: 'full_sync',
      timestampColumn: 'updated_at',
      idColumn: 'id',
      targetName: 'dims',
      fullSyncMode: 'replace',
      timestampFormat: 'datetime',
      lagSeconds: 0,
      lookbackSeconds: 0,
      clockSkewSeconds: 15,
      onColumnDrop: 'keep',
      oversize: 'error',
      chunkRows: 1000,
      chunkBytes: 1,
      chunkSeconds: 1,
      readRowsPerSecond: 1,
      deleteDetection: false,
      deleteDetectionEverySeconds: null,
      verifyEvery: null,
      batchSize: 1000,
      dependsOn: [],
      ...over,
    }) as TableConfig;
  test('a table without a key', () => {
    expect(() => buildTableContext(table({ history: { ignoredColumns: [] } }), [column('id')], [])).toThrow(
      'shop.dims has no primary key, which history: scd2 needs to tell the versions of one row from another',
    );
  });
  test('an ignored column the table does not have', () => {
    expect(() => buildTableContext(table({ history: { ignoredColumns: ['seen'] } }), [column('id')], ['id'])).toThrow(
      ConfigError,
    );
  });
});
