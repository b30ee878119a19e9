/**
 * How much disk the Highwater home takes (`status`): its total and each top-level entry's (staging, the warehouse,
 * the state file and their journals). Symbolic links are counted as links, never followed.
 */
import { type Dirent, lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

export interface DiskUse {
  home: string;
  /** False when the home does not exist yet (nothing synced): every size is 0. */
  exists: boolean;
  bytes: number;
  /** Top-level entries, largest first. */
  entries: { name: string; bytes: number }[];
}

function sizeOf(path: string, entry?: Dirent): number {
  const isDir = entry ? entry.isDirectory() : lstatSync(path).isDirectory();
  if (!isDir) {
    try {
      return lstatSync(path).size;
    } catch {
      return 0; // removed while we looked (a run's temporary file)
    }
  }
  let total = 0;
  let children: Dirent[];
  try {
    children = readdirSync(path, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const c of children) total += sizeOf(join(path, c.name), c);
  return total;
}

export function homeDiskUse(home: string): DiskUse {
  let top: Dirent[];
  try {
    top = readdirSync(home, { withFileTypes: true });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { home, exists: false, bytes: 0, entries: [] };
    throw e;
  }
  const entries = top
    .map((d) => ({ name: d.isDirectory() ? `${d.name}/` : d.name, bytes: sizeOf(join(home, d.name), d) }))
    .sort((a, b) => b.bytes - a.bytes || a.name.localeCompare(b.name));
  return { home, exists: true, bytes: entries.reduce((n, e) => n + e.bytes, 0), entries };
}
