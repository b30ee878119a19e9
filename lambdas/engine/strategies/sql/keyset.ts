/**
 * Keyset predicates over a tuple of columns, written as nested OR/AND so MySQL and MariaDB can use an index range
 * (row-constructor comparisons are not always optimised). Values are bound, cast to the column's own type so a
 * BIGINT beyond 2^53 is never compared as a double.
 */
import type { MappedColumn } from '../../../domain/model.js';
import { quoteMysql } from '../../sql.js';
import { isMysqlUnsigned, mysqlValueClass } from '../../type-map.js';
import { type Fragment, frag } from './fragment.js';

/** The bound placeholder for a value compared with `col`: integers and decimals are cast to exact types. */
export function bindFor(col: MappedColumn): string {
  const kind = mysqlValueClass(col.source);
  if (kind === 'integer') return isMysqlUnsigned(col.source) ? 'CAST(? AS UNSIGNED)' : 'CAST(? AS SIGNED)';
  if (kind === 'decimal') {
    return `CAST(? AS DECIMAL(${col.source.numericPrecision ?? 65},${col.source.numericScale ?? 0}))`;
  }
  return '?';
}

function cmp(col: MappedColumn, op: string, value: string): Fragment {
  return frag(`${quoteMysql(col.source.name)} ${op} ${bindFor(col)}`, [value]);
}

/**
 * (c1, c2, …) > (v1, v2, …) when `strict`, ≥ otherwise; as
 * c1 > v1 OR (c1 = v1 AND (c2 > v2 OR (c2 = v2 AND …))).
 */
export function tupleAfter(cols: readonly MappedColumn[], values: readonly string[], strict = true): Fragment {
  return tuple(cols, values, '>', strict);
}

/** (c1, c2, …) <= (v1, v2, …) (or < when strict). */
export function tupleAtOrBefore(cols: readonly MappedColumn[], values: readonly string[], strict = false): Fragment {
  return tuple(cols, values, '<', strict);
}

function tuple(cols: readonly MappedColumn[], values: readonly string[], dir: '<' | '>', strict: boolean): Fragment {
  if (cols.length !== values.length || cols.length === 0) {
    throw new Error(`keyset arity mismatch: ${cols.length} columns, ${values.length} values`);
  }
  const [first, ...rest] = cols;
  const [v, ...restValues] = values;
  if (rest.length === 0) return cmp(first!, strict ? dir : `${dir}=`, v!);
  const inner = tuple(rest, restValues, dir, strict);
  const head = cmp(first!, dir, v!);
  const eq = cmp(first!, '=', v!);
  return {
    sql: `${head.sql} OR (${eq.sql} AND (${inner.sql}))`,
    params: [...head.params, ...eq.params, ...inner.params],
  };
}
