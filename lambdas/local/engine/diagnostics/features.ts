/**
 * What this build supports, for `highwater features`. The lists come from the code: the strategy names from
 * CDC_STRATEGIES, and the staging / state / warehouse kinds from the configuration types (a new kind added to a
 * union does not compile until it is described here).
 */
import {
  CDC_STRATEGIES,
  type CdcStrategy,
  type StagingConfig,
  type StateConfig,
  type TargetConnection,
} from '../../../domain/config.js';
import { CUSTOM_SQL_PLACEHOLDERS } from '../../../engine/strategies/sql/user-sql.js';

export interface AdapterFeature {
  name: string;
  /** `local` runs on this machine without AWS; `aws` needs AWS (or a stand-in endpoint). */
  adapter: 'local' | 'aws';
  description: string;
  /** The configuration modes it can be used from. */
  modes: ('single' | 'multi')[];
}

export interface StrategyFeature {
  name: CdcStrategy;
  /** Every strategy is planned and executed (the old tool only read the names and always ran updated_at). */
  executed: true;
  description: string;
}

const STRATEGY_TEXT: Record<CdcStrategy, string> = {
  hybrid: 'keyset on (timestamp, id): no row lost on timestamp ties',
  timestamp_only: 'timestamp column, ties kept whole within a run',
  id_only: 'increasing id column (append-only tables)',
  full_sync: 'the whole table every run (replace swaps it in one transaction, or append)',
  custom_sql: `your SELECT with placeholders ${CUSTOM_SQL_PLACEHOLDERS.map((p) => `:${p}`).join(', ')}, checked read-only`,
};

const STAGING: Record<StagingConfig['type'], Omit<AdapterFeature, 'name'>> = {
  local: { adapter: 'local', description: 'Parquet files under the Highwater home', modes: ['single', 'multi'] },
  s3: { adapter: 'aws', description: 'Parquet files in S3 (pipeline s3 / s3_config)', modes: ['multi'] },
};

const STATE: Record<StateConfig['type'], Omit<AdapterFeature, 'name'>> = {
  local: {
    adapter: 'local',
    description: 'SQLite file (watermarks, leases, run ledger)',
    modes: ['single', 'multi'],
  },
  dynamodb: { adapter: 'aws', description: 'DynamoDB table (state: {type: dynamodb})', modes: ['multi'] },
};

const WAREHOUSE: Record<TargetConnection['type'], Omit<AdapterFeature, 'name'>> = {
  duckdb: { adapter: 'local', description: 'DuckDB file', modes: ['single', 'multi'] },
  redshift: {
    adapter: 'aws',
    description: 'Redshift Serverless or provisioned, through the Data API (COPY from S3, then merge)',
    modes: ['multi'],
  },
};

function features<K extends string>(rec: Record<K, Omit<AdapterFeature, 'name'>>): AdapterFeature[] {
  return (Object.entries(rec) as [K, Omit<AdapterFeature, 'name'>][]).map(([name, f]) => ({ name, ...f }));
}

export interface ModeFeatures {
  mode: 'single' | 'multi';
  title: string;
  configuredBy: string;
  connections: string;
  pipelines: string;
  sshTunnel: string;
}

export interface FeatureReport {
  cdcStrategies: StrategyFeature[];
  staging: AdapterFeature[];
  state: AdapterFeature[];
  warehouse: AdapterFeature[];
  modes: ModeFeatures[];
  sshTunnel: string;
  remoteRuns: string;
  secrets: string;
}

export function featureReport(): FeatureReport {
  return {
    cdcStrategies: CDC_STRATEGIES.map((name) => ({ name, executed: true, description: STRATEGY_TEXT[name] })),
    staging: features(STAGING),
    state: features(STATE),
    warehouse: features(WAREHOUSE),
    modes: [
      {
        mode: 'single',
        title: 'single-connection mode (v1.0.0 compatibility)',
        configuredBy: 'environment variables and .env (MYSQL_*, SSH_BASTION_*, HIGHWATER_*)',
        connections: 'one MySQL source and one local DuckDB target, both named "default"',
        pipelines: 'the default pipeline only; tables are registered on the fly (hybrid on updated_at/id)',
        sshTunnel: 'SSH_BASTION_HOST, SSH_BASTION_USER, SSH_BASTION_KEY_PATH, SSH_BASTION_HOST_KEY_SHA256',
      },
      {
        mode: 'multi',
        title: 'multi-connection mode (v1.1.0)',
        configuredBy: 'config/connections.yml and config/pipelines/*.yml',
        connections: 'any number of named MySQL sources and DuckDB or Redshift targets',
        pipelines: 'named pipelines (sync pipeline), ad-hoc source → target pairs (sync connections)',
        sshTunnel: 'ssh_tunnel per source, with host_key_sha256 pinning',
      },
    ],
    sshTunnel: 'MySQL through an SSH bastion (key authentication, pinned host key, keepalives)',
    remoteRuns:
      'sync --state-machine-arn runs on the deployed AWS Step Functions state machine; executions lists and follows runs',
    secrets: `passwords and private keys as literals, \${ENV} references, or Secrets Manager {secret, key}; masked in output`,
  };
}
