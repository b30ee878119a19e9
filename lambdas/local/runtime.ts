/**
 * The runtime the CLI, the local runner, scripts and tests use: every adapter kind, local (directory staging,
 * SQLite state, DuckDB) and AWS. Lambda functions build theirs from runtime-core.ts with the AWS set only.
 */

import { currentProcessOwner } from '../adapters/processes/index.js';
import type { LoadedConfig } from '../domain/config.js';
import type { AdapterSet } from '../runtime/adapter-set.js';
import { createRuntimeWith, type Runtime } from '../runtime/create.js';

export type { Runtime } from '../ports/runtime.js';

// Every kind is imported when configuration first selects it (DuckDB and SQLite are native modules; the AWS kinds
// bring their SDK clients).
const aws = async (): Promise<AdapterSet> => (await import('../runtime/aws.js')).awsAdapters;

export const allAdapters: AdapterSet = {
  unpinnedHostKeys: 'remember',
  async staging(cfg, location) {
    if (cfg.type !== 'local') return (await aws()).staging(cfg, location);
    const { createLocalStaging } = await import('./adapters/local-staging/index.js');
    return createLocalStaging({ root: location });
  },
  async state(cfg, location) {
    if (cfg.type !== 'local') return (await aws()).state(cfg, location);
    const { createLocalStateStore } = await import('./adapters/local-state/index.js');
    return createLocalStateStore({ path: location });
  },
  async warehouse(t, location) {
    if (t.type !== 'duckdb') return (await aws()).warehouse(t, location);
    const { createDuckDbWarehouse } = await import('./adapters/duckdb/index.js');
    return createDuckDbWarehouse({ path: location, memoryLimitBytes: t.memoryLimitBytes });
  },
};

/**
 * `envOverride` replaces the configuration's environment (process env merged with .env) when given. This process
 * drives the runs it plans, so it is recorded as their leases' owner.
 */
export function createRuntime(config: LoadedConfig, envOverride?: NodeJS.ProcessEnv): Runtime {
  return createRuntimeWith(allAdapters, config, envOverride, currentProcessOwner());
}
