/** `-t` as the user gave it (names, patterns, or nothing) → the tables a command runs, in dependency order. */
import { isPattern, selectTables, takesUnlistedTables } from '../../lambdas/engine/config/index.js';
import type { Runtime } from '../../lambdas/local/runtime.js';

/** A glob as a LIKE pattern: `*` → `%`, `?` → `_`, LIKE's own wildcards and its escape character escaped. */
export function likePattern(glob: string): string {
  return [...glob].map((c) => (c === '*' ? '%' : c === '?' ? '_' : /[%_\\]/.test(c) ? `\\${c}` : c)).join('');
}

/** Whether `-t` needs the configuration (and perhaps the source) to be resolved: nothing given, or a pattern. */
export function needsSelection(requested: readonly string[]): boolean {
  return requested.length === 0 || requested.some(isPattern);
}

export async function resolveTables(
  rt: Runtime,
  pipeline: string,
  requested: readonly string[],
  adhoc?: { source: string; target: string },
): Promise<string[]> {
  const p = rt.pipeline(pipeline, adhoc);
  return selectTables(p, requested, takesUnlistedTables(p), async (q) => {
    const source = await rt.openSource(p);
    try {
      const rows = await source.query<{ name: unknown }>(
        `SELECT CONCAT(TABLE_SCHEMA, '.', TABLE_NAME) AS name FROM information_schema.TABLES
         WHERE TABLE_TYPE = 'BASE TABLE' AND TABLE_SCHEMA LIKE ? AND TABLE_NAME LIKE ? ORDER BY TABLE_SCHEMA, TABLE_NAME`,
        [likePattern(q.schema), likePattern(q.table)],
      );
      return rows.map((r) => String(r.name));
    } finally {
      await source.close();
    }
  });
}
