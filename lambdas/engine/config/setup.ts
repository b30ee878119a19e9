/**
 * The files `config setup` writes, made from the examples in pipelines/ (no I/O here): connections.yml and
 * pipelines/*.yml with a `yaml-language-server` line pointing at the JSON Schemas written next to them. When the
 * environment holds a single-connection setup (MYSQL_HOST …), it becomes the `default` source and a `default` DuckDB
 * target, and the default pipeline uses them — so the state keys (pipeline, source, target) stay the same and the
 * watermarks carry over. The live files then hold only those (every connection in them is real, so `connections
 * health` and `config status` are green at once); the examples go to examples/ beside them, for reference.
 * Secrets are written as `${VAR}` references, never as values.
 */
import { Document, isMap, isScalar } from 'yaml';
import { DEFAULT_PROCESSING } from './env-mode.js';
import type { Env } from './interpolate.js';
import { configJsonSchema } from './json-schema.js';

// A `${VAR}` reference, spelled out so it is not read as a template placeholder.
const PASSWORD_REF = '$' + '{MYSQL_PASSWORD}';

export const CONNECTIONS_SCHEMA_FILE = 'connections.schema.json';
export const PIPELINE_SCHEMA_FILE = 'pipeline.schema.json';

export interface SetupFile {
  /** Relative to the config directory, `/`-separated. */
  path: string;
  content: string;
  /** Generated files are rewritten freely; the YAML files are the user's and are never overwritten silently. */
  generated: boolean;
}

export interface SetupExamples {
  connections: string;
  /** File name (`default.yml`) → text. */
  pipelines: Record<string, string>;
}

export interface SetupPlan {
  files: SetupFile[];
  /** Set when the default source was filled in from these environment variables. */
  prefilledFrom?: string[];
}

/** The committed JSON Schema files' text (schema/*.json and the copies `config setup` writes). */
export function jsonSchemaFiles(): Record<string, string> {
  const s = configJsonSchema();
  return {
    [CONNECTIONS_SCHEMA_FILE]: `${JSON.stringify(s.connections, null, 2)}\n`,
    [PIPELINE_SCHEMA_FILE]: `${JSON.stringify(s.pipeline, null, 2)}\n`,
  };
}

const SCHEMA_LINE_RE = /^# yaml-language-server: \$schema=.*\n/;

/** `text` with its first line pointing editors at the JSON Schema (replacing one it already has). */
function withSchemaLine(relative: string, text: string): string {
  return `# yaml-language-server: $schema=${relative}\n${text.replace(SCHEMA_LINE_RE, '')}`;
}

function text(env: Env, name: string): string | undefined {
  const v = env[name]?.trim();
  return v === undefined || v === '' ? undefined : v;
}

function envPort(env: Env, name: string): number | undefined {
  const v = text(env, name);
  return v !== undefined && /^\d+$/.test(v) ? Number(v) : undefined;
}

/** The `default` source from MYSQL_* / SSH_BASTION_*; undefined without MYSQL_HOST. */
function envSourceYaml(env: Env): { value: Record<string, unknown>; from: string[] } | undefined {
  const host = text(env, 'MYSQL_HOST');
  if (host === undefined) return undefined;
  const from = ['MYSQL_HOST'];
  const value: Record<string, unknown> = { host, port: envPort(env, 'MYSQL_PORT') ?? 3306 };
  if (env.MYSQL_PORT !== undefined) from.push('MYSQL_PORT');
  const database = text(env, 'MYSQL_DATABASE');
  if (database !== undefined) {
    value.database = database;
    from.push('MYSQL_DATABASE');
  }
  const user = text(env, 'MYSQL_USER');
  if (user !== undefined) {
    value.username = user;
    from.push('MYSQL_USER');
  }
  if (env.MYSQL_PASSWORD !== undefined) {
    value.password = PASSWORD_REF; // read from the environment when a sync connects
    from.push('MYSQL_PASSWORD (as a reference)');
  }
  value.description = 'Prefilled by highwater config setup from the single-connection environment (MYSQL_*)';
  const bastion = text(env, 'SSH_BASTION_HOST');
  if (bastion !== undefined) {
    const tunnel: Record<string, unknown> = {
      enabled: true,
      host: bastion,
      port: envPort(env, 'SSH_BASTION_PORT') ?? 22,
    };
    const u = text(env, 'SSH_BASTION_USER');
    if (u !== undefined) tunnel.username = u;
    const k = text(env, 'SSH_BASTION_KEY_PATH');
    if (k !== undefined) tunnel.private_key_path = k;
    const fp = text(env, 'SSH_BASTION_HOST_KEY_SHA256');
    if (fp !== undefined) tunnel.host_key_sha256 = fp;
    value.ssh_tunnel = tunnel;
    from.push('SSH_BASTION_*');
  }
  return { value, from };
}

/** A YAML document of `value` with a comment above it and above each of the given keys (path → comment). */
function commented(value: unknown, top: string, notes: [string[], string][]): string {
  const doc = new Document(value);
  doc.commentBefore = top;
  for (const [path, note] of notes) {
    const parent = doc.getIn(path.slice(0, -1), true);
    if (!isMap(parent)) continue;
    const pair = parent.items.find((p) => isScalar(p.key) && p.key.value === path.at(-1));
    if (pair && isScalar(pair.key)) {
      pair.key.commentBefore = ` ${note}`;
      pair.key.spaceBefore = path.length <= 2;
    }
  }
  return doc.toString({ lineWidth: 0 });
}

/**
 * connections.yml for a single-connection setup: its source as `default`, its DuckDB file as the `default` target,
 * and `local_duckdb` beside it (a connection not named default is what makes this multi-connection mode), with the
 * processing defaults single-connection mode used — nothing that does not work here, and no example left over.
 */
function connectionsFromEnv(source: Record<string, unknown>, schema: string): string {
  return commented(
    {
      connections: {
        sources: { default: source },
        targets: {
          default: { type: 'duckdb', path: 'warehouse.duckdb', schema },
          local_duckdb: { type: 'duckdb', path: 'warehouse.duckdb', schema: 'analytics' },
        },
      },
      backup: {
        max_workers: DEFAULT_PROCESSING.maxWorkers,
        batch_size: DEFAULT_PROCESSING.batchSize,
        // Chunks are sized by bytes and time unless a row count caps them (docs/configuration.md, Chunk sizes).
        ...(DEFAULT_PROCESSING.chunkRows === null ? {} : { target_rows_per_chunk: DEFAULT_PROCESSING.chunkRows }),
      },
    },
    ' Written by highwater config setup from your single-connection environment. More connections: see\n examples/connections.yml beside this file, and docs/configuration.md.',
    [
      [['connections', 'sources', 'default'], 'Your single-connection source (MYSQL_*), used by the default pipeline.'],
      [
        ['connections', 'targets', 'default'],
        'The single-connection target: <home>/warehouse.duckdb, so existing watermarks carry over.',
      ],
      [['connections', 'targets', 'local_duckdb'], 'Another schema in the same local DuckDB file.'],
      [['backup'], "Processing defaults for every pipeline (a pipeline's own processing: block wins)."],
    ],
  );
}

/** The default pipeline as single-connection mode ran it: the same connections, and every table's defaults. */
function defaultPipelineFromEnv(): string {
  return commented(
    {
      pipeline: {
        description: 'Your single-connection setup: MYSQL_* source into <home>/warehouse.duckdb',
        source: 'default',
        target: 'default',
        default_table_config: { cdc_strategy: 'hybrid', cdc_timestamp_column: 'updated_at', cdc_id_column: 'id' },
      },
      tables: {},
    },
    ' The default pipeline: `highwater sync -t schema.table` uses it, and registers any table not listed here on the\n fly with default_table_config (the settings single-connection mode used). List a table under tables: to give\n it its own settings, for example cdc_strategy: id_only for an append-only table.',
    [],
  );
}

export function planSetup(examples: SetupExamples, env: Env): SetupPlan {
  const prefill = envSourceYaml(env);
  let connections = examples.connections;
  let pipelines = { ...examples.pipelines };
  const exampleFiles: SetupFile[] = [];
  if (prefill) {
    exampleFiles.push({ path: 'examples/connections.yml', content: examples.connections, generated: true });
    for (const [name, content] of Object.entries(examples.pipelines)) {
      exampleFiles.push({ path: `examples/pipelines/${name}`, content, generated: true });
    }
    connections = connectionsFromEnv(prefill.value, text(env, 'HIGHWATER_TARGET_SCHEMA') ?? 'public');
    // The example pipelines name the example connections: they wait in examples/pipelines/.
    pipelines = { 'default.yml': defaultPipelineFromEnv() };
  }
  const files: SetupFile[] = [
    { path: 'connections.yml', content: withSchemaLine(`./${CONNECTIONS_SCHEMA_FILE}`, connections), generated: false },
  ];
  for (const name of Object.keys(pipelines).sort()) {
    files.push({
      path: `pipelines/${name}`,
      content: withSchemaLine(`../${PIPELINE_SCHEMA_FILE}`, pipelines[name] ?? ''),
      generated: false,
    });
  }
  files.push(...exampleFiles);
  for (const [name, content] of Object.entries(jsonSchemaFiles())) files.push({ path: name, content, generated: true });
  const plan: SetupPlan = { files };
  if (prefill) plan.prefilledFrom = prefill.from;
  return plan;
}
