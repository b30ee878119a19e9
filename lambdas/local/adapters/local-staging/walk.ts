/**
 * A lazy, key-ordered walk of one directory tree. Each directory's entries are sorted with directories compared as
 * `name/`, which makes the depth-first order equal to the byte order of the full keys (what S3 returns), without
 * reading the whole tree first.
 */
import type { Dirent } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { isMissing } from './atomic-file.js';
import { TEMP_MARK } from './keys.js';

export interface WalkedFile {
  key: string;
  path: string;
}

function byBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

export async function* walkSorted(dir: string, keyPrefix: string): AsyncGenerator<WalkedFile> {
  let entries: Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (e) {
    if (isMissing(e)) return; // nothing staged under this prefix (or it was deleted while we walked)
    throw e;
  }
  const items = entries
    .filter((e) => !e.name.startsWith(TEMP_MARK) && (e.isFile() || e.isDirectory()))
    .map((e) => ({ name: e.name, isDir: e.isDirectory(), sortKey: e.isDirectory() ? `${e.name}/` : e.name }))
    .sort((a, b) => byBytes(a.sortKey, b.sortKey));
  for (const item of items) {
    const path = join(dir, item.name);
    if (item.isDir) yield* walkSorted(path, `${keyPrefix}${item.name}/`);
    else yield { key: `${keyPrefix}${item.name}`, path };
  }
}
