/** A resolved pipeline as plain data for `config show-pipeline`, with every secret masked. No I/O. */

import type {
  PipelineConfig,
  SecretRef,
  SourceConnection,
  TableConfig,
  TargetConnection,
} from '../../domain/config.js';
import { strategyFor } from '../strategies/index.js';
import type { Strategy } from '../strategies/strategy.js';

export const MASK = '***';

/** A literal secret becomes `***`; a reference is shown as written (`${VAR}`, `{secret, key}`), never resolved. */
export function maskSecret(ref: SecretRef | undefined): string | { secret: string; key?: string } | undefined {
  if (ref === undefined) return undefined;
  if (ref.kind === 'literal') return MASK;
  if (ref.kind === 'env') return `\${${ref.name}}`;
  return ref.key === undefined ? { secret: ref.secretId } : { secret: ref.secretId, key: ref.key };
}

function defined(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}

/** Seconds as the YAML writes a duration. */
function duration(seconds: number): string {
  return `${seconds}s`;
}

/** A source connection in connections.yml's own keys. */
export function sourceView(s: SourceConnection): Record<string, unknown> {
  const t = s.sshTunnel;
  return defined({
    host: s.host,
    port: s.port,
    database: s.database,
    username: s.username,
    password: maskSecret(s.password),
    time_zone: s.timeZone,
    description: s.description,
    ssh_tunnel: t
      ? defined({
          enabled: true,
          host: t.host,
          port: t.port,
          username: t.username,
          private_key_path: t.privateKeyPath,
          private_key: maskSecret(t.privateKey),
          host_key_sha256: t.hostKeySha256,
          accept_unpinned_host_key: t.acceptUnpinnedHostKey,
          connect_timeout: t.connectTimeoutSeconds,
          keepalive: t.keepaliveSeconds,
        })
      : undefined,
  });
}

/** A target connection in connections.yml's own keys. */
export function targetView(t: TargetConnection): Record<string, unknown> {
  if (t.type === 'duckdb') return { type: t.type, path: t.path, schema: t.schema };
  return defined({
    type: t.type,
    schema: t.schema,
    database: t.database,
    workgroup: t.workgroup,
    cluster_identifier: t.clusterIdentifier,
    secret_arn: t.secretArn,
    db_user: t.dbUser,
    iam_role_arn: t.iamRoleArn,
    region: t.region,
    endpoint: t.endpoint,
    host: t.host,
    port: t.port,
    username: t.username,
    password: maskSecret(t.password),
  });
}

function shown(t: TableConfig, key: Parameters<Strategy['shownKeys']['has']>[0]): boolean {
  return strategyFor(t.strategy).shownKeys.has(key);
}

/** One table as its pipeline YAML would set it, every default filled in. */
function tableView(t: TableConfig): Record<string, unknown> {
  const every = t.verifyEvery;
  return defined({
    cdc_strategy: t.strategy,
    cdc_timestamp_column: shown(t, 'timestampColumn') ? t.timestampColumn : undefined,
    timestamp_format: shown(t, 'timestampFormat') ? t.timestampFormat : undefined,
    cdc_id_column: shown(t, 'idColumn') ? t.idColumn : undefined,
    target_name: t.targetName,
    full_sync_mode: shown(t, 'fullSyncMode') ? t.fullSyncMode : undefined,
    custom_query: t.customQuery,
    additional_where: t.additionalWhere,
    lag: duration(t.lagSeconds),
    lookback: duration(t.lookbackSeconds),
    clock_skew: duration(t.clockSkewSeconds),
    on_column_drop: t.onColumnDrop,
    chunk_rows: t.chunkRows,
    primary_key: t.primaryKey,
    distkey: t.distkey,
    sortkey: t.sortkey,
    diststyle: t.diststyle,
    delete_detection: t.deleteDetection,
    delete_detection_every:
      t.deleteDetectionEverySeconds === null ? undefined : duration(t.deleteDetectionEverySeconds),
    verify_every: every === null ? undefined : 'runs' in every ? `${every.runs} runs` : duration(every.seconds),
    depends_on: t.dependsOn.length ? t.dependsOn : undefined,
    processing: { batch_size: t.batchSize },
  });
}

function stagingView(p: PipelineConfig): Record<string, unknown> {
  const s = p.staging;
  if (s.type === 'local') return { local: s.root };
  return { s3: defined({ bucket: s.bucket, prefix: s.prefix, region: s.region, endpoint: s.endpoint }) };
}

/**
 * The resolved pipeline in its YAML's own keys (pipeline:, tables:), every default filled in and every secret
 * masked, with the connections it names in connections.yml's keys; what each strategy reads is a comment-like
 * `reads:` note per table under `notes:`.
 */
export function pipelineView(p: PipelineConfig): Record<string, unknown> {
  const staging = stagingView(p);
  return {
    file: p.origin,
    pipeline: defined({
      name: p.name,
      description: p.description,
      source: p.source.name,
      target: p.target.name,
      schedule: p.schedule,
      ...('s3' in staging ? staging : {}),
      state: p.state,
      processing: {
        max_workers: p.processing.maxWorkers,
        batch_size: p.processing.batchSize,
        chunk_rows: p.processing.chunkRows,
        lease_seconds: p.processing.leaseSeconds,
        max_inline_chunks: p.processing.maxInlineChunks,
      },
    }),
    tables: Object.fromEntries(p.tables.map((t) => [t.name, tableView(t)])),
    connections: {
      sources: { [p.source.name]: sourceView(p.source) },
      targets: { [p.target.name]: targetView(p.target) },
    },
    ...('local' in staging ? { staging } : {}),
    reads: Object.fromEntries(p.tables.map((t) => [t.name, strategyFor(t.strategy).describe(t)])),
  };
}
