/**
 * The payloads the steps hand each other (Plan → ExtractChunk → Load → Commit, Abort on failure). They are the
 * Step Functions state payloads on AWS and plain objects locally, so every handler zod-parses its input.
 */
import { z } from 'zod';
import { MappedColumnSchema, WatermarkSchema } from './model.js';

export { MappedColumnSchema, SourceColumnSchema, WatermarkSchema } from './model.js';

export const RunOptionsSchema = z.object({
  limit: z.number().int().positive().optional(),
  maxWorkers: z.number().int().positive().max(64).optional(),
  maxChunks: z.number().int().positive().optional(),
  backupOnly: z.boolean().default(false),
  redshiftOnly: z.boolean().default(false),
  dryRun: z.boolean().default(false),
  /** `highwater resync`: read the whole table again and replace the warehouse table with it, atomically. */
  resync: z.boolean().default(false),
});
export type RunOptions = z.infer<typeof RunOptionsSchema>;

/** What starts a run: a schedule, the console, or the CLI all send this. */
export const RunRequestSchema = z.object({
  pipeline: z.string().min(1).default('default'),
  tables: z.array(z.string().min(1)).min(1),
  options: RunOptionsSchema.default({ backupOnly: false, redshiftOnly: false, dryRun: false, resync: false }),
  /** `sync connections --source S --target T`: an ad-hoc pipeline between two named connections. */
  adhoc: z.object({ source: z.string(), target: z.string() }).optional(),
});
export type RunRequest = z.infer<typeof RunRequestSchema>;

export const PlanInputSchema = z.object({
  pipeline: z.string(),
  table: z.string(),
  options: RunOptionsSchema,
  adhoc: z.object({ source: z.string(), target: z.string() }).optional(),
});
export type PlanInput = z.infer<typeof PlanInputSchema>;

/** A primary-key range: rows with key > lower (exclusive) and key <= upper (inclusive); null = unbounded. */
export const ChunkSpecSchema = z.object({
  index: z.number().int().nonnegative(),
  lower: z.array(z.string()).nullable(),
  upper: z.array(z.string()).nullable(),
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
  kind: z.enum(['sync', 'resync']).default('sync'),
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
});
export type PlanOutput = z.infer<typeof PlanOutputSchema>;

export const ExtractInputSchema = z.object({ run: RunContextSchema, chunk: ChunkSpecSchema });
export type ExtractInput = z.infer<typeof ExtractInputSchema>;

export const ChunkResultSchema = z.object({
  index: z.number().int(),
  key: z.string(),
  rows: z.number().int().nonnegative(),
  bytes: z.number().int().nonnegative(),
  /** Greatest cursor seen (custom_sql only: its window is found while reading). */
  maxCursor: WatermarkSchema.nullable(),
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
  files: z.number().int(),
  /** What the load changed in the warehouse table's columns (widened, kept nullable, added, dropped). */
  schemaChanges: z
    .array(
      z.object({
        column: z.string(),
        change: z.enum(['added', 'widened', 'kept', 'dropped']),
        from: z.string().optional(),
        to: z.string().optional(),
      }),
    )
    .default([]),
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

export const AbortInputSchema = z.object({
  run: RunContextSchema.nullable(),
  /** The Step Functions Catch output: {Error, Cause}. */
  error: z.object({ Error: z.string(), Cause: z.string().optional() }),
});
export type AbortInput = z.infer<typeof AbortInputSchema>;
