/**
 * What `connections list` and `connections info` show of a configured connection. Secrets are never part of the
 * output: a literal secret becomes `***`, an environment reference stays the reference (`${NAME}`, with whether
 * it is set), and a Secrets Manager reference is its secret id (an id, not a value).
 */
import type { LoadedConfig, SecretRef, SourceConnection, TargetConnection } from '../../../domain/config.js';
import type { ConnectionKind, ConnectionRole } from './probe.js';

export const MASK = '***';

/** The `--type` filter values and which connections they select. */
export const CONNECTION_KINDS = ['mysql', 'redshift', 'duckdb'] as const satisfies readonly ConnectionKind[];

export type AnyConnection =
  | { role: 'source'; kind: 'mysql'; connection: SourceConnection }
  | { role: 'target'; kind: TargetConnection['type']; connection: TargetConnection };

export interface ConnectionListEntry {
  name: string;
  role: ConnectionRole;
  kind: ConnectionKind;
  /** `host:port`, a DuckDB file path, or the Redshift workgroup / cluster reached through the Data API. */
  address: string;
  database: string | null;
  tunnel: boolean;
  /** `user@host:port` of the bastion when tunnelled. */
  via: string | null;
  description: string | null;
}

/** Every connection of the configuration, sources first, each group in name order. */
export function allConnections(cfg: LoadedConfig): AnyConnection[] {
  const byName = <T>(rec: Record<string, T>) => Object.entries(rec).sort(([a], [b]) => a.localeCompare(b));
  return [
    ...byName(cfg.sources).map(([, s]): AnyConnection => ({ role: 'source', kind: 'mysql', connection: s })),
    ...byName(cfg.targets).map(([, t]): AnyConnection => ({ role: 'target', kind: t.type, connection: t })),
  ];
}

export function redshiftAddress(t: Extract<TargetConnection, { type: 'redshift' }>): string {
  if (t.workgroup !== undefined) return `workgroup ${t.workgroup}`;
  if (t.clusterIdentifier !== undefined) return `cluster ${t.clusterIdentifier}`;
  if (t.host !== undefined) return `${t.host}:${t.port ?? 5439}`;
  return '(not set)';
}

export function listEntry(c: AnyConnection): ConnectionListEntry {
  if (c.role === 'source') {
    const s = c.connection;
    const t = s.sshTunnel;
    return {
      name: s.name,
      role: 'source',
      kind: 'mysql',
      address: s.host === '' ? '(host not set)' : `${s.host}:${s.port}`,
      database: s.database === '' ? null : s.database,
      tunnel: t !== undefined,
      via: t ? `${t.username}@${t.host}:${t.port}` : null,
      description: s.description ?? null,
    };
  }
  const t = c.connection;
  const base = { name: t.name, role: 'target' as const, tunnel: false, via: null, description: null };
  if (t.type === 'duckdb') return { ...base, kind: 'duckdb', address: t.path, database: null };
  return { ...base, kind: 'redshift', address: redshiftAddress(t), database: t.database === '' ? null : t.database };
}

/** A secret as it may be shown. `isSet` tells whether an environment variable is set (its value is never read). */
export function showSecret(ref: SecretRef | undefined, isSet: (name: string) => boolean): string | undefined {
  if (ref === undefined) return undefined;
  switch (ref.kind) {
    case 'literal':
      return MASK;
    case 'env':
      return `\${${ref.name}} (${isSet(ref.name) ? 'set' : 'NOT SET'})`;
    case 'secretsmanager':
      return `Secrets Manager ${ref.secretId}${ref.key === undefined ? '' : ` key ${ref.key}`}`;
  }
}

/** Every setting of a connection, in YAML key names, secrets shown by showSecret; unset keys are left out. */
export function connectionSettings(c: AnyConnection, isSet: (name: string) => boolean): Record<string, string> {
  const out: Record<string, string> = {};
  const put = (key: string, v: string | number | undefined) => {
    if (v !== undefined && v !== '') out[key] = String(v);
  };
  if (c.role === 'source') {
    const s = c.connection;
    put('type', 'mysql');
    put('host', s.host);
    put('port', s.port);
    put('database', s.database);
    put('username', s.username);
    put('password', showSecret(s.password, isSet));
    put('description', s.description);
    const t = s.sshTunnel;
    put('ssh_tunnel.enabled', t ? 'true' : 'false');
    if (t) {
      put('ssh_tunnel.host', t.host);
      put('ssh_tunnel.port', t.port);
      put('ssh_tunnel.username', t.username);
      put('ssh_tunnel.private_key_path', t.privateKeyPath);
      put('ssh_tunnel.private_key', showSecret(t.privateKey, isSet));
      put(
        'ssh_tunnel.host_key_sha256',
        t.hostKeySha256 ??
          `(not pinned: a local run remembers the first key it sees; a deployed run ${t.acceptUnpinnedHostKey ? 'accepts any key (accept_unpinned_host_key)' : 'refuses the bastion'})`,
      );
      put('ssh_tunnel.connect_timeout', `${t.connectTimeoutSeconds}s`);
      put('ssh_tunnel.keepalive', `${t.keepaliveSeconds}s`);
    }
    return out;
  }
  const t = c.connection;
  put('type', t.type);
  if (t.type === 'duckdb') {
    put('path', t.path);
    put('schema', t.schema);
    return out;
  }
  put('database', t.database);
  put('schema', t.schema);
  put('workgroup', t.workgroup);
  put('cluster_identifier', t.clusterIdentifier);
  put('secret_arn', t.secretArn);
  put('db_user', t.dbUser);
  put('iam_role_arn', t.iamRoleArn);
  put('region', t.region);
  put('endpoint', t.endpoint);
  put('host', t.host);
  put('port', t.port);
  put('username', t.username);
  put('password', showSecret(t.password, isSet));
  return out;
}
