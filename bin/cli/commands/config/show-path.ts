import { isAbsolute, relative } from 'node:path';

/** A path as the user would type it: relative to the working directory when it is inside it, else whole. */
export function show(path: string): string {
  const r = relative(process.cwd(), path);
  return r !== '' && !r.startsWith('..') && !isAbsolute(r) ? r : path;
}
