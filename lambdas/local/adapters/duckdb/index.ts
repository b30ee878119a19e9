/**
 * DuckDB warehouse adapter (local mode). The native module loads only when a warehouse is opened, so code that
 * merely imports this folder (CLI help, dry runs) does not pay for it.
 */
import type { Warehouse } from '../../../ports/index.js';

export interface DuckDbWarehouseOptions {
  /** The database file; its directory is created if missing. `:memory:` gives a private in-memory database. */
  path: string;
  /** Ceiling of DuckDB's buffer memory in bytes (DEFAULT_MEMORY_LIMIT_BYTES when absent). */
  memoryLimitBytes?: number;
}

/**
 * DuckDB's own default is 80% of the machine's RAM, so its buffer pool — and the sync's RSS — grows with the table
 * loaded. A fixed ceiling keeps a local sync's memory flat; a load bigger than it spills to `<file>.tmp`.
 */
export const DEFAULT_MEMORY_LIMIT_BYTES = 96 * 1024 * 1024;

export async function createDuckDbWarehouse(opts: DuckDbWarehouseOptions): Promise<Warehouse> {
  const { openDuckDbWarehouse } = await import('./warehouse.js');
  return openDuckDbWarehouse(opts.path, opts.memoryLimitBytes ?? DEFAULT_MEMORY_LIMIT_BYTES);
}
