/**
 * Load claims and remembered host keys in DynamoDB: one item per table (`LOAD`) holding the claim as a map with a
 * `version` every write bumps, written with a condition on the version read (optimistic concurrency, retried on
 * a race), so two attempts can never both take a claim; and one item per bastion (`HOSTKEY#<host:port>`), put only
 * when absent. The claim's rules are ports/load-claims.ts, shared with the local store.
 */
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import type { HostKeyRecord, LoadClaim } from '../../domain/records.js';
import {
  abandonClaim,
  appendStatement,
  hostKeyFromStore,
  loadClaimFromStore,
  newHostKeyRecord,
  releaseClaim,
  takeClaim,
} from '../../ports/load-claims.js';
import type { StoreContext } from './context.js';
import { attributeNames } from './db.js';
import { hostKeyKey, loadClaimKey, SCHEMA_VERSION } from './keys.js';
import { RetryAttempt, withOptimisticRetry } from './retry.js';

const claimItemSchema = z.object({ claim: z.unknown(), version: z.number().int().nonnegative() });

async function readClaim(
  ctx: StoreContext,
  op: string,
  tableKey: string,
): Promise<{ claim?: LoadClaim; version: number }> {
  const item = await ctx.db.get(op, loadClaimKey(tableKey));
  if (item === undefined) return { version: 0 };
  const where = `DynamoDB state table ${ctx.db.table}`;
  const parsed = claimItemSchema.safeParse(item);
  if (!parsed.success) return { claim: loadClaimFromStore(where, undefined), version: 0 };
  return { claim: loadClaimFromStore(where, parsed.data.claim), version: parsed.data.version };
}

/** Writes `claim` if the item is still at `version` (absent for 0); a lost race reads and decides again. */
async function writeClaim(ctx: StoreContext, op: string, claim: LoadClaim, version: number): Promise<void> {
  const condition = version === 0 ? 'attribute_not_exists(#pk)' : '#version = :version';
  const result = await ctx.db.conditional(
    op,
    new PutCommand({
      TableName: ctx.db.table,
      Item: {
        ...loadClaimKey(claim.tableKey),
        itemType: 'loadClaim',
        schemaVersion: SCHEMA_VERSION,
        tableKey: claim.tableKey,
        claim,
        version: version + 1,
      },
      ConditionExpression: condition,
      ExpressionAttributeNames: attributeNames(condition),
      ...(version === 0 ? {} : { ExpressionAttributeValues: { ':version': version } }),
      ReturnValuesOnConditionCheckFailure: 'NONE',
    }),
  );
  if (!result.ok) throw new RetryAttempt(`the load claim of ${claim.tableKey} changed`);
}

export async function claimLoad(
  ctx: StoreContext,
  tableKey: string,
  request: { runId: string; attempt: string; until: string },
): Promise<LoadClaim> {
  const op = `claimLoad ${tableKey}`;
  return withOptimisticRetry(op, async () => {
    const { claim, version } = await readClaim(ctx, op, tableKey);
    const next = takeClaim(tableKey, claim, request, ctx.now());
    await writeClaim(ctx, op, next, version);
    return next;
  });
}

export async function recordLoadStatement(
  ctx: StoreContext,
  tableKey: string,
  attempt: string,
  statement: Parameters<typeof appendStatement>[3],
): Promise<void> {
  const op = `recordLoadStatement ${tableKey}`;
  await withOptimisticRetry(op, async () => {
    const { claim, version } = await readClaim(ctx, op, tableKey);
    await writeClaim(ctx, op, appendStatement(tableKey, claim, attempt, statement), version);
  });
}

export async function releaseLoad(ctx: StoreContext, tableKey: string, attempt: string): Promise<void> {
  const op = `releaseLoad ${tableKey}`;
  await withOptimisticRetry(op, async () => {
    const { claim, version } = await readClaim(ctx, op, tableKey);
    const next = releaseClaim(claim, attempt);
    if (next) await writeClaim(ctx, op, next, version);
  });
}

export async function abandonLoadClaim(ctx: StoreContext, tableKey: string, runId: string): Promise<void> {
  const op = `abandonLoadClaim ${tableKey}`;
  await withOptimisticRetry(op, async () => {
    const { claim, version } = await readClaim(ctx, op, tableKey);
    const next = abandonClaim(claim, runId, ctx.now());
    if (next) await writeClaim(ctx, op, next, version);
  });
}

export async function getLoadClaim(ctx: StoreContext, tableKey: string): Promise<LoadClaim | undefined> {
  return (await readClaim(ctx, `getLoadClaim ${tableKey}`, tableKey)).claim;
}

const hostKeyItemSchema = z.object({ record: z.unknown() });

export async function rememberHostKey(ctx: StoreContext, bastion: string, fingerprint: string): Promise<HostKeyRecord> {
  const op = `rememberHostKey ${bastion}`;
  const fresh = newHostKeyRecord(bastion, fingerprint, ctx.now());
  const condition = 'attribute_not_exists(#pk)';
  const put = await ctx.db.conditional(
    op,
    new PutCommand({
      TableName: ctx.db.table,
      Item: { ...hostKeyKey(bastion), itemType: 'hostKey', schemaVersion: SCHEMA_VERSION, record: fresh },
      ConditionExpression: condition,
      ExpressionAttributeNames: attributeNames(condition),
      ReturnValuesOnConditionCheckFailure: 'NONE',
    }),
  );
  if (put.ok) return fresh;
  const item = await ctx.db.get(op, hostKeyKey(bastion));
  const where = `DynamoDB state table ${ctx.db.table}`;
  return hostKeyFromStore(where, hostKeyItemSchema.safeParse(item).data?.record);
}
