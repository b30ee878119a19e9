/**
 * `${VAR}` and `${VAR:-default}` in YAML string values, from the merged environment (process env over `.env`).
 * Only the braced form is expanded, so a literal `$` in a value stays as written.
 */
import type { YamlPath, YamlSource } from './yaml-source.js';

export type Env = Readonly<Record<string, string | undefined>>;

const VAR_RE = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;
/** The whole string is one reference: the form a secret may take to stay a reference. */
const WHOLE_VAR_RE = /^\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}$/;

export function parseWholeReference(s: string): { name: string; fallback: string | undefined } | undefined {
  const m = WHOLE_VAR_RE.exec(s.trim());
  return m ? { name: m[1]!, fallback: m[2] } : undefined;
}

/** Expands every reference; `onMissing` decides what a missing variable without default means. */
export function interpolateString(s: string, env: Env, onMissing: (name: string) => never): string {
  return s.replace(VAR_RE, (_all, name: string, fallback: string | undefined) => {
    const v = env[name];
    if (v !== undefined) return v;
    if (fallback !== undefined) return fallback;
    return onMissing(name);
  });
}

/**
 * Walks a parsed YAML value and expands references in every string, except under keys `skip` names (secrets,
 * which become references resolved later, and keys we accept but never read, so their contents cannot fail a load).
 */
export function interpolateTree(
  value: unknown,
  env: Env,
  src: YamlSource,
  skip: (key: string) => boolean,
  path: YamlPath = [],
): unknown {
  if (typeof value === 'string') {
    return interpolateString(value, env, (name) => {
      throw src.error(path, `environment variable ${name} is not set (write \${${name}:-default} to give a default)`);
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => interpolateTree(v, env, src, skip, [...path, i]));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      out[k] = skip(k) ? v : interpolateTree(v, env, src, skip, [...path, k]);
    }
    return out;
  }
  return value;
}
