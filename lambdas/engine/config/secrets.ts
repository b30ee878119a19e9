/** Secret values from YAML become SecretRefs, so the value itself is read only when a connection is opened. */

import type { SecretRef } from '../../domain/config.js';
import type { Env } from './interpolate.js';
import { interpolateString, parseWholeReference } from './interpolate.js';
import type { YamlPath, YamlSource } from './yaml-source.js';

export type SecretYaml = string | { secret: string; key?: string | undefined };

export function resolveSecret(
  raw: SecretYaml | undefined,
  env: Env,
  src: YamlSource,
  path: YamlPath,
): SecretRef | undefined {
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string') {
    return raw.key === undefined
      ? { kind: 'secretsmanager', secretId: raw.secret }
      : { kind: 'secretsmanager', secretId: raw.secret, key: raw.key };
  }
  const whole = parseWholeReference(raw);
  if (whole) {
    // A set variable (or one without a default) stays a reference: a missing secret fails only the command using it.
    if (env[whole.name] !== undefined || whole.fallback === undefined) return { kind: 'env', name: whole.name };
    return { kind: 'literal', value: whole.fallback };
  }
  const value = interpolateString(raw, env, (name) => {
    throw src.error(path, `environment variable ${name} is not set`, {
      suggestion: `Set ${name}, or write the whole value as \${${name}} so it is read only when needed.`,
    });
  });
  return { kind: 'literal', value };
}
