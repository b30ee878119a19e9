/**
 * The adapters one invocation works with, chosen by configuration alone. Handlers receive a Runtime and never
 * construct adapters themselves, so the same handler runs locally, in a Lambda, or in a test with a faulty() wrapper.
 */
import { resolve } from 'node:path';
import { createDuckDbWarehouse } from '../adapters/duckdb/index.js';
import { createLocalStaging } from '../adapters/local-staging/index.js';
import { createLocalStateStore } from '../adapters/local-state/index.js';
import { createMysqlSource } from '../adapters/mysql/index.js';
import { adhocPipeline, configEnv, getPipeline, requireSource } from '../engine/config/index.js';
import type { LoadedConfig, PipelineConfig, SecretRef } from '../engine/config/types.js';
import type { SourceReader, Staging, StateStore, Warehouse } from '../ports/index.js';
import { ConfigError } from './errors.js';

export interface Runtime {
  readonly config: LoadedConfig;
  pipeline(name: string, adhoc?: { source: string; target: string }): PipelineConfig;
  /** A new source connection; the caller closes it. */
  openSource(p: PipelineConfig): Promise<SourceReader>;
  staging(p: PipelineConfig): Staging;
  state(p: PipelineConfig): StateStore;
  warehouse(p: PipelineConfig): Promise<Warehouse>;
  /** The staging root prefix used in keys (the S3 prefix; empty for a local directory). */
  stagingPrefix(p: PipelineConfig): string;
  resolveSecret(ref: SecretRef | undefined, what: string): Promise<string | undefined>;
  close(): Promise<void>;
}

/** `env` overrides the configuration's environment (process env merged with .env) when given. */
export function createRuntime(config: LoadedConfig, envOverride?: NodeJS.ProcessEnv): Runtime {
  const env = envOverride ?? configEnv(config);
  const stagings = new Map<string, Staging>();
  const states = new Map<string, StateStore>();
  const warehouses = new Map<string, Promise<Warehouse>>();
  const pipelines = new Map<string, PipelineConfig>();

  const rt: Runtime = {
    config,
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
      switch (ref.kind) {
        case 'literal':
          return ref.value;
        case 'env': {
          const v = env[ref.name];
          if (v === undefined) throw new ConfigError(`${what}: environment variable ${ref.name} is not set`);
          return v;
        }
        case 'secretsmanager':
          throw new ConfigError(
            `${what}: Secrets Manager references need the AWS adapters, which this build does not include yet`,
          );
      }
    },
    async openSource(p) {
      const s = requireSource(p);
      if (s.sshTunnel) {
        throw new ConfigError(
          `source ${s.name}: SSH tunnels need the tunnel adapter, which this build does not include yet`,
        );
      }
      const password = await rt.resolveSecret(s.password, `source ${s.name} password`);
      return createMysqlSource({ host: s.host, port: s.port, user: s.username, password, database: s.database });
    },
    staging(p) {
      const cfg = p.staging;
      if (cfg.type !== 'local')
        throw new ConfigError(`pipeline ${p.name}: S3 staging is not available in this build yet`);
      const root = resolve(config.home, cfg.root);
      let s = stagings.get(root);
      if (!s) {
        s = createLocalStaging({ root });
        stagings.set(root, s);
      }
      return s;
    },
    stagingPrefix(p) {
      return p.staging.type === 's3' ? p.staging.prefix : '';
    },
    state(p) {
      const cfg = p.state;
      if (cfg.type !== 'local')
        throw new ConfigError(`pipeline ${p.name}: DynamoDB state is not available in this build yet`);
      const path = resolve(config.home, cfg.path);
      let s = states.get(path);
      if (!s) {
        s = createLocalStateStore({ path });
        states.set(path, s);
      }
      return s;
    },
    warehouse(p) {
      const t = p.target;
      if (t.type !== 'duckdb') {
        return Promise.reject(
          new ConfigError(
            `target ${t.name}: Redshift needs the Data API adapter, which this build does not include yet`,
          ),
        );
      }
      const path = resolve(config.home, t.path);
      let w = warehouses.get(path);
      if (!w) {
        w = createDuckDbWarehouse({ path });
        warehouses.set(path, w);
        w.catch(() => warehouses.delete(path));
      }
      return w;
    },
    async close() {
      const ws = await Promise.allSettled([...warehouses.values()]);
      for (const w of ws) if (w.status === 'fulfilled') await w.value.close();
      for (const s of states.values()) await s.close();
      warehouses.clear();
      states.clear();
    },
  };
  return rt;
}
