/**
 * The hops of `connections test` / `connections health`, wired to the real adapters: an SSH bastion (ssh2, the
 * pinned host key checked), MySQL directly or through it (`SELECT 1` and the server version), a DuckDB file, or the
 * Redshift Data API (`SELECT 1` through the warehouse adapter). Each hop is bounded by the probe's deadline.
 */
import { existsSync } from 'node:fs';
import { RedshiftDataClient } from '@aws-sdk/client-redshift-data';
import { createMysqlSource } from '../../../../lambdas/adapters/mysql/index.js';
import { createRedshiftWarehouse } from '../../../../lambdas/adapters/redshift/index.js';
import { createTunneledMysqlSource, openTunnel, type Tunnel } from '../../../../lambdas/adapters/ssh-tunnel/index.js';
import type {
  DuckDbTarget,
  LoadedConfig,
  RedshiftTarget,
  SourceConnection,
} from '../../../../lambdas/domain/config.js';
import { configEnv, getPipeline, requireSource } from '../../../../lambdas/engine/config/index.js';
import { ConfigError } from '../../../../lambdas/errors.js';
import { createDuckDbWarehouse } from '../../../../lambdas/local/adapters/duckdb/index.js';
import type { AnyConnection } from '../../../../lambdas/local/engine/diagnostics/describe.js';
import { redshiftAddress } from '../../../../lambdas/local/engine/diagnostics/describe.js';
import {
  type ConnectionProbe,
  type HopFacts,
  type HopStep,
  probeConnection,
} from '../../../../lambdas/local/engine/diagnostics/probe.js';
import { type Runtime, tunnelPrivateKey } from '../../../../lambdas/runtime/create.js';

const PROBE_SQL = 'SELECT 1 AS ok, VERSION() AS version';

interface ProbeContext {
  config: LoadedConfig;
  runtime: Runtime;
  timeoutMs: number;
}

/** Closes `resource` if the hop's deadline passes while it is still in use (or before it was handed back). */
function closeOnAbort(signal: AbortSignal, close: () => Promise<void>): void {
  if (signal.aborted) void close().catch(() => undefined);
  else signal.addEventListener('abort', () => void close().catch(() => undefined), { once: true });
}

function failing(kind: HopStep['kind'], address: string, e: unknown): HopStep[] {
  return [
    {
      kind,
      address,
      measures: 'settings',
      run: () => Promise.reject(e),
    },
  ];
}

function sourceSteps(s: SourceConnection, ctx: ProbeContext, holder: { tunnel?: Tunnel }): HopStep[] {
  const fromEnv = ctx.config.mode === 'single' && s.name === 'default';
  try {
    // Single-connection mode's source has its own messages (MYSQL_HOST not set, …).
    if (fromEnv) requireSource(getPipeline(ctx.config, 'default'));
    else if (s.host === '') throw new ConfigError(`source connection ${s.name} has no host`);
  } catch (e) {
    return failing('config', s.name, e);
  }
  const rt = ctx.runtime;
  const seconds = Math.max(1, Math.ceil(ctx.timeoutMs / 1000));
  const dbAddress = `${s.host}:${s.port}`;
  const steps: HopStep[] = [];
  const t = s.sshTunnel;
  if (t) {
    steps.push({
      kind: 'ssh',
      address: `${t.username}@${t.host}:${t.port}`,
      measures: 'SSH handshake + key login',
      async run(signal) {
        const privateKey = await tunnelPrivateKey(s, (ref, what) => rt.resolveSecret(ref, what));
        const tunnel = await openTunnel({
          host: t.host,
          port: t.port,
          username: t.username,
          privateKey,
          hostKeySha256: t.hostKeySha256,
          connectTimeoutSeconds: Math.min(t.connectTimeoutSeconds, seconds),
          keepaliveSeconds: t.keepaliveSeconds,
        });
        closeOnAbort(signal, () => tunnel.close());
        holder.tunnel = tunnel;
        return {
          'host key': tunnel.hostKeySha256,
          'host key check': tunnel.hostKeyPinned
            ? 'matches the pinned fingerprint'
            : `NOT PINNED (any key is accepted): ${fromEnv ? 'set SSH_BASTION_HOST_KEY_SHA256=' : 'add host_key_sha256: '}${tunnel.hostKeySha256}`,
        };
      },
    });
  }
  steps.push({
    kind: 'mysql',
    address: dbAddress,
    measures: t ? 'connect through the tunnel + SELECT 1' : 'connect + SELECT 1',
    async run(signal): Promise<HopFacts> {
      const password = await rt.resolveSecret(s.password, `source ${s.name} password`);
      const base = {
        host: s.host,
        port: s.port,
        user: s.username,
        password,
        ...(s.database === '' ? {} : { database: s.database }),
        connectTimeoutMs: ctx.timeoutMs,
      };
      const source = holder.tunnel
        ? await createTunneledMysqlSource({ ...base, tunnel: holder.tunnel })
        : createMysqlSource(base);
      closeOnAbort(signal, () => source.close());
      try {
        const rows = await source.query<{ version?: unknown }>(PROBE_SQL);
        return { server: String(rows[0]?.version ?? 'unknown') };
      } finally {
        await source.close();
      }
    },
  });
  return steps;
}

function duckdbSteps(t: DuckDbTarget): HopStep[] {
  return [
    {
      kind: 'duckdb',
      address: t.path,
      measures: 'open + SELECT 1',
      async run(signal) {
        // Testing must not create the warehouse file: a missing one is checked in memory and said so.
        const exists = existsSync(t.path);
        const wh = await createDuckDbWarehouse({ path: exists ? t.path : ':memory:' });
        closeOnAbort(signal, () => wh.close());
        try {
          const rows = await wh.query<{ version?: unknown }>('SELECT 1 AS ok, version() AS version');
          const facts: HopFacts = { duckdb: String(rows[0]?.version ?? 'unknown') };
          if (!exists) facts.file = 'not created yet (the first sync creates it)';
          return facts;
        } finally {
          await wh.close();
        }
      },
    },
  ];
}

function redshiftSteps(t: RedshiftTarget, ctx: ProbeContext): HopStep[] {
  const address = redshiftAddress(t);
  if (t.workgroup === undefined && t.clusterIdentifier === undefined) {
    return failing(
      'config',
      address,
      new ConfigError(
        `target ${t.name} has no workgroup or cluster_identifier: Highwater reaches Redshift only through the Data API`,
        { suggestion: 'Add workgroup (Serverless) or cluster_identifier (provisioned) to the target.' },
      ),
    );
  }
  const env = configEnv(ctx.config);
  const region = t.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  if (region === undefined) {
    return failing(
      'config',
      address,
      new ConfigError(`target ${t.name} has no region`, { suggestion: 'Set region: on the target, or AWS_REGION.' }),
    );
  }
  return [
    {
      kind: 'redshift',
      address,
      measures: 'Data API ExecuteStatement SELECT 1',
      async run(signal) {
        const client = new RedshiftDataClient({
          region,
          ...(t.endpoint === undefined ? {} : { endpoint: t.endpoint }),
          maxAttempts: 2,
          requestHandler: { connectionTimeout: ctx.timeoutMs, requestTimeout: ctx.timeoutMs },
        });
        const wh = createRedshiftWarehouse({
          database: t.database,
          workgroupName: t.workgroup,
          clusterIdentifier: t.clusterIdentifier,
          secretArn: t.secretArn,
          dbUser: t.dbUser,
          // Only COPY uses the role; a test needs none.
          iamRoleArn: t.iamRoleArn ?? 'default',
          client,
          statementTimeoutMs: ctx.timeoutMs,
        });
        const close = async () => {
          await wh.close();
          client.destroy();
        };
        closeOnAbort(signal, close);
        try {
          const rows = await wh.query<{ version?: unknown }>('SELECT 1 AS ok, version() AS version');
          return { server: String(rows[0]?.version ?? 'unknown') };
        } finally {
          await close();
        }
      },
    },
  ];
}

/** Tests one connection end to end; never throws (a failure is in the result, redacted). */
export async function probe(c: AnyConnection, ctx: ProbeContext): Promise<ConnectionProbe> {
  const holder: { tunnel?: Tunnel } = {};
  const steps =
    c.role === 'source'
      ? sourceSteps(c.connection, ctx, holder)
      : c.connection.type === 'duckdb'
        ? duckdbSteps(c.connection)
        : redshiftSteps(c.connection, ctx);
  try {
    return await probeConnection({ connection: c.connection.name, role: c.role, kind: c.kind }, steps, {
      timeoutMs: ctx.timeoutMs,
      redact: (text) => ctx.runtime.redact(text),
    });
  } finally {
    await holder.tunnel?.close();
  }
}
