/**
 * DuckDB warehouse adapter (local mode). The native module loads only when a warehouse is opened, so code that
 * merely imports this folder (CLI help, dry runs) does not pay for it.
 */
import type { Warehouse } from '../../../ports/index.js';

export interface DuckDbWarehouseOptions {
  /** The database file; its directory is created if missing. `:memory:` gives a private in-memory database. */
  path: string;
  /** Ceiling of DuckDB's buffer memory in bytes, as the user set it: kept for every load. */
  memoryLimitBytes?: number;
  /**
   * Without memoryLimitBytes: the ceiling loads start from (DEFAULT_MEMORY_LIMIT_BYTES when absent), which a merge
   * into a large table raises for its own duration (load-memory.ts).
   */
  defaultMemoryLimitBytes?: number;
}

/**
 * DuckDB's own default is 80% of the machine's RAM, so its buffer pool — and the sync's RSS — grows with the table
 * loaded. A ceiling keeps a local sync's memory flat; a load bigger than it spills to `<file>.tmp`. A merge's delete
 * cannot spill, and needs memory in proportion to the target table: under this default, it is raised for that load.
 */
export const DEFAULT_MEMORY_LIMIT_BYTES = 96 * 1024 * 1024;

export async function createDuckDbWarehouse(opts: DuckDbWarehouseOptions): Promise<Warehouse> {
  const { openDuckDbWarehouse } = await import('./warehouse.js');
  const ceiling =
    opts.memoryLimitBytes !== undefined
      ? { bytes: opts.memoryLimitBytes, raiseForMerges: false }
      : { bytes: opts.defaultMemoryLimitBytes ?? DEFAULT_MEMORY_LIMIT_BYTES, raiseForMerges: true };
  return openDuckDbWarehouse(opts.path, ceiling);
}
