/** Runs a zod schema over YAML data and turns its issues into one ConfigError located in the file. */
import type { z } from 'zod';
import { ConfigError } from '../../errors.js';
import type { YamlPath, YamlSource } from './yaml-source.js';
import { formatPath } from './yaml-source.js';

const MAX_ISSUES = 5;

function issueLine(src: YamlSource, base: YamlPath, issue: z.core.$ZodIssue): string {
  const path = [...base, ...issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p))];
  if (issue.code === 'unrecognized_keys') {
    return issue.keys
      .map((k) => {
        const at = src.where([...path, k], true);
        return `${at}: ${formatPath([...path, k])}: unknown key ${JSON.stringify(k)}${path.length ? ` in ${formatPath(path)}` : ''}`;
      })
      .join('\n');
  }
  let message = issue.message;
  if (issue.code === 'invalid_type' && /received undefined$/.test(message)) message = 'is required';
  const at = src.where(path);
  return `${at}: ${path.length ? `${formatPath(path)}: ` : ''}${message}`;
}

export function validateYaml<S extends z.ZodType>(
  schema: S,
  value: unknown,
  src: YamlSource,
  base: YamlPath = [],
): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const lines = result.error.issues.slice(0, MAX_ISSUES).map((i) => issueLine(src, base, i));
  const more = result.error.issues.length - MAX_ISSUES;
  if (more > 0) lines.push(`… and ${more} more`);
  return failWith(lines.join('\n'));
}

function failWith(message: string): never {
  throw new ConfigError(message, {
    suggestion: 'See docs/configuration.md for every key, its type and default.',
  });
}
