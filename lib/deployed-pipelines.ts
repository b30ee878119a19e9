/**
 * What the stack needs to know about the pipelines, derived once from the loaded configuration: the secrets the
 * Lambdas may read, the Redshift workgroups and clusters they load into, and one schedule per scheduled pipeline.
 * Pure data (no aws-cdk-lib), so it is tested without a synth.
 */
import { MAX_TABLES_PER_RUN, type RunOptions } from '../lambdas/domain/manifests.js';
import { getPipeline, type LoadedConfig, type PipelineConfig, type SecretRef } from '../lambdas/engine/config/index.js';
import { ConfigError } from '../lambdas/errors.js';

export interface PipelineSchedule {
  readonly pipeline: string;
  /** `cron(…)` or `rate(…)`, as EventBridge Scheduler takes it. */
  readonly expression: string;
  /** Every table of the pipeline, as written in its YAML (`schema.table`). */
  readonly tables: readonly string[];
  /**
   * The pipeline's processing options a run request carries (the state machine cannot read the YAML): what the CLI
   * fills in from the same YAML when its command line does not say.
   */
  readonly options: Pick<RunOptions, 'maxWorkers'>;
}

export interface DeployedPipelines {
  readonly pipelines: readonly PipelineConfig[];
  /** Secrets Manager ids (names or ARNs) referenced by any pipeline, sorted and without duplicates. */
  readonly secretIds: readonly string[];
  readonly redshiftWorkgroups: readonly string[];
  /** Provisioned clusters with the database and user the Data API signs in as. */
  readonly redshiftClusters: ReadonlyArray<{
    readonly cluster: string;
    readonly database: string;
    readonly dbUser?: string;
  }>;
  readonly schedules: readonly PipelineSchedule[];
}

const SCHEDULE = /^(cron|rate)\(.+\)$/;

function secretId(ref: SecretRef | undefined): string | undefined {
  return ref?.kind === 'secretsmanager' ? ref.secretId : undefined;
}

export function deployedPipelines(cfg: LoadedConfig): DeployedPipelines {
  const pipelines = cfg.pipelines.map((name) => getPipeline(cfg, name));
  const secrets = new Set<string>();
  const workgroups = new Set<string>();
  const clusters = new Map<string, { cluster: string; database: string; dbUser?: string }>();
  const schedules: PipelineSchedule[] = [];
  for (const p of pipelines) {
    for (const id of [secretId(p.source.password), secretId(p.source.sshTunnel?.privateKey)]) if (id) secrets.add(id);
    if (p.target.type === 'redshift') {
      const t = p.target;
      const id = t.secretArn ?? secretId(t.password);
      if (id) secrets.add(id);
      if (t.workgroup) workgroups.add(t.workgroup);
      if (t.clusterIdentifier) {
        const c = { cluster: t.clusterIdentifier, database: t.database, ...(t.dbUser ? { dbUser: t.dbUser } : {}) };
        clusters.set(JSON.stringify(c), c);
      }
    }
    if (p.schedule !== undefined) {
      if (!SCHEDULE.test(p.schedule.trim())) {
        throw new ConfigError(
          `pipeline ${p.name} (${p.origin}): schedule ${JSON.stringify(p.schedule)} is not cron(…) or rate(…)`,
          { suggestion: 'Write an EventBridge Scheduler expression, e.g. cron(0/15 * * * ? *) or rate(1 hour).' },
        );
      }
      if (p.tables.length > MAX_TABLES_PER_RUN) {
        throw new ConfigError(
          `pipeline ${p.name} (${p.origin}): its schedule would start one run of ${p.tables.length} tables; a run takes at most ${MAX_TABLES_PER_RUN} (docs/limits.md)`,
          { suggestion: 'Split the tables over several pipelines, each with its own schedule.' },
        );
      }
      schedules.push({
        pipeline: p.name,
        expression: p.schedule.trim(),
        tables: p.tables.map((t) => t.name),
        options: { maxWorkers: p.processing.maxWorkers },
      });
    }
  }
  return {
    pipelines,
    secretIds: [...secrets].sort(),
    redshiftWorkgroups: [...workgroups].sort(),
    redshiftClusters: [...clusters.values()],
    schedules,
  };
}
