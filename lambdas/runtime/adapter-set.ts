/**
 * The adapter kinds a runtime can build. A Runtime caches what these return (one per location) and never imports
 * an adapter itself, so a Lambda bundle holds only the AWS set and the CLI both sets.
 */
import type { StagingConfig, StateConfig, TargetConnection } from '../engine/config/types.js';
import type { Staging, StateStore, Warehouse } from '../ports/index.js';

export interface AdapterSet {
  /** `location`: the local root made absolute, or an S3 identity (unused by S3 itself). */
  staging(cfg: StagingConfig, location: string): Staging;
  /** `location`: the local SQLite path made absolute, or a DynamoDB identity. */
  state(cfg: StateConfig, location: string): StateStore;
  /** `location`: the DuckDB path made absolute, or a Redshift identity. */
  warehouse(target: TargetConnection, location: string): Warehouse | Promise<Warehouse>;
}
