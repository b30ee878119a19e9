/**
 * Item ↔ record mapping. Items are parsed with zod on the way out, so a hand-edited or foreign item fails loudly
 * with the table and key named, and an item written by a newer schema version is refused rather than misread.
 */
import { z } from 'zod';
import { WatermarkSchema } from '../../domain/model.js';
import { RUN_STATUSES, runPlanSchema, runStepsSchema } from '../../domain/records.js';
import { DataError } from '../../errors.js';
import type { ChunkRecord, Lease, LeaseOwner, RunRecord, WatermarkRecord } from '../../ports/index.js';
import {
  chunkKey,
  type Item,
  LEASE_INDEX_PK,
  leaseKey,
  runKey,
  runRefKey,
  SCHEMA_VERSION,
  WATERMARK_INDEX_PK,
  watermarkKey,
} from './keys.js';
import { STATE_TABLE_TTL_ATTRIBUTE } from './table.js';

/** DynamoDB may delete an expired lease this long after expiry; its holder may still renew it until then. */
export const LEASE_TTL_GRACE_SECONDS = 24 * 60 * 60;

const count = z.number().int().nonnegative();
const base = { pk: z.string(), sk: z.string(), schemaVersion: z.literal(SCHEMA_VERSION) };
const watermarkValue = WatermarkSchema;

// The owner attributes are absent on leases taken without one (and on items written before owners were recorded).
const leaseItem = z
  .object({
    ...base,
    tableKey: z.string(),
    holder: z.string(),
    expiresAt: z.string(),
    ownerHost: z.string().optional(),
    ownerPid: z.number().int().positive().optional(),
    ownerStartTime: z.string().optional(),
    ownerPidSpace: z.string().optional(),
  })
  .refine((r) => (r.ownerHost === undefined) === (r.ownerPid === undefined), {
    message: 'ownerHost and ownerPid must both be present or both absent',
  });
const watermarkItem = z.object({
  ...base,
  tableKey: z.string(),
  watermark: watermarkValue,
  updatedAt: z.string(),
  lastRunId: z.string().nullable(),
  manual: z.boolean(),
});
const keyList = z.array(z.string()).min(1);
// startedAt/finishedAt are absent on chunks recorded before extract times were kept.
const chunkItem = z.object({
  ...base,
  runId: z.string(),
  index: count,
  key: z.string(),
  rows: count,
  bytes: count,
  startedAt: z.string().optional(),
  finishedAt: z.string().optional(),
  truncated: z.record(z.string(), count).optional(),
  // A continuation part (ChunkRecord): absent for a chunk read in one step.
  part: count.optional(),
  after: keyList.optional(),
  through: keyList.optional(),
});
const runRefItem = z.object({ ...base, runId: z.string(), tableKey: z.string() });
const runItem = z.object({
  ...base,
  runId: z.string(),
  tableKey: z.string(),
  pipeline: z.string(),
  table: z.string(),
  strategy: z.string(),
  status: z.enum(RUN_STATUSES),
  from: watermarkValue,
  to: watermarkValue,
  advancesWatermark: z.boolean(),
  plannedChunks: count,
  rowsExtracted: count,
  rowsLoaded: count.nullable(),
  bytes: count,
  startedAt: z.string(),
  updatedAt: z.string(),
  finishedAt: z.string().nullable(),
  error: z.string().nullable(),
  cleanedAt: z.string().nullable(),
  // Absent on items written before plans were kept.
  plan: runPlanSchema.nullable().optional(),
  // Absent on items written before step times were kept.
  steps: runStepsSchema.optional(),
  // Sums of the chunk items, kept exact by every chunk write (rowsExtracted/bytes may be set apart from them).
  chunkRows: count,
  chunkBytes: count,
  // Bumped by every write to the run item: commitRun and putRun are conditional on it.
  version: count,
});

export type RunItem = z.output<typeof runItem>;

function parseItem<S extends z.ZodType>(schema: S, table: string, what: string, item: Item): z.output<S> {
  const parsed = schema.safeParse(item);
  if (!parsed.success) {
    throw new DataError(
      `DynamoDB state table ${table}: malformed ${what} item ${String(item.pk)} / ${String(item.sk)}: ${z.prettifyError(parsed.error)}`,
    );
  }
  return parsed.data;
}

// ── Leases ────────────────────────────────────────────────────────────────────────────────────────────────────

/** The owner as lease item attributes; unknown parts are left out (the DocumentClient refuses undefined). */
export function leaseOwnerAttributes(owner: LeaseOwner | null): Item {
  if (owner === null) return {};
  return {
    ownerHost: owner.host,
    ownerPid: owner.pid,
    ...(owner.startTime === null ? {} : { ownerStartTime: owner.startTime }),
    ...(owner.pidSpace === null ? {} : { ownerPidSpace: owner.pidSpace }),
  };
}

/** Epoch seconds after which DynamoDB may delete a lease item. */
export function leaseTtl(expiresAt: string): number {
  return Math.ceil(Date.parse(expiresAt) / 1000) + LEASE_TTL_GRACE_SECONDS;
}

export function leaseToItem(lease: Lease): Item {
  return {
    ...leaseKey(lease.tableKey),
    itemType: 'lease',
    schemaVersion: SCHEMA_VERSION,
    // The sparse index's lease partition: listLeases queries it instead of scanning the table.
    gsi1pk: LEASE_INDEX_PK,
    gsi1sk: lease.tableKey,
    tableKey: lease.tableKey,
    holder: lease.holder,
    expiresAt: lease.expiresAt,
    ...leaseOwnerAttributes(lease.owner),
    [STATE_TABLE_TTL_ATTRIBUTE]: leaseTtl(lease.expiresAt),
  };
}

export function leaseFromItem(table: string, item: Item): Lease {
  const r = parseItem(leaseItem, table, 'lease', item);
  const owner: LeaseOwner | null =
    r.ownerHost === undefined || r.ownerPid === undefined
      ? null
      : { host: r.ownerHost, pid: r.ownerPid, startTime: r.ownerStartTime ?? null, pidSpace: r.ownerPidSpace ?? null };
  return { tableKey: r.tableKey, holder: r.holder, expiresAt: r.expiresAt, owner };
}

// ── Watermarks ────────────────────────────────────────────────────────────────────────────────────────────────

export function watermarkToItem(record: WatermarkRecord): Item {
  return {
    ...watermarkKey(record.tableKey),
    itemType: 'watermark',
    schemaVersion: SCHEMA_VERSION,
    gsi1pk: WATERMARK_INDEX_PK,
    gsi1sk: record.tableKey,
    tableKey: record.tableKey,
    watermark: { ts: record.watermark.ts, id: record.watermark.id },
    updatedAt: record.updatedAt,
    lastRunId: record.lastRunId,
    manual: record.manual,
  };
}

export function watermarkFromItem(table: string, item: Item): WatermarkRecord {
  const r = parseItem(watermarkItem, table, 'watermark', item);
  return {
    tableKey: r.tableKey,
    watermark: { ts: r.watermark.ts, id: r.watermark.id },
    updatedAt: r.updatedAt,
    lastRunId: r.lastRunId,
    manual: r.manual,
  };
}

// ── Runs and chunks ───────────────────────────────────────────────────────────────────────────────────────────

export function runRefToItem(runId: string, tableKey: string): Item {
  return { ...runRefKey(runId), itemType: 'runRef', schemaVersion: SCHEMA_VERSION, runId, tableKey };
}

export function runRefFromItem(table: string, item: Item): string {
  return parseItem(runRefItem, table, 'run reference', item).tableKey;
}

export function chunkToItem(tableKey: string, runId: string, chunk: ChunkRecord): Item {
  return {
    ...chunkKey(tableKey, runId, chunk.index, chunk.part ?? 0),
    itemType: 'chunk',
    schemaVersion: SCHEMA_VERSION,
    runId,
    index: chunk.index,
    key: chunk.key,
    rows: chunk.rows,
    bytes: chunk.bytes,
    // The DocumentClient refuses undefined: unknown times are left out.
    ...(chunk.startedAt === undefined ? {} : { startedAt: chunk.startedAt }),
    ...(chunk.finishedAt === undefined ? {} : { finishedAt: chunk.finishedAt }),
    ...(chunk.truncated && Object.keys(chunk.truncated).length > 0 ? { truncated: chunk.truncated } : {}),
    ...(chunk.part ? { part: chunk.part } : {}),
    ...(chunk.after ? { after: chunk.after } : {}),
    ...(chunk.through ? { through: chunk.through } : {}),
  };
}

export function chunkFromItem(table: string, item: Item): ChunkRecord {
  const r = parseItem(chunkItem, table, 'chunk', item);
  const chunk: ChunkRecord = { index: r.index, key: r.key, rows: r.rows, bytes: r.bytes };
  if (r.part) chunk.part = r.part;
  if (r.after) chunk.after = r.after;
  if (r.through) chunk.through = r.through;
  if (r.startedAt !== undefined) chunk.startedAt = r.startedAt;
  if (r.finishedAt !== undefined) chunk.finishedAt = r.finishedAt;
  if (r.truncated) chunk.truncated = r.truncated;
  return chunk;
}

/** The run's own attributes (everything in RunRecord except the chunk list, which lives in chunk items). */
export function runAttributes(run: RunRecord): Item {
  return {
    runId: run.runId,
    tableKey: run.tableKey,
    pipeline: run.pipeline,
    table: run.table,
    strategy: run.strategy,
    status: run.status,
    from: { ts: run.from.ts, id: run.from.id },
    to: { ts: run.to.ts, id: run.to.id },
    advancesWatermark: run.advancesWatermark,
    plannedChunks: run.plannedChunks,
    rowsExtracted: run.rowsExtracted,
    rowsLoaded: run.rowsLoaded,
    bytes: run.bytes,
    startedAt: run.startedAt,
    updatedAt: run.updatedAt,
    finishedAt: run.finishedAt,
    error: run.error,
    cleanedAt: run.cleanedAt,
    plan: run.plan,
    ...(run.steps === undefined ? {} : { steps: run.steps }),
  };
}

export function runToItem(run: RunRecord, version: number): Item {
  return {
    ...runKey(run.tableKey, run.runId),
    itemType: 'run',
    schemaVersion: SCHEMA_VERSION,
    ...runAttributes(run),
    chunkRows: run.chunks.reduce((s, c) => s + c.rows, 0),
    chunkBytes: run.chunks.reduce((s, c) => s + c.bytes, 0),
    version,
  };
}

export function runItemFrom(table: string, item: Item): RunItem {
  return parseItem(runItem, table, 'run', item);
}

export function runFromItem(r: RunItem, chunks: ChunkRecord[]): RunRecord {
  return {
    runId: r.runId,
    tableKey: r.tableKey,
    pipeline: r.pipeline,
    table: r.table,
    strategy: r.strategy,
    status: r.status,
    from: { ts: r.from.ts, id: r.from.id },
    to: { ts: r.to.ts, id: r.to.id },
    advancesWatermark: r.advancesWatermark,
    chunks,
    plannedChunks: r.plannedChunks,
    rowsExtracted: r.rowsExtracted,
    rowsLoaded: r.rowsLoaded,
    bytes: r.bytes,
    startedAt: r.startedAt,
    updatedAt: r.updatedAt,
    finishedAt: r.finishedAt,
    error: r.error,
    cleanedAt: r.cleanedAt,
    plan: r.plan ?? null,
    ...(r.steps === undefined ? {} : { steps: r.steps }),
  };
}
