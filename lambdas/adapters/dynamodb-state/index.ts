/**
 * The AWS StateStore: one DynamoDB table (single-table design, see docs/state-table.md). Every check-then-write
 * is a conditional write or a TransactWriteItems, so two Lambdas sharing the table can never interleave a lease
 * check and the write it guards. Behaviour matches the local SQLite store; the contract suite runs over both.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { StateStore } from '../../ports/index.js';
import { commitRun } from './commit.js';
import type { StoreContext } from './context.js';
import { createStateDb } from './db.js';
import { acquireLease, getLease, listLeases, releaseLease, renewLease, takeOverLease } from './leases.js';
import {
  abandonLoadClaim,
  claimLoad,
  getLoadClaim,
  recordLoadStatement,
  releaseLoad,
  rememberHostKey,
} from './load-claims.js';
import { getRun, listRuns, putRun, recordChunk, updateRun } from './runs.js';
import { listVerifications, recordVerification } from './verifications.js';
import { deleteWatermark, getWatermark, listWatermarks, setWatermark } from './watermarks.js';

export { STATE_TABLE_GSI, STATE_TABLE_TTL_ATTRIBUTE, stateTableDefinition, stateTableTimeToLive } from './table.js';

export interface DynamoDbStateStoreOptions {
  /** The state table's name (created by the stack, or by stateTableDefinition in tests). */
  table: string;
  region?: string;
  /** An endpoint override (a VPC endpoint, or a local stand-in in tests). */
  endpoint?: string;
  /** A client to use instead of one made from region/endpoint; the store then leaves it open on close. */
  client?: DynamoDBClient;
  /** The clock for lease expiry and timestamps; injectable so tests can expire a lease without sleeping. */
  now?: () => Date;
}

export function createDynamoDbStateStore(opts: DynamoDbStateStoreOptions): StateStore {
  const owned = opts.client === undefined;
  const client = opts.client ?? new DynamoDBClient({ region: opts.region, endpoint: opts.endpoint });
  const doc = DynamoDBDocumentClient.from(client);
  const ctx: StoreContext = { db: createStateDb(doc, opts.table), now: opts.now ?? (() => new Date()) };

  return {
    acquireLease: (tableKey, holder, ttlSeconds, owner) => acquireLease(ctx, tableKey, holder, ttlSeconds, owner),
    takeOverLease: (tableKey, previousHolder, holder, ttlSeconds, owner) =>
      takeOverLease(ctx, tableKey, previousHolder, holder, ttlSeconds, owner),
    renewLease: (tableKey, holder, ttlSeconds) => renewLease(ctx, tableKey, holder, ttlSeconds),
    releaseLease: (tableKey, holder) => releaseLease(ctx, tableKey, holder),
    getLease: (tableKey) => getLease(ctx, tableKey),
    listLeases: () => listLeases(ctx),

    getWatermark: (tableKey) => getWatermark(ctx, tableKey),
    setWatermark: (tableKey, watermark, { manual }) => setWatermark(ctx, tableKey, watermark, manual),
    deleteWatermark: (tableKey) => deleteWatermark(ctx, tableKey),
    listWatermarks: () => listWatermarks(ctx),

    putRun: (run) => putRun(ctx, run),
    getRun: (runId) => getRun(ctx, runId),
    recordChunk: (runId, chunk) => recordChunk(ctx, runId, chunk),
    updateRun: (runId, patch) => updateRun(ctx, runId, patch),
    listRuns: (tableKey, filter) => listRuns(ctx, tableKey, filter),

    commitRun: (args) => commitRun(ctx, args),
    recordVerification: (tableKey, record) => recordVerification(ctx, tableKey, record),
    listVerifications: (tableKey, limit) => listVerifications(ctx, tableKey, limit),
    claimLoad: (tableKey, claim) => claimLoad(ctx, tableKey, claim),
    abandonLoadClaim: (tableKey, runId) => abandonLoadClaim(ctx, tableKey, runId),
    recordLoadStatement: (tableKey, attempt, statement) => recordLoadStatement(ctx, tableKey, attempt, statement),
    releaseLoad: (tableKey, attempt) => releaseLoad(ctx, tableKey, attempt),
    getLoadClaim: (tableKey) => getLoadClaim(ctx, tableKey),
    rememberHostKey: (bastion, fingerprint) => rememberHostKey(ctx, bastion, fingerprint),
    async close() {
      if (owned) client.destroy();
    },
  };
}
