/**
 * The one shape every CDC strategy has. A strategy module (hybrid.ts, timestamp-only.ts, id-only.ts, full-sync.ts,
 * custom-sql.ts) owns everything that differs between strategies: which columns play which role, the run's window
 * and how its upper bound is fixed, the defaults of lag / lookback / clock_skew, the load mode, whether a commit
 * moves a watermark, its configuration checks and how a dry run describes it. Nothing outside this folder asks a
 * table which strategy it uses; it asks the strategy.
 */

import type { CdcStrategy, TableConfig } from '../../domain/config.js';
import type { MappedColumn, SourceColumn, Watermark } from '../../domain/model.js';
import type { SourceReader } from '../../ports/index.js';
import type { SourceClock } from './horizon.js';
import type { Fragment } from './sql/fragment.js';

export type LoadMode = 'merge' | 'replace' | 'append';

/** The roles a table's columns play for its strategy, resolved once (TableContext). */
export interface TableContext {
  table: TableConfig;
  strategy: Strategy;
  columns: MappedColumn[];
  /** Primary key (configured `primary_key`, else the source's); empty when the table has none. */
  pk: MappedColumn[];
  /** `pk` is the source table's own PRIMARY KEY, in its order (so its PRIMARY index walks it in key order). */
  pkIsPrimaryIndex?: boolean;
  /** The timestamp cursor (hybrid, timestamp_only; custom_sql when the column exists). */
  ts: MappedColumn | undefined;
  /** Breaks ties on `ts` (hybrid: cdc_id_column; timestamp_only: the primary key), or is the cursor (id_only). */
  id: MappedColumn | undefined;
  mode: LoadMode;
}

export interface CursorRoles {
  ts: MappedColumn | undefined;
  id: MappedColumn | undefined;
}

/** What one earlier plan saw of the source: at `snapshotAt` (server clock, UTC) the newest cursor was `upper`. */
export interface Observation {
  snapshotAt: string;
  upper: Watermark;
}

/** What a strategy needs to fix a run's bounds, read inside the planning snapshot. */
export interface BoundsInput {
  source: SourceReader;
  ctx: TableContext;
  /** The committed watermark (or where the newest staged run ends). */
  from: Watermark;
  clock: SourceClock;
  /** The source's time zone for DATETIME cursors (`time_zone:`), undefined for the server's own. */
  timeZone: string | undefined;
  /** Earlier plans of this table, newest last (id_only holds its watermark below ids still in flight). */
  history: readonly Observation[];
}

/** The bounds of a run that reads a cursor window. */
export interface WindowBounds {
  kind: 'window';
  /** H: the window's inclusive upper bound; equal to `from` when only NULL-cursor rows are to be read. */
  to: Watermark;
  /** The watermark the commit writes: `to`, or lower when rows below `to` may still commit (id_only). */
  next: Watermark;
  /** Rows whose cursor is NULL, read again by every run (null when the cursor column cannot be NULL). */
  nullCursorRows: number | null;
  /** Where the commit horizon was and why (open transactions, the clock margin), for the run report. */
  horizon: string | null;
  /** Things the user should know: a watermark held back, a missing grant. */
  warnings: string[];
}

export type Bounds =
  | WindowBounds
  /** full_sync: every row, no cursor. */
  | { kind: 'whole-table' }
  /** custom_sql: the user's query reads its own window; `upperTimestamp` is bound to :upper_timestamp. */
  | { kind: 'query'; upperTimestamp: string | null; horizon: string; warnings: string[] }
  /** Nothing to read: the reason goes to the report. */
  | { kind: 'nothing'; reason: string; horizon: string | null; warnings: string[] };

/** A configuration problem found without the source, at a YAML key of the table. */
export interface ConfigProblem {
  key: string;
  message: string;
}

/** A problem of the table against the source's description of it (validate-pipeline). */
export interface SourceProblem {
  severity: 'error' | 'warning';
  column?: string;
  message: string;
}

/** Defaults a strategy gives a table when its YAML leaves the key out. */
export interface StrategyDefaults {
  lagSeconds: number;
  lookbackSeconds: number;
  clockSkewSeconds: number;
}

/** A chunk's primary-key range: keys after `lower` up to and including `upper` (null: open). */
export interface KeyBounds {
  lower: string[] | null;
  upper: string[] | null;
}

export interface Strategy {
  readonly name: CdcStrategy;
  /** Whether a committed run moves a watermark. */
  readonly advancesWatermark: boolean;
  /** Whether rows are read by the user's custom_query (with bound placeholders) instead of the window. */
  readonly readsCustomQuery: boolean;
  readonly defaults: StrategyDefaults;
  /** The table keys show-pipeline prints for this strategy (others do not apply to it). */
  readonly shownKeys: ReadonlySet<'timestampColumn' | 'timestampFormat' | 'idColumn' | 'fullSyncMode'>;
  mode(table: TableConfig): LoadMode;
  /** The columns the roles need, with the YAML key that names each (validate-pipeline reports missing ones). */
  requiredColumns(table: TableConfig): Array<{ column: string; key: string }>;
  /** Problems visible in the YAML alone. */
  configProblems(table: TableConfig): ConfigProblem[];
  /** Resolves the cursor roles; throws DataError naming a missing column. */
  roles(table: TableConfig, columns: readonly MappedColumn[], pk: readonly MappedColumn[]): CursorRoles;
  /** Problems of the table's columns for this strategy (types, key shape), without throwing. */
  sourceProblems(table: TableConfig, columns: readonly SourceColumn[], pk: readonly string[]): SourceProblem[];
  /** The rows of a run: after `from`, up to and including `to` (open when null), NULL-cursor rows included. */
  window(ctx: TableContext, from: Watermark, to: Watermark | null): Fragment;
  /** The same, cursor rows only: what --limit counts and cuts in cursor order. */
  cursorWindow(ctx: TableContext, from: Watermark, to: Watermark | null): Fragment;
  /**
   * The predicate one chunk's query needs: the window and the chunk's key range, with what the range already
   * implies left out (the same rows, fewer conditions). Absent: the window and the range, both in full.
   */
  chunkWindow?(ctx: TableContext, from: Watermark, to: Watermark, chunk: KeyBounds): Fragment;
  /** Fixes the run's bounds inside the planning snapshot. */
  bounds(input: BoundsInput): Promise<Bounds>;
  /** The column whose MAX `status` compares with the watermark, and which half of the watermark it is. */
  lagCursor(table: TableConfig): { column: string; half: 'ts' | 'id' } | undefined;
  /** One line saying what a run of this table reads (dry-run, show-pipeline). */
  describe(table: TableConfig): string;
}
