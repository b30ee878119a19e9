/**
 * Watermarks: one item per table key. A manual write or delete is one transaction with a ConditionCheck on the
 * table's lease item, so it cannot slip in while a run holds the lease.
 */
import type { Watermark } from '../../domain/model.js';
import { watermarkSchema } from '../../domain/records.js';
import { DataError } from '../../errors.js';
import type { WatermarkRecord } from '../../ports/index.js';
import type { StoreContext } from './context.js';
import { attributeNames, type TransactItem } from './db.js';
import { failedCondition } from './errors.js';
import { watermarkFromItem, watermarkToItem } from './items.js';
import { compareBytes, leaseKey, WATERMARK_INDEX_PK, watermarkKey } from './keys.js';
import { LEASE_FREE_CONDITION, leaseHeld } from './leases.js';
import { withOptimisticRetry } from './retry.js';
import { STATE_TABLE_GSI } from './table.js';

function checkWatermark(tableKey: string, watermark: Watermark): Watermark {
  const parsed = watermarkSchema.safeParse(watermark);
  if (!parsed.success) {
    throw new DataError(`watermark for ${tableKey}: ts and id must each be a string or null`);
  }
  return parsed.data;
}

export async function getWatermark(ctx: StoreContext, tableKey: string): Promise<WatermarkRecord | undefined> {
  const item = await ctx.db.get(`getWatermark ${tableKey}`, watermarkKey(tableKey));
  return item === undefined ? undefined : watermarkFromItem(ctx.db.table, item);
}

/** Writes `write` only while no unexpired lease is held on the table (LeaseHeldError otherwise). */
async function whileUnleased(
  ctx: StoreContext,
  op: string,
  tableKey: string,
  at: Date,
  write: TransactItem,
): Promise<void> {
  await withOptimisticRetry(op, async () => {
    const condition = LEASE_FREE_CONDITION;
    await ctx.db.transact(
      op,
      [
        {
          ConditionCheck: {
            TableName: ctx.db.table,
            Key: leaseKey(tableKey),
            ConditionExpression: condition,
            ExpressionAttributeNames: attributeNames(condition),
            ExpressionAttributeValues: { ':now': at.toISOString() },
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          },
        },
        write,
      ],
      (reasons) => {
        if (failedCondition(reasons[0])) throw leaseHeld(ctx, tableKey, reasons[0]?.Item);
      },
    );
  });
}

export async function setWatermark(
  ctx: StoreContext,
  tableKey: string,
  watermark: Watermark,
  manual: boolean,
): Promise<void> {
  const wm = checkWatermark(tableKey, watermark);
  const at = ctx.now();
  const item = watermarkToItem({
    tableKey,
    watermark: wm,
    updatedAt: at.toISOString(),
    lastRunId: null,
    manual,
  });
  await whileUnleased(ctx, `setWatermark ${tableKey}`, tableKey, at, { Put: { TableName: ctx.db.table, Item: item } });
}

export async function deleteWatermark(ctx: StoreContext, tableKey: string): Promise<void> {
  await whileUnleased(ctx, `deleteWatermark ${tableKey}`, tableKey, ctx.now(), {
    Delete: { TableName: ctx.db.table, Key: watermarkKey(tableKey) },
  });
}

/** Every watermark, sorted by table key. The index is eventually consistent: a write may show a moment later. */
export async function listWatermarks(ctx: StoreContext): Promise<WatermarkRecord[]> {
  const condition = '#gsi1pk = :wm';
  const items = await ctx.db.query('listWatermarks', {
    IndexName: STATE_TABLE_GSI,
    KeyConditionExpression: condition,
    ExpressionAttributeNames: attributeNames(condition),
    ExpressionAttributeValues: { ':wm': WATERMARK_INDEX_PK },
  });
  return items.map((i) => watermarkFromItem(ctx.db.table, i)).sort((a, b) => compareBytes(a.tableKey, b.tableKey));
}
