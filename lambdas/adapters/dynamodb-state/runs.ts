/**
 * The run ledger. A run is one item in its table's partition (`RUN#<runId>`), its chunks are items beside it
 * (`CHUNK#<runId>#<index>`), and a small reference item (`RUNREF#<runId>`) finds the partition from a run id.
 * The run item keeps exact sums of its chunk items (`chunkRows`, `chunkBytes`), so recording a chunk is one
 * transaction of two items whatever the number of chunks, and concurrent chunk writers never lose a count.
 */
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { byChunkAndPart, chunkSchema, partOf } from '../../domain/records.js';
import { DataError } from '../../errors.js';
import { checkRunRecord } from '../../ports/checks.js';
import type { ChunkRecord, RunRecord, RunStatus } from '../../ports/index.js';
import { FINISHED, type StoreContext } from './context.js';
import { attributeNames, MAX_TRANSACT_ITEMS, type TransactItem } from './db.js';
import { failedCondition, rawStringAttribute } from './errors.js';
import {
  chunkFromItem,
  chunkToItem,
  type RunItem,
  runAttributes,
  runFromItem,
  runItemFrom,
  runRefFromItem,
  runRefToItem,
  runToItem,
} from './items.js';
import {
  CHUNK_SK_PREFIX,
  chunkKey,
  chunkPrefix,
  compareBytes,
  RUN_SK_PREFIX,
  runKey,
  runRefKey,
  tablePk,
} from './keys.js';
import { RetryAttempt, withOptimisticRetry } from './retry.js';

/** Above this many runs, listRuns reads the table's chunks in one query instead of one query per run. */
const PER_RUN_CHUNK_QUERIES = 16;

function notFound(ctx: StoreContext, what: string, runId: string): DataError {
  return new DataError(`${what}: run ${runId} is not in the DynamoDB state table ${ctx.db.table}`);
}

function checkChunk(runId: string, chunk: ChunkRecord): ChunkRecord {
  const parsed = chunkSchema.safeParse(chunk);
  if (!parsed.success) {
    throw new DataError(
      `chunk of run ${runId}: index, part, rows and bytes must be non-negative integers, key a string, and only a part > 0 starts after a key (${parsed.error.issues.map((i) => i.message).join('; ')})`,
    );
  }
  return parsed.data;
}

/** One record per (index, part), the last one winning (as repeated upserts would), in ledger order. */
function distinctChunks(chunks: readonly ChunkRecord[]): ChunkRecord[] {
  const byPart = new Map<string, ChunkRecord>();
  for (const c of chunks) byPart.set(`${c.index}#${partOf(c)}`, c);
  return [...byPart.values()].sort(byChunkAndPart);
}

export async function readRef(ctx: StoreContext, runId: string): Promise<string | undefined> {
  const item = await ctx.db.get(`run reference ${runId}`, runRefKey(runId));
  return item === undefined ? undefined : runRefFromItem(ctx.db.table, item);
}

export async function readRunItem(ctx: StoreContext, tableKey: string, runId: string): Promise<RunItem | undefined> {
  const item = await ctx.db.get(`run ${runId}`, runKey(tableKey, runId));
  return item === undefined ? undefined : runItemFrom(ctx.db.table, item);
}

interface StoredChunk {
  sk: string;
  runId: string;
  chunk: ChunkRecord;
}

async function queryChunks(ctx: StoreContext, op: string, tableKey: string, prefix: string): Promise<StoredChunk[]> {
  const condition = '#pk = :pk AND begins_with(#sk, :prefix)';
  const items = await ctx.db.query(op, {
    KeyConditionExpression: condition,
    ExpressionAttributeNames: attributeNames(condition),
    ExpressionAttributeValues: { ':pk': tablePk(tableKey), ':prefix': prefix },
    ConsistentRead: true,
  });
  return items.map((i) => ({ sk: String(i.sk), runId: String(i.runId), chunk: chunkFromItem(ctx.db.table, i) }));
}

async function readChunks(ctx: StoreContext, tableKey: string, runId: string): Promise<StoredChunk[]> {
  return queryChunks(ctx, `chunks of run ${runId}`, tableKey, chunkPrefix(runId));
}

export async function getRun(ctx: StoreContext, runId: string): Promise<RunRecord | undefined> {
  const tableKey = await readRef(ctx, runId);
  if (tableKey === undefined) return undefined;
  const [item, chunks] = await Promise.all([readRunItem(ctx, tableKey, runId), readChunks(ctx, tableKey, runId)]);
  if (item === undefined) return undefined;
  return runFromItem(item, chunks.map((c) => c.chunk).sort(byChunkAndPart));
}

interface PreviousRun {
  tableKey: string;
  item: RunItem | undefined;
  chunkSks: string[];
}

async function readPrevious(ctx: StoreContext, runId: string): Promise<PreviousRun | undefined> {
  const tableKey = await readRef(ctx, runId);
  if (tableKey === undefined) return undefined;
  const [item, chunks] = await Promise.all([readRunItem(ctx, tableKey, runId), readChunks(ctx, tableKey, runId)]);
  return { tableKey, item, chunkSks: chunks.map((c) => c.sk) };
}

/**
 * Writes a whole run, replacing its chunk items, conditional on the run item being as `previous` read it. Up to
 * 100 items this is one transaction; a larger chunk list is written first in transactions of 100 and the run item
 * last, so a reader may briefly see the new chunks beside the old run item (the engine never writes such a list).
 */
async function writeRun(ctx: StoreContext, op: string, next: RunRecord, previous: PreviousRun | undefined) {
  const table = ctx.db.table;
  const chunks = distinctChunks(next.chunks);
  const chunkPuts = chunks.map((c) => chunkToItem(next.tableKey, next.runId, c));
  const moved = previous !== undefined && previous.tableKey !== next.tableKey;
  const keep = new Set(moved ? [] : chunkPuts.map((i) => String(i.sk)));
  const chunkOps: TransactItem[] = [
    ...(previous?.chunkSks ?? [])
      .filter((sk) => !keep.has(sk))
      .map((sk) => ({ Delete: { TableName: table, Key: { pk: tablePk(previous?.tableKey ?? ''), sk } } })),
    ...chunkPuts.map((Item) => ({ Put: { TableName: table, Item } })),
  ];

  const oldVersion = previous?.item?.version;
  const refCondition = previous === undefined ? 'attribute_not_exists(#pk)' : '#tableKey = :oldTableKey';
  const runCondition = oldVersion === undefined || moved ? 'attribute_not_exists(#pk)' : '#version = :v';
  const final: TransactItem[] = [
    {
      Put: {
        TableName: table,
        Item: runRefToItem(next.runId, next.tableKey),
        ConditionExpression: refCondition,
        ExpressionAttributeNames: attributeNames(refCondition),
        ...(previous === undefined ? {} : { ExpressionAttributeValues: { ':oldTableKey': previous.tableKey } }),
      },
    },
    {
      Put: {
        TableName: table,
        Item: runToItem({ ...next, chunks }, (oldVersion ?? 0) + 1),
        ConditionExpression: runCondition,
        ExpressionAttributeNames: attributeNames(runCondition),
        ...(runCondition === '#version = :v' ? { ExpressionAttributeValues: { ':v': oldVersion } } : {}),
      },
    },
  ];
  if (moved && oldVersion !== undefined) {
    final.push({
      Delete: {
        TableName: table,
        Key: runKey(previous.tableKey, next.runId),
        ConditionExpression: '#version = :v',
        ExpressionAttributeNames: { '#version': 'version' },
        ExpressionAttributeValues: { ':v': oldVersion },
      },
    });
  }
  const changed = (reasons: { Code?: string }[]) => {
    if (reasons.some(failedCondition)) throw new RetryAttempt(`${op}: the run changed while it was written`);
  };
  if (final.length + chunkOps.length <= MAX_TRANSACT_ITEMS) {
    await ctx.db.transact(op, [...final, ...chunkOps], changed);
    return;
  }
  for (let i = 0; i < chunkOps.length; i += MAX_TRANSACT_ITEMS) {
    await ctx.db.transact(op, chunkOps.slice(i, i + MAX_TRANSACT_ITEMS), () => undefined);
  }
  await ctx.db.transact(op, final, changed);
}

export async function putRun(ctx: StoreContext, run: RunRecord): Promise<void> {
  const checked = checkRunRecord(`putRun ${run.runId}`, run);
  const op = `putRun ${checked.runId}`;
  await withOptimisticRetry(op, async () => writeRun(ctx, op, checked, await readPrevious(ctx, checked.runId)));
}

/** The run attributes a patch may set (runId and tableKey are the run's identity; chunks are items of their own). */
const PATCHABLE: ReadonlySet<string> = new Set<keyof RunRecord>([
  'pipeline',
  'table',
  'strategy',
  'status',
  'from',
  'to',
  'advancesWatermark',
  'plannedChunks',
  'rowsExtracted',
  'rowsLoaded',
  'bytes',
  'startedAt',
  'updatedAt',
  'finishedAt',
  'error',
  'cleanedAt',
  'plan',
  'steps',
]);

export async function updateRun(
  ctx: StoreContext,
  runId: string,
  patch: Partial<Omit<RunRecord, 'runId' | 'tableKey'>>,
): Promise<void> {
  const op = `updateRun ${runId}`;
  await withOptimisticRetry(op, async () => {
    const previous = await readPrevious(ctx, runId);
    if (previous?.item === undefined) throw notFound(ctx, 'updateRun', runId);
    const current = runFromItem(previous.item, []);
    const next = checkRunRecord(op, {
      ...current,
      ...patch,
      runId,
      tableKey: current.tableKey,
      updatedAt: patch.updatedAt ?? ctx.now().toISOString(),
    });
    if (patch.chunks !== undefined) {
      await writeRun(ctx, op, next, previous);
      return;
    }
    // Only the patched attributes are written, so a concurrent chunk write's sums are never overwritten.
    const values = runAttributes(next);
    const fields = [...new Set([...Object.keys(patch), 'updatedAt'])].filter(
      (k) => PATCHABLE.has(k) && values[k] !== undefined,
    );
    const update = `SET ${fields.map((f) => `#${f} = :${f}`).join(', ')}, #version = #version + :one`;
    const condition = 'attribute_exists(#pk)';
    const result = await ctx.db.conditional(
      op,
      new UpdateCommand({
        TableName: ctx.db.table,
        Key: runKey(previous.tableKey, runId),
        UpdateExpression: update,
        ConditionExpression: condition,
        ExpressionAttributeNames: attributeNames(update, condition),
        ExpressionAttributeValues: { ...Object.fromEntries(fields.map((f) => [`:${f}`, values[f]])), ':one': 1 },
      }),
    );
    if (!result.ok) throw new RetryAttempt(`${op}: the run disappeared while it was updated`);
  });
}

export async function recordChunk(ctx: StoreContext, runId: string, chunk: ChunkRecord): Promise<void> {
  const c = checkChunk(runId, chunk);
  const what = `recordChunk ${c.index}${c.part ? ` part ${c.part}` : ''}`;
  const op = `${what} of run ${runId}`;
  await withOptimisticRetry(op, async () => {
    const tableKey = await readRef(ctx, runId);
    if (tableKey === undefined) throw notFound(ctx, what, runId);
    const oldItem = await ctx.db.get(op, chunkKey(tableKey, runId, c.index, partOf(c)));
    const old = oldItem === undefined ? undefined : chunkFromItem(ctx.db.table, oldItem);
    const dRows = c.rows - (old?.rows ?? 0);
    const dBytes = c.bytes - (old?.bytes ?? 0);
    // Right-hand sides read the values before the update: rowsExtracted becomes exactly the new chunk sum.
    const update =
      'SET #rowsExtracted = #chunkRows + :dRows, #bytes = #chunkBytes + :dBytes, #chunkRows = #chunkRows + :dRows, ' +
      '#chunkBytes = #chunkBytes + :dBytes, #updatedAt = :now, #version = #version + :one';
    const runCondition = 'attribute_exists(#pk) AND NOT (#status IN (:s0, :s1, :s2))';
    const chunkCondition =
      old === undefined ? 'attribute_not_exists(#pk)' : '#rows = :oldRows AND #bytes = :oldBytes AND #key = :oldKey';
    await ctx.db.transact(
      op,
      [
        {
          Update: {
            TableName: ctx.db.table,
            Key: runKey(tableKey, runId),
            UpdateExpression: update,
            ConditionExpression: runCondition,
            ExpressionAttributeNames: attributeNames(update, runCondition),
            ExpressionAttributeValues: {
              ':dRows': dRows,
              ':dBytes': dBytes,
              ':now': ctx.now().toISOString(),
              ':one': 1,
              ...Object.fromEntries(FINISHED.map((s, i) => [`:s${i}`, s])),
            },
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          },
        },
        {
          Put: {
            TableName: ctx.db.table,
            Item: chunkToItem(tableKey, runId, c),
            ConditionExpression: chunkCondition,
            ExpressionAttributeNames: attributeNames(chunkCondition),
            ...(old === undefined
              ? {}
              : { ExpressionAttributeValues: { ':oldRows': old.rows, ':oldBytes': old.bytes, ':oldKey': old.key } }),
          },
        },
      ],
      (reasons) => {
        if (failedCondition(reasons[0])) {
          const status = rawStringAttribute(reasons[0]?.Item, 'status');
          if (status === undefined) throw notFound(ctx, what, runId);
          throw new DataError(`${what}: run ${runId} is already ${status}; it takes no more chunks`);
        }
        if (failedCondition(reasons[1])) throw new RetryAttempt(`${op}: another writer recorded this chunk`);
      },
    );
  });
}

export async function listRuns(
  ctx: StoreContext,
  tableKey: string,
  filter?: { status?: RunStatus[] },
): Promise<RunRecord[]> {
  const statuses = filter?.status;
  if (statuses !== undefined && statuses.length === 0) return [];
  const op = `listRuns ${tableKey}`;
  const keyCondition = '#pk = :pk AND begins_with(#sk, :prefix)';
  const statusFilter =
    statuses === undefined ? undefined : `#status IN (${statuses.map((_, i) => `:s${i}`).join(', ')})`;
  const items = await ctx.db.query(op, {
    KeyConditionExpression: keyCondition,
    ...(statusFilter === undefined ? {} : { FilterExpression: statusFilter }),
    ExpressionAttributeNames: attributeNames(keyCondition, statusFilter),
    ExpressionAttributeValues: {
      ':pk': tablePk(tableKey),
      ':prefix': RUN_SK_PREFIX,
      ...Object.fromEntries((statuses ?? []).map((s, i) => [`:s${i}`, s])),
    },
    ConsistentRead: true,
  });
  const runs = items.map((i) => runItemFrom(ctx.db.table, i)).sort((a, b) => compareBytes(a.runId, b.runId));

  const byRun = new Map<string, ChunkRecord[]>(runs.map((r) => [r.runId, []]));
  const stored =
    runs.length <= PER_RUN_CHUNK_QUERIES
      ? (await Promise.all(runs.map((r) => readChunks(ctx, tableKey, r.runId)))).flat()
      : await queryChunks(ctx, op, tableKey, CHUNK_SK_PREFIX);
  for (const s of stored) byRun.get(s.runId)?.push(s.chunk);
  return runs.map((r) => runFromItem(r, (byRun.get(r.runId) ?? []).sort(byChunkAndPart)));
}
