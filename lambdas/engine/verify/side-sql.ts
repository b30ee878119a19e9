/**
 * The SQL one side of a verification sends: a key range's checksum, sample keys that split a range, and the
 * canonical rows of a small range. Key bounds are bound values, cast to the key column's type; the same SQL shape
 * serves MySQL (the source) and DuckDB/Redshift (the warehouse), each in its own dialect.
 */
import type { MappedColumn } from '../../domain/model.js';
import { and, type Fragment, frag } from '../strategies/sql/fragment.js';
import { bindFor } from '../strategies/sql/keyset.js';
import { bindKey, canonicalValue, checksumSelect, type Dialect, quoteFor } from './canonical.js';

/** Keys strictly after `lower` and at or before `upper` (null: unbounded), in key order. */
export interface KeyRange {
  lower: string[] | null;
  upper: string[] | null;
}

export const WHOLE_RANGE: KeyRange = { lower: null, upper: null };

/** What one side reads: its table, the columns it names (source or target names), and a scope predicate. */
export interface SideTable {
  dialect: Dialect;
  /** The qualified, quoted table. */
  from: string;
  keys: readonly MappedColumn[];
  /** The compared columns (keys excluded). */
  columns: readonly MappedColumn[];
  /** Which rows take part: the source's rows up to the watermark, the warehouse's live rows. */
  scope: Fragment;
}

function columnRef(dialect: Dialect, col: MappedColumn): string {
  return quoteFor(dialect, dialect === 'mysql' ? col.source.name : col.target);
}

function bind(dialect: Dialect, col: MappedColumn): string {
  if (dialect === 'mysql') return col.type.kind === 'binary' ? 'UNHEX(?)' : bindFor(col);
  return bindKey(dialect, col);
}

function tuple(t: SideTable, values: readonly string[], dir: '<' | '>', inclusive: boolean): Fragment {
  const build = (i: number): Fragment => {
    const col = t.keys[i]!;
    const c = columnRef(t.dialect, col);
    const b = bind(t.dialect, col);
    if (i === t.keys.length - 1) return frag(`${c} ${dir}${inclusive ? '=' : ''} ${b}`, [values[i]]);
    const inner = build(i + 1);
    return frag(`${c} ${dir} ${b} OR (${c} = ${b} AND (${inner.sql}))`, [values[i], values[i], ...inner.params]);
  };
  if (values.length !== t.keys.length) {
    throw new Error(`key range arity mismatch: ${t.keys.length} key columns, ${values.length} values`);
  }
  return build(0);
}

export function rangePredicate(t: SideTable, range: KeyRange): Fragment {
  return and([
    t.scope,
    range.lower ? tuple(t, range.lower, '>', false) : undefined,
    range.upper ? tuple(t, range.upper, '<', true) : undefined,
  ]);
}

function keyList(t: SideTable, alias = ''): string {
  return t.keys.map((k, i) => `${canonicalValue(t.dialect, k)} AS ${quoteFor(t.dialect, `k${i}${alias}`)}`).join(', ');
}

/** One range's row count and hash sum. */
export function checksumQuery(t: SideTable, range: KeyRange, columns: readonly MappedColumn[]): Fragment {
  const where = rangePredicate(t, range);
  return frag(`SELECT ${checksumSelect(t.dialect, columns)} FROM ${t.from} WHERE ${where.sql}`, where.params);
}

/** Every `step`-th key of the range in key order: the bounds that split it into parts of about `step` rows. */
export function sampleQuery(t: SideTable, range: KeyRange, step: number): Fragment {
  const where = rangePredicate(t, range);
  const order = t.keys.map((k) => columnRef(t.dialect, k)).join(', ');
  const inner = `SELECT ${t.keys.map((k) => columnRef(t.dialect, k)).join(', ')}, ROW_NUMBER() OVER (ORDER BY ${order}) AS ${quoteFor(t.dialect, 'hw_rn')} FROM ${t.from} WHERE ${where.sql}`;
  const rn = quoteFor(t.dialect, 'hw_rn');
  const sample = { ...t, from: `(${inner}) ${quoteFor(t.dialect, 'hw_s')}` };
  return frag(
    `SELECT ${keyList(sample)} FROM ${sample.from} WHERE MOD(${rn}, ${Math.max(1, Math.floor(step))}) = 0 ORDER BY ${rn}`,
    where.params,
  );
}

/** The canonical keys and values of every row of a (small) range: `k0…`, then `c0…`. */
export function rowsQuery(t: SideTable, range: KeyRange): Fragment {
  const where = rangePredicate(t, range);
  const cols = t.columns.map((c, i) => `${canonicalValue(t.dialect, c)} AS ${quoteFor(t.dialect, `c${i}`)}`);
  return frag(`SELECT ${[keyList(t), ...cols].join(', ')} FROM ${t.from} WHERE ${where.sql}`, where.params);
}

/** Rows whose key is one of `keys` (equality, which both sides' collations agree on for the same stored text). */
function keysPredicate(t: SideTable, keys: readonly string[][]): Fragment {
  const one = (key: readonly string[]) =>
    and(t.keys.map((k, i) => frag(`${columnRef(t.dialect, k)} = ${bind(t.dialect, k)}`, [key[i]])));
  const parts = keys.map(one);
  if (parts.length === 0) return frag('1=0');
  return frag(
    parts.map((p) => `(${p.sql})`).join(' OR '),
    parts.flatMap((p) => p.params),
  );
}

/** The canonical rows (as rowsQuery) of the given keys, within the table's scope. */
export function rowsByKeysQuery(t: SideTable, keys: readonly string[][]): Fragment {
  const where = and([t.scope, keysPredicate(t, keys)]);
  const cols = t.columns.map((c, i) => `${canonicalValue(t.dialect, c)} AS ${quoteFor(t.dialect, `c${i}`)}`);
  return frag(`SELECT ${[keyList(t), ...cols].join(', ')} FROM ${t.from} WHERE ${where.sql}`, where.params);
}

/** The smallest and greatest value of a single integer key in the range, as text. */
export function keyBoundsQuery(t: SideTable, range: KeyRange): Fragment {
  const where = rangePredicate(t, range);
  const k = columnRef(t.dialect, t.keys[0]!);
  const text = t.dialect === 'mysql' ? 'CHAR' : 'VARCHAR';
  return frag(
    `SELECT CAST(MIN(${k}) AS ${text}) AS ${quoteFor(t.dialect, 'lo')}, CAST(MAX(${k}) AS ${text}) AS ${quoteFor(t.dialect, 'hi')} FROM ${t.from} WHERE ${where.sql}`,
    where.params,
  );
}

/** Whether a table's key is one integer column (cut by value instead of by sampling). */
export function integerKey(keys: readonly MappedColumn[]): boolean {
  if (keys.length !== 1) return false;
  const t = keys[0]!.type;
  return t.kind === 'int16' || t.kind === 'int32' || t.kind === 'int64' || (t.kind === 'decimal' && t.scale === 0);
}
