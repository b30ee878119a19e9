/** Redshift warehouse adapter (AWS mode), over the Redshift Data API. See README.md. */

export type { RedshiftWarehouseOptions } from './options.js';
export { assertSingleRead, bindPositional } from './sql-text.js';
export { createRedshiftWarehouse } from './warehouse.js';
