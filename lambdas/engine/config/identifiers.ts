/** Identifier checks for YAML values, located in the file (the rules themselves live in naming.ts). */
import { ConfigError } from '../../errors.js';
import { assertName, parseTableName, qualifyTableName, type TableRef } from '../naming.js';
import type { YamlPath, YamlSource } from './yaml-source.js';

/** The same rule naming.ts applies to each half of `schema.table`: columns are refused, never escaped. */
const COLUMN_RE = /^[A-Za-z0-9_$]{1,64}$/;

function located<T>(src: YamlSource, path: YamlPath, onKey: boolean, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof ConfigError) throw src.error(path, e.message, { onKey, suggestion: e.suggestion });
    throw e;
  }
}

export function tableNameAt(src: YamlSource, path: YamlPath, name: string): TableRef {
  return located(src, path, true, () => parseTableName(name, 'table'));
}

/** A pipeline's table key: `schema.table`, or a bare name in the source's database; errors name it as written. */
export function qualifiedTableAt(
  src: YamlSource,
  path: YamlPath,
  name: string,
  sourceDatabase: string,
): { name: string; ref: TableRef } {
  const qualified = located(src, path, true, () => qualifyTableName(name, sourceDatabase));
  return { name: qualified, ref: tableNameAt(src, path, qualified) };
}

export function nameAt(src: YamlSource, path: YamlPath, kind: string, name: string, onKey = true): string {
  return located(src, path, onKey, () => assertName(kind, name));
}

export function isColumnName(name: string): boolean {
  return COLUMN_RE.test(name);
}

export function columnAt(src: YamlSource, path: YamlPath, name: string): string {
  if (!isColumnName(name)) {
    throw src.error(path, `column ${JSON.stringify(name)} may only use letters, digits, _ and $ (1–64)`);
  }
  return name;
}
