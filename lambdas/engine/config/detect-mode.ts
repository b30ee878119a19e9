/**
 * The migration guide's mode detection, fail-safe: no connections.yml, only `default` connections, or a file
 * that does not load → single-connection mode. A forced multi mode turns the last two into hard errors.
 */
import type { ConfigMode } from '../../domain/config.js';
import { ConfigError } from '../../errors.js';
import type { ConnectionsResult } from './connections-file.js';
import { resolveConnectionsFile } from './connections-file.js';
import type { Env } from './interpolate.js';
import { readConfigFile } from './yaml-source.js';

export interface Detection {
  mode: ConfigMode;
  reason: string;
  connections?: ConnectionsResult;
}

const TRUE = new Set(['true', '1', 'yes', 'on']);
const ENV_NOTE = 'settings come from environment variables and .env';

/** `HIGHWATER_MULTI_SCHEMA=true` (or the guide's `ENABLE_MULTI_SCHEMA=true`), as written, when set. */
export function forcedBy(env: Env): string | undefined {
  for (const name of ['HIGHWATER_MULTI_SCHEMA', 'ENABLE_MULTI_SCHEMA']) {
    const v = env[name];
    if (v !== undefined && TRUE.has(v.trim().toLowerCase())) return `${name}=${v.trim()}`;
  }
  return undefined;
}

function describe(c: ConnectionsResult): string {
  const s = Object.keys(c.sources);
  const t = Object.keys(c.targets);
  const names = (xs: string[]) => (xs.length ? ` (${xs.join(', ')})` : '');
  return `${c.display} defines ${s.length} source${s.length === 1 ? '' : 's'}${names(s)} and ${t.length} target${t.length === 1 ? '' : 's'}${names(t)}`;
}

export async function detectMode(file: string, display: string, env: Env, home: string): Promise<Detection> {
  const forced = forcedBy(env);
  const text = await readConfigFile(file, display);
  if (text === undefined) {
    if (forced) {
      throw new ConfigError(`${forced} forces multi-connection mode, but ${display} does not exist`, {
        suggestion: `Create ${display} (see pipelines/connections.yml), or unset the variable.`,
      });
    }
    return { mode: 'single', reason: `no ${display} found; ${ENV_NOTE}` };
  }
  let connections: ConnectionsResult;
  try {
    connections = resolveConnectionsFile(text, display, env, home);
  } catch (e) {
    if (forced || !(e instanceof ConfigError)) throw e;
    // Fail safe as the guide promises, but say so loudly: a silently ignored broken file is a trap.
    return {
      mode: 'single',
      reason: `${display} could not be loaded, so it is IGNORED and ${ENV_NOTE} (fix or remove the file): ${e.message}`,
    };
  }
  const names = new Set([...Object.keys(connections.sources), ...Object.keys(connections.targets)]);
  if (forced) return { mode: 'multi', reason: `forced by ${forced}; ${describe(connections)}`, connections };
  if (names.size === 0) return { mode: 'single', reason: `${display} defines no connections; ${ENV_NOTE}` };
  if (names.size === 1 && names.has('default')) {
    return { mode: 'single', reason: `${display} defines only "default" connections; ${ENV_NOTE}` };
  }
  return { mode: 'multi', reason: describe(connections), connections };
}
