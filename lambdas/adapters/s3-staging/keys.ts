/**
 * Staging keys on S3. The same rules as the local adapter (relative, `/`-separated, no empty, `.` or `..`
 * segments), so a key that works locally works on S3 and one key always names one object; plus S3's own limits.
 */
import { StagingError } from '../../errors.js';

/** S3's limit on a key, in UTF-8 bytes. */
export const MAX_KEY_BYTES = 1024;

function hasControlCharacter(key: string): boolean {
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}

function keyProblem(key: string): string | undefined {
  if (key === '') return 'is empty';
  if (key.startsWith('/')) return 'is absolute';
  if (key.includes('\\')) return 'contains a backslash';
  // NUL and other control characters are legal in S3 keys but break XML listings and every tool that prints them.
  if (hasControlCharacter(key)) return 'contains a control character';
  // A lone surrogate would be sent as U+FFFD, so two different keys would name one object.
  if (Buffer.from(key, 'utf8').toString('utf8') !== key) return 'is not valid Unicode';
  const segments = key.split('/');
  if (segments.some((s) => s === '')) return 'has an empty segment';
  if (segments.some((s) => s === '.' || s === '..')) return 'contains a . or .. segment';
  if (Buffer.byteLength(key, 'utf8') > MAX_KEY_BYTES) return `is longer than S3's ${MAX_KEY_BYTES} bytes`;
  return undefined;
}

/** Returns the key unchanged; throws StagingError naming it when it is not a safe relative key. */
export function checkKey(key: string): string {
  const problem = typeof key === 'string' ? keyProblem(key) : 'is not a string';
  if (problem !== undefined) throw new StagingError(`staging key ${JSON.stringify(key)} ${problem}`);
  return key;
}

/** Returns the prefix unchanged; a prefix is '' (everything) or a valid key followed by '/'. */
export function checkPrefix(prefix: string): string {
  if (prefix === '') return prefix;
  if (typeof prefix !== 'string' || !prefix.endsWith('/')) {
    throw new StagingError(`staging prefix ${JSON.stringify(prefix)} must end with "/" (or be "" for everything)`);
  }
  checkKey(prefix.slice(0, -1));
  return prefix;
}
