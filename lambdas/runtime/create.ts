/**
 * Builds the Runtime (ports/runtime.ts) one invocation works with, its adapters chosen by configuration alone.
 * Handlers receive a Runtime and never construct adapters themselves, so the same handler runs locally, in a
 * Lambda, or in a test with a faulty() wrapper. Which adapter kinds exist is the AdapterSet's business: the CLI
 * gets local and AWS ones (lambdas/local/runtime.ts), a Lambda only the AWS ones (aws.ts).
 */

import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { MysqlSessionPool } from '../adapters/mysql/index.js';
import { hostProcesses } from '../adapters/processes/index.js';
import type { SecretResolver } from '../adapters/secrets/index.js';
import type { Tunnel } from '../adapters/ssh-tunnel/index.js';
import type { LoadedConfig, PipelineConfig, SecretRef, SourceConnection } from '../domain/config.js';
import { adhocPipeline, configEnv, getPipeline, requireSource } from '../engine/config/index.js';
import { ConfigError } from '../errors.js';
import type { LeaseOwner, ParquetWriter, Processes, Staging, StateStore, Warehouse } from '../ports/index.js';
import type { Runtime } from '../ports/runtime.js';
import type { AdapterSet } from './adapter-set.js';

/** The bastion key of a source with an ssh_tunnel: its `private_key` secret, or the file at `private_key_path`. */
export async function tunnelPrivateKey(
  s: SourceConnection,
  resolveSecret: (ref: SecretRef, what: string) => Promise<string | undefined>,
): Promise<string | Buffer> {
  const t = s.sshTunnel;
  const key = t?.privateKey
    ? await resolveSecret(t.privateKey, `source ${s.name} ssh_tunnel.private_key`)
    : t?.privateKeyPath
      ? await readFile(t.privateKeyPath).catch((e: unknown) => {
          throw new ConfigError(
            `source ${s.name}: cannot read ssh_tunnel.private_key_path ${t.privateKeyPath}: ${(e as Error).message}`,
          );
        })
      : undefined;
  if (key === undefined) throw new ConfigError(`source ${s.name}: ssh_tunnel needs private_key_path or private_key`);
  return key;
}

export type { Runtime } from '../ports/runtime.js';

/**
 * One adapter per location for the runtime's life. A factory that fails (a kind this set lacks, a missing setting,
 * an unreadable state file) is forgotten, so the next call tries again and reports the same error.
 */
function cachedAdapter<T>(cache: Map<string, Promise<T>>, id: string, make: () => Promise<T>): Promise<T> {
  let a = cache.get(id);
  if (!a) {
    a = Promise.resolve().then(make);
    cache.set(id, a);
    a.catch(() => cache.delete(id));
  }
  return a;
}

/** `envOverride` replaces the configuration's environment (process env merged with .env) when given. */
export function createRuntimeWith(
  adapters: AdapterSet,
  config: LoadedConfig,
  envOverride?: NodeJS.ProcessEnv,
  leaseOwner: LeaseOwner | null = null,
  processes: Processes = hostProcesses,
): Runtime {
  const env = envOverride ?? configEnv(config);
  const stagings = new Map<string, Promise<Staging>>();
  const states = new Map<string, Promise<StateStore>>();
  const warehouses = new Map<string, Promise<Warehouse>>();
  const pipelines = new Map<string, PipelineConfig>();
  const tunnels = new Map<string, Promise<Tunnel>>();
  /** Idle stream sessions per source, reused by the next chunk's stream (adapters/mysql MysqlSessionPool). */
  const sessionPools = new Map<string, MysqlSessionPool>();
  let secrets: SecretResolver | undefined;
  // Imported on the first secret (it may need the Secrets Manager client); redact() needs none until then.
  const resolver = async (): Promise<SecretResolver> => {
    if (!secrets) {
      const { createSecretResolver } = await import('../adapters/secrets/index.js');
      secrets ??= createSecretResolver({ env, region: env.AWS_REGION ?? env.AWS_DEFAULT_REGION });
    }
    return secrets;
  };

  /**
   * How an unpinned bastion's key is judged (AdapterSet.unpinnedHostKeys): undefined accepts it with a warning;
   * otherwise the check the tunnel runs on the presented key before logging in.
   */
  function unpinnedCheck(s: SourceConnection, p: PipelineConfig): ((fp: string) => Promise<void>) | undefined {
    const t = s.sshTunnel!;
    if (adapters.unpinnedHostKeys === 'refuse') {
      if (t.acceptUnpinnedHostKey) return undefined;
      throw new ConfigError(
        `source ${s.name}: the bastion ${t.host}:${t.port} has no pinned host key (ssh_tunnel.host_key_sha256), and a deployed run does not connect to an unpinned bastion`,
        {
          suggestion:
            'Pin it: `highwater connections test` (or ssh-keygen -lf on the bastion) shows the fingerprint; or set ssh_tunnel.accept_unpinned_host_key: true to accept any key.',
        },
      );
    }
    const bastion = `${t.host}:${t.port}`;
    return async (fingerprint) => {
      const known = await (await rt.state(p)).rememberHostKey(bastion, fingerprint);
      if (known.fingerprint !== fingerprint) {
        const { HostKeyMismatchError } = await import('../adapters/ssh-tunnel/index.js');
        throw new HostKeyMismatchError(`${t.username}@${bastion}`, known.fingerprint, fingerprint, known.firstSeenAt);
      }
    };
  }

  /** One tunnel per source per invocation, reopened if it dropped. */
  async function tunnelFor(s: SourceConnection, p: PipelineConfig): Promise<Tunnel> {
    const t = s.sshTunnel!;
    const cached = tunnels.get(s.name);
    if (cached) {
      const open = await cached.catch(() => undefined);
      if (open && !open.closed) return open;
    }
    const opening = (async () => {
      const checkHostKey = t.hostKeySha256 === undefined ? unpinnedCheck(s, p) : undefined;
      const privateKey = await tunnelPrivateKey(s, async (ref, what) => (await resolver()).resolve(ref, what));
      const { openTunnel } = await import('../adapters/ssh-tunnel/index.js');
      const tunnel = await openTunnel({
        host: t.host,
        port: t.port,
        username: t.username,
        privateKey,
        hostKeySha256: t.hostKeySha256,
        ...(checkHostKey ? { checkHostKey } : {}),
        connectTimeoutSeconds: t.connectTimeoutSeconds,
        keepaliveSeconds: t.keepaliveSeconds,
      });
      if (!tunnel.hostKeyPinned) {
        process.emitWarning(
          `source ${s.name}: the bastion's host key is not pinned (accept_unpinned_host_key: true accepts any key); add ssh_tunnel.host_key_sha256: ${tunnel.hostKeySha256}`,
        );
      }
      return tunnel;
    })();
    tunnels.set(s.name, opening);
    opening.catch(() => tunnels.delete(s.name));
    return opening;
  }

  let parquet: Promise<ParquetWriter> | undefined;
  const rt: Runtime = {
    config,
    leaseOwner,
    processes,
    parquet() {
      parquet ??= import('../adapters/parquet/index.js').then((m) => m.writeParquet);
      return parquet;
    },
    pipeline(name, adhoc) {
      const key = adhoc ? `adhoc:${adhoc.source}:${adhoc.target}` : name;
      let p = pipelines.get(key);
      if (!p) {
        p = adhoc ? adhocPipeline(config, adhoc.source, adhoc.target) : getPipeline(config, name);
        pipelines.set(key, p);
      }
      return p;
    },
    async resolveSecret(ref, what) {
      if (!ref) return undefined;
      return (await resolver()).resolve(ref, what);
    },
    redact(text) {
      return secrets ? secrets.redact(text) : text;
    },
    async openSource(p) {
      const s = requireSource(p);
      const password = await rt.resolveSecret(s.password, `source ${s.name} password`);
      const mysqlAdapter = await import('../adapters/mysql/index.js');
      let pool = sessionPools.get(s.name);
      if (!pool) {
        pool = new mysqlAdapter.MysqlSessionPool();
        sessionPools.set(s.name, pool);
      }
      const label = s.settings ? { name: `source ${s.name}`, settings: s.settings } : undefined;
      const base = {
        host: s.host,
        port: s.port,
        user: s.username,
        password,
        database: s.database,
        pool,
        ...(label ? { label } : {}),
      };
      if (!s.sshTunnel) return mysqlAdapter.createMysqlSource(base);
      const { createTunneledMysqlSource } = await import('../adapters/ssh-tunnel/index.js');
      return createTunneledMysqlSource({ ...base, tunnel: await tunnelFor(s, p) });
    },
    staging(p) {
      const cfg = p.staging;
      const id =
        cfg.type === 'local' ? resolve(config.home, cfg.root) : `s3:${cfg.endpoint ?? ''}:${cfg.bucket}:${cfg.prefix}`;
      return cachedAdapter(stagings, id, () => adapters.staging(cfg, id));
    },
    state(p) {
      const cfg = p.state;
      const id = cfg.type === 'local' ? resolve(config.home, cfg.path) : `dynamodb:${cfg.endpoint ?? ''}:${cfg.table}`;
      return cachedAdapter(states, id, () => adapters.state(cfg, id));
    },
    warehouse(p) {
      const t = p.target;
      const id = t.type === 'duckdb' ? resolve(config.home, t.path) : `redshift:${t.name}`;
      return cachedAdapter(warehouses, id, () => adapters.warehouse(t, id));
    },
    async close() {
      const ws = await Promise.allSettled([...warehouses.values()]);
      for (const w of ws) if (w.status === 'fulfilled') await w.value.close();
      for (const s of await Promise.allSettled([...states.values()]))
        if (s.status === 'fulfilled') await s.value.close();
      for (const pool of sessionPools.values()) await pool.close();
      sessionPools.clear();
      for (const t of await Promise.allSettled([...tunnels.values()]))
        if (t.status === 'fulfilled') await t.value.close();
      secrets?.close();
      warehouses.clear();
      states.clear();
      tunnels.clear();
    },
  };
  return rt;
}
