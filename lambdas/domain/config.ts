/**
 * The resolved configuration the engine runs on. Both modes of the migration guide (single-connection from the
 * environment, multi-connection from YAML) resolve to these shapes; nothing downstream knows which mode it came from.
 * Durations are seconds, sizes are rows.
 */

export const CDC_STRATEGIES = ['hybrid', 'timestamp_only', 'id_only', 'full_sync', 'custom_sql'] as const;
export type CdcStrategy = (typeof CDC_STRATEGIES)[number];

export type FullSyncMode = 'replace' | 'append';
export type TimestampFormat = 'datetime' | 'unix';

/** A secret value: resolved lazily so it never sits in a config dump. */
export type SecretRef =
  | { kind: 'literal'; value: string }
  | { kind: 'env'; name: string }
  | { kind: 'secretsmanager'; secretId: string; key?: string };

export interface SshTunnelConfig {
  host: string;
  port: number;
  username: string;
  privateKeyPath?: string;
  privateKey?: SecretRef;
  /** SHA256 fingerprint of the bastion's host key (`SHA256:…` as ssh-keygen prints it). */
  hostKeySha256?: string;
  /**
   * Without a pin: a Lambda refuses the bastion unless this is true; a local run remembers the first key it sees in
   * the state store either way and refuses a different one later.
   */
  acceptUnpinnedHostKey: boolean;
  connectTimeoutSeconds: number;
  keepaliveSeconds: number;
}

export interface SourceConnection {
  name: string;
  host: string;
  port: number;
  database: string;
  username: string;
  password?: SecretRef;
  sshTunnel?: SshTunnelConfig;
  /**
   * The time zone DATETIME cursors are written in (`+08:00`, `Asia/Shanghai`, `UTC`); undefined: the server's own
   * default zone, which is what NOW() writes in a session that does not set one.
   */
  timeZone?: string;
  description?: string;
  /** Where its settings are written, for messages. */
  settings?: SourceSettingNames;
}

/** The YAML key or environment variable that sets each part of a source connection, and its file if any. */
export interface SourceSettingNames {
  host: string;
  port: string;
  user: string;
  password: string;
  database: string;
  /** `config/connections.yml`; absent for environment variables. */
  file?: string;
}

export interface DuckDbTarget {
  type: 'duckdb';
  name: string;
  /** Path of the DuckDB file; relative paths are under the Highwater home. */
  path: string;
  schema: string;
  /** DuckDB's buffer memory ceiling in bytes (`memory_limit:`); the adapter's default when absent. */
  memoryLimitBytes?: number;
}

export interface RedshiftTarget {
  type: 'redshift';
  name: string;
  schema: string;
  database: string;
  workgroup?: string;
  clusterIdentifier?: string;
  secretArn?: string;
  dbUser?: string;
  iamRoleArn?: string;
  region?: string;
  endpoint?: string;
  /** Legacy direct-connection keys from the old tool, kept for `connections list/info`. */
  host?: string;
  port?: number;
  username?: string;
  password?: SecretRef;
  /** The cluster's slice count (`copy_slices:`), for the COPY file layout (engine/copy-files.ts). */
  copySlices?: number;
}

export type TargetConnection = DuckDbTarget | RedshiftTarget;

export type StagingConfig =
  | { type: 'local'; root: string }
  | { type: 's3'; bucket: string; prefix: string; region?: string; endpoint?: string };

export type StateConfig =
  | { type: 'local'; path: string }
  | { type: 'dynamodb'; table: string; region?: string; endpoint?: string };

export interface TableConfig {
  /** `schema.table` as written in the pipeline (case preserved for the source query). */
  name: string;
  sourceSchema: string;
  sourceTable: string;
  strategy: CdcStrategy;
  timestampColumn: string;
  idColumn: string;
  /** Bare target table name (no schema); lower-cased by the naming module. */
  targetName: string;
  fullSyncMode: FullSyncMode;
  customQuery?: string;
  timestampFormat: TimestampFormat;
  additionalWhere?: string;
  /** Rows whose cursor is newer than NOW() - lag are left for the next run, on top of the commit horizon. */
  lagSeconds: number;
  /** Re-read this far behind the watermark on every run (harmless: the merge is idempotent). */
  lookbackSeconds: number;
  /** Margin for cursors an application sets from its own clock (see strategies/horizon.ts). */
  clockSkewSeconds: number;
  /** A column the source dropped: kept in the warehouse (NULL from then on) or dropped there too. */
  onColumnDrop: 'keep' | 'drop';
  /** A value longer than its Redshift column: fail the extract (naming table, column and key) or cut it to fit. */
  oversize: 'error' | 'truncate';
  /**
   * Chunk sizing (engine/chunk-size.ts): rows per chunk are the fewest of chunkBytes ÷ the table's average row
   * length, chunkSeconds × readRowsPerSecond, and chunkRows when set (`chunk_rows`, the old key, is now a cap).
   */
  chunkRows: number | null;
  chunkBytes: number;
  chunkSeconds: number;
  readRowsPerSecond: number;
  /** Overrides the primary key read from the source. */
  primaryKey?: string[];
  distkey?: string;
  sortkey?: string[];
  diststyle?: 'AUTO' | 'ALL' | 'EVEN' | 'KEY';
  /** Rows deleted at the source: `hard` deletes them in the warehouse, `soft` sets `_hw_deleted_at`, false keeps them. */
  deleteDetection: 'hard' | 'soft' | false;
  /** Detect deletes at most this often; null: every run. */
  deleteDetectionEverySeconds: number | null;
  /** Verify the table after a sync this often (`verify_every`); null: only when asked (`highwater verify`). */
  verifyEvery: { runs: number } | { seconds: number } | null;
  /** Rows per Parquet row group. */
  batchSize: number;
  /** Tables (schema.table) of the same pipeline that sync before this one when both run (`depends_on`). */
  dependsOn: string[];
  /**
   * SCD type 2 history (`history: scd2`, docs/history.md); null for a plain copy. Its key is the table's key
   * (`business_key`, which sets `primaryKey`); `ignoredColumns` (`history_ignore_columns`) open no version.
   */
  history?: { ignoredColumns: string[] } | null;
}

export interface ProcessingConfig {
  maxWorkers: number;
  batchSize: number;
  /** At most this many rows per chunk (`chunk_rows`, `target_rows_per_chunk`); null: sized by bytes and time. */
  chunkRows: number | null;
  /** Chunk sizing defaults for the pipeline's tables (see TableConfig). */
  chunkBytes: number;
  chunkSeconds: number;
  readRowsPerSecond: number;
  leaseSeconds: number;
  /** Above this many chunks the plan goes to staging and a Distributed Map reads it (ItemReader). */
  maxInlineChunks: number;
  /**
   * Local staging: how long the files of committed runs stay before a local sync removes them
   * (`processing.keep_staged_files`); absent: 0, removed once committed.
   */
  keepStagedSeconds?: number;
}

export interface PipelineConfig {
  name: string;
  description?: string;
  source: SourceConnection;
  target: TargetConnection;
  staging: StagingConfig;
  state: StateConfig;
  processing: ProcessingConfig;
  schedule?: string;
  tables: TableConfig[];
  /** Where this pipeline came from, for messages: a file path or `environment`. */
  origin: string;
}

export type ConfigMode = 'single' | 'multi';

export interface LoadedConfig {
  mode: ConfigMode;
  /** Why this mode was chosen, in plain words (shown under the banner). */
  reason: string;
  configDir: string;
  home: string;
  sources: Record<string, SourceConnection>;
  targets: Record<string, TargetConnection>;
  /** Pipeline names; `default` always exists. Use `getPipeline()` to resolve one. */
  pipelines: string[];
}
