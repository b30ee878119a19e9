/**
 * The payloads the steps hand each other (Plan → ExtractChunk → Load → Commit, Abort on failure). They are the
 * Step Functions state payloads on AWS and plain objects locally, so every handler zod-parses its input.
 */
import { z } from 'zod';
import { MappedColumnSchema, SchemaChangeSchema, WatermarkSchema } from './model.js';
import { INLINE_MAP_MAX_CONCURRENCY } from './quotas.js';

export { MappedColumnSchema, SchemaChangeSchema, SourceColumnSchema, WatermarkSchema } from './model.js';

/** Keys after `lower` (exclusive) up to `upper` (inclusive), as canonical key text; null: unbounded. */
export const KeyRangeSchema = z.object({
  lower: z.array(z.string()).nullable(),
  upper: z.array(z.string()).nullable(),
});
/** What a repair request may carry in a state payload; more is a resync's job. */
export const MAX_REPAIR_RANGES = 500;
export const MAX_REPAIR_DELETES = 2000;

export const RunOptionsSchema = z.object({
  limit: z.number().int().positive().optional(),
  /** Chunks extracted at once; an inline Map runs at most 40 iterations at once (quotas.ts), and so does Highwater. */
  maxWorkers: z
    .number()
    .int()
    .positive()
    .max(INLINE_MAP_MAX_CONCURRENCY, {
      error: `max workers must be at most ${INLINE_MAP_MAX_CONCURRENCY}: a Step Functions inline Map runs at most ${INLINE_MAP_MAX_CONCURRENCY} chunks at once`,
    })
    .optional(),
  maxChunks: z.number().int().positive().optional(),
  backupOnly: z.boolean().default(false),
  redshiftOnly: z.boolean().default(false),
  dryRun: z.boolean().default(false),
  /** `highwater resync`: read the whole table again and replace the warehouse table with it, atomically. */
  resync: z.boolean().default(false),
  /** `highwater verify --repair`: read these key ranges again (up to the watermark) and delete these keys. */
  repair: z
    .object({
      ranges: z.array(KeyRangeSchema).min(1).max(MAX_REPAIR_RANGES),
      deleteKeys: z.array(z.array(z.string())).max(MAX_REPAIR_DELETES).default([]),
    })
    .optional(),
});
export type RunOptions = z.infer<typeof RunOptionsSchema>;

/**
 * Tables one sync execution runs. Each table's summary (its name, status and execution ARN, a few hundred bytes)
 * sits twice in the sync execution's largest state (Summarize), which must stay within one payload (quotas.ts):
 * test/unit/orchestration/payload-bounds.test.ts proves this bound with the longest names. More tables: more
 * executions (the CLI and schedules split nothing on their own; the request is refused, saying so).
 */
export const MAX_TABLES_PER_RUN = 200;

const AdhocSchema = z.object({ source: z.string(), target: z.string() });

/** What starts a run: a schedule, the console, or the CLI all send this. */
export const RunRequestSchema = z.object({
  pipeline: z.string().min(1).default('default'),
  tables: z
    .array(z.string().min(1))
    .min(1)
    .max(MAX_TABLES_PER_RUN, {
      error: `one run takes at most ${MAX_TABLES_PER_RUN} tables (a Step Functions payload holds each table's result); run the rest in another`,
    }),
  options: RunOptionsSchema.default({ backupOnly: false, redshiftOnly: false, dryRun: false, resync: false }),
  /** `sync connections --source S --target T`: an ad-hoc pipeline between two named connections. */
  adhoc: AdhocSchema.optional(),
});
export type RunRequest = z.infer<typeof RunRequestSchema>;

/**
 * What Plan gets. The state machine sends `adhoc: null` for a pipeline (JSONPath has no optional fields) and the
 * table execution's ARN as `execution`, which the ledger keeps with the run for the reaper.
 */
export const PlanInputSchema = z.object({
  pipeline: z.string(),
  table: z.string(),
  options: RunOptionsSchema,
  adhoc: AdhocSchema.nullish().transform((a) => a ?? undefined),
  execution: z
    .string()
    .min(1)
    .nullish()
    .transform((e) => e ?? null),
});
export type PlanInput = z.infer<typeof PlanInputSchema>;

/**
 * A primary-key range: rows with key > lower (exclusive) and key <= upper (inclusive); null = unbounded. Plan makes
 * part 0 of each chunk; an extract that nears its deadline hands back the rest of its range as the next part (same
 * index, `part` + 1, `lower` = the last key it read), carrying what the earlier parts read so the chunk's result
 * counts them all. Plan's chunks carry neither field (state payloads stay small).
 */
export const ChunkSpecSchema = z.object({
  index: z.number().int().nonnegative(),
  lower: z.array(z.string()).nullable(),
  upper: z.array(z.string()).nullable(),
  part: z.number().int().nonnegative().optional(),
  /** Rows and bytes the earlier parts of this chunk wrote (a continuation only). */
  before: z.object({ rows: z.number().int().nonnegative(), bytes: z.number().int().nonnegative() }).optional(),
});
export type ChunkSpec = z.infer<typeof ChunkSpecSchema>;

/** Everything the later steps of one table's run need, decided once by Plan. */
export const RunContextSchema = z.object({
  runId: z.string(),
  /** The lease holder id (equal to runId: one run, one lease). */
  holder: z.string(),
  pipeline: z.string(),
  table: z.string(),
  tableKey: z.string(),
  strategy: z.string(),
  mode: z.enum(['merge', 'replace', 'append']),
  from: WatermarkSchema,
  to: WatermarkSchema,
  /** The watermark the commit writes (`to`, or lower while ids below it may still commit). */
  next: WatermarkSchema,
  kind: z.enum(['sync', 'resync', 'repair']).default('sync'),
  /** Whether the state machine verifies the table after the commit (`verify_every` is due). */
  verify: z.boolean().default(false),
  /** Keys deleted at the source that Load removes (or marks) before its merge: staged JSON, read by Load. */
  deletes: z
    .object({ key: z.string(), count: z.number().int().positive(), mode: z.enum(['hard', 'soft']) })
    .nullable()
    .default(null),
  advancesWatermark: z.boolean(),
  columns: z.array(MappedColumnSchema),
  /** Target names of the key and cursor columns. */
  primaryKey: z.array(z.string()),
  cursorColumns: z.array(z.string()),
  target: z.object({ schema: z.string(), name: z.string() }),
  /** Earlier staged (--backup-only) runs that this run's Load also loads, oldest first. */
  stagedRunIds: z.array(z.string()),
  backupOnly: z.boolean(),
  redshiftOnly: z.boolean(),
  /** custom_sql: the value of :upper_timestamp (NOW() - lag when planned). */
  customUpperTimestamp: z.string().nullable(),
  adhoc: z.object({ source: z.string(), target: z.string() }).optional(),
});
export type RunContext = z.infer<typeof RunContextSchema>;

/** Where a plan too large for a state payload was staged: a JSON array of ChunkSpec (an ItemReader's input). */
export const StagedChunksSchema = z.object({
  /** The S3 bucket (null for local staging, where the local runner reads it through the Staging port). */
  bucket: z.string().nullable(),
  key: z.string(),
});
export type StagedChunks = z.infer<typeof StagedChunksSchema>;

export const PlanOutputSchema = z.object({
  run: RunContextSchema.nullable(),
  /** The chunks to extract, inline; empty when they were staged (`stagedChunks`). */
  chunks: z.array(ChunkSpecSchema),
  /** How many chunks the run has, inline or staged. */
  chunkCount: z.number().int().nonnegative(),
  stagedChunks: StagedChunksSchema.nullable(),
  /** Why nothing will run (no new rows, nothing staged), when run is null. */
  skipped: z.string().nullable(),
  /** Where the commit horizon was and why. */
  horizon: z.string().nullable().default(null),
  /** For the run report: schema changes, a held watermark, NULL cursors, a missing grant. */
  warnings: z.array(z.string()).default([]),
  /** About how many rows the chunks hold (progress and its ETA); null when unknown. */
  rowsEstimate: z.number().int().nonnegative().nullable().default(null),
});
export type PlanOutput = z.infer<typeof PlanOutputSchema>;

export const ExtractInputSchema = z.object({ run: RunContextSchema, chunk: ChunkSpecSchema });
export type ExtractInput = z.infer<typeof ExtractInputSchema>;

/**
 * What an extract step returns. `rows` and `bytes` count every part of the chunk so far (this one and those before
 * it); `key` is this part's file. `rest` is the part still to read when this step stopped near its deadline: the
 * state machine runs it next (definition.ts), and the chunk is done when `rest` is null.
 */
export const ChunkResultSchema = z.object({
  index: z.number().int(),
  key: z.string(),
  rows: z.number().int().nonnegative(),
  bytes: z.number().int().nonnegative(),
  /** Greatest cursor seen (custom_sql only: its window is found while reading). */
  maxCursor: WatermarkSchema.nullable(),
  /** Values `oversize: truncate` cut to fit, per target column (absent when none). */
  truncated: z.record(z.string(), z.number().int().nonnegative()).optional(),
  rest: ChunkSpecSchema.nullable().default(null),
});
export type ChunkResult = z.infer<typeof ChunkResultSchema>;

/** What Load gets instead of chunk results after a Distributed Map, which does not carry them: the ledger has them. */
export const CHUNKS_IN_LEDGER = 'in-ledger';

export const LoadInputSchema = z.object({
  run: RunContextSchema,
  chunks: z.union([z.array(ChunkResultSchema), z.literal(CHUNKS_IN_LEDGER)]),
});
export type LoadInput = z.infer<typeof LoadInputSchema>;

export const LoadOutputSchema = z.object({
  rowsStaged: z.number().int(),
  rowsLoaded: z.number().int(),
  rowsDeleted: z.number().int(),
  /** Rows removed (hard) or newly marked deleted (soft) for keys deleted at the source; 0 for a load without deletes. */
  rowsDeletedAtSource: z.number().int().default(0),
  files: z.number().int(),
  /** What the load changed in the warehouse table's columns (widened, kept nullable, added, dropped). */
  schemaChanges: z.array(SchemaChangeSchema).default([]),
  /** Values of the loaded files that `oversize: truncate` cut to fit, per target column (from the ledger). */
  truncated: z.record(z.string(), z.number().int().nonnegative()).default({}),
  /**
   * The table keeps history (docs/history.md): then rowsLoaded counts versions opened, rowsDeleted versions closed
   * by a change, rowsDeletedAtSource versions closed by a delete (or, full_sync and resync, a key not read).
   */
  history: z.boolean().default(false),
});
export type LoadOutput = z.infer<typeof LoadOutputSchema>;

export const CommitInputSchema = z.object({ run: RunContextSchema, load: LoadOutputSchema.nullable() });
export type CommitInput = z.infer<typeof CommitInputSchema>;

export const CommitOutputSchema = z.object({
  runId: z.string(),
  table: z.string(),
  status: z.enum(['committed', 'staged']),
  watermark: WatermarkSchema,
  rowsExtracted: z.number().int(),
  rowsLoaded: z.number().int(),
});
export type CommitOutput = z.infer<typeof CommitOutputSchema>;

/** A Step Functions Catch output: the error's name and, usually, its message or the Lambda error as JSON. */
export const StepErrorSchema = z.object({ Error: z.string(), Cause: z.string().optional() });
export type StepError = z.infer<typeof StepErrorSchema>;

export const AbortInputSchema = z.object({
  run: RunContextSchema.nullable(),
  error: StepErrorSchema,
});
export type AbortInput = z.infer<typeof AbortInputSchema>;

const count = z.number().int().nonnegative();

/** What a verification found (`highwater verify`, or the state machine's Verify step): kept per table, in reports. */
export const VerificationRecordSchema = z.object({
  table: z.string(),
  at: z.string(),
  equal: z.boolean(),
  rows: z.object({ source: count, warehouse: count }),
  missing: count,
  extra: count,
  changed: count,
  pending: count,
  durationMs: count,
  /** Whether this verification followed a repair (`verify --repair`). */
  afterRepair: z.boolean(),
});
export type VerificationRecord = z.infer<typeof VerificationRecordSchema>;

export const VerifyInputSchema = z.object({ run: RunContextSchema });

// ——— A run's outcome: what the state machine's Summarize state holds, and the report made of it. ———

/** What Plan noted for the report; every table outcome carries it (definition.ts copies it from $.plan). */
const PlanNotes = {
  horizon: z.string().nullable().default(null),
  warnings: z.array(z.string()).default([]),
};

/**
 * One table's end in the state machine (definition.ts: TableSkipped, TableCommitted, TableFailed/AbortFailed).
 * Loose: a field added to the definition later must not make an older CLI unable to read the outcome.
 */
export const TableOutcomeSchema = z.discriminatedUnion('status', [
  z.looseObject({ table: z.string(), status: z.literal('skipped'), skipped: z.string().nullable(), ...PlanNotes }),
  z.looseObject({
    table: z.string(),
    status: z.enum(['committed', 'staged']),
    runId: z.string(),
    watermarkBefore: WatermarkSchema,
    watermarkAfter: WatermarkSchema,
    rowsExtracted: z.number().int(),
    rowsLoaded: z.number().int(),
    chunks: z.number().int(),
    load: LoadOutputSchema.nullable(),
    /** The Verify step's finding when it ran (verify_every), and its error when it failed. */
    verification: VerificationRecordSchema.nullable().default(null),
    verifyError: StepErrorSchema.nullable().default(null),
    ...PlanNotes,
  }),
  z.looseObject({
    table: z.string(),
    status: z.literal('failed'),
    run: z.looseObject({ runId: z.string(), from: WatermarkSchema }).nullable(),
    error: StepErrorSchema,
    abortError: StepErrorSchema.nullable().default(null),
    ...PlanNotes,
  }),
]);
export type TableOutcome = z.infer<typeof TableOutcomeSchema>;

/**
 * One table in the sync execution's result: its status and the table execution that ran it, whose output is the
 * table's outcome (TableOutcomeSchema). `execution` is null and `error` set when that execution itself failed,
 * timed out or was stopped (the sync state machine's TableExecutionFailed).
 */
export const TableSummarySchema = z.looseObject({
  table: z.string(),
  status: z.enum(['committed', 'staged', 'skipped', 'failed']),
  execution: z.string().nullable(),
  error: StepErrorSchema.nullable().default(null),
});
export type TableSummary = z.infer<typeof TableSummarySchema>;

/** The sync execution's result: the Done state's output, or the Summarize state's when some table failed. */
export const SummarySchema = z.object({ tables: z.array(TableSummarySchema) });
export type Summary = z.infer<typeof SummarySchema>;

export const TableStatusSchema = z.enum(['committed', 'staged', 'skipped', 'failed']);

/** What a history table's load did to its versions (docs/history.md, "The run report"). */
export const HistoryVersionsSchema = z.object({
  /** Versions opened: new keys, changed rows, keys back after a delete (the load's rowsLoaded). */
  opened: z.number().int(),
  /** Current versions closed because their row changed (each has a newly opened successor). */
  closedByChange: z.number().int(),
  /** Current versions closed because their key was deleted at the source (or, full_sync and resync, not read). */
  closedByDelete: z.number().int(),
});
export type HistoryVersions = z.infer<typeof HistoryVersionsSchema>;

/** One table of a run as the CLI reports it (`--json`, `--json-output`), for a local and a remote run alike. */
export const TableReportSchema = z.object({
  table: z.string(),
  status: TableStatusSchema,
  runId: z.string().nullable(),
  rowsExtracted: z.number().int(),
  rowsLoaded: z.number().int(),
  files: z.number().int(),
  /** Bytes staged; null when the run was remote (its chunk results stay in the execution's history). */
  bytes: z.number().int().nullable(),
  watermarkBefore: WatermarkSchema.nullable(),
  watermarkAfter: WatermarkSchema.nullable(),
  /** Null when the run was remote. */
  durationMs: z.number().int().nullable(),
  skipped: z.string().nullable(),
  error: z.string().nullable(),
  /** What the user can do about the error (the error's own suggestion), when it has one. */
  suggestion: z.string().nullable(),
  exitCode: z.number().int(),
  /** Where the commit horizon was and why (timestamp cursors). */
  horizon: z.string().nullable(),
  /** Things to know about this run: schema changes, a held watermark, NULL cursors, a missing grant. */
  warnings: z.array(z.string()),
  /** What the load changed in the warehouse table's columns. */
  schemaChanges: z.array(SchemaChangeSchema),
  /**
   * A history table's load (docs/history.md), else null: `rowsLoaded` is then `versions.opened`, versions rather
   * than rows.
   */
  versions: HistoryVersionsSchema.nullable(),
  /** The verification that followed this run's commit (verify_every), if one ran. */
  verification: VerificationRecordSchema.nullable(),
});
export type TableReport = z.infer<typeof TableReportSchema>;

export const RunStatusSchema = z.enum(['success', 'partial_success', 'failed']);
export type RunResult = z.infer<typeof RunStatusSchema>;

export const RunReportSchema = z.object({
  /** The execution's name (naming.ts executionName): on AWS the Step Functions execution, locally the same form. */
  executionId: z.string(),
  pipeline: z.string(),
  status: RunStatusSchema,
  tables: z.array(TableReportSchema),
  startedAt: z.string(),
  finishedAt: z.string(),
});
export type RunReport = z.infer<typeof RunReportSchema>;

/** What a local run tells its progress display as steps finish. */
export const RunEventSchema = z.discriminatedUnion('type', [
  /** A step of a table's run began: Plan, Load, Commit each once, extract at its first chunk. */
  z.object({
    type: z.literal('step-started'),
    table: z.string(),
    step: z.enum(['plan', 'extract', 'load', 'commit']),
  }),
  z.object({
    type: z.literal('planned'),
    table: z.string(),
    runId: z.string().nullable(),
    chunks: z.number().int(),
    skipped: z.string().nullable(),
    /** About how many rows the run reads (the plan's estimate); null when unknown. */
    rowsEstimate: z.number().int().nullable(),
  }),
  z.object({
    type: z.literal('chunk-done'),
    table: z.string(),
    index: z.number().int(),
    rows: z.number().int(),
    bytes: z.number().int(),
    done: z.number().int(),
    total: z.number().int(),
  }),
  z.object({
    type: z.literal('retry'),
    table: z.string(),
    step: z.string(),
    attempt: z.number().int(),
    error: z.string(),
  }),
  z.object({
    type: z.literal('loaded'),
    table: z.string(),
    rowsLoaded: z.number().int(),
    rowsStaged: z.number().int(),
  }),
  z.object({ type: z.literal('committed'), table: z.string(), status: z.enum(['committed', 'staged']) }),
  z.object({ type: z.literal('failed'), table: z.string(), error: z.string() }),
]);
export type RunEvent = z.infer<typeof RunEventSchema>;
