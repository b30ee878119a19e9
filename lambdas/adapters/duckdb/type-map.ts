/**
 * Logical type → DuckDB DDL type. A local copy until the shared lambdas/engine/type-map.ts `duckdbType` lands;
 * the two must agree (the shared one replaces this).
 */
import type { LogicalType } from '../../engine/model.js';

export function logicalToDuckDb(t: LogicalType): string {
  switch (t.kind) {
    case 'boolean':
      return 'BOOLEAN';
    case 'int16':
      return 'SMALLINT';
    case 'int32':
      return 'INTEGER';
    case 'int64':
      return 'BIGINT';
    case 'float32':
      return 'REAL';
    case 'float64':
      return 'DOUBLE';
    case 'decimal':
      return `DECIMAL(${t.precision},${t.scale})`;
    case 'string':
      return 'VARCHAR';
    case 'json':
      return 'JSON';
    case 'binary':
      return 'BLOB';
    case 'date':
      return 'DATE';
    case 'timestamp':
      return t.utc ? 'TIMESTAMPTZ' : 'TIMESTAMP';
    // MySQL TIME spans ±838 hours, beyond DuckDB's TIME range, so it stays text.
    case 'time':
      return 'VARCHAR';
  }
}
