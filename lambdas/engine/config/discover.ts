/**
 * Where a command's project is when neither --config-dir nor HIGHWATER_CONFIG_DIR says: the nearest directory, from
 * the working directory up, that holds `config/connections.yml` (a multi-connection project) or a `.highwater/`
 * home (a single-connection project that has run before). Run from a subdirectory, a command so uses the project's
 * configuration, .env and state instead of starting a second, empty home (which would copy every table again).
 */
import { existsSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

export interface ProjectRoot {
  /** The directory whose config/, .env and .highwater/ are used. */
  root: string;
  /** How it was found, for the banner and --debug. */
  found: 'config' | 'home' | 'cwd';
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

export function discoverProjectRoot(cwd: string): ProjectRoot {
  const start = resolve(cwd);
  for (let dir = start; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'config', 'connections.yml'))) return { root: dir, found: 'config' };
    if (isDirectory(join(dir, '.highwater'))) return { root: dir, found: 'home' };
    if (dirname(dir) === dir) return { root: start, found: 'cwd' };
  }
}
