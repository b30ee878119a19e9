/** loadConfig and the look-ups on its result: pipelines, tables, ad-hoc pipelines, secrets from the merged env. */
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, extname, isAbsolute, join, relative, resolve } from 'node:path';
import type { LoadedConfig, PipelineConfig, SecretRef, SourceConnection, TableConfig } from '../../domain/config.js';
import { ConfigError } from '../../errors.js';
import { assertName, parseTableName, qualifyTableName } from '../naming.js';
import { detectMode } from './detect-mode.js';
import { discoverProjectRoot } from './discover.js';
import { DEFAULT_PROCESSING, envSource, envTarget } from './env-mode.js';
import type { Env } from './interpolate.js';
import type { PipelineContext, ResolvedPipeline } from './pipeline-file.js';
import { implicitDefaultPipeline, localStaging, localState, resolvePipelineFile } from './pipeline-file.js';
import type { TableYaml } from './schemas.js';
import { buildTableConfig } from './table-config.js';
import { formatPath, readConfigFile } from './yaml-source.js';

export interface LoadConfigOptions {
  cwd: string;
  configDir?: string;
  home?: string;
  env?: NodeJS.ProcessEnv;
}

/** LoadedConfig plus the non-fatal notes of the load (keys accepted for compatibility that have no effect). */
export interface LoadedConfigWithWarnings extends LoadedConfig {
  warnings: string[];
}

interface Internal {
  env: Env;
  pipelines: Map<string, ResolvedPipeline | ConfigError>;
}

// A symbol-keyed property survives `{ ...cfg }` copies but stays out of JSON dumps.
const INTERNAL = Symbol('highwater.config.internal');
type WithInternal = LoadedConfig & { [INTERNAL]?: Internal };

interface TableDefaults {
  defaults: TableYaml;
  /** Unlisted tables are registered on the fly (the default and ad-hoc pipelines), as the old tool did. */
  onTheFly: boolean;
}
const tableDefaultsOf = new WeakMap<PipelineConfig, TableDefaults>();

async function mergedEnv(cwd: string, base: NodeJS.ProcessEnv): Promise<Env> {
  let fromFile: Record<string, string> = {};
  try {
    const text = await readFile(join(cwd, '.env'), 'utf8');
    // dotenv is loaded only when there is a .env to parse (~15 ms of every start otherwise).
    const { parse } = await import('dotenv');
    fromFile = parse(text);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new ConfigError(`cannot read ${join(cwd, '.env')}: ${(e as Error).message}`, { cause: e });
    }
  }
  const out: Record<string, string> = { ...fromFile };
  for (const [k, v] of Object.entries(base)) if (v !== undefined) out[k] = v; // the environment wins over .env
  return out;
}

function displayPath(cwd: string, path: string): string {
  const r = relative(cwd, path);
  return r !== '' && !r.startsWith('..') && !isAbsolute(r) ? r : path;
}

async function pipelineFiles(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).filter((f) => f.endsWith('.yml') || f.endsWith('.yaml')).sort();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new ConfigError(`cannot list ${dir}: ${(e as Error).message}`, { cause: e });
  }
}

function settle(fn: () => ResolvedPipeline): ResolvedPipeline | ConfigError {
  try {
    return fn();
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
}

/**
 * The local home holds the state, staging and warehouse: a folder, or nothing yet (the first run creates it). A file
 * there would otherwise surface later as a bare ENOTDIR from whichever command touched it first, or as "no runs yet".
 */
async function checkHome(home: string, namedBy: string): Promise<void> {
  const found = await stat(home).catch(() => undefined);
  if (found && !found.isDirectory()) {
    throw new ConfigError(`${namedBy} ${home} is not a folder (it holds the local state, staging and warehouse)`, {
      suggestion: 'Point it at a folder, or at a path that does not exist yet: the first run creates it.',
    });
  }
}

export async function loadConfig(opts: LoadConfigOptions): Promise<LoadedConfigWithWarnings> {
  const cwd = resolve(opts.cwd);
  const given = opts.env ?? process.env;
  // An explicit configuration directory names the project; otherwise it is found from cwd up (discover.ts).
  const explicit = opts.configDir ?? given.HIGHWATER_CONFIG_DIR;
  const root = explicit === undefined ? discoverProjectRoot(cwd).root : cwd;
  const env = await mergedEnv(root, given);
  const configDir = resolve(cwd, explicit ?? env.HIGHWATER_CONFIG_DIR ?? join(root, 'config'));
  const home = resolve(cwd, opts.home ?? env.HIGHWATER_HOME ?? join(root, '.highwater'));
  await checkHome(
    home,
    opts.home !== undefined ? '--home' : env.HIGHWATER_HOME !== undefined ? 'HIGHWATER_HOME' : 'home',
  );
  const connectionsFile = join(configDir, 'connections.yml');
  const detection = await detectMode(connectionsFile, displayPath(cwd, connectionsFile), env, home);
  const pipelines = new Map<string, ResolvedPipeline | ConfigError>();
  const warnings: string[] = [];
  let sources: Record<string, SourceConnection>;
  let targets: LoadedConfig['targets'];

  if (detection.mode === 'single' || !detection.connections) {
    const source = envSource(env);
    const target = envTarget(env, home);
    sources = { default: source };
    targets = { default: target };
    pipelines.set('default', {
      pipeline: {
        name: 'default',
        source,
        target,
        staging: localStaging(home),
        state: localState(home),
        processing: { ...DEFAULT_PROCESSING },
        tables: [],
        origin: 'environment',
      },
      tableDefaults: {},
      warnings: [],
    });
  } else {
    const c = detection.connections;
    sources = c.sources;
    targets = c.targets;
    warnings.push(...c.warnings);
    const ctx: PipelineContext = {
      env,
      home,
      sources,
      targets,
      s3Configs: c.s3Configs,
      processing: { ...DEFAULT_PROCESSING, ...c.processing },
      connectionsDisplay: c.display,
    };
    const dir = join(configDir, 'pipelines');
    for (const f of await pipelineFiles(dir)) {
      const name = basename(f, extname(f));
      const file = join(dir, f);
      const display = displayPath(cwd, file);
      // A file that cannot be read (too large, say) fails only its own pipeline, like a YAML mistake in it.
      const text = await readConfigFile(file, display).catch((e: unknown) => e);
      const result = settle(() => {
        if (text instanceof Error) throw text;
        try {
          assertName('pipeline', name);
        } catch (e) {
          throw new ConfigError(`${display}: ${(e as Error).message} (the file name is the pipeline name)`);
        }
        if (pipelines.has(name)) throw new ConfigError(`${display}: pipeline ${name} is defined by two files`);
        return resolvePipelineFile(name, typeof text === 'string' ? text : '', display, ctx);
      });
      pipelines.set(name, result);
    }
    if (!pipelines.has('default'))
      pipelines.set(
        'default',
        settle(() => implicitDefaultPipeline(ctx)),
      );
  }

  for (const r of pipelines.values()) {
    if (r instanceof ConfigError) continue;
    warnings.push(...r.warnings);
    tableDefaultsOf.set(r.pipeline, { defaults: r.tableDefaults, onTheFly: r.pipeline.name === 'default' });
  }
  const names = ['default', ...[...pipelines.keys()].filter((n) => n !== 'default').sort()];
  const cfg: LoadedConfigWithWarnings & WithInternal = {
    mode: detection.mode,
    reason: detection.reason,
    configDir,
    home,
    sources,
    targets,
    pipelines: names,
    warnings,
    [INTERNAL]: { env, pipelines },
  };
  return cfg;
}

function internal(cfg: LoadedConfig): Internal {
  const i = (cfg as WithInternal)[INTERNAL];
  if (!i) throw new ConfigError('this configuration object was not made by loadConfig()');
  return i;
}

export function getPipeline(cfg: LoadedConfig, name: string): PipelineConfig {
  const r = internal(cfg).pipelines.get(name);
  if (r === undefined) {
    throw new ConfigError(`unknown pipeline ${JSON.stringify(name)}; available: ${cfg.pipelines.join(', ')}`, {
      suggestion:
        cfg.mode === 'single'
          ? 'Single-connection mode has only the default pipeline; named pipelines need config/connections.yml.'
          : `Create ${join(cfg.configDir, 'pipelines', `${name}.yml`)}.`,
    });
  }
  if (r instanceof ConfigError) throw r;
  return r.pipeline;
}

/** Whether the pipeline takes tables it does not list (the default and ad-hoc pipelines, as the old tool did). */
export function takesUnlistedTables(p: PipelineConfig): boolean {
  return tableDefaultsOf.get(p)?.onTheFly ?? (p.name === 'default' || p.name.startsWith('adhoc_'));
}

export function getTableConfig(p: PipelineConfig, name: string): TableConfig {
  const table = qualifyTableName(name, p.source.database);
  const ref = parseTableName(table, 'table');
  const found =
    p.tables.find((t) => t.name === table) ?? p.tables.find((t) => t.name.toLowerCase() === table.toLowerCase());
  if (found) return found;
  const meta = tableDefaultsOf.get(p);
  const onTheFly = takesUnlistedTables(p);
  if (!onTheFly) {
    const listed = p.tables.map((t) => t.name);
    throw new ConfigError(
      `table ${table} is not in pipeline ${p.name} (${p.origin}); its tables: ${listed.length ? listed.join(', ') : '(none)'}`,
      { suggestion: `Add ${table} under tables: in ${p.origin}, or sync it with the default pipeline.` },
    );
  }
  return buildTableConfig(
    table,
    ref,
    meta?.defaults ?? {},
    p.processing,
    (key, message) => new ConfigError(`${p.origin}: default_table_config for ${table}: ${formatPath(key)}: ${message}`),
  );
}

/** The pipeline of `sync connections --source S --target T`: hybrid on updated_at/id, staged like `default`. */
export function adhocPipeline(cfg: LoadedConfig, source: string, target: string): PipelineConfig {
  const s = cfg.sources[source];
  if (!s) {
    throw new ConfigError(
      `unknown source connection ${JSON.stringify(source)}; defined: ${Object.keys(cfg.sources).join(', ')}`,
    );
  }
  const t = cfg.targets[target];
  if (!t) {
    throw new ConfigError(
      `unknown target connection ${JSON.stringify(target)}; defined: ${Object.keys(cfg.targets).join(', ')}`,
    );
  }
  const name = assertName('pipeline', `adhoc_${source}_to_${target}`);
  const base = getPipeline(cfg, 'default');
  if (t.type === 'redshift' && base.staging.type === 'local') {
    throw new ConfigError(
      `target ${target} is Redshift, which loads from S3, but the default pipeline stages locally`,
      {
        suggestion: 'Give pipelines/default.yml a pipeline.s3 bucket or s3_config.',
      },
    );
  }
  const p: PipelineConfig = {
    name,
    source: s,
    target: t,
    staging: base.staging,
    state: base.state,
    processing: { ...base.processing },
    tables: [],
    origin: `sync connections --source ${source} --target ${target}`,
  };
  tableDefaultsOf.set(p, {
    defaults: { cdc_strategy: 'hybrid', cdc_timestamp_column: 'updated_at', cdc_id_column: 'id' },
    onTheFly: true,
  });
  return p;
}

/** The pipeline's source, refusing one that cannot be connected to (single mode without MYSQL_HOST, …). */
export function requireSource(p: PipelineConfig): SourceConnection {
  const s = p.source;
  const fromEnv = p.origin === 'environment';
  if (s.host === '') {
    throw new ConfigError(
      fromEnv
        ? 'MYSQL_HOST is not set: in single-connection mode the source comes from MYSQL_HOST, MYSQL_PORT, MYSQL_USER, MYSQL_PASSWORD and MYSQL_DATABASE'
        : `source connection ${s.name} has no host`,
      { suggestion: fromEnv ? 'Set MYSQL_HOST in the environment or in .env.' : undefined },
    );
  }
  if (s.sshTunnel && fromEnv) {
    if (s.sshTunnel.username === '') throw new ConfigError('SSH_BASTION_HOST is set but SSH_BASTION_USER is not');
    if (s.sshTunnel.privateKeyPath === undefined) {
      throw new ConfigError('SSH_BASTION_HOST is set but SSH_BASTION_KEY_PATH is not');
    }
  }
  return s;
}

/** The environment the configuration was read with: the process env over `.env` (process.env itself is untouched). */
export function configEnv(cfg: LoadedConfig): Env {
  return internal(cfg).env;
}

/**
 * The value of a literal or env SecretRef, read from the merged env (so `.env` works); undefined for a Secrets
 * Manager reference, which the AWS adapter resolves. A missing variable is a ConfigError naming it (never the value).
 */
export function secretFromEnv(cfg: LoadedConfig, ref: SecretRef): string | undefined {
  if (ref.kind === 'literal') return ref.value;
  if (ref.kind === 'secretsmanager') return undefined;
  const v = internal(cfg).env[ref.name];
  if (v === undefined) throw new ConfigError(`environment variable ${ref.name} is not set (it holds a secret)`);
  return v;
}
