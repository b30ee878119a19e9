/**
 * The Lambda's wiring: the AWS adapter kinds (S3 staging, DynamoDB state, Redshift through the Data API — all a
 * Lambda ever loads) and one Runtime per container, built on the first invocation and reused by the next ones
 * (connections, clients and the warehouse handle stay warm). A failed build is forgotten so the next invocation
 * tries again instead of failing forever.
 */
import { dirname } from 'node:path';
import { loadConfig } from '../engine/config/index.js';
import { ConfigError } from '../errors.js';
import type { Runtime } from '../ports/runtime.js';
import type { AdapterSet } from './adapter-set.js';
import { createRuntimeWith } from './create.js';

const ON_AWS = 'On AWS, use staging type s3, state type dynamodb and a redshift target.';

function notHere(what: string): never {
  throw new ConfigError(`${what} is local-only and not available in this runtime`, { suggestion: ON_AWS });
}

// Each SDK client is imported when configuration first selects its kind: a local run never loads one.
export const awsAdapters: AdapterSet = {
  unpinnedHostKeys: 'refuse',
  async staging(cfg) {
    if (cfg.type !== 's3') return notHere(`staging type ${cfg.type}`);
    const { createS3Staging } = await import('../adapters/s3-staging/index.js');
    return createS3Staging({ bucket: cfg.bucket, prefix: cfg.prefix, region: cfg.region, endpoint: cfg.endpoint });
  },
  async state(cfg) {
    if (cfg.type !== 'dynamodb') return notHere(`state type ${cfg.type}`);
    const { createDynamoDbStateStore } = await import('../adapters/dynamodb-state/index.js');
    return createDynamoDbStateStore({ table: cfg.table, region: cfg.region, endpoint: cfg.endpoint });
  },
  async warehouse(t) {
    if (t.type !== 'redshift') return notHere(`target ${t.name} (type ${t.type})`);
    if (!t.iamRoleArn) throw new ConfigError(`target ${t.name}: iam_role_arn is required for COPY from S3`);
    const { createRedshiftWarehouse } = await import('../adapters/redshift/index.js');
    return createRedshiftWarehouse({
      database: t.database,
      workgroupName: t.workgroup,
      clusterIdentifier: t.clusterIdentifier,
      secretArn: t.secretArn,
      dbUser: t.dbUser,
      iamRoleArn: t.iamRoleArn,
      region: t.region,
      endpoint: t.endpoint,
    });
  },
};

/** Where a Lambda finds its bundled configuration and its writable home (the functions' environment). */
export interface ContainerSettings {
  configDir: string;
  home: string;
}

let cached: Promise<Runtime> | undefined;

async function build(settings: ContainerSettings): Promise<Runtime> {
  const config = await loadConfig({
    // .env, if any, is read next to the bundled config directory, not from wherever the process started.
    cwd: dirname(settings.configDir),
    configDir: settings.configDir,
    home: settings.home,
    env: process.env,
  });
  // AWS adapters only: the bundle never carries DuckDB or SQLite, and a local kind in the YAML fails by name.
  return createRuntimeWith(awsAdapters, config);
}

/** The container's runtime: built once from `settings` and reused by later invocations. */
export function containerRuntime(settings: ContainerSettings): Promise<Runtime> {
  if (!cached) {
    const p = build(settings);
    cached = p;
    p.catch(() => {
      if (cached === p) cached = undefined;
    });
  }
  return cached;
}

/** Closes the container's runtime (tests; a Lambda container just ends). */
export async function closeContainerRuntime(): Promise<void> {
  const p = cached;
  cached = undefined;
  if (!p) return;
  const rt = await p.catch(() => undefined);
  await rt?.close();
}
