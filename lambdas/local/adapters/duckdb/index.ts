/**
 * DuckDB warehouse adapter (local mode). The native module loads only when a warehouse is opened, so code that
 * merely imports this folder (CLI help, dry runs) does not pay for it.
 */
import type { Warehouse } from '../../../ports/index.js';

export interface DuckDbWarehouseOptions {
  /** The database file; its directory is created if missing. `:memory:` gives a private in-memory database. */
  path: string;
}

export async function createDuckDbWarehouse(opts: DuckDbWarehouseOptions): Promise<Warehouse> {
  const { openDuckDbWarehouse } = await import('./warehouse.js');
  return openDuckDbWarehouse(opts.path);
}
