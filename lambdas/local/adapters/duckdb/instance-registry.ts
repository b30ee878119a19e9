/**
 * One DuckDB instance per database file per process, shared and reference-counted. Two instances on one file in
 * one process would both write it (the OS file lock is per process and does not stop the second), so warehouses
 * opened on the same path share the instance and each gets its own connections.
 */
import { mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { isLockError, lockedError, toHighwaterError } from './errors.js';

interface Entry {
  instance: Promise<DuckDBInstance>;
  refs: number;
}

const MEMORY = ':memory:';
const open = new Map<string, Entry>();

async function createInstance(path: string, memoryLimitBytes?: number): Promise<DuckDBInstance> {
  if (path !== MEMORY) await mkdir(dirname(path), { recursive: true });
  // Whole KiB: DuckDB reads the unit from the text.
  const options = memoryLimitBytes
    ? { memory_limit: `${Math.max(1, Math.floor(memoryLimitBytes / 1024))}KiB` }
    : undefined;
  try {
    return await DuckDBInstance.create(path, options);
  } catch (e) {
    if (isLockError(e)) throw lockedError(path, e);
    throw toHighwaterError(e, `opening warehouse ${path}`);
  }
}

export interface InstanceLease {
  instance: DuckDBInstance;
  /** The absolute path (or `:memory:`) the instance was opened with. */
  path: string;
  release(): void;
}

/**
 * The instance of `rawPath`, opened with `memoryLimitBytes` as its buffer ceiling by whoever opens it first (later
 * openers in the process share it as it is).
 */
export async function acquireInstance(rawPath: string, memoryLimitBytes?: number): Promise<InstanceLease> {
  // Every `:memory:` open is its own database, so it is never shared.
  if (rawPath === MEMORY) {
    const instance = await createInstance(MEMORY, memoryLimitBytes);
    return { instance, path: MEMORY, release: () => instance.closeSync() };
  }
  const path = resolve(rawPath);
  let entry = open.get(path);
  if (!entry) {
    entry = { instance: createInstance(path, memoryLimitBytes), refs: 0 };
    open.set(path, entry);
  }
  entry.refs += 1;
  const current = entry;
  let instance: DuckDBInstance;
  try {
    instance = await current.instance;
  } catch (e) {
    current.refs -= 1;
    if (open.get(path) === current) open.delete(path);
    throw e;
  }
  let released = false;
  return {
    instance,
    path,
    release: () => {
      if (released) return;
      released = true;
      current.refs -= 1;
      if (current.refs === 0) {
        if (open.get(path) === current) open.delete(path);
        instance.closeSync();
      }
    },
  };
}
