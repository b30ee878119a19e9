/**
 * The local Staging: a directory whose relative paths are the staging keys. Objects are written atomically
 * (atomic-file.ts), listed in key order from the prefix's own directory, and deleted with their emptied parents.
 */
import { open, readFile, rmdir, stat, unlink } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { describeError, StagingError } from '../../../errors.js';
import type { StagedObject, Staging } from '../../../ports/index.js';
import { AtomicFileWriter, isMissing, writeFileAtomic } from './atomic-file.js';
import { keySegments, prefixSegments } from './keys.js';
import { walkSorted } from './walk.js';

export interface LocalStagingOptions {
  /** The staging directory; created on first write. */
  root: string;
}

export function createLocalStaging(opts: LocalStagingOptions): Staging {
  const root = resolve(opts.root);
  const pathOf = (key: string): string => join(root, ...keySegments(key));
  const label = (key: string): string => `${key} under ${root}`;
  const failure = (action: string, key: string, e: unknown): StagingError =>
    e instanceof StagingError
      ? e
      : new StagingError(`local staging: cannot ${action} ${label(key)}: ${describeError(e)}`, { cause: e });

  /** Removes now-empty directories from `dir` up to (not including) the root. */
  async function prune(dir: string): Promise<void> {
    for (let d = dir; d.startsWith(`${root}/`); d = dirname(d)) {
      try {
        await rmdir(d);
      } catch (e) {
        if (isMissing(e)) continue; // already pruned by someone else; its parent may be empty now
        return; // not empty (ENOTEMPTY/EEXIST) or not ours to remove: stop here
      }
    }
  }

  return {
    prefix: '',
    createWriteStream(key: string): Writable {
      return new AtomicFileWriter(pathOf(key), label(key));
    },

    async finished(stream: Writable): Promise<{ bytes: number }> {
      if (!(stream instanceof AtomicFileWriter)) {
        throw new StagingError('local staging: finished() was given a stream that createWriteStream did not create');
      }
      return stream.outcome;
    },

    async putJson(key: string, value: unknown): Promise<void> {
      const path = pathOf(key);
      const text = JSON.stringify(value);
      if (text === undefined) throw new StagingError(`local staging: ${label(key)}: value is not JSON-serialisable`);
      try {
        await writeFileAtomic(path, Buffer.from(text, 'utf8'));
      } catch (e) {
        throw failure('write', key, e);
      }
    },

    async getJson(key: string): Promise<unknown | undefined> {
      const path = pathOf(key);
      let text: string;
      try {
        text = await readFile(path, 'utf8');
      } catch (e) {
        if (isMissing(e)) return undefined;
        throw failure('read', key, e);
      }
      try {
        return JSON.parse(text) as unknown;
      } catch (e) {
        throw new StagingError(`local staging: ${label(key)} is not valid JSON: ${describeError(e)}`, { cause: e });
      }
    },

    async openRead(key: string): Promise<Readable> {
      const path = pathOf(key);
      let handle: Awaited<ReturnType<typeof open>> | undefined;
      try {
        handle = await open(path, 'r');
        if (!(await handle.stat()).isFile()) throw new StagingError(`local staging: ${label(key)} is not a file`);
        return handle.createReadStream();
      } catch (e) {
        await handle?.close();
        if (isMissing(e)) throw new StagingError(`local staging: ${label(key)} does not exist`, { cause: e });
        throw failure('open', key, e);
      }
    },

    async *list(prefix: string): AsyncGenerator<StagedObject> {
      const dir = join(root, ...prefixSegments(prefix));
      try {
        for await (const file of walkSorted(dir, prefix)) {
          let info: Awaited<ReturnType<typeof stat>>;
          try {
            info = await stat(file.path);
          } catch (e) {
            if (isMissing(e)) continue; // deleted after the directory was read
            throw e;
          }
          yield { key: file.key, size: info.size, lastModified: info.mtime };
        }
      } catch (e) {
        throw failure('list', prefix, e);
      }
    },

    async delete(keys: readonly string[]): Promise<void> {
      const paths = keys.map(pathOf); // refuse the whole batch before touching anything if one key is bad
      const dirs = new Set<string>();
      for (const [i, path] of paths.entries()) {
        try {
          await unlink(path);
        } catch (e) {
          if (!isMissing(e)) throw failure('delete', keys[i]!, e);
        }
        dirs.add(dirname(path));
      }
      // Deepest first, so a parent is tried after its children are gone.
      for (const dir of [...dirs].sort((a, b) => b.length - a.length)) await prune(dir);
    },

    locate(key: string): string {
      return pathOf(key);
    },
  };
}
