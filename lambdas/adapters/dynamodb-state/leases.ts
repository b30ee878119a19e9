/**
 * Leases: one item per table key, taken and extended with conditional puts so two runs can never both believe
 * they hold it. Expiry is decided by `expiresAt` against the store's clock, never by DynamoDB's TTL deletion
 * (which may lag by days); `ttl` only lets DynamoDB clean up leases long after they expired.
 */
import { DeleteCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { Lease } from '../../ports/index.js';
import { ConfigError, DataError, LeaseHeldError, LeaseLostError } from '../../runtime/errors.js';
import type { StoreContext } from './context.js';
import { attributeNames } from './db.js';
import { rawStringAttribute } from './errors.js';
import { leaseFromItem, leaseToItem } from './items.js';
import { leaseKey } from './keys.js';

/** True when no unexpired lease exists (ISO-8601 UTC strings of one width compare in time order). */
export const LEASE_FREE_CONDITION = 'attribute_not_exists(#pk) OR #expiresAt <= :now';

export function checkTtl(tableKey: string, ttlSeconds: number): void {
  if (!Number.isFinite(ttlSeconds) || ttlSeconds <= 0) {
    throw new ConfigError(`lease on ${tableKey}: ttl must be a positive number of seconds, got ${ttlSeconds}`);
  }
}

function leaseUntil(tableKey: string, holder: string, at: Date, ttlSeconds: number): Lease {
  return { tableKey, holder, expiresAt: new Date(at.getTime() + ttlSeconds * 1000).toISOString() };
}

export async function getLease(ctx: StoreContext, tableKey: string): Promise<Lease | undefined> {
  const item = await ctx.db.get(`getLease ${tableKey}`, leaseKey(tableKey));
  return item === undefined ? undefined : leaseFromItem(ctx.db.table, item);
}

export async function acquireLease(ctx: StoreContext, tableKey: string, holder: string, ttl: number): Promise<Lease> {
  checkTtl(tableKey, ttl);
  const op = `acquireLease ${tableKey}`;
  const at = ctx.now();
  const lease = leaseUntil(tableKey, holder, at, ttl);
  const condition = `${LEASE_FREE_CONDITION} OR #holder = :me`;
  const result = await ctx.db.conditional(
    op,
    new PutCommand({
      TableName: ctx.db.table,
      Item: leaseToItem(lease),
      ConditionExpression: condition,
      ExpressionAttributeNames: attributeNames(condition),
      ExpressionAttributeValues: { ':now': at.toISOString(), ':me': holder },
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    }),
  );
  if (result.ok) return lease;
  throw leaseHeld(ctx, tableKey, result.old);
}

/** The LeaseHeldError for a lease item returned by a failed condition (raw AttributeValue form). */
export function leaseHeld(ctx: StoreContext, tableKey: string, old: Record<string, unknown> | undefined): Error {
  const current = rawStringAttribute(old, 'holder');
  const expiresAt = rawStringAttribute(old, 'expiresAt');
  if (current === undefined || expiresAt === undefined) {
    return new DataError(
      `DynamoDB state table ${ctx.db.table}: the lease item of ${tableKey} blocks the write but has no holder or expiresAt`,
    );
  }
  return new LeaseHeldError(tableKey, current, expiresAt);
}

export async function renewLease(ctx: StoreContext, tableKey: string, holder: string, ttl: number): Promise<Lease> {
  checkTtl(tableKey, ttl);
  const op = `renewLease ${tableKey}`;
  const lease = leaseUntil(tableKey, holder, ctx.now(), ttl);
  // An expired lease nobody took over is still ours: the work it guards has not been disturbed.
  const condition = '#holder = :me';
  const result = await ctx.db.conditional(
    op,
    new PutCommand({
      TableName: ctx.db.table,
      Item: leaseToItem(lease),
      ConditionExpression: condition,
      ExpressionAttributeNames: attributeNames(condition),
      ExpressionAttributeValues: { ':me': holder },
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    }),
  );
  if (result.ok) return lease;
  const current = rawStringAttribute(result.old, 'holder');
  throw new LeaseLostError(
    `${tableKey}: run ${holder} no longer holds the lease (${current === undefined ? 'released' : `now held by ${current}`})`,
  );
}

export async function releaseLease(ctx: StoreContext, tableKey: string, holder: string): Promise<void> {
  const condition = '#holder = :me';
  // A failed condition means someone else holds it (or nobody does): releasing is then a no-op by contract.
  await ctx.db.conditional(
    `releaseLease ${tableKey}`,
    new DeleteCommand({
      TableName: ctx.db.table,
      Key: leaseKey(tableKey),
      ConditionExpression: condition,
      ExpressionAttributeNames: attributeNames(condition),
      ExpressionAttributeValues: { ':me': holder },
    }),
  );
}
