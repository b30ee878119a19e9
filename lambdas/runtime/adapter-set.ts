/**
 * The adapter kinds a runtime can build. A Runtime caches what these return (one per location) and never imports
 * an adapter itself; each kind's module is imported when configuration first asks for it, so a run loads only the
 * adapters it uses (a local run no AWS SDK, a Lambda bundle no DuckDB or SQLite).
 */
import type { StagingConfig, StateConfig, TargetConnection } from '../domain/config.js';
import type { Staging, StateStore, Warehouse } from '../ports/index.js';

export interface AdapterSet {
  /** `location`: the local root made absolute, or an S3 identity (unused by S3 itself). */
  staging(cfg: StagingConfig, location: string): Promise<Staging>;
  /** `location`: the local SQLite path made absolute, or a DynamoDB identity. */
  state(cfg: StateConfig, location: string): Promise<StateStore>;
  /** `location`: the DuckDB path made absolute, or a Redshift identity. */
  warehouse(target: TargetConnection, location: string): Promise<Warehouse>;
  /**
   * A bastion without a pinned host key (`ssh_tunnel.host_key_sha256`): `refuse` it unless its YAML says
   * `accept_unpinned_host_key: true` (a Lambda: nobody is there to notice a changed key), or `remember` the first key
   * seen in the pipeline's state store and refuse a different one later (trust on first use, local runs).
   */
  readonly unpinnedHostKeys: 'refuse' | 'remember';
}
