/**
 * commitRun: one TransactWriteItems that deletes the lease (conditional on this holder and not expired), marks
 * the run committed (conditional on the run item being the version that was read, so its `to` cannot change
 * underneath) and, when the run advances one, puts the watermark. All or nothing.
 */

import { DataError, LeaseLostError } from '../../errors.js';
import type { Lease } from '../../ports/index.js';
import { FINISHED, type StoreContext } from './context.js';
import { attributeNames, type TransactItem } from './db.js';
import { failedCondition, rawStringAttribute } from './errors.js';
import { leaseFromItem, watermarkToItem } from './items.js';
import { leaseKey, runKey } from './keys.js';
import { RetryAttempt, withOptimisticRetry } from './retry.js';
import { readRef, readRunItem } from './runs.js';

export interface CommitArgs {
  runId: string;
  tableKey: string;
  holder: string;
  rowsLoaded: number;
}

function leaseLost(args: CommitArgs, holder: string | undefined, expiresAt: string | undefined): LeaseLostError {
  const why =
    holder === undefined
      ? 'no lease is held'
      : holder !== args.holder
        ? `the lease is held by ${holder}`
        : `its lease expired at ${expiresAt}`;
  return new LeaseLostError(`${args.tableKey}: run ${args.runId} cannot commit because ${why}; nothing was committed`);
}

function checkLease(args: CommitArgs, lease: Lease | undefined, at: string): void {
  if (lease === undefined || lease.holder !== args.holder || lease.expiresAt <= at) {
    throw leaseLost(args, lease?.holder, lease?.expiresAt);
  }
}

export async function commitRun(ctx: StoreContext, args: CommitArgs): Promise<void> {
  const { runId, tableKey, holder, rowsLoaded } = args;
  if (!Number.isSafeInteger(rowsLoaded) || rowsLoaded < 0) {
    throw new DataError(`commitRun ${runId}: rowsLoaded must be a non-negative integer, got ${rowsLoaded}`);
  }
  const table = ctx.db.table;
  const op = `commitRun ${runId}`;
  await withOptimisticRetry(op, async () => {
    const at = ctx.now().toISOString();
    const [leaseItem, run] = await Promise.all([ctx.db.get(op, leaseKey(tableKey)), readRunItem(ctx, tableKey, runId)]);
    // The same order of checks as the local store: the lease first, then the run.
    checkLease(args, leaseItem === undefined ? undefined : leaseFromItem(table, leaseItem), at);
    if (run === undefined) {
      const owner = await readRef(ctx, runId);
      if (owner !== undefined && owner !== tableKey) {
        throw new DataError(`commitRun: run ${runId} belongs to ${owner}, not ${tableKey}`);
      }
      throw new DataError(`commitRun: run ${runId} is not in the DynamoDB state table ${table}`);
    }
    if (FINISHED.includes(run.status)) {
      throw new DataError(`commitRun: run ${runId} of ${tableKey} is already ${run.status}`);
    }

    const leaseCondition = '#holder = :me AND #expiresAt > :now';
    const runUpdate =
      'SET #status = :committed, #rowsLoaded = :rowsLoaded, #finishedAt = :at, #updatedAt = :at, #version = #version + :one';
    const runCondition = '#version = :v';
    const items: TransactItem[] = [
      {
        Delete: {
          TableName: table,
          Key: leaseKey(tableKey),
          ConditionExpression: leaseCondition,
          ExpressionAttributeNames: attributeNames(leaseCondition),
          ExpressionAttributeValues: { ':me': holder, ':now': at },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        },
      },
      {
        Update: {
          TableName: table,
          Key: runKey(tableKey, runId),
          UpdateExpression: runUpdate,
          ConditionExpression: runCondition,
          ExpressionAttributeNames: attributeNames(runUpdate, runCondition),
          ExpressionAttributeValues: {
            ':committed': 'committed',
            ':rowsLoaded': rowsLoaded,
            ':at': at,
            ':one': 1,
            ':v': run.version,
          },
        },
      },
    ];
    if (run.advancesWatermark) {
      const item = watermarkToItem({
        tableKey,
        watermark: run.plan?.next ?? run.to,
        updatedAt: at,
        lastRunId: runId,
        manual: false,
      });
      items.push({ Put: { TableName: table, Item: item } });
    }
    await ctx.db.transact(op, items, (reasons) => {
      if (failedCondition(reasons[0])) {
        const old = reasons[0]?.Item;
        throw leaseLost(args, rawStringAttribute(old, 'holder'), rawStringAttribute(old, 'expiresAt'));
      }
      // The run changed since it was read (another writer): read it again and decide afresh.
      if (failedCondition(reasons[1])) throw new RetryAttempt(`${op}: the run changed while it was committed`);
    });
  });
}
