/** Single-connection mode: one source and one target from environment variables (and `.env`), as v1.0.0 did. */

import { join } from 'node:path';
import type { DuckDbTarget, ProcessingConfig, SourceConnection, SshTunnelConfig } from '../../domain/config.js';
import { ConfigError } from '../../errors.js';
import { DEFAULT_CHUNK_BYTES, DEFAULT_CHUNK_SECONDS, DEFAULT_READ_ROWS_PER_SECOND } from '../chunk-size.js';
import { checkTimeZone } from '../strategies/horizon.js';
import { isColumnName } from './identifiers.js';
import type { Env } from './interpolate.js';

export const DEFAULT_PROCESSING: ProcessingConfig = {
  maxWorkers: 4,
  batchSize: 65536,
  // Chunks are sized from the table's row length toward a byte and a time target (engine/chunk-size.ts).
  chunkRows: null,
  chunkBytes: DEFAULT_CHUNK_BYTES,
  chunkSeconds: DEFAULT_CHUNK_SECONDS,
  readRowsPerSecond: DEFAULT_READ_ROWS_PER_SECOND,
  leaseSeconds: 3600,
  // A chunk spec plus its share of the Map's result is ~250 bytes of a 256 KiB state payload (docs/state-machine.md).
  maxInlineChunks: 1000,
};

function envPort(env: Env, name: string, dflt: number): number {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return dflt;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < 1 || n > 65535) {
    throw new ConfigError(`environment variable ${name}=${JSON.stringify(raw)} is not a port number (1–65535)`);
  }
  return n;
}

function envText(env: Env, name: string): string | undefined {
  const v = env[name]?.trim();
  return v === undefined || v === '' ? undefined : v;
}

/** The `default` source. MYSQL_HOST may be missing here (host ''): `requireSource` refuses it only when it is used. */
export function envSource(env: Env): SourceConnection {
  const source: SourceConnection = {
    name: 'default',
    host: envText(env, 'MYSQL_HOST') ?? '',
    port: envPort(env, 'MYSQL_PORT', 3306),
    database: envText(env, 'MYSQL_DATABASE') ?? '',
    username: envText(env, 'MYSQL_USER') ?? '',
    description: 'from environment variables (MYSQL_*)',
    settings: {
      host: 'MYSQL_HOST',
      port: 'MYSQL_PORT',
      user: 'MYSQL_USER',
      password: 'MYSQL_PASSWORD',
      database: 'MYSQL_DATABASE',
    },
  };
  // A reference, not the value: the password is read when the connection opens and never sits in a config dump.
  if (env.MYSQL_PASSWORD !== undefined) source.password = { kind: 'env', name: 'MYSQL_PASSWORD' };
  const timeZone = envText(env, 'MYSQL_TIME_ZONE');
  if (timeZone !== undefined) {
    const problem = checkTimeZone(timeZone);
    if (problem) throw new ConfigError(`MYSQL_TIME_ZONE: ${problem}`);
    source.timeZone = timeZone;
  }
  const bastion = envText(env, 'SSH_BASTION_HOST');
  if (bastion !== undefined) {
    const tunnel: SshTunnelConfig = {
      host: bastion,
      port: envPort(env, 'SSH_BASTION_PORT', 22),
      username: envText(env, 'SSH_BASTION_USER') ?? '',
      connectTimeoutSeconds: 10,
      keepaliveSeconds: 30,
      acceptUnpinnedHostKey: envText(env, 'SSH_BASTION_ACCEPT_UNPINNED_HOST_KEY')?.toLowerCase() === 'true',
    };
    const keyPath = envText(env, 'SSH_BASTION_KEY_PATH');
    if (keyPath !== undefined) tunnel.privateKeyPath = keyPath;
    const hostKey = envText(env, 'SSH_BASTION_HOST_KEY_SHA256');
    if (hostKey !== undefined) tunnel.hostKeySha256 = hostKey;
    source.sshTunnel = tunnel;
  }
  return source;
}

export function envTarget(env: Env, home: string): DuckDbTarget {
  const schema = envText(env, 'HIGHWATER_TARGET_SCHEMA') ?? 'public';
  if (!isColumnName(schema)) {
    throw new ConfigError(
      `environment variable HIGHWATER_TARGET_SCHEMA=${JSON.stringify(schema)} may only use letters, digits, _ and $`,
    );
  }
  return { type: 'duckdb', name: 'default', path: join(home, 'warehouse.duckdb'), schema };
}
