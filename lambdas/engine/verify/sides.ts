/**
 * The two sides of a comparison as VerifySides: the source (MySQL, through the SourceReader) and the warehouse
 * (DuckDB or Redshift, through the Warehouse port), each running the SQL of side-sql.ts in its own dialect.
 */

import type { MappedColumn } from '../../domain/model.js';
import { IS_CURRENT_COLUMN } from '../../ports/history.js';
import type { SourceReader, TargetTable, Warehouse } from '../../ports/index.js';
import { qualifiedAnsi } from '../sql.js';
import { type Fragment, frag } from '../strategies/sql/fragment.js';
import type { CanonicalRow, VerifySide } from './bisect.js';
import type { Dialect } from './canonical.js';
import {
  checksumQuery,
  integerKey,
  type KeyRange,
  keyBoundsQuery,
  rowsByKeysQuery,
  rowsQuery,
  type SideTable,
  sampleQuery,
} from './side-sql.js';

/** The column a soft delete sets (delete_detection: soft); a row with it set is not live. */
export const SOFT_DELETE_COLUMN = '_hw_deleted_at';

/** Keys looked up by equality per statement. */
const KEY_BATCH = 200;

export function dialectOf(w: Warehouse): Dialect {
  return w.capabilities.name;
}

function text(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  if (Buffer.isBuffer(v)) return v.toString('utf8');
  return String(v);
}

export type Query = (sql: string, params: readonly unknown[]) => Promise<Record<string, unknown>[]>;

export function side(t: SideTable, query: Query): VerifySide {
  const run = (f: Fragment) => query(f.sql, f.params);
  const keyOf = (row: Record<string, unknown>) => t.keys.map((_, i) => text(row[`k${i}`]) ?? '');
  const canonical = (row: Record<string, unknown>): CanonicalRow => ({
    key: keyOf(row),
    cells: t.columns.map((_, i) => text(row[`c${i}`])),
  });
  return {
    async checksum(range) {
      const [row] = await run(checksumQuery(t, range, [...t.keys, ...t.columns]));
      return { n: Number(row?.n ?? 0), s: text(row?.s) ?? '0' };
    },
    async sample(range, step) {
      return (await run(sampleQuery(t, range, step))).map(keyOf);
    },
    async rows(range) {
      return (await run(rowsQuery(t, range))).map(canonical);
    },
    async rowsByKeys(keys) {
      const rows: CanonicalRow[] = [];
      for (let i = 0; i < keys.length; i += KEY_BATCH) {
        rows.push(...(await run(rowsByKeysQuery(t, keys.slice(i, i + KEY_BATCH)))).map(canonical));
      }
      return rows;
    },
    ...(integerKey(t.keys)
      ? {
          async keyBounds(range: KeyRange) {
            const [row] = await run(keyBoundsQuery(t, range));
            const lo = text(row?.lo);
            const hi = text(row?.hi);
            return lo === null || hi === null ? null : { min: BigInt(lo), max: BigInt(hi) };
          },
        }
      : {}),
  };
}

export function sourceQuery(source: SourceReader): Query {
  return (sql, params) => source.query(sql, params);
}

export function warehouseQuery(warehouse: Warehouse): Query {
  return (sql, params) => warehouse.query(sql, params);
}

/** The warehouse table's column names, or undefined when the table does not exist. */
export async function warehouseColumns(w: Warehouse, target: TargetTable): Promise<Set<string> | undefined> {
  const rows = await w.query<{ name: unknown }>(
    'SELECT column_name AS name FROM information_schema.columns WHERE table_schema = ? AND table_name = ?',
    [target.schema, target.name],
  );
  return rows.length === 0 ? undefined : new Set(rows.map((r) => String(r.name)));
}

/**
 * The warehouse side of a table: its live rows (soft-deleted ones set aside; of a history table, the current
 * versions only: closed versions are history, not rows the source still has).
 */
export function warehouseSide(
  warehouse: Warehouse,
  target: TargetTable,
  keys: readonly MappedColumn[],
  columns: readonly MappedColumn[],
  existing: ReadonlySet<string>,
): SideTable {
  const scope: Fragment = existing.has(IS_CURRENT_COLUMN)
    ? frag(`"${IS_CURRENT_COLUMN}"`)
    : existing.has(SOFT_DELETE_COLUMN)
      ? frag(`"${SOFT_DELETE_COLUMN}" IS NULL`)
      : frag('1=1');
  return { dialect: dialectOf(warehouse), from: qualifiedAnsi(target.schema, target.name), keys, columns, scope };
}
