/**
 * Which tables a command runs: the ones given with -t (names, or patterns with `*` and `?`), or, when none is
 * given, every table the pipeline lists — in an order that puts each table after the tables it `depends_on`.
 */
import type { PipelineConfig } from '../../domain/config.js';
import { ConfigError } from '../../errors.js';
import { qualifyTableName } from '../naming.js';

/** Lists the source's base tables whose `schema.table` matches the pattern (for pipelines that take unlisted tables). */
export type SourceTableLister = (pattern: { schema: string; table: string }) => Promise<string[]>;

export function isPattern(name: string): boolean {
  return /[*?]/.test(name);
}

/** A glob (`*` any run of characters, `?` one character) as an anchored, case-insensitive regular expression. */
function globRegExp(glob: string): RegExp {
  const body = [...glob]
    .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${body}$`, 'i');
}

function qualifiedPattern(p: PipelineConfig, pattern: string): { schema: string; table: string } {
  const [schema, table] = pattern.includes('.') ? pattern.split('.', 2) : [p.source.database, pattern];
  if (!schema || !table) {
    throw new ConfigError(
      `-t ${JSON.stringify(pattern)}: a pattern is schema.table (or a table of the source's database)`,
    );
  }
  return { schema, table };
}

/**
 * The tables to run, in run order. `listSource` is asked only for a pattern on a pipeline that takes unlisted
 * tables (the default and ad-hoc pipelines); a pattern that matches nothing is an error, never an empty run.
 */
export async function selectTables(
  p: PipelineConfig,
  requested: readonly string[],
  takesUnlisted: boolean,
  listSource?: SourceTableLister,
): Promise<string[]> {
  const listed = p.tables.map((t) => t.name);
  let chosen: string[];
  if (requested.length === 0) {
    if (listed.length === 0) {
      throw new ConfigError(
        `pipeline ${p.name} lists no tables: name them with -t schema.table (or a pattern, -t 'shop.*')`,
        {
          suggestion:
            p.name === 'default'
              ? 'Single-connection mode and the default pipeline sync the tables given with -t.'
              : `Add tables under tables: in ${p.origin}.`,
        },
      );
    }
    chosen = listed;
  } else {
    chosen = [];
    for (const name of requested) {
      if (!isPattern(name)) {
        chosen.push(qualifyTableName(name, p.source.database));
        continue;
      }
      const q = qualifiedPattern(p, name);
      const re = globRegExp(`${q.schema}.${q.table}`);
      let matched = listed.filter((t) => re.test(t));
      if (matched.length === 0 && takesUnlisted && listSource)
        matched = (await listSource(q)).filter((t) => re.test(t));
      if (matched.length === 0) {
        throw new ConfigError(
          `-t ${JSON.stringify(name)} matches no table of pipeline ${p.name}${listed.length ? ` (its tables: ${listed.join(', ')})` : takesUnlisted ? ' nor of the source' : ''}`,
        );
      }
      chosen.push(...matched);
    }
  }
  return inDependencyOrder(p, dedupe(chosen));
}

function dedupe(names: string[]): string[] {
  const seen = new Set<string>();
  return names.filter((n) => {
    const k = n.toLowerCase();
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** A stable topological order: each table after the selected tables it depends on, otherwise as given. */
export function inDependencyOrder(p: PipelineConfig, names: readonly string[]): string[] {
  const key = (n: string) => n.toLowerCase();
  const selected = new Set(names.map(key));
  const deps = new Map(p.tables.map((t) => [key(t.name), t.dependsOn.map(key).filter((d) => selected.has(d))]));
  const byKey = new Map(names.map((n) => [key(n), n]));
  const out: string[] = [];
  const placed = new Set<string>();
  const place = (k: string, path: string[]): void => {
    if (placed.has(k)) return;
    if (path.includes(k)) throw new ConfigError(`depends_on forms a cycle: ${[...path, k].join(' → ')}`);
    for (const d of deps.get(k) ?? []) place(d, [...path, k]);
    placed.add(k);
    out.push(byKey.get(k)!);
  };
  for (const n of names) place(key(n), []);
  return out;
}
