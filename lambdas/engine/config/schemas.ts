/**
 * zod schemas of the two YAML files as users write them (keys of the old tool included). They check shapes and
 * value types only; resolution into the engine's types (defaults, cross-references, identifiers) is done by
 * connections-file.ts and pipeline-file.ts. The JSON Schema for editors is generated from these.
 */
import { z } from 'zod';
import { CDC_STRATEGIES } from '../../domain/config.js';
import { INLINE_MAP_MAX_CONCURRENCY } from '../../domain/quotas.js';
import { byteSizeSchema } from './byte-size.js';
import { durationSchema, everySchema } from './duration.js';

const NO_EFFECT = 'Accepted for compatibility with the old tool; has no effect in Highwater.';

function ignoredKeys<const K extends string>(keys: readonly K[]): Record<K, z.ZodOptional<z.ZodUnknown>> {
  return Object.fromEntries(keys.map((k) => [k, z.unknown().optional().describe(NO_EFFECT)])) as Record<
    K,
    z.ZodOptional<z.ZodUnknown>
  >;
}

// Keys the old tool accepted but never read (or that Highwater has no use for): accepted with a warning.
export const IGNORED = {
  ssh: ['local_port'],
  target: ['ssh_tunnel'],
  s3Config: ['access_key_id', 'secret_access_key', 'high_watermark_key', 'performance'],
  backup: [
    'timeout_seconds',
    'memory_limit_mb',
    'gc_threshold',
    'memory_check_interval',
    'enable_compression',
    'compression_level',
    'max_rows_per_chunk',
  ],
  pipelineFile: ['default_table_config', 'extends'],
  pipeline: [
    'cdc_settings',
    'sync_frequency',
    'metadata',
    'extends',
    'monitoring',
    'watermark_settings',
    'performance',
    'enable_parallel_processing',
    'query_optimization',
    'start_from',
    'initial_load_filter',
  ],
  pipelineProcessing: ['strategy', 'max_parallel_tables', 'query_timeout_seconds', 'enable_parallel_processing'],
  pipelineS3: ['isolation_prefix', 'partition_strategy', 'compression'],
  table: [
    'cdc_ordering',
    'watermark_settings',
    'monitoring',
    'start_from',
    'initial_load_filter',
    'query_optimization',
    'performance',
    'enable_parallel_processing',
    'backup_strategy',
    'watermark_strategy',
    'production_safety',
    'cdc_settings',
    'sync_frequency',
    'metadata',
  ],
  tableProcessing: [
    'priority',
    'timeout_minutes',
    'query_timeout_seconds',
    'enable_parallel_processing',
    'query_optimization',
  ],
} as const;

/** Keys whose values are secrets: never interpolated into plain strings (they become references). */
export const SECRET_KEYS: ReadonlySet<string> = new Set(['password', 'private_key']);

/** Keys whose contents are never read, so an unset `${VAR}` inside them must not fail a load. */
export const UNREAD_KEYS: ReadonlySet<string> = new Set([
  ...Object.values(IGNORED).flat(),
  'validation',
  'depends_on',
  'notes',
]);

function int(min: number, max = Number.MAX_SAFE_INTEGER, whyMax = '') {
  const notInt = (input: unknown) => `expected an integer, got ${JSON.stringify(input)}`;
  return z
    .union([z.number(), z.string()], { error: (iss) => notInt(iss.input) })
    .transform((v, ctx) => {
      // `${VAR}` interpolation yields strings, so "3306" is as good as 3306.
      if (typeof v === 'number') return v;
      if (/^\s*-?\d+\s*$/.test(v)) return Number(v.trim());
      ctx.issues.push({ code: 'custom', message: notInt(v), input: v });
      return z.NEVER;
    })
    .pipe(
      z
        .number()
        .int({ error: (iss) => notInt(iss.input) })
        .min(min, { error: `must be at least ${min}` })
        .max(max, { error: `must be at most ${max}${whyMax}` }),
    );
}
const positiveInt = () => int(1);
/**
 * Chunks extracted at once: the Map that runs them takes it as its concurrency, and an inline Map runs at most 40
 * iterations at once (lambdas/domain/quotas.ts; docs/limits.md). One bound for both Map kinds a run may take.
 */
const maxWorkers = () =>
  int(
    1,
    INLINE_MAP_MAX_CONCURRENCY,
    ': a Step Functions inline Map runs at most 40 chunks at once (see docs/limits.md)',
  ).describe(`Chunks extracted at once, 1–${INLINE_MAP_MAX_CONCURRENCY} (a Step Functions inline Map's limit).`);

const CHUNK_ROWS = 'At most this many rows per chunk (chunks are otherwise sized by chunk_bytes and chunk_seconds).';

/** Chunk sizing (engine/chunk-size.ts), under a pipeline's or a table's `processing:`. */
const chunkSizingKeys = {
  chunk_bytes: byteSizeSchema
    .optional()
    .describe('Source bytes per chunk (by the table’s average row length): 268435456, 256MiB, 1GB. Default 256MiB.'),
  chunk_seconds: durationSchema
    .refine((s) => s > 0, { error: 'chunk_seconds must be more than 0' })
    .optional()
    .describe('Time one chunk may take at read_rows_per_second: seconds, or 30s, 5m. Default 5m.'),
  read_rows_per_second: positiveInt()
    .optional()
    .describe('Rows per second assumed for chunk_seconds (a source read through a tunnel). Default 20000.'),
};
const port = (dflt: string) => int(1, 65535).describe(`TCP port (default ${dflt}).`);

const bool = z
  .union([z.boolean(), z.enum(['true', 'false', 'yes', 'no', '1', '0'])], {
    error: (iss) => `expected true or false, got ${JSON.stringify(iss.input)}`,
  })
  .transform((v) => v === true || v === 'true' || v === 'yes' || v === '1');

const text = z.string().min(1, { error: 'must not be empty' });
const optionalText = z.union([z.string(), z.number().transform(String)]).optional();
const stringList = z.union([text, z.array(text).min(1, { error: 'must list at least one column' })]);

const ENV_FORM = '$' + '{ENV_VAR}'; // spelled out so it is not read as a template placeholder

export const secretSchema = z
  .union(
    [
      z.string(),
      z.number().transform(String),
      z.strictObject({
        secret: text.describe('Secrets Manager secret name or ARN.'),
        key: text.optional().describe('JSON field of the secret holding the value.'),
      }),
    ],
    { error: `expected a string, ${ENV_FORM}, or {secret: NAME_OR_ARN, key: FIELD}` },
  )
  .describe(`A literal, ${ENV_FORM} (read when needed), or {secret: NAME_OR_ARN, key: FIELD} (AWS Secrets Manager).`);

// ── connections.yml ────────────────────────────────────────────────────────────────────────────────────────────

export const sshTunnelSchema = z.strictObject({
  enabled: bool.optional().describe('Use the tunnel (default false).'),
  host: text.optional(),
  port: port('22').optional(),
  username: text.optional(),
  private_key_path: text.optional(),
  private_key: secretSchema.optional(),
  host_key_sha256: z
    .string()
    .regex(/^SHA256:[A-Za-z0-9+/]{43}=?$/, {
      error: 'expected a fingerprint like SHA256:… as ssh-keygen -lf prints it',
    })
    .optional()
    .describe('Pinned host key fingerprint of the bastion.'),
  accept_unpinned_host_key: bool
    .optional()
    .describe(
      'Without host_key_sha256, let a deployed (Lambda) run connect to any host key (default false: refused). Local runs remember the first key seen either way.',
    ),
  connect_timeout: int(1).optional().describe('Seconds (default 10).'),
  keepalive: int(0).optional().describe('Seconds between keepalives (default 30).'),
  ...ignoredKeys(IGNORED.ssh),
});

export const sourceSchema = z.strictObject({
  host: text,
  port: port('3306').optional(),
  database: optionalText,
  username: optionalText,
  password: secretSchema.optional(),
  description: z.string().optional(),
  ssh_tunnel: sshTunnelSchema.nullable().optional(),
  time_zone: text
    .optional()
    .describe('Zone DATETIME cursors are written in: +08:00, Asia/Shanghai, UTC (default: the server’s own).'),
});

export const duckDbTargetSchema = z.strictObject({
  type: z.literal('duckdb'),
  path: text.optional().describe('DuckDB file; relative to the Highwater home (default <name>.duckdb).'),
  schema: text.optional().describe('Default public.'),
  memory_limit: byteSizeSchema
    .optional()
    .describe(
      'Ceiling of DuckDB’s buffer memory (default 96MiB): a load bigger than it spills to <file>.tmp instead of growing the process.',
    ),
  description: z.string().optional(),
});

export const redshiftTargetSchema = z.strictObject({
  type: z.literal('redshift').optional(),
  schema: text.optional().describe('Default public.'),
  database: optionalText,
  workgroup: text.optional(),
  cluster_identifier: text.optional(),
  secret_arn: text.optional(),
  db_user: text.optional(),
  iam_role_arn: text.optional(),
  region: text.optional(),
  endpoint: text.optional(),
  host: text.optional(),
  port: port('5439').optional(),
  username: optionalText,
  password: secretSchema.optional(),
  copy_slices: z
    .number()
    .int()
    .min(1)
    .max(12_800)
    .optional()
    .describe(
      'Slices of the cluster (SELECT COUNT(*) FROM stv_slices); a run is cut into a multiple of them for one parallel COPY (default 16).',
    ),
  description: z.string().optional(),
  ...ignoredKeys(IGNORED.target),
});

export const targetSchema = z.discriminatedUnion('type', [duckDbTargetSchema, redshiftTargetSchema], {
  error: (iss) =>
    `unknown target type ${JSON.stringify((iss.input as { type?: unknown } | undefined)?.type)}; expected duckdb or redshift`,
});

export const s3ConfigSchema = z.strictObject({
  bucket_name: text,
  region: text.optional(),
  incremental_path: z.string().optional(),
  endpoint: text.optional(),
  description: z.string().optional(),
  ...ignoredKeys(IGNORED.s3Config),
});

export const backupSchema = z.strictObject({
  batch_size: positiveInt().optional().describe('Default rows per Parquet row group.'),
  max_workers: maxWorkers().optional(),
  target_rows_per_chunk: positiveInt().optional().describe(CHUNK_ROWS),
  ...ignoredKeys(IGNORED.backup),
});

const namedMap = <T extends z.ZodType>(schema: T) => z.record(z.string(), schema).nullable().optional();

export const connectionsFileSchema = z.strictObject({
  connections: z
    .strictObject({ sources: namedMap(sourceSchema), targets: namedMap(targetSchema) })
    .nullable()
    .optional(),
  s3_configs: namedMap(s3ConfigSchema),
  /** The oldest layout had one unnamed `s3:` block; it becomes the s3 config named `default`. */
  s3: s3ConfigSchema.optional(),
  backup: backupSchema.nullable().optional(),
});
export type ConnectionsFile = z.output<typeof connectionsFileSchema>;

// ── pipelines/NAME.yml ─────────────────────────────────────────────────────────────────────────────────────────

const historyKind = z.enum(['scd2', 'none'], {
  error: (iss) => `unknown history ${JSON.stringify(iss.input)}; expected scd2 or none`,
});

export const tableSchema = z.strictObject({
  cdc_strategy: z
    .enum(CDC_STRATEGIES, {
      error: (iss) => `unknown strategy ${JSON.stringify(iss.input)}; expected one of ${CDC_STRATEGIES.join(', ')}`,
    })
    .optional()
    .describe('Default hybrid.'),
  cdc_timestamp_column: text.optional().describe('Default updated_at.'),
  cdc_id_column: text.optional().describe('Default id.'),
  target_name: text.optional().describe('Bare target table name (default: the source table name).'),
  full_sync_mode: z
    .enum(['replace', 'append', 'paginate'], {
      error: (iss) => `unknown full_sync_mode ${JSON.stringify(iss.input)}; expected replace or append`,
    })
    .refine((v) => v !== 'paginate', {
      error: 'full_sync_mode "paginate" is not supported (the old tool never finished it); use replace',
    })
    .optional()
    .describe('replace (default, atomic) or append.'),
  custom_query: text.optional().describe('SELECT for cdc_strategy custom_sql.'),
  timestamp_format: z
    .enum(['datetime', 'unix', 'auto'], {
      error: (iss) => `unknown timestamp_format ${JSON.stringify(iss.input)}; expected datetime or unix`,
    })
    .optional()
    .describe('datetime (default) or unix; the old "auto" means datetime.'),
  additional_where: text.optional(),
  lag: durationSchema.optional().describe('Extra age a cursor must have before it is read (default 0).'),
  lookback: durationSchema.optional().describe('Re-read this far behind the watermark every run (default 0).'),
  clock_skew: durationSchema
    .optional()
    .describe('Margin for cursors set by application clocks (default 15s); see docs/correctness.md.'),
  on_column_drop: z
    .enum(['keep', 'drop'], { error: 'expected keep or drop' })
    .optional()
    .describe('A column dropped at the source: keep it in the warehouse, NULL from then on (default), or drop it.'),
  oversize: z
    .enum(['error', 'truncate'], { error: 'expected error or truncate' })
    .optional()
    .describe(
      'A value longer than its Redshift column (VARCHAR 65535 bytes at most): fail the extract naming table, column and key (default), or truncate it at a character boundary (counted in the run report).',
    ),
  chunk_rows: positiveInt().optional().describe(CHUNK_ROWS),
  primary_key: stringList.optional(),
  distkey: text.optional(),
  sortkey: stringList.optional(),
  diststyle: z
    .string()
    .transform((s) => s.toUpperCase())
    .pipe(z.enum(['AUTO', 'ALL', 'EVEN', 'KEY'], { error: 'expected AUTO, ALL, EVEN or KEY' }))
    .optional(),
  delete_detection: z
    .union([z.boolean(), z.enum(['hard', 'soft', 'true', 'false'])], {
      error: (iss) => `expected hard, soft or false, got ${JSON.stringify(iss.input)}`,
    })
    .transform((v): 'hard' | 'soft' | false =>
      v === true || v === 'true' || v === 'hard' ? 'hard' : v === 'soft' ? 'soft' : false,
    )
    .optional()
    .describe('Carry rows deleted at the source: hard (deleted), soft (_hw_deleted_at set) or false (default).'),
  delete_detection_every: durationSchema
    .optional()
    .describe('Detect deletes at most this often (a duration); every run when absent.'),
  verify_every: everySchema
    .optional()
    .describe('Verify the table after a sync this often (6h, or 10 runs); never when absent.'),
  processing: z
    .strictObject({
      batch_size: positiveInt().optional().describe('Rows per Parquet row group.'),
      chunk_rows: positiveInt().optional().describe(CHUNK_ROWS),
      ...chunkSizingKeys,
      ...ignoredKeys(IGNORED.tableProcessing),
    })
    .nullable()
    .optional(),
  connection: text.optional().describe('Must be the pipeline source when given (one source per pipeline).'),
  history: historyKind
    .optional()
    .describe(
      'scd2: keep every version of each row (valid_from/valid_to, docs/history.md); none: a plain copy (default, or scd2 for table_type dimension when pipeline.dimension_history is scd2).',
    ),
  business_key: stringList
    .optional()
    .describe('History tables: the columns that identify a row across versions (default: the primary key).'),
  history_ignore_columns: stringList
    .optional()
    .describe(
      'History tables: columns whose changes open no new version (e.g. last_seen_at); the current version takes their new value in place.',
    ),
  table_type: z
    .string()
    .optional()
    .describe('Informational, except dimension: such a table keeps history when pipeline.dimension_history is scd2.'),
  depends_on: z.union([z.string(), z.array(z.string())]).optional(),
  validation: z.record(z.string(), z.unknown()).nullable().optional(),
  description: z.string().optional(),
  notes: z.string().optional(),
  ...ignoredKeys(IGNORED.table),
});
export type TableYaml = z.output<typeof tableSchema>;

export const pipelineSchema = z.strictObject({
  name: optionalText,
  description: z.string().optional(),
  version: optionalText,
  source: text.optional().describe('Source connection name.'),
  target: text.optional().describe('Target connection name.'),
  s3_config: text.optional().describe('Name of an s3_configs entry in connections.yml to stage in.'),
  s3: z
    .strictObject({
      bucket: text.optional(),
      prefix: z.string().optional(),
      region: text.optional(),
      endpoint: text.optional(),
      ...ignoredKeys(IGNORED.pipelineS3),
    })
    .nullable()
    .optional(),
  state: z
    .strictObject({
      type: z.enum(['local', 'dynamodb'], { error: 'expected local or dynamodb' }),
      path: text.optional(),
      table: text.optional(),
      region: text.optional(),
      endpoint: text.optional(),
    })
    .optional(),
  processing: z
    .strictObject({
      batch_size: positiveInt().optional().describe('Rows per Parquet row group.'),
      max_workers: maxWorkers().optional(),
      chunk_rows: positiveInt().optional().describe(CHUNK_ROWS),
      ...chunkSizingKeys,
      lease_seconds: positiveInt().optional(),
      max_inline_chunks: positiveInt()
        .optional()
        .describe('Above this many chunks a run’s chunk list is written to S3 and read by a Distributed Map.'),
      timeout_minutes: positiveInt().optional().describe('Used as the lease length when lease_seconds is absent.'),
      keep_staged_files: durationSchema
        .optional()
        .describe(
          'Local staging: keep the Parquet files of committed runs this long (7d) before a sync removes them; 0 (the default) removes them once committed.',
        ),
      ...ignoredKeys(IGNORED.pipelineProcessing),
    })
    .nullable()
    .optional(),
  default_table_config: tableSchema.nullable().optional(),
  dimension_history: historyKind
    .optional()
    .describe('scd2: tables with table_type: dimension keep history unless they say history: none (default none).'),
  schedule: text.optional(),
  ...ignoredKeys(IGNORED.pipeline),
});

export const pipelineFileSchema = z.strictObject({
  pipeline: pipelineSchema.nullable().optional(),
  tables: z.record(z.string(), tableSchema.nullable()).nullable().optional(),
  ...ignoredKeys(IGNORED.pipelineFile),
});
export type PipelineFile = z.output<typeof pipelineFileSchema>;
