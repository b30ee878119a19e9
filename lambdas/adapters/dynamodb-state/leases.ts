/**
 * Leases: one item per table key, taken with conditional puts and extended with conditional updates so two runs
 * can never both believe they hold it. Expiry is decided by `expiresAt` against the store's clock, never by DynamoDB's TTL deletion
 * (which may lag by days); `ttl` only lets DynamoDB clean up leases long after they expired.
 */
import { DeleteCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ConfigError, DataError, LeaseHeldError, LeaseLostError } from '../../errors.js';
import { checkLeaseOwner } from '../../ports/checks.js';
import type { Lease, LeaseOwner } from '../../ports/index.js';
import type { StoreContext } from './context.js';
import { attributeNames } from './db.js';
import { rawIntegerAttribute, rawStringAttribute } from './errors.js';
import { leaseFromItem, leaseToItem, leaseTtl } from './items.js';
import { compareBytes, LEASE_INDEX_PK, leaseKey } from './keys.js';
import { STATE_TABLE_GSI } from './table.js';

/** True when no unexpired lease exists (ISO-8601 UTC strings of one width compare in time order). */
export const LEASE_FREE_CONDITION = 'attribute_not_exists(#pk) OR #expiresAt <= :now';

export function checkTtl(tableKey: string, ttlSeconds: number): void {
  if (!Number.isFinite(ttlSeconds) || ttlSeconds <= 0) {
    throw new ConfigError(`lease on ${tableKey}: ttl must be a positive number of seconds, got ${ttlSeconds}`);
  }
}

function leaseUntil(tableKey: string, holder: string, at: Date, ttlSeconds: number, owner: LeaseOwner | null): Lease {
  return { tableKey, holder, expiresAt: new Date(at.getTime() + ttlSeconds * 1000).toISOString(), owner };
}

export async function getLease(ctx: StoreContext, tableKey: string): Promise<Lease | undefined> {
  const item = await ctx.db.get(`getLease ${tableKey}`, leaseKey(tableKey));
  return item === undefined ? undefined : leaseFromItem(ctx.db.table, item);
}

/** Every lease, sorted by table key. The index is eventually consistent: a change may show a moment later. */
export async function listLeases(ctx: StoreContext): Promise<Lease[]> {
  const condition = '#gsi1pk = :lease';
  const items = await ctx.db.query('listLeases', {
    IndexName: STATE_TABLE_GSI,
    KeyConditionExpression: condition,
    ExpressionAttributeNames: attributeNames(condition),
    ExpressionAttributeValues: { ':lease': LEASE_INDEX_PK },
  });
  return items.map((i) => leaseFromItem(ctx.db.table, i)).sort((a, b) => compareBytes(a.tableKey, b.tableKey));
}

export async function acquireLease(
  ctx: StoreContext,
  tableKey: string,
  holder: string,
  ttl: number,
  owner: LeaseOwner | null | undefined,
): Promise<Lease> {
  checkTtl(tableKey, ttl);
  const op = `acquireLease ${tableKey}`;
  const at = ctx.now();
  const lease = leaseUntil(tableKey, holder, at, ttl, checkLeaseOwner(tableKey, owner));
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

export async function takeOverLease(
  ctx: StoreContext,
  tableKey: string,
  previousHolder: string,
  holder: string,
  ttl: number,
  owner: LeaseOwner | null,
): Promise<Lease> {
  checkTtl(tableKey, ttl);
  const op = `takeOverLease ${tableKey}`;
  const lease = leaseUntil(tableKey, holder, ctx.now(), ttl, checkLeaseOwner(tableKey, owner));
  // Only while the holder whose process is gone still has it: anyone who got there first keeps it.
  const condition = '#holder = :previous';
  const result = await ctx.db.conditional(
    op,
    new PutCommand({
      TableName: ctx.db.table,
      Item: leaseToItem(lease),
      ConditionExpression: condition,
      ExpressionAttributeNames: attributeNames(condition),
      ExpressionAttributeValues: { ':previous': previousHolder },
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    }),
  );
  if (result.ok) return lease;
  if (result.old === undefined) {
    throw new LeaseLostError(
      `${tableKey}: the lease of run ${previousHolder} is gone (released); nothing to take over`,
    );
  }
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
  const host = rawStringAttribute(old, 'ownerHost');
  const pid = rawIntegerAttribute(old, 'ownerPid');
  const owner: LeaseOwner | null =
    host === undefined || pid === undefined
      ? null
      : {
          host,
          pid,
          startTime: rawStringAttribute(old, 'ownerStartTime') ?? null,
          pidSpace: rawStringAttribute(old, 'ownerPidSpace') ?? null,
        };
  return new LeaseHeldError(tableKey, current, expiresAt, owner);
}

export async function renewLease(ctx: StoreContext, tableKey: string, holder: string, ttl: number): Promise<Lease> {
  checkTtl(tableKey, ttl);
  const op = `renewLease ${tableKey}`;
  const { expiresAt } = leaseUntil(tableKey, holder, ctx.now(), ttl, null);
  // An expired lease nobody took over is still ours: the work it guards has not been disturbed. The owner stays
  // as recorded; the index attributes are set too, so a lease item written before leases were listed joins it.
  const condition = '#holder = :me';
  const update = 'SET #expiresAt = :expiresAt, #ttl = :ttl, #gsi1pk = :lease, #gsi1sk = #tableKey';
  const result = await ctx.db.conditional(
    op,
    new UpdateCommand({
      TableName: ctx.db.table,
      Key: leaseKey(tableKey),
      UpdateExpression: update,
      ConditionExpression: condition,
      ExpressionAttributeNames: attributeNames(update, condition),
      ExpressionAttributeValues: {
        ':me': holder,
        ':expiresAt': expiresAt,
        ':ttl': leaseTtl(expiresAt),
        ':lease': LEASE_INDEX_PK,
      },
      ReturnValues: 'ALL_NEW',
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    }),
  );
  if (result.ok) {
    if (result.attributes === undefined) throw new DataError(`${op}: DynamoDB returned no lease item after the update`);
    return leaseFromItem(ctx.db.table, result.attributes);
  }
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
