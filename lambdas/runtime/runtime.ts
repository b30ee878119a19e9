/**
 * The runtime the CLI, the local runner, scripts and tests use: every adapter kind, local (directory staging,
 * SQLite state, DuckDB) and AWS. Lambda functions build theirs from runtime-core.ts with the AWS set only.
 */
import { createDuckDbWarehouse } from '../adapters/duckdb/index.js';
import { createLocalStaging } from '../adapters/local-staging/index.js';
import { createLocalStateStore } from '../adapters/local-state/index.js';
import type { LoadedConfig } from '../engine/config/types.js';
import type { AdapterSet } from './adapter-set.js';
import { awsAdapters } from './aws-adapters.js';
import { currentProcessOwner } from './processes.js';
import { createRuntimeWith, type Runtime } from './runtime-core.js';

export type { Runtime } from './runtime-core.js';

export const allAdapters: AdapterSet = {
  staging: (cfg, location) =>
    cfg.type === 'local' ? createLocalStaging({ root: location }) : awsAdapters.staging(cfg, location),
  state: (cfg, location) =>
    cfg.type === 'local' ? createLocalStateStore({ path: location }) : awsAdapters.state(cfg, location),
  warehouse: (t, location) =>
    t.type === 'duckdb' ? createDuckDbWarehouse({ path: location }) : awsAdapters.warehouse(t, location),
};

/**
 * `envOverride` replaces the configuration's environment (process env merged with .env) when given. This process
 * drives the runs it plans, so it is recorded as their leases' owner.
 */
export function createRuntime(config: LoadedConfig, envOverride?: NodeJS.ProcessEnv): Runtime {
  return createRuntimeWith(allAdapters, config, envOverride, currentProcessOwner());
}
