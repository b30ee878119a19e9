/**
 * Staging keys as local paths. A key is `/`-separated and relative; anything that could step outside the root or
 * collide with our temp files is refused rather than normalised, so one key always names exactly one file.
 */
import { StagingError } from '../../../errors.js';

/** Temp files start with this; keys may not, so a temp file is never mistaken for (or listed as) an object. */
export const TEMP_MARK = '.hw-tmp-';

function keyProblem(key: string): string | undefined {
  if (key === '') return 'is empty';
  if (key.startsWith('/')) return 'is absolute';
  if (key.includes('\\')) return 'contains a backslash';
  if (key.includes('\0')) return 'contains a NUL byte';
  const segments = key.split('/');
  if (segments.some((s) => s === '')) return 'has an empty segment';
  if (segments.some((s) => s === '.' || s === '..')) return 'contains a . or .. segment';
  if (segments.some((s) => s.startsWith(TEMP_MARK))) return `uses the reserved ${TEMP_MARK} name prefix`;
  return undefined;
}

/** The key's segments; throws StagingError naming the key when it is not a safe relative key. */
export function keySegments(key: string): string[] {
  const problem = typeof key === 'string' ? keyProblem(key) : 'is not a string';
  if (problem !== undefined) throw new StagingError(`staging key ${JSON.stringify(key)} ${problem}`);
  return key.split('/');
}

/** The prefix's segments (none for ''); a prefix is '' or a valid key followed by '/'. */
export function prefixSegments(prefix: string): string[] {
  if (prefix === '') return [];
  if (!prefix.endsWith('/')) {
    throw new StagingError(`staging prefix ${JSON.stringify(prefix)} must end with "/" (or be "" for everything)`);
  }
  return keySegments(prefix.slice(0, -1));
}
