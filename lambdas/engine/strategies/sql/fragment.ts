/** A piece of SQL with its bound values, so predicates compose without ever splicing a value into text. */
export interface Fragment {
  sql: string;
  params: unknown[];
}

export function frag(sql: string, params: unknown[] = []): Fragment {
  return { sql, params };
}

/** Joins fragments with AND, each wrapped in parentheses; an empty list is TRUE. */
export function and(parts: readonly (Fragment | undefined)[]): Fragment {
  const present = parts.filter((p): p is Fragment => p !== undefined && p.sql !== '');
  if (present.length === 0) return frag('1=1');
  return {
    sql: present.map((p) => `(${p.sql})`).join(' AND '),
    params: present.flatMap((p) => p.params),
  };
}

/** Joins fragments with OR, each wrapped in parentheses; an empty list is FALSE. */
export function or(parts: readonly (Fragment | undefined)[]): Fragment {
  const present = parts.filter((p): p is Fragment => p !== undefined && p.sql !== '');
  if (present.length === 0) return NONE;
  if (present.length === 1) return present[0]!;
  return {
    sql: present.map((p) => `(${p.sql})`).join(' OR '),
    params: present.flatMap((p) => p.params),
  };
}

/** A predicate no row satisfies (an empty cursor range). */
export const NONE: Fragment = { sql: '1=0', params: [] };
