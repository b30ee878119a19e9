/** `pipelines/NAME.yml` (or the implicit default pipeline) → PipelineConfig. */
import { isAbsolute, join, resolve } from 'node:path';
import type {
  PipelineConfig,
  ProcessingConfig,
  SourceConnection,
  StagingConfig,
  StateConfig,
  TableConfig,
  TargetConnection,
} from '../../domain/config.js';
import { ConfigError } from '../../errors.js';
import { qualifyTableName } from '../naming.js';
import type { S3ConfigResolved } from './connections-file.js';
import { skipInterpolation } from './connections-file.js';
import { qualifiedTableAt } from './identifiers.js';
import { noteIgnored } from './ignored.js';
import type { Env } from './interpolate.js';
import { interpolateTree } from './interpolate.js';
import type { PipelineFile, TableYaml } from './schemas.js';
import { IGNORED, pipelineFileSchema } from './schemas.js';
import { buildTableConfig, deepMerge } from './table-config.js';
import { validateYaml } from './validate.js';
import type { YamlSource } from './yaml-source.js';
import { parseYaml } from './yaml-source.js';

export interface PipelineContext {
  env: Env;
  home: string;
  sources: Record<string, SourceConnection>;
  targets: Record<string, TargetConnection>;
  s3Configs: Record<string, S3ConfigResolved>;
  processing: ProcessingConfig;
  /** connections.yml as messages show it. */
  connectionsDisplay: string;
}

export interface ResolvedPipeline {
  pipeline: PipelineConfig;
  /** default_table_config, for tables registered on the fly. */
  tableDefaults: TableYaml;
  warnings: string[];
}

export function localStaging(home: string): StagingConfig {
  return { type: 'local', root: join(home, 'staging') };
}

export function localState(home: string): StateConfig {
  return { type: 'local', path: join(home, 'state.sqlite') };
}

/** The connection a pipeline uses when it names none: the one called `default`, else the only one, else the first. */
export function pickDefault<T>(all: Record<string, T>): T | undefined {
  const names = Object.keys(all);
  return all.default ?? (names.length > 0 ? all[names[0]!] : undefined);
}

function list(names: string[]): string {
  return names.length === 0 ? '(none)' : names.join(', ');
}

function connection<T>(
  kind: 'source' | 'target',
  all: Record<string, T>,
  name: string | undefined,
  src: YamlSource | undefined,
  ctx: PipelineContext,
): T {
  if (name === undefined) {
    const found = pickDefault(all);
    if (found === undefined) {
      throw new ConfigError(`${ctx.connectionsDisplay} defines no ${kind} connections`, {
        suggestion: `Add one under connections.${kind}s.`,
      });
    }
    return found;
  }
  const found = all[name];
  if (found !== undefined) return found;
  const msg = `unknown ${kind} connection ${JSON.stringify(name)}; ${ctx.connectionsDisplay} defines: ${list(Object.keys(all))}`;
  throw src ? src.error(['pipeline', kind], msg) : new ConfigError(msg);
}

function staging(file: PipelineFile, src: YamlSource, ctx: PipelineContext, target: TargetConnection): StagingConfig {
  const p = file.pipeline;
  const s3 = p?.s3;
  if (s3?.bucket !== undefined) {
    const out: StagingConfig = { type: 's3', bucket: s3.bucket, prefix: s3.prefix ?? '' };
    if (s3.region !== undefined) out.region = s3.region;
    if (s3.endpoint !== undefined) out.endpoint = s3.endpoint;
    return out;
  }
  if (p?.s3_config !== undefined) {
    const c = ctx.s3Configs[p.s3_config];
    if (c === undefined) {
      throw src.error(
        ['pipeline', 's3_config'],
        `unknown s3_config ${JSON.stringify(p.s3_config)}; ${ctx.connectionsDisplay} s3_configs: ${list(Object.keys(ctx.s3Configs))}`,
      );
    }
    const out: StagingConfig = { type: 's3', bucket: c.bucket, prefix: s3?.prefix ?? c.prefix };
    const region = s3?.region ?? c.region;
    const endpoint = s3?.endpoint ?? c.endpoint;
    if (region !== undefined) out.region = region;
    if (endpoint !== undefined) out.endpoint = endpoint;
    return out;
  }
  if (s3 && (s3.prefix !== undefined || s3.region !== undefined || s3.endpoint !== undefined)) {
    throw src.error(['pipeline', 's3'], 'has no bucket (give s3.bucket, or s3_config naming an s3_configs entry)');
  }
  if (target.type === 'redshift') {
    throw src.error(
      ['pipeline', 'target'],
      `target ${target.name} is Redshift, which loads from S3: give pipeline.s3.bucket or pipeline.s3_config`,
    );
  }
  return localStaging(ctx.home);
}

function state(file: PipelineFile, src: YamlSource, home: string): StateConfig {
  const s = file.pipeline?.state;
  if (s?.type === 'dynamodb') {
    if (s.table === undefined) throw src.error(['pipeline', 'state', 'type'], 'state type dynamodb needs table');
    const out: StateConfig = { type: 'dynamodb', table: s.table };
    if (s.region !== undefined) out.region = s.region;
    if (s.endpoint !== undefined) out.endpoint = s.endpoint;
    return out;
  }
  if (s?.path !== undefined) return { type: 'local', path: isAbsolute(s.path) ? s.path : resolve(home, s.path) };
  return localState(home);
}

function processing(file: PipelineFile, defaults: ProcessingConfig): ProcessingConfig {
  const p = file.pipeline?.processing;
  return {
    maxWorkers: p?.max_workers ?? defaults.maxWorkers,
    batchSize: p?.batch_size ?? defaults.batchSize,
    chunkRows: p?.chunk_rows ?? defaults.chunkRows,
    chunkBytes: p?.chunk_bytes ?? defaults.chunkBytes,
    chunkSeconds: p?.chunk_seconds ?? defaults.chunkSeconds,
    readRowsPerSecond: p?.read_rows_per_second ?? defaults.readRowsPerSecond,
    maxInlineChunks: p?.max_inline_chunks ?? defaults.maxInlineChunks,
    leaseSeconds:
      p?.lease_seconds ?? (p?.timeout_minutes === undefined ? defaults.leaseSeconds : p.timeout_minutes * 60),
    ...(p?.keep_staged_files === undefined ? {} : { keepStagedSeconds: p.keep_staged_files }),
  };
}

function warnIgnored(file: PipelineFile, src: YamlSource, warnings: string[]): void {
  noteIgnored(src, [], file, IGNORED.pipelineFile, warnings);
  const p = file.pipeline;
  noteIgnored(src, ['pipeline'], p, IGNORED.pipeline, warnings);
  noteIgnored(src, ['pipeline', 'processing'], p?.processing, IGNORED.pipelineProcessing, warnings);
  noteIgnored(src, ['pipeline', 's3'], p?.s3, IGNORED.pipelineS3, warnings);
  noteIgnored(src, ['pipeline', 'default_table_config'], p?.default_table_config, IGNORED.table, warnings);
  for (const [name, t] of Object.entries(file.tables ?? {})) {
    noteIgnored(src, ['tables', name], t, IGNORED.table, warnings);
    noteIgnored(src, ['tables', name, 'processing'], t?.processing, IGNORED.tableProcessing, warnings);
  }
}

export function resolvePipelineFile(
  name: string,
  text: string,
  display: string,
  ctx: PipelineContext,
): ResolvedPipeline {
  const src = parseYaml(text, display);
  const file = validateYaml(pipelineFileSchema, interpolateTree(src.value ?? {}, ctx.env, src, skipInterpolation), src);
  const warnings: string[] = [];
  warnIgnored(file, src, warnings);
  const p = file.pipeline;
  if (p?.name !== undefined && p.name !== name) {
    warnings.push(
      `${src.where(['pipeline', 'name'])}: pipeline.name ${JSON.stringify(p.name)} differs from the file name; the pipeline is called ${name}`,
    );
  }
  // The default pipeline may leave source/target out (picked as without a file); any other only when that is
  // unambiguous — a connection called `default`, or the only one (the guide's pipelines list just `tables:`).
  if (name !== 'default') {
    for (const kind of ['source', 'target'] as const) {
      const all: Record<string, unknown> = kind === 'source' ? ctx.sources : ctx.targets;
      const names = Object.keys(all);
      if (p?.[kind] === undefined && all.default === undefined && names.length !== 1) {
        throw src.error(
          ['pipeline', kind],
          `is required (a ${kind} connection name: one of ${list(names)}), or name one connection "default"`,
        );
      }
    }
  }
  const source = connection('source', ctx.sources, p?.source, src, ctx);
  const target = connection('target', ctx.targets, p?.target, src, ctx);
  const proc = processing(file, ctx.processing);
  const tableDefaults: TableYaml = p?.default_table_config ?? {};
  const tables: TableConfig[] = [];
  const byTarget = new Map<string, string>();
  for (const [tableName, raw] of Object.entries(file.tables ?? {})) {
    const path = ['tables', tableName];
    // A bare name is a table of the source's database (the guide's pipelines write `customers:`).
    const { name: qualified, ref } = qualifiedTableAt(src, path, tableName, source.database);
    const merged = deepMerge<TableYaml>(tableDefaults, raw ?? {});
    // A dimension keeps history when the pipeline says so, unless the table says otherwise (docs/history.md).
    if (merged.history === undefined && merged.table_type === 'dimension' && p?.dimension_history === 'scd2') {
      merged.history = 'scd2';
    }
    if (merged.connection !== undefined && merged.connection !== source.name) {
      throw src.error(
        [...path, 'connection'],
        `a table cannot use another source (${merged.connection}) than its pipeline's (${source.name}); make a separate pipeline for it`,
      );
    }
    const table = buildTableConfig(qualified, ref, merged, proc, (key, message) =>
      src.error([...path, ...key], message),
    );
    const clash = byTarget.get(table.targetName);
    if (clash !== undefined) {
      throw src.error(path, `${tableName} and ${clash} both load into target table ${table.targetName}`, {
        onKey: true,
      });
    }
    byTarget.set(table.targetName, tableName);
    tables.push(table);
  }
  dependencies(file, src, tables, source.database);
  const pipeline: PipelineConfig = {
    name,
    source,
    target,
    staging: staging(file, src, ctx, target),
    state: state(file, src, ctx.home),
    processing: proc,
    tables,
    origin: display,
  };
  if (p?.description !== undefined) pipeline.description = p.description;
  if (p?.schedule !== undefined) pipeline.schedule = p.schedule;
  return { pipeline, tableDefaults, warnings };
}

/**
 * Each table's `depends_on` (names as the pipeline writes them, bare names in the source's database): every name
 * must be another table of this pipeline, and the dependencies must not form a cycle — checked now, so a mistake is
 * reported with its file and line rather than when a run orders the tables.
 */
function dependencies(file: PipelineFile, src: YamlSource, tables: TableConfig[], database: string): void {
  const byName = new Map(tables.map((t) => [t.name.toLowerCase(), t]));
  const entries = Object.entries(file.tables ?? {});
  entries.forEach(([tableName, raw], i) => {
    const given = raw?.depends_on;
    if (given === undefined) return;
    const table = tables[i]!;
    const names = typeof given === 'string' ? given.split(',').map((n) => n.trim()) : given;
    const path = ['tables', tableName, 'depends_on'];
    for (const n of names) {
      let qualified: string;
      try {
        qualified = qualifyTableName(n, database, 'depends_on');
      } catch (e) {
        throw src.error(path, (e as Error).message);
      }
      const dep = byName.get(qualified.toLowerCase());
      if (dep === undefined) {
        throw src.error(
          path,
          `${JSON.stringify(n)} is not a table of this pipeline (its tables: ${tables.map((t) => t.name).join(', ')})`,
        );
      }
      if (dep === table) throw src.error(path, `${tableName} cannot depend on itself`);
      if (!table.dependsOn.includes(dep.name)) table.dependsOn.push(dep.name);
    }
  });
  const cycle = dependencyCycle(tables);
  if (cycle) {
    const at = Object.keys(file.tables ?? {})[tables.findIndex((t) => t.name === cycle[0])]!;
    throw src.error(['tables', at, 'depends_on'], `depends_on forms a cycle: ${cycle.join(' → ')}`);
  }
}

/** The first cycle among the tables' dependencies (its names, the first repeated at the end), if any. */
export function dependencyCycle(tables: readonly Pick<TableConfig, 'name' | 'dependsOn'>[]): string[] | undefined {
  const deps = new Map(tables.map((t) => [t.name, t.dependsOn]));
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (n: string): string[] | undefined => {
    if (state.get(n) === 'done') return undefined;
    if (state.get(n) === 'visiting') return [...stack.slice(stack.indexOf(n)), n];
    state.set(n, 'visiting');
    stack.push(n);
    for (const d of deps.get(n) ?? []) {
      const found = visit(d);
      if (found) return found;
    }
    stack.pop();
    state.set(n, 'done');
    return undefined;
  };
  for (const t of tables) {
    const found = visit(t.name);
    if (found) return found;
  }
  return undefined;
}

/** The `default` pipeline when there is no pipelines/default.yml: default connections, local staging and state. */
export function implicitDefaultPipeline(ctx: PipelineContext): ResolvedPipeline {
  const source = connection('source', ctx.sources, undefined, undefined, ctx);
  const target = connection('target', ctx.targets, undefined, undefined, ctx);
  let stagingConfig = localStaging(ctx.home);
  if (target.type === 'redshift') {
    // Redshift loads from S3: use the S3 config named `default` or the only one, as the old tool's default pipeline did.
    const s3 = pickDefault(ctx.s3Configs);
    if (s3 === undefined) {
      throw new ConfigError(
        `the default pipeline loads into Redshift target ${target.name} but ${ctx.connectionsDisplay} has no s3_configs to stage in`,
        { suggestion: 'Add an s3_configs entry, or write pipelines/default.yml with pipeline.s3.bucket.' },
      );
    }
    stagingConfig = { type: 's3', bucket: s3.bucket, prefix: s3.prefix };
    if (s3.region !== undefined) stagingConfig.region = s3.region;
    if (s3.endpoint !== undefined) stagingConfig.endpoint = s3.endpoint;
  }
  return {
    pipeline: {
      name: 'default',
      source,
      target,
      staging: stagingConfig,
      state: localState(ctx.home),
      processing: ctx.processing,
      tables: [],
      origin: ctx.connectionsDisplay,
    },
    tableDefaults: {},
    warnings: [],
  };
}
