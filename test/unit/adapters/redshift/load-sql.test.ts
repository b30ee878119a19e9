/**
 * How the Redshift load sends deleted keys (lambdas/adapters/redshift/load-sql.ts): parameterized multi-row INSERTs
 * sized against the Data API's limits, every value a named parameter, none in the SQL text.
 */
import { describe, expect, test } from 'vitest';
import {
  DATA_API_MAX_STATEMENT_BYTES,
  DELETE_KEYS_PER_STATEMENT,
  DELETE_KEYS_STATEMENT_BYTES,
  keyInsertStatements,
  softDeleteSql,
} from '../../../../lambdas/adapters/redshift/load-sql.js';
import { WarehouseError } from '../../../../lambdas/errors.js';

const keys = { schema: 'dw', name: 'orders__hw_stage_abc123def456_keys' };
const bytesOf = (s: { sql: string; parameters: { name?: string; value?: string }[] }) =>
  Buffer.byteLength(s.sql) +
  s.parameters.reduce((n, p) => n + (p.name ?? '').length + Buffer.byteLength(p.value ?? ''), 0);

describe('keyInsertStatements', () => {
  test('packs DELETE_KEYS_PER_STATEMENT keys a statement, each value a cast named parameter', () => {
    const rows = Array.from({ length: 2500 }, (_, i) => [String(9007199254740993n + BigInt(i))]);
    const statements = keyInsertStatements(keys, [{ name: 'id', type: 'BIGINT' }], rows, 'dw.orders');
    expect(statements.map((s) => s.parameters.length)).toEqual([
      DELETE_KEYS_PER_STATEMENT,
      DELETE_KEYS_PER_STATEMENT,
      500,
    ]);
    expect(
      statements[0]?.sql.startsWith(
        'INSERT INTO "dw"."orders__hw_stage_abc123def456_keys" ("id") VALUES (CAST(:p1 AS BIGINT)), (CAST(:p2 AS BIGINT))',
      ),
    ).toBe(true);
    expect(statements[0]?.parameters[0]).toEqual({ name: 'p1', value: '9007199254740993' });
    expect(statements.flatMap((s) => s.parameters.map((p) => p.value))).toEqual(rows.flat());
    for (const s of statements) expect(s.sql).not.toMatch(/9007199254/);
  });

  test('packs long keys by bytes, below the budget; a composite key keeps its column order; quotes stay out of the SQL', () => {
    const long = (i: number) => `${"o'brien-".repeat(1000)}${i}`; // about 8 KB each
    const rows = Array.from({ length: 40 }, (_, i) => [long(i), String(i)]);
    const columns = [
      { name: 'tenant', type: 'VARCHAR(65535)' },
      { name: 'id', type: 'INTEGER' },
    ];
    const statements = keyInsertStatements(keys, columns, rows, 'dw.orders');
    expect(statements.length).toBeGreaterThan(4);
    for (const s of statements) {
      expect(bytesOf(s)).toBeLessThanOrEqual(DELETE_KEYS_STATEMENT_BYTES);
      expect(s.sql).not.toContain("o'brien");
      expect(s.sql).toMatch(
        /^INSERT INTO "dw"\."[^"]+" \("tenant", "id"\) VALUES \(CAST\(:p1 AS VARCHAR\(65535\)\), CAST\(:p2 AS INTEGER\)\)/,
      );
    }
    expect(statements.flatMap((s) => s.parameters.map((p) => p.value))).toEqual(rows.flat());
  });

  test('the empty string, which the Data API cannot carry, is the fixed literal; a key too big for one statement is refused', () => {
    const [only] = keyInsertStatements(keys, [{ name: 'code', type: 'VARCHAR(65535)' }], [[''], ['x']], 'dw.orders');
    expect(only?.sql).toBe(
      'INSERT INTO "dw"."orders__hw_stage_abc123def456_keys" ("code") VALUES (CAST(\'\' AS VARCHAR(65535))), (CAST(:p2 AS VARCHAR(65535)))',
    );
    expect(only?.parameters).toEqual([{ name: 'p2', value: 'x' }]);
    const huge = 'x'.repeat(DATA_API_MAX_STATEMENT_BYTES);
    const err = (() => {
      try {
        keyInsertStatements(keys, [{ name: 'code', type: 'VARCHAR(65535)' }], [['a'], [huge]], 'dw.orders');
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(WarehouseError);
    expect((err as Error).message).toMatch(/^load of dw\.orders: deleted key 2 of 2 is about \d+ bytes as a statement/);
  });
});

test('softDeleteSql marks only unmarked rows, matching de-duplicated keys on every key column', () => {
  expect(softDeleteSql({ schema: 'dw', name: 'orders' }, keys, ['tenant', 'id'])).toBe(
    'UPDATE "dw"."orders" SET "_hw_deleted_at" = GETDATE() FROM (SELECT DISTINCT "tenant", "id" FROM ' +
      '"dw"."orders__hw_stage_abc123def456_keys") AS "__hw_keys" WHERE "dw"."orders"."tenant" = "__hw_keys"."tenant" ' +
      'AND "dw"."orders"."id" = "__hw_keys"."id" AND "dw"."orders"."_hw_deleted_at" IS NULL',
  );
});
