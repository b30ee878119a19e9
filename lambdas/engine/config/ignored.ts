/** Warnings for keys that are accepted for compatibility but have no effect. */
import type { YamlPath, YamlSource } from './yaml-source.js';
import { formatPath } from './yaml-source.js';

export function noteIgnored(
  src: YamlSource,
  path: YamlPath,
  obj: Record<string, unknown> | null | undefined,
  keys: readonly string[],
  warnings: string[],
): void {
  if (!obj) return;
  for (const k of keys) {
    if (obj[k] !== undefined) {
      warnings.push(`${src.where([...path, k], true)}: ${formatPath([...path, k])} is accepted but has no effect`);
    }
  }
}
