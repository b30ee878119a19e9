/**
 * The ledger's record shapes as zod schemas, shared by every StateStore adapter: records are checked before they
 * are written, so a bad record never becomes a bad row or item.
 */
import { z } from 'zod';
import { SourceColumnSchema, type Watermark, WatermarkSchema } from './model.js';

export const RUN_STATUSES = ['planned', 'extracting', 'staged', 'loaded', 'committed', 'failed', 'cleaned'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

const count = z.number().int().nonnegative();
const text = z.string();
const nullableText = z.string().nullable();

/** What the engine may write: checked before it reaches the file, so a bad record never becomes a bad row. */
export const watermarkSchema = WatermarkSchema;
/**
 * The process that holds a lease, recorded when that process drives the whole run (a local `highwater sync`), so
 * a later run on the same host can tell a dead holder from a live one (Processes, adapters/processes). A Lambda
 * records none: the process that plans a run on AWS is not the one that runs it.
 */
export const leaseOwnerSchema = z.object({
  /** os.hostname() of the process. */
  host: text.min(1),
  pid: z.number().int().positive(),
  /**
   * When the process started, as its host reads it (on Linux the starttime field of /proc/<pid>/stat, elsewhere
   * `ps -o lstart=`), so a pid reused by a newer process is not mistaken for the holder; null when unknown.
   */
  startTime: nullableText,
  /**
   * Which pid numbering `pid` belongs to (on Linux the boot id and pid namespace): a rebooted machine or a
   * container that shares the host name is not taken for this one; null when unknown.
   */
  pidSpace: nullableText,
});
export type LeaseOwner = z.infer<typeof leaseOwnerSchema>;

/** An ISO-8601 UTC instant as `Date.toISOString` writes it (fixed width, so string order is time order). */
const instant = z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/, 'expected an ISO-8601 UTC instant');

/** A key as canonical key text, one string per primary-key column. */
const keyText = z.array(text).min(1);

/**
 * One extracted file in staging: part `part` of planned chunk `index`. A chunk read in one step has one record,
 * part 0, with neither `after` nor `through`. An extract that stops near its deadline records the part it wrote
 * with `through` = the last key it read, and the next part starts `after` that key; a chunk is complete when its
 * parts run 0, 1, … without a gap, each starting where the one before stopped, and only the last has no `through`
 * (engine/chunk-parts.ts checks exactly that before a load). The part fields are left out when absent, so a chunk
 * read in one step is recorded as it always was. `startedAt`/`finishedAt` say when its extract ran (`highwater
 * runs`); absent on chunks recorded before they were kept. `truncated` counts, per target column, the values
 * `oversize: truncate` cut to fit the warehouse column (absent when none was).
 */
export const chunkSchema = z
  .object({
    index: count,
    key: text,
    rows: count,
    bytes: count,
    /** 0 when absent. */
    part: count.optional(),
    /** The key this part starts after (exclusive); absent for part 0, which starts where Plan's chunk does. */
    after: keyText.optional(),
    /** The last key this part read when the chunk continues in the next part; absent when this part ends it. */
    through: keyText.optional(),
    startedAt: instant.optional(),
    finishedAt: instant.optional(),
    truncated: z.record(z.string(), count).optional(),
  })
  .refine((c) => ((c.part ?? 0) === 0) === (c.after === undefined), {
    error: 'a continuation part (part > 0) starts after a key, and only a continuation does',
  });
export type ChunkRecord = z.infer<typeof chunkSchema>;

/** The part number of a chunk record (absent: 0). */
export function partOf(c: Pick<ChunkRecord, 'part'>): number {
  return c.part ?? 0;
}

/** Ledger order: by chunk, then part. */
export function byChunkAndPart(a: Pick<ChunkRecord, 'index' | 'part'>, b: Pick<ChunkRecord, 'index' | 'part'>): number {
  return a.index - b.index || partOf(a) - partOf(b);
}

/** When one step of a run began and ended; `finishedAt` null while it runs, or when the run died in it. */
export const stepTimeSchema = z.object({ startedAt: instant, finishedAt: instant.nullable() });
export type StepTime = z.infer<typeof stepTimeSchema>;

/**
 * When the run's Plan, Load and Commit ran (`highwater runs`, `highwater report`). Extract's time is its chunks'
 * (each chunk records its own). A step that did not run (yet) is absent.
 */
export const runStepsSchema = z.object({
  plan: stepTimeSchema.optional(),
  load: stepTimeSchema.optional(),
  commit: stepTimeSchema.optional(),
});
export type RunSteps = z.infer<typeof runStepsSchema>;

export const RUN_KINDS = ['sync', 'resync', 'repair'] as const;
/**
 * `sync`: an incremental run; `resync`: the whole table rebuilt (`highwater resync`); `repair`: the key ranges
 * `verify --repair` found different, read again and merged (the watermark stays).
 */
export type RunKind = (typeof RUN_KINDS)[number];

/** What Plan decided and saw for one run, beyond its window. */
export const runPlanSchema = z.object({
  kind: z.enum(RUN_KINDS),
  /** The watermark the commit writes: the run's `to`, or lower while ids below it may still commit (id_only). */
  next: watermarkSchema,
  /** The source's clock inside the planning snapshot (UTC): when this run observed the source. */
  snapshotAt: nullableText,
  /** The source's columns as planned (the next run compares its own with these). */
  columns: z.array(SourceColumnSchema),
  /** Rows with a NULL cursor this run read (every run reads them); null when the cursor cannot be NULL. */
  nullCursorRows: count.nullable(),
  /** Shown in the run report and by `status`: schema changes, a held watermark, a missing grant. */
  warnings: z.array(text),
  /** When this run looked for rows deleted at the source (delete_detection); null when it did not. */
  deletesCheckedAt: nullableText.default(null),
  /**
   * The Step Functions execution (its ARN, `$$.Execution.Id`) that runs this run, so the reaper can end the runs of
   * an execution that failed, timed out or was stopped; null for a run planned outside a state machine.
   */
  execution: nullableText.default(null),
});
export type RunPlanRecord = z.infer<typeof runPlanSchema>;

/** The watermark a committed run leaves: its plan's `next` (id_only may hold it below `to`), else `to`. */
export function watermarkAfter(run: Pick<RunRecord, 'to' | 'plan'>): Watermark {
  return run.plan?.next ?? run.to;
}

export const runRecordSchema = z.object({
  runId: text.min(1),
  /** The state key of (pipeline, source table, target) from naming.ts. */
  tableKey: text.min(1),
  pipeline: text,
  table: text,
  strategy: text,
  status: z.enum(RUN_STATUSES),
  /** The window this run covers: everything after `from` up to and including `to`. */
  from: watermarkSchema,
  to: watermarkSchema,
  /** Whether the commit moves the watermark (false for full_sync, which has no cursor). */
  advancesWatermark: z.boolean(),
  chunks: z.array(chunkSchema),
  plannedChunks: count,
  rowsExtracted: count,
  rowsLoaded: count.nullable(),
  bytes: count,
  startedAt: text,
  updatedAt: text,
  finishedAt: nullableText,
  error: nullableText,
  /** Set when s3clean removed the run's files. */
  cleanedAt: nullableText,
  /** Null for runs recorded before plans were kept in the ledger. */
  plan: runPlanSchema.nullable(),
  /** When each step ran; absent on runs recorded before step times were kept. */
  steps: runStepsSchema.optional(),
});
export type RunRecord = z.infer<typeof runRecordSchema>;

/**
 * One warehouse statement a load submitted and has not seen end, as the ledger keeps it before the load waits for it
 * (the Redshift Data API runs statements on after the caller is gone). A later load of the table looks at these
 * first: see docs/decisions/0006-load-runs-once.md.
 */
export const loadStatementSchema = z.object({
  /** The warehouse's statement id (Data API UUID). */
  id: text.min(1),
  /** The run whose load submitted it. */
  runId: text.min(1),
  /** What the statement is in the load: `apply` is the one transaction that changes the target. */
  phase: z.enum(['stage', 'keys', 'widen', 'apply', 'cleanup']),
  /** ISO-8601 UTC, when it was submitted (the Data API keeps a statement 24 hours). */
  submittedAt: text,
  /** What the warehouse adapter needs to rebuild the load's result from a finished apply (its own schema). */
  detail: z.record(z.string(), z.unknown()).optional(),
});
export type LoadStatement = z.infer<typeof loadStatementSchema>;

/** Who holds the load of a table: one Load attempt at a time, until its invocation is ended from outside. */
export const loadClaimSchema = z.object({
  tableKey: text.min(1),
  runId: text.min(1),
  /** The Load attempt (one invocation) holding the claim. */
  attempt: text.min(1),
  /** ISO-8601 UTC: when the holder is certainly gone (its invocation's deadline); a later attempt may take over then. */
  until: text,
  /** Released by its holder: every statement it submitted had ended. */
  released: z.boolean(),
  /** Statements submitted by this and earlier attempts within the Data API's 24-hour retention, oldest first. */
  statements: z.array(loadStatementSchema),
});
export type LoadClaim = z.infer<typeof loadClaimSchema>;

/**
 * A bastion's host key as first seen by a local run (trust on first use): later connections must present the same
 * key. Keyed by `host:port` of the bastion.
 */
export const hostKeyRecordSchema = z.object({
  bastion: text.min(1),
  /** `SHA256:<base64>` as `ssh-keygen -lf` prints it. */
  fingerprint: text.regex(/^SHA256:[A-Za-z0-9+/]{43}$/),
  firstSeenAt: text,
});
export type HostKeyRecord = z.infer<typeof hostKeyRecordSchema>;
