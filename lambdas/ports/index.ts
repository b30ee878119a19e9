/**
 * The small interfaces the engine talks to. Each has a local adapter and an AWS adapter; tests run one contract
 * suite over both. Everything crossing these is plain data (see manifests.ts for the step payloads).
 */
import type { Readable, Writable } from 'node:stream';
import type { MappedColumn, SchemaChange, SourceColumn, TableSchema, Watermark } from '../domain/model.js';

export type { SchemaChange } from '../domain/model.js';

import type { VerificationRecord } from '../domain/manifests.js';
import type {
  ChunkRecord,
  HostKeyRecord,
  LeaseOwner,
  LoadClaim,
  LoadStatement,
  RunRecord,
  RunStatus,
} from '../domain/records.js';
import type { PackedRow } from './packed-row.js';
import type { StepContext } from './step-context.js';

// ── Source (MySQL, possibly through an SSH tunnel) ─────────────────────────────────────────────────────────────

/** A row as the source sends it: one raw value per selected column (text protocol bytes, or null). */
export type RawRow = (Buffer | null)[];

export interface SourceReader {
  describeTable(schema: string, table: string): Promise<TableSchema>;
  /** The result columns of a read query (prepared, never run): names as the query gives them, types as declared. */
  describeQuery(sql: string): Promise<SourceColumn[]>;
  /** Runs a read query with bound `?` parameters and returns all rows as plain objects (small results only). */
  query<T extends Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<T[]>;
  /** Streams a read query's rows as raw values, with backpressure; memory stays flat. */
  stream(sql: string, params?: readonly unknown[]): AsyncIterable<RawRow>;
  /**
   * As `stream`, each row as its protocol packet holds it (packed-row.ts): no object per value. The extract's read;
   * a reader without it is read through `stream`.
   */
  streamPacked?(sql: string, params?: readonly unknown[]): AsyncIterable<PackedRow>;
  close(): Promise<void>;
}

// ── Parquet (rows of a chunk → one file) ──────────────────────────────────────────────────────────────────────

export interface WriteParquetOptions {
  /** Rows per row group (default 65,536). A group also closes early once its text/binary data passes ~32 MiB. */
  rowGroupRows?: number;
  compression?: 'snappy' | 'zstd';
}

export interface WriteParquetResult {
  rows: number;
  bytes: number;
}

/** Encodes a stream of raw rows as one Parquet file written to `out`, memory flat whatever the row count. */
export type ParquetWriter = (
  rows: AsyncIterable<RawRow | PackedRow>,
  columns: MappedColumn[],
  out: Writable,
  opts?: WriteParquetOptions,
) => Promise<WriteParquetResult>;

// ── Staging (local directory or S3) ────────────────────────────────────────────────────────────────────────────

export interface StagedObject {
  key: string;
  size: number;
  lastModified: Date;
}

export interface Staging {
  /** The root every key of this staging starts with (the S3 prefix, `highwater/`; empty for a local directory). */
  readonly prefix: string;
  /** A writable for one object; the object becomes visible only when the stream finishes without error. */
  createWriteStream(key: string): Writable;
  /** Resolves when the object written through `stream` is durable (upload complete / file renamed into place). */
  finished(stream: Writable): Promise<{ bytes: number }>;
  putJson(key: string, value: unknown): Promise<void>;
  getJson(key: string): Promise<unknown | undefined>;
  openRead(key: string): Promise<Readable>;
  /** Every object under an exact prefix (a prefix always ends with `/`), paginated to the end. */
  list(prefix: string): AsyncIterable<StagedObject>;
  delete(keys: readonly string[]): Promise<void>;
  /** The location a warehouse reads: an absolute path locally, `s3://bucket/key` on S3. */
  locate(key: string): string;
}

// ── State (watermarks, leases, run ledger) ─────────────────────────────────────────────────────────────────────

// The run ledger's records are declared once, as the schemas that check them (domain/records.ts).
export type {
  ChunkRecord,
  HostKeyRecord,
  LoadClaim,
  LoadStatement,
  RunKind,
  RunPlanRecord,
  RunRecord,
  RunStatus,
} from '../domain/records.js';

export interface WatermarkRecord {
  tableKey: string;
  watermark: Watermark;
  updatedAt: string;
  lastRunId: string | null;
  /** Set when a person wrote it with `watermark set`. */
  manual: boolean;
}

/**
 * The process that holds a lease, recorded when that process drives the whole run (a local `highwater sync`), so
 * a later run on the same host can tell a dead holder from a live one (Processes, adapters/processes). A Lambda
 * records none: the process that plans a run on AWS is not the one that runs it.
 */
export type { LeaseOwner } from '../domain/records.js';

export type HolderState =
  /** On this host, and the very process that took the lease is running. */
  | { state: 'alive'; owner: LeaseOwner }
  /** On this host, and that process is gone (`reason` says how we know). */
  | { state: 'dead'; owner: LeaseOwner; reason: string }
  /** Another host (or another pid space): nothing here can tell whether it runs. */
  | { state: 'other-host'; owner: LeaseOwner }
  /** The lease recorded no process. */
  | { state: 'unknown' };

/** The host's processes: who this one is, and whether a lease's recorded owner still runs. */
export interface Processes {
  current(): LeaseOwner;
  /** Whether `owner` still runs, seen from `self` (a lease's own recorded process, or this one). */
  stateOf(owner: LeaseOwner | null, self?: LeaseOwner): HolderState;
}

export interface Lease {
  tableKey: string;
  holder: string;
  expiresAt: string;
  /** Null when no process was recorded (taken in a Lambda, by s3clean, or before owners were recorded). */
  owner: LeaseOwner | null;
}

export interface StateStore {
  /** Takes the lease (recording `owner`) or throws LeaseHeldError; an expired lease is taken over. */
  acquireLease(tableKey: string, holder: string, ttlSeconds: number, owner?: LeaseOwner | null): Promise<Lease>;
  /**
   * Takes over a live lease from `previousHolder` (whose process is known to be gone): succeeds only while
   * `previousHolder` still holds it; LeaseHeldError when another holder has it, LeaseLostError when nobody does.
   */
  takeOverLease(
    tableKey: string,
    previousHolder: string,
    holder: string,
    ttlSeconds: number,
    owner: LeaseOwner | null,
  ): Promise<Lease>;
  /** Extends the lease (keeping its owner) if `holder` still holds it; throws LeaseLostError otherwise. */
  renewLease(tableKey: string, holder: string, ttlSeconds: number): Promise<Lease>;
  /** Releases the lease if `holder` holds it; a no-op otherwise. */
  releaseLease(tableKey: string, holder: string): Promise<void>;
  getLease(tableKey: string): Promise<Lease | undefined>;
  /** Every lease in the store, expired ones included, sorted by table key. */
  listLeases(): Promise<Lease[]>;

  getWatermark(tableKey: string): Promise<WatermarkRecord | undefined>;
  /** A manual write (`watermark set`/`reset`); refuses while a run holds the lease. */
  setWatermark(tableKey: string, watermark: Watermark, opts: { manual: boolean }): Promise<void>;
  deleteWatermark(tableKey: string): Promise<void>;
  listWatermarks(): Promise<WatermarkRecord[]>;

  putRun(run: RunRecord): Promise<void>;
  getRun(runId: string): Promise<RunRecord | undefined>;
  /** Records one extracted chunk (idempotent per index: a retried chunk replaces its record). */
  recordChunk(runId: string, chunk: ChunkRecord): Promise<void>;
  updateRun(runId: string, patch: Partial<Omit<RunRecord, 'runId' | 'tableKey'>>): Promise<void>;
  /** Runs of one table, oldest first. */
  listRuns(tableKey: string, filter?: { status?: RunStatus[] }): Promise<RunRecord[]>;

  /**
   * The one atomic step that makes a run count: sets the watermark to the run's `plan.next` (else its `to`; when it advances one),
   * marks the run committed with its loaded row count, and releases the lease — all or nothing, and only if
   * `holder` still holds the lease (LeaseLostError otherwise, with nothing changed).
   */
  commitRun(args: { runId: string; tableKey: string; holder: string; rowsLoaded: number }): Promise<void>;

  /**
   * Keeps one verification of a table in the ledger (`highwater verify`, the state machine's Verify step). A second
   * record at the same instant replaces the first. The store keeps at least the newest VERIFICATIONS_KEPT per table.
   */
  recordVerification(tableKey: string, record: VerificationRecord): Promise<void>;
  /** The table's verifications, newest first, at most `limit` (default 1). */
  listVerifications(tableKey: string, limit?: number): Promise<VerificationRecord[]>;

  /**
   * Takes the load of a table for one Load attempt until `until` (when that invocation is certainly over). Refused
   * with LoadClaimHeldError while another attempt's claim is live (not released, `until` not passed). Returns the
   * claim as it now stands: its `statements` are those earlier attempts recorded within the last 24 hours (the Data
   * API's retention), which the new attempt settles before it submits anything.
   */
  claimLoad(tableKey: string, claim: { runId: string; attempt: string; until: string }): Promise<LoadClaim>;
  /** Appends a submitted statement to the claim, only while `attempt` holds it: LoadClaimLostError otherwise. */
  recordLoadStatement(tableKey: string, attempt: string, statement: LoadStatement): Promise<void>;
  /** Releases the claim if `attempt` holds it (its statements stay for the next attempt to see); a no-op otherwise. */
  releaseLoad(tableKey: string, attempt: string): Promise<void>;
  /** Ends the live claim of run `runId`, whose process is known dead, keeping its statements (ports/load-claims.ts). */
  abandonLoadClaim(tableKey: string, runId: string): Promise<void>;
  getLoadClaim(tableKey: string): Promise<LoadClaim | undefined>;

  /**
   * Trust on first use for a bastion's host key: records `fingerprint` for `bastion` (`host:port`) when none is
   * recorded, and returns the record as it stands: the earlier one (whose fingerprint may differ) when there was one.
   */
  rememberHostKey(bastion: string, fingerprint: string): Promise<HostKeyRecord>;
  close(): Promise<void>;
}

// ── Warehouse (DuckDB locally, Redshift through the Data API) ──────────────────────────────────────────────────

export interface TargetTable {
  schema: string;
  name: string;
}

export interface LoadRequest {
  target: TargetTable;
  columns: MappedColumn[];
  /** Target names of the primary-key columns; empty only for full_sync replace/append without a key. */
  primaryKey: string[];
  /** Target names, newest last, used to keep one row per key when the staged data holds several. */
  cursorColumns: string[];
  /**
   * merge: delete matching keys then insert; replace: delete every row then insert, in the same table (a table that
   * cannot take the columns in place is rebuilt and swapped in); append: insert only.
   */
  mode: 'merge' | 'replace' | 'append';
  /** Locations (Staging.locate) of every Parquet file of the run(s) being loaded. */
  files: string[];
  /** A manifest listing exactly `files` (Redshift COPY reads it); optional for warehouses that take a file list. */
  manifest?: string;
  /**
   * Files written with other columns than `columns`: staged runs planned before the source's columns changed
   * (an `--backup-only` run loaded after a column was added or dropped). Each group is staged with its own column
   * list; a column of `columns` a group lacks is NULL in its rows, and a column only a group has is not loaded.
   * `files`/`manifest` above hold only the files written with `columns`; `expectedRows` counts every file.
   */
  fileGroups?: LoadFileGroup[];
  /** Rows the ledger says the files hold; a different staged count fails the load. */
  expectedRows: number;
  /**
   * What happens to a warehouse column the request does not carry (the source dropped it): `keep` leaves it, made
   * nullable if it was NOT NULL, and rows loaded from now on have NULL there; `drop` drops it in the load's
   * transaction. Internal `__hw…` columns are never touched. Replace follows it too (its rows all get NULL there).
   */
  onColumnDrop: 'keep' | 'drop';
  /** The table as the CLI's `-t` names it (the source schema.table), for suggestions; the target when absent. */
  sourceTable?: string;
  /** Keys deleted at the source (delete detection, or a repair): removed before the staged rows are merged, in the same transaction. */
  deletes?: { keys: string[][]; mode: 'hard' | 'soft' };
  /** Keep the table's history (SCD type 2, docs/history.md) instead of overwriting rows; needs a key, never append. */
  history?: LoadHistory;
  distkey?: string;
  sortkey?: string[];
  diststyle?: string;
}

/**
 * A load that keeps history: `primaryKey` is the business key; each staged row (deduped to the newest per key) is
 * compared by its hash with the key's current version and opens a new version only when it differs. Deleted keys
 * (`deletes`, hard or soft alike) close their current version. `replace` compares the same way and, with
 * `closeUnread`, also closes every current version whose key was not read (full_sync read the whole table).
 */
export interface LoadHistory {
  /** `_hw_valid_from` of every version this load opens, and `_hw_valid_to` of those it closes: the run's timestamp. */
  validFrom: string;
  /** Target names of columns whose changes open no version (they are updated in the current version instead). */
  ignoredColumns: string[];
  /** Replace only: close the current versions of keys the load did not read (the source no longer has them). */
  closeUnread: boolean;
}

/** Files staged with their own column list (LoadRequest.fileGroups). */
export interface LoadFileGroup {
  /** The columns the files hold, in file order. */
  columns: MappedColumn[];
  files: string[];
  /** A manifest listing exactly `files` (Redshift COPY). */
  manifest?: string;
}

/**
 * Rows deleted at the source, applied by the load in its own transaction before the merge deletes and inserts the
 * staged rows (so a key deleted and then inserted again at the source ends up present, with the staged values).
 * Each key is the primary key tuple as text, in `primaryKey` order, the values as MySQL prints them (integers as
 * decimal text, strings as they are, DECIMAL at its scale); the warehouse binds each one as a parameter cast to the
 * key column's type. `hard` deletes the target rows; `soft` sets the target's `_hw_deleted_at` (TIMESTAMPTZ, added
 * by the load if missing) to the load's time where it is still NULL, and rows the merge inserts afterwards have NULL
 * there again. Needs a primary key. Replace ignores the keys (its new content leaves out what the source deleted),
 * but with `soft` its new table still has `_hw_deleted_at`, NULL everywhere.
 */
export type LoadDeletes = NonNullable<LoadRequest['deletes']>;

export interface LoadResult {
  rowsStaged: number;
  /** Distinct keys after dedupe, i.e. rows inserted into the target. */
  rowsLoaded: number;
  /** Rows the merge's delete matched (merge/append), or the table's rows before (replace). */
  rowsDeleted: number;
  /** Rows `deletes` removed (`hard`) or newly marked deleted (`soft`: rows already marked are not counted); 0 without deletes. */
  rowsDeletedAtSource: number;
  /** What the load changed in the existing table's columns; empty when nothing changed, when it created the table, and when replace rebuilt it. */
  schemaChanges: SchemaChange[];
}

/**
 * The ledger's side of one load (LoadStatement, docs/decisions/0006-load-runs-once.md): the statements earlier loads
 * of this table left, and where each new one is recorded before the load waits for it. Warehouses that run nothing
 * on after the caller is gone (DuckDB, in process) ignore it.
 */
export interface LoadJournal {
  /** The run being loaded: a finished apply of this run is this load's result. */
  readonly runId: string;
  /** Statements earlier attempts submitted, oldest first (this run's earlier attempts, or an earlier run's). */
  readonly earlier: readonly LoadStatement[];
  /** Keeps a submitted statement in the ledger; LoadClaimLostError if another attempt has taken the load over. */
  record(statement: LoadStatement): Promise<void>;
  /** Says a statement this load submitted had not ended when it stopped: the claim stays held until it expires. */
  markUnsettled(): void;
}

/** What a load knows of the invocation it runs in. */
export interface LoadSession {
  /** The invocation's deadline: the load leaves no statement running past it, cancelling one that would. */
  step: StepContext;
  journal?: LoadJournal;
}

export interface WarehouseCapabilities {
  name: 'duckdb' | 'redshift';
  maxIdentifierLength: number;
  /** DDL type for a logical type. */
  columnType(column: MappedColumn): string;
}

export interface Warehouse {
  readonly capabilities: WarehouseCapabilities;
  /**
   * Creates the target table if missing, or evolves it (adds columns the source gained, widens columns whose type
   * grew, keeps or drops columns the source dropped), then loads; all in the load's transaction, except what the
   * warehouse cannot do in one (Redshift's in-place VARCHAR widening). A type change that is not a widening is a
   * WarehouseError before anything changes.
   */
  load(request: LoadRequest, session?: LoadSession): Promise<LoadResult>;
  /** The DDL `load` would run for a missing table (for --dry-run). */
  describeDdl(
    request: Pick<LoadRequest, 'target' | 'columns' | 'primaryKey' | 'distkey' | 'sortkey' | 'diststyle'>,
  ): string;
  count(target: TargetTable): Promise<number | undefined>;
  /** Runs a read-only query (tests, validate-counts). */
  query<T extends Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<T[]>;
  close(): Promise<void>;
}
