/**
 * A file a command will write its result to (--json-output, -o): checked before any work starts, so a run never
 * commits and then fails on a path that cannot be written (a directory, a missing or read-only directory).
 */
import { accessSync, constants, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { ConfigError } from '../../lambdas/errors.js';

export function checkOutputFile(option: string, path: string): void {
  const full = resolve(path);
  let isDirectory = false;
  try {
    isDirectory = statSync(full).isDirectory();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new ConfigError(`${option} ${path}: ${(e as Error).message}`);
    }
  }
  if (isDirectory) throw new ConfigError(`${option} ${path} is a directory; give a file name`);
  const dir = dirname(full);
  try {
    if (!statSync(dir).isDirectory()) throw new ConfigError(`${option} ${path}: ${dir} is not a directory`);
    accessSync(dir, constants.W_OK);
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new ConfigError(
      `${option} ${path}: ${code === 'ENOENT' ? `directory ${dir} does not exist` : `directory ${dir} cannot be written`}`,
    );
  }
}
