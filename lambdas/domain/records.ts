/**
 * The ledger's record shapes as zod schemas, shared by every StateStore adapter: records are checked before they
 * are written, so a bad record never becomes a bad row or item.
 */
import { z } from 'zod';
import { DataError } from '../errors.js';
import type { LeaseOwner, RunRecord, RunStatus } from '../ports/index.js';
import { SourceColumnSchema } from './manifests.js';
import type { Watermark } from './model.js';

export const RUN_STATUSES = [
  'planned',
  'extracting',
  'staged',
  'loaded',
  'committed',
  'failed',
  'cleaned',
] as const satisfies readonly RunStatus[];

const count = z.number().int().nonnegative();
const text = z.string();
const nullableText = z.string().nullable();

/** What the engine may write: checked before it reaches the file, so a bad record never becomes a bad row. */
export const watermarkSchema = z.object({ ts: nullableText, id: nullableText });
export const leaseOwnerSchema = z.object({
  host: text.min(1),
  pid: z.number().int().positive(),
  startTime: nullableText,
  pidSpace: nullableText,
});
export const chunkSchema = z.object({ index: count, key: text, rows: count, bytes: count });
export const runPlanSchema = z.object({
  kind: z.enum(['sync', 'resync']),
  next: watermarkSchema,
  snapshotAt: nullableText,
  columns: z.array(SourceColumnSchema),
  nullCursorRows: count.nullable(),
  warnings: z.array(text),
});

/** The watermark a committed run leaves: its plan's `next` (id_only may hold it below `to`), else `to`. */
export function watermarkAfter(run: Pick<RunRecord, 'to' | 'plan'>): Watermark {
  return run.plan?.next ?? run.to;
}

export const runRecordSchema = z.object({
  runId: text.min(1),
  tableKey: text.min(1),
  pipeline: text,
  table: text,
  strategy: text,
  status: z.enum(RUN_STATUSES),
  from: watermarkSchema,
  to: watermarkSchema,
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
  cleanedAt: nullableText,
  plan: runPlanSchema.nullable(),
});

/** Validates a record the engine hands in; `what` names the operation and run for the error. */
export function checkRunRecord(what: string, run: unknown): RunRecord {
  const parsed = runRecordSchema.safeParse(run);
  if (!parsed.success) throw new DataError(`${what}: invalid run record: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

/** Validates a lease owner the engine hands in (null: none recorded). */
export function checkLeaseOwner(tableKey: string, owner: LeaseOwner | null | undefined): LeaseOwner | null {
  if (owner === undefined || owner === null) return null;
  const parsed = leaseOwnerSchema.safeParse(owner);
  if (!parsed.success) throw new DataError(`lease on ${tableKey}: invalid owner: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}
