/** `connections.yml` → named sources, targets, S3 configs and processing defaults. */

import { isAbsolute, resolve } from 'node:path';
import type { z } from 'zod';
import type { ProcessingConfig, SourceConnection, SshTunnelConfig, TargetConnection } from '../../domain/config.js';
import { checkTimeZone } from '../strategies/horizon.js';
import { columnAt, nameAt } from './identifiers.js';
import { noteIgnored } from './ignored.js';
import type { Env } from './interpolate.js';
import { interpolateTree } from './interpolate.js';
import type { s3ConfigSchema, sourceSchema, targetSchema } from './schemas.js';
import { connectionsFileSchema, IGNORED, SECRET_KEYS, UNREAD_KEYS } from './schemas.js';
import { resolveSecret } from './secrets.js';
import { validateYaml } from './validate.js';
import type { YamlPath, YamlSource } from './yaml-source.js';
import { parseYaml } from './yaml-source.js';

export interface S3ConfigResolved {
  bucket: string;
  prefix: string;
  region?: string;
  endpoint?: string;
}

export interface ConnectionsResult {
  display: string;
  sources: Record<string, SourceConnection>;
  targets: Record<string, TargetConnection>;
  s3Configs: Record<string, S3ConfigResolved>;
  processing: Partial<ProcessingConfig>;
  warnings: string[];
}

export const skipInterpolation = (key: string): boolean => SECRET_KEYS.has(key) || UNREAD_KEYS.has(key);

function source(
  name: string,
  y: z.output<typeof sourceSchema>,
  env: Env,
  src: YamlSource,
  path: YamlPath,
): SourceConnection {
  const out: SourceConnection = {
    name,
    host: y.host,
    port: y.port ?? 3306,
    database: y.database ?? '',
    username: y.username ?? '',
    settings: {
      host: [...path, 'host'].join('.'),
      port: [...path, 'port'].join('.'),
      user: [...path, 'username'].join('.'),
      password: [...path, 'password'].join('.'),
      database: [...path, 'database'].join('.'),
      file: src.display,
    },
  };
  const password = resolveSecret(y.password, env, src, [...path, 'password']);
  if (password) out.password = password;
  if (y.description !== undefined) out.description = y.description;
  if (y.time_zone !== undefined) {
    const problem = checkTimeZone(y.time_zone);
    if (problem) throw src.error([...path, 'time_zone'], problem);
    out.timeZone = y.time_zone;
  }
  const t = y.ssh_tunnel;
  // local_port is silently ignored: every old file says `local_port: 0` (auto), which is what the tunnel does anyway.
  if (t?.enabled) {
    const tp = [...path, 'ssh_tunnel'];
    if (t.host === undefined) throw src.error([...tp, 'enabled'], 'ssh_tunnel is enabled but has no host');
    if (t.username === undefined) throw src.error([...tp, 'enabled'], 'ssh_tunnel is enabled but has no username');
    if (t.private_key_path === undefined && t.private_key === undefined) {
      throw src.error([...tp, 'enabled'], 'ssh_tunnel is enabled but has neither private_key_path nor private_key');
    }
    const tunnel: SshTunnelConfig = {
      host: t.host,
      port: t.port ?? 22,
      username: t.username,
      connectTimeoutSeconds: t.connect_timeout ?? 10,
      keepaliveSeconds: t.keepalive ?? 30,
      acceptUnpinnedHostKey: t.accept_unpinned_host_key ?? false,
    };
    if (t.private_key_path !== undefined) tunnel.privateKeyPath = t.private_key_path;
    const key = resolveSecret(t.private_key, env, src, [...tp, 'private_key']);
    if (key) tunnel.privateKey = key;
    if (t.host_key_sha256 !== undefined) tunnel.hostKeySha256 = t.host_key_sha256;
    out.sshTunnel = tunnel;
  }
  return out;
}

function target(
  name: string,
  y: z.output<typeof targetSchema>,
  env: Env,
  src: YamlSource,
  path: YamlPath,
  home: string,
  warnings: string[],
): TargetConnection {
  const schema = columnAt(src, [...path, 'schema'], y.schema ?? 'public');
  if (y.type === 'duckdb') {
    const file = y.path ?? `${name === 'default' ? 'warehouse' : name}.duckdb`;
    return {
      type: 'duckdb',
      name,
      path: isAbsolute(file) ? file : resolve(home, file),
      schema,
      ...(y.memory_limit !== undefined ? { memoryLimitBytes: y.memory_limit } : {}),
    };
  }
  noteIgnored(src, path, y, IGNORED.target, warnings);
  if (y.type === 'redshift') {
    // Only the Data API shape is checked: a target without `type` is the old tool's direct connection, kept for listing.
    if (!y.database) throw src.error([...path, 'database'], 'a redshift target needs database');
    if ((y.workgroup === undefined) === (y.cluster_identifier === undefined)) {
      throw src.error(path, 'a redshift target needs exactly one of workgroup (Serverless) or cluster_identifier', {
        onKey: true,
      });
    }
  }
  const out: TargetConnection = { type: 'redshift', name, schema, database: y.database ?? '' };
  const optional = {
    workgroup: y.workgroup,
    clusterIdentifier: y.cluster_identifier,
    secretArn: y.secret_arn,
    dbUser: y.db_user,
    iamRoleArn: y.iam_role_arn,
    region: y.region,
    endpoint: y.endpoint,
    host: y.host,
    port: y.port ?? (y.host === undefined ? undefined : 5439),
    username: y.username,
    password: resolveSecret(y.password, env, src, [...path, 'password']),
    copySlices: y.copy_slices,
  };
  for (const [k, v] of Object.entries(optional)) {
    if (v !== undefined) (out as unknown as Record<string, unknown>)[k] = v;
  }
  return out;
}

export function resolveConnectionsFile(text: string, display: string, env: Env, home: string): ConnectionsResult {
  const src = parseYaml(text, display);
  const data = validateYaml(connectionsFileSchema, interpolateTree(src.value ?? {}, env, src, skipInterpolation), src);
  const warnings: string[] = [];
  const sources: Record<string, SourceConnection> = {};
  for (const [name, y] of Object.entries(data.connections?.sources ?? {})) {
    const path = ['connections', 'sources', name];
    nameAt(src, path, 'source connection', name);
    sources[name] = source(name, y, env, src, path);
  }
  const targets: Record<string, TargetConnection> = {};
  for (const [name, y] of Object.entries(data.connections?.targets ?? {})) {
    const path = ['connections', 'targets', name];
    nameAt(src, path, 'target connection', name);
    targets[name] = target(name, y, env, src, path, home, warnings);
  }
  const s3Configs: Record<string, S3ConfigResolved> = {};
  const s3Entries: [string, z.output<typeof s3ConfigSchema>, YamlPath][] = Object.entries(data.s3_configs ?? {}).map(
    ([n, y]) => [n, y, ['s3_configs', n]],
  );
  if (data.s3 && !data.s3_configs?.default) s3Entries.push(['default', data.s3, ['s3']]);
  for (const [name, y, path] of s3Entries) {
    noteIgnored(src, path, y, IGNORED.s3Config, warnings);
    const c: S3ConfigResolved = { bucket: y.bucket_name, prefix: y.incremental_path ?? '' };
    if (y.region !== undefined) c.region = y.region;
    if (y.endpoint !== undefined) c.endpoint = y.endpoint;
    s3Configs[name] = c;
  }
  const processing: Partial<ProcessingConfig> = {};
  if (data.backup) {
    noteIgnored(src, ['backup'], data.backup, IGNORED.backup, warnings);
    if (data.backup.batch_size !== undefined) processing.batchSize = data.backup.batch_size;
    if (data.backup.max_workers !== undefined) processing.maxWorkers = data.backup.max_workers;
    if (data.backup.target_rows_per_chunk !== undefined) processing.chunkRows = data.backup.target_rows_per_chunk;
  }
  return { display, sources, targets, s3Configs, processing, warnings };
}
