import {
  DescribeTimeToLiveCommand,
  type DynamoDBClient,
  DynamoDBServiceException,
  ProvisionedThroughputExceededException,
  ScanCommand,
  TransactionCanceledException,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { toHighwaterError, translateCancellation } from '../../lambdas/adapters/dynamodb-state/errors.js';
import {
  createDynamoDbStateStore,
  STATE_TABLE_TTL_ATTRIBUTE,
  stateTableDefinition,
  stateTableTimeToLive,
} from '../../lambdas/adapters/dynamodb-state/index.js';
import { LEASE_TTL_GRACE_SECONDS } from '../../lambdas/adapters/dynamodb-state/items.js';
import { RetryAttempt, withOptimisticRetry } from '../../lambdas/adapters/dynamodb-state/retry.js';
import { ConfigError, ConnectionError, DataError, LeaseHeldError, LeaseLostError } from '../../lambdas/errors.js';
import type { ChunkRecord, StateStore } from '../../lambdas/ports/index.js';
import { describeStateStoreContract, ManualClock, sampleRun } from '../contract/state-store.contract.js';
import {
  createStateTable,
  type DynamoDbLocal,
  dropStateTable,
  localClient,
  startDynamoDbLocal,
} from '../support/dynamodb-local.js';
import { freePort } from '../support/free-port.js';

let ddb: DynamoDbLocal;

beforeAll(async () => {
  ddb = await startDynamoDbLocal();
}, 180_000);

afterAll(async () => {
  await ddb?.stop();
});

describeStateStoreContract('dynamodb', async (clock) => {
  const table = await createStateTable(ddb.client);
  const store = createDynamoDbStateStore({ table, client: ddb.client, now: clock.now });
  return {
    store,
    async cleanup() {
      await store.close();
      await dropStateTable(ddb.client, table);
    },
  };
});

const KEY = 'shop/main/shop.orders/warehouse';
const OTHER_KEY = 'shop/main/shop.customers/warehouse';

/** Runs `fn` over `items` with at most `limit` in flight, like the state machine's Map. */
async function pool<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: limit }, async () => {
    while (next < items.length) {
      const item = items[next++]!;
      await fn(item);
    }
  });
  await Promise.all(workers);
}

describe('dynamodb state store: table behaviour', () => {
  let table: string;
  let clock: ManualClock;
  let store: StateStore;
  const clients: DynamoDBClient[] = [];

  /** A second store on its own client, as a second Lambda would have. */
  function anotherStore(): StateStore {
    const client = localClient(ddb.endpoint);
    clients.push(client);
    return createDynamoDbStateStore({ table, client, now: clock.now });
  }

  beforeEach(async () => {
    table = await createStateTable(ddb.client, 'hw-state-x');
    clock = new ManualClock();
    store = createDynamoDbStateStore({ table, client: ddb.client, now: clock.now });
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.destroy();
    await store.close();
    await dropStateTable(ddb.client, table);
  });

  test('a store made from endpoint and region owns its client and works until closed', async () => {
    const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
    process.env.AWS_ACCESS_KEY_ID = 'local';
    process.env.AWS_SECRET_ACCESS_KEY = 'local';
    try {
      const own = createDynamoDbStateStore({ table, endpoint: ddb.endpoint, region: 'us-east-1', now: clock.now });
      await own.setWatermark(KEY, { ts: 'a', id: '1' }, { manual: false });
      await own.close();
      expect((await store.getWatermark(KEY))?.watermark).toEqual({ ts: 'a', id: '1' });
    } finally {
      for (const [k, v] of [
        ['AWS_ACCESS_KEY_ID', saved.id],
        ['AWS_SECRET_ACCESS_KEY', saved.secret],
      ] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });

  test('the table definition: pk/sk, one GSI over gsi1pk/gsi1sk, on-demand billing', () => {
    const def = stateTableDefinition('t');
    expect(def.TableName).toBe('t');
    expect(def.BillingMode).toBe('PAY_PER_REQUEST');
    expect(def.KeySchema).toEqual([
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ]);
    expect(def.GlobalSecondaryIndexes?.map((g) => [g.IndexName, g.KeySchema?.map((k) => k.AttributeName)])).toEqual([
      ['gsi1', ['gsi1pk', 'gsi1sk']],
    ]);
  });

  test('lease contention between two store instances, and takeover after expiry', async () => {
    const a = anotherStore();
    const b = anotherStore();
    await a.acquireLease(KEY, 'run-a', 60);
    const err = await b.acquireLease(KEY, 'run-b', 60).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LeaseHeldError);
    expect((err as LeaseHeldError).holder).toBe('run-a');
    expect((err as LeaseHeldError).expiresAt).toBe('2026-03-01T10:01:00.000Z');
    clock.advance(60);
    // Expiry is inclusive: at exactly expiresAt the lease is free.
    expect((await b.acquireLease(KEY, 'run-b', 60)).expiresAt).toBe('2026-03-01T10:02:00.000Z');
    await expect(a.renewLease(KEY, 'run-a', 60)).rejects.toThrow(/now held by run-b/);
    expect((await a.getLease(KEY))?.holder).toBe('run-b');
  });

  test('of many stores racing for one free lease, exactly one wins', async () => {
    const stores = Array.from({ length: 8 }, () => anotherStore());
    const results = await Promise.allSettled(stores.map((s, i) => s.acquireLease(KEY, `run-${i}`, 60)));
    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r) => r.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(7);
    for (const r of lost) expect((r as PromiseRejectedResult).reason).toBeInstanceOf(LeaseHeldError);
    const holder = (won[0] as PromiseFulfilledResult<{ holder: string }>).value.holder;
    expect((await store.getLease(KEY))?.holder).toBe(holder);
  });

  test('a commit whose lease was lost is refused and leaves the watermark, the run and the new lease alone', async () => {
    const a = anotherStore();
    const b = anotherStore();
    await a.setWatermark(KEY, { ts: '2026-02-28 00:00:00', id: '41' }, { manual: true });
    const runA = sampleRun({ status: 'loaded' });
    await a.acquireLease(KEY, runA.runId, 60);
    await a.putRun(runA);
    clock.advance(90);
    const runB = sampleRun({ status: 'loaded', to: { ts: '2026-03-01 10:01:00', id: '2000' } });
    await b.acquireLease(KEY, runB.runId, 60);
    await b.putRun(runB);
    const err = await a
      .commitRun({ runId: runA.runId, tableKey: KEY, holder: runA.runId, rowsLoaded: 10 })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LeaseLostError);
    expect((err as Error).message).toContain(`held by ${runB.runId}`);
    expect((await a.getWatermark(KEY))?.watermark).toEqual({ ts: '2026-02-28 00:00:00', id: '41' });
    expect(await a.getRun(runA.runId)).toEqual(runA);
    expect((await a.getLease(KEY))?.holder).toBe(runB.runId);
    // The run that holds the lease commits normally.
    await b.commitRun({ runId: runB.runId, tableKey: KEY, holder: runB.runId, rowsLoaded: 7 });
    expect((await a.getWatermark(KEY))?.watermark).toEqual({ ts: '2026-03-01 10:01:00', id: '2000' });
  });

  test('500 chunks recorded concurrently (with retries) sum exactly', async () => {
    const run = sampleRun({ status: 'extracting', plannedChunks: 500 });
    await store.putRun(run);
    const chunks: ChunkRecord[] = Array.from({ length: 500 }, (_, i) => ({
      index: i,
      key: `shop/orders/run=${run.runId}/chunk-${String(i).padStart(5, '0')}.parquet`,
      rows: 1000 + i,
      bytes: 50_000 + 3 * i,
    }));
    // Every 10th chunk is first recorded with wrong numbers, as a failed attempt would, then retried; and every
    // 10th is delivered twice at the same moment, as a duplicated Lambda invocation would be.
    const attempts = [
      ...chunks.filter((c) => c.index % 10 === 0).map((c) => ({ ...c, rows: 1, bytes: 1 })),
      ...chunks.flatMap((c) => (c.index % 10 === 5 ? [c, { ...c }] : [c])),
    ];
    const writers = Array.from({ length: 10 }, () => anotherStore());
    const started = performance.now();
    let n = 0;
    await pool(attempts, 10, async (c) => {
      await writers[n++ % writers.length]!.recordChunk(run.runId, c);
    });
    const ms = performance.now() - started;
    console.info(`dynamodb-state: ${attempts.length} recordChunk calls, 10 concurrent, in ${Math.round(ms)} ms`);
    const got = await store.getRun(run.runId);
    expect(got?.chunks).toEqual(chunks);
    expect(got?.rowsExtracted).toBe(chunks.reduce((s, c) => s + c.rows, 0));
    expect(got?.bytes).toBe(chunks.reduce((s, c) => s + c.bytes, 0));
    const listed = await store.listRuns(KEY, { status: ['extracting'] });
    expect(listed).toEqual([got]);
  });

  test('updateRun during concurrent chunk writes keeps both the patch and the sums', async () => {
    const run = sampleRun({ status: 'extracting' });
    await store.putRun(run);
    const chunks = Array.from({ length: 40 }, (_, i) => ({ index: i, key: `k${i}`, rows: i + 1, bytes: 2 * (i + 1) }));
    const writers = [anotherStore(), anotherStore()];
    await Promise.all([
      pool(chunks, 6, async (c) => writers[c.index % 2]!.recordChunk(run.runId, c)),
      (async () => {
        for (let i = 0; i < 10; i++) await store.updateRun(run.runId, { to: { ts: `t${i}`, id: String(i) } });
      })(),
    ]);
    const got = await store.getRun(run.runId);
    expect(got?.to).toEqual({ ts: 't9', id: '9' });
    expect(got?.rowsExtracted).toBe(820);
    expect(got?.bytes).toBe(1640);
    expect(got?.chunks).toHaveLength(40);
  });

  test('a run with more chunks than one transaction holds is written, replaced and shrunk', async () => {
    const many = Array.from({ length: 150 }, (_, i) => ({ index: i, key: `k${i}`, rows: 1, bytes: 2 }));
    const run = sampleRun({ chunks: many, rowsExtracted: 150, bytes: 300 });
    await store.putRun(run);
    expect(await store.getRun(run.runId)).toEqual(run);
    await store.updateRun(run.runId, { chunks: many.slice(0, 3) });
    expect((await store.getRun(run.runId))?.chunks).toEqual(many.slice(0, 3));
    // Totals follow the chunk items again on the next chunk write, as in the local store.
    await store.recordChunk(run.runId, { index: 3, key: 'k3', rows: 10, bytes: 20 });
    const got = await store.getRun(run.runId);
    expect(got?.rowsExtracted).toBe(13);
    expect(got?.bytes).toBe(26);
    const raw = await ddb.client.send(new ScanCommand({ TableName: table, Select: 'COUNT' }));
    expect(raw.Count).toBe(1 + 1 + 4); // run reference, run, four chunks
  });

  test('listRuns of a table with more than 16 runs reads their chunks in one query, each to its run', async () => {
    const runs = Array.from({ length: 20 }, (_, i) =>
      sampleRun({
        status: i % 2 === 0 ? 'committed' : 'staged',
        chunks: [{ index: 0, key: `r${i}`, rows: i, bytes: i }],
        rowsExtracted: i,
        bytes: i,
      }),
    );
    for (const r of runs) await store.putRun(r);
    expect(await store.listRuns(KEY)).toEqual(runs);
    expect(await store.listRuns(KEY, { status: ['staged'] })).toEqual(runs.filter((_, i) => i % 2 === 1));
  });

  test('the same run put by several stores at once ends as one run with one set of chunks', async () => {
    const run = sampleRun({ chunks: [{ index: 0, key: 'k0', rows: 3, bytes: 4 }], rowsExtracted: 3, bytes: 4 });
    const stores = Array.from({ length: 5 }, () => anotherStore());
    await Promise.all(stores.map((s) => s.putRun(run)));
    expect(await store.getRun(run.runId)).toEqual(run);
    await store.recordChunk(run.runId, { index: 1, key: 'k1', rows: 1, bytes: 1 });
    expect((await store.getRun(run.runId))?.rowsExtracted).toBe(4);
    const raw = await ddb.client.send(new ScanCommand({ TableName: table, Select: 'COUNT' }));
    expect(raw.Count).toBe(4);
  });

  test('a run reference whose run item is gone reads as no run, and writes to it are refused', async () => {
    const run = sampleRun();
    await store.putRun(run);
    const doc = DynamoDBDocumentClient.from(ddb.client);
    await doc.send(new DeleteCommand({ TableName: table, Key: { pk: `TABLE#${KEY}`, sk: `RUN#${run.runId}` } }));
    expect(await store.getRun(run.runId)).toBeUndefined();
    await expect(store.recordChunk(run.runId, { index: 0, key: 'k', rows: 1, bytes: 1 })).rejects.toThrow(
      new RegExp(`run ${run.runId} is not in the DynamoDB state table ${table}`),
    );
    await expect(store.updateRun(run.runId, { status: 'failed' })).rejects.toThrow(DataError);
  });

  test('a run moved to another table by putRun leaves nothing behind', async () => {
    const run = sampleRun({ chunks: [{ index: 0, key: 'k', rows: 1, bytes: 1 }], rowsExtracted: 1, bytes: 1 });
    await store.putRun(run);
    const moved = { ...run, tableKey: OTHER_KEY, chunks: [{ index: 1, key: 'k1', rows: 2, bytes: 2 }] };
    await store.putRun(moved);
    expect(await store.getRun(run.runId)).toEqual(moved);
    expect(await store.listRuns(KEY)).toEqual([]);
    expect(await store.listRuns(OTHER_KEY)).toEqual([moved]);
  });

  test('run ids with # and % do not mix their chunks', async () => {
    const a = sampleRun({ runId: 'x', chunks: [{ index: 0, key: 'a', rows: 1, bytes: 1 }], rowsExtracted: 1 });
    const b = sampleRun({ runId: 'x#0000000000', chunks: [{ index: 0, key: 'b', rows: 2, bytes: 2 }] });
    const c = sampleRun({ runId: 'x%23', chunks: [{ index: 5, key: 'c', rows: 3, bytes: 3 }] });
    for (const r of [a, b, c]) await store.putRun(r);
    expect(await store.getRun('x')).toEqual(a);
    expect(await store.getRun('x#0000000000')).toEqual(b);
    expect(await store.getRun('x%23')).toEqual(c);
  });

  test('leases carry a TTL attribute a while after expiry, and TTL can be enabled on it', async () => {
    const lease = await store.acquireLease(KEY, 'run-a', 60);
    const doc = DynamoDBDocumentClient.from(ddb.client);
    const raw = await doc.send(new GetCommand({ TableName: table, Key: { pk: `TABLE#${KEY}`, sk: 'LEASE' } }));
    expect(STATE_TABLE_TTL_ATTRIBUTE).toBe('ttl');
    expect(raw.Item?.ttl).toBe(Date.parse(lease.expiresAt) / 1000 + LEASE_TTL_GRACE_SECONDS);
    await ddb.client.send(new UpdateTimeToLiveCommand(stateTableTimeToLive(table)));
    const ttl = await ddb.client.send(new DescribeTimeToLiveCommand({ TableName: table }));
    expect(ttl.TimeToLiveDescription?.AttributeName).toBe('ttl');
    expect(ttl.TimeToLiveDescription?.TimeToLiveStatus).toMatch(/^ENABL(ED|ING)$/);
  });

  test('a lease item carries its owner as flat attributes and sits in the index partition LEASE', async () => {
    const owner = { host: 'build-7', pid: 4242, startTime: '123456', pidSpace: null };
    await store.acquireLease(KEY, 'run-a', 60, owner);
    const doc = DynamoDBDocumentClient.from(ddb.client);
    const raw = await doc.send(new GetCommand({ TableName: table, Key: { pk: `TABLE#${KEY}`, sk: 'LEASE' } }));
    expect(raw.Item).toMatchObject({
      gsi1pk: 'LEASE',
      gsi1sk: KEY,
      ownerHost: 'build-7',
      ownerPid: 4242,
      ownerStartTime: '123456',
    });
    // An unknown part is left out, not written as NULL.
    expect(raw.Item).not.toHaveProperty('ownerPidSpace');
  });

  test('a lease item written before owners were recorded reads with no owner, and renewing lists it', async () => {
    const doc = DynamoDBDocumentClient.from(ddb.client);
    const expiresAt = '2026-03-01T10:05:00.000Z';
    await doc.send(
      new PutCommand({
        TableName: table,
        Item: {
          pk: `TABLE#${KEY}`,
          sk: 'LEASE',
          itemType: 'lease',
          schemaVersion: 1,
          tableKey: KEY,
          holder: 'run-old',
          expiresAt,
          ttl: 1,
        },
      }),
    );
    expect(await store.getLease(KEY)).toEqual({ tableKey: KEY, holder: 'run-old', expiresAt, owner: null });
    const held = await store.acquireLease(KEY, 'run-b', 60).catch((e: unknown) => e);
    expect((held as LeaseHeldError).owner).toBeNull();
    expect(await store.listLeases()).toEqual([]);
    const renewed = await store.renewLease(KEY, 'run-old', 60);
    expect(renewed.owner).toBeNull();
    expect(await store.listLeases()).toEqual([renewed]);
  });

  test('a lease item with an owner pid but no host is refused as malformed', async () => {
    const doc = DynamoDBDocumentClient.from(ddb.client);
    const item = { pk: `TABLE#${KEY}`, sk: 'LEASE', itemType: 'lease', schemaVersion: 1, tableKey: KEY };
    await doc.send(new PutCommand({ TableName: table, Item: { ...item, holder: 'r', expiresAt: 'x', ownerPid: 5 } }));
    await expect(store.getLease(KEY)).rejects.toThrow(new RegExp(`${table}: malformed lease item`));
  });

  test('every item carries schemaVersion 1 and an item type', async () => {
    const run = sampleRun({ status: 'loaded' });
    await store.setWatermark(OTHER_KEY, { ts: 'a', id: null }, { manual: true });
    await store.acquireLease(KEY, run.runId, 60);
    await store.putRun(run);
    await store.recordChunk(run.runId, { index: 0, key: 'k', rows: 1, bytes: 1 });
    await store.acquireLease(OTHER_KEY, 'held', 60);
    await store.commitRun({ runId: run.runId, tableKey: KEY, holder: run.runId, rowsLoaded: 1 });
    const items = (await ddb.client.send(new ScanCommand({ TableName: table }))).Items ?? [];
    const types = items.map((i) => `${i.itemType?.S}:${i.schemaVersion?.N}`).sort();
    expect(types).toEqual(['chunk:1', 'lease:1', 'run:1', 'runRef:1', 'watermark:1', 'watermark:1']);
  });

  test('malformed or newer-schema items are refused with DataError naming the table', async () => {
    const doc = DynamoDBDocumentClient.from(ddb.client);
    await doc.send(
      new PutCommand({
        TableName: table,
        Item: { pk: `TABLE#${KEY}`, sk: 'WATERMARK', schemaVersion: 2, tableKey: KEY },
      }),
    );
    await expect(store.getWatermark(KEY)).rejects.toThrow(new RegExp(`${table}: malformed watermark item`));
    // A lease item with no holder still blocks (its expiry cannot be read), and says what is wrong.
    await doc.send(
      new PutCommand({ TableName: table, Item: { pk: `TABLE#${OTHER_KEY}`, sk: 'LEASE', schemaVersion: 1 } }),
    );
    const err = await store.acquireLease(OTHER_KEY, 'run-a', 60).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DataError);
    expect((err as Error).message).toContain('has no holder or expiresAt');
    await expect(store.setWatermark(OTHER_KEY, { ts: null, id: null }, { manual: true })).rejects.toThrow(
      /has no holder or expiresAt/,
    );
  });

  test('a missing table is a ConfigError naming the table, for reads, writes and transactions', async () => {
    const missing = createDynamoDbStateStore({ table: 'hw-no-such-table', client: ddb.client, now: clock.now });
    for (const call of [
      () => missing.getWatermark(KEY),
      () => missing.acquireLease(KEY, 'run-a', 60),
      () => missing.setWatermark(KEY, { ts: null, id: null }, { manual: true }),
      () => missing.listWatermarks(),
      () => missing.getRun('r'),
    ]) {
      const err = await call().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as Error).message).toContain('hw-no-such-table');
    }
  });

  test('an unreachable endpoint is a transient ConnectionError', async () => {
    const port = await freePort();
    const client = localClient(`http://127.0.0.1:${port}`, { maxAttempts: 1 });
    const unreachable = createDynamoDbStateStore({ table, client, now: clock.now });
    const err = await unreachable.getLease(KEY).catch((e: unknown) => e);
    client.destroy();
    expect(err).toBeInstanceOf(ConnectionError);
    expect((err as ConnectionError).transient).toBe(true);
    expect((err as Error).message).toContain(table);
  });
});

describe('dynamodb state store: AWS error translation', () => {
  const meta = { httpStatusCode: 400, $retryable: undefined };

  test('throttling and server faults are transient ConnectionErrors with the AWS message', () => {
    const throttled = new ProvisionedThroughputExceededException({ message: 'slow down', $metadata: meta });
    const e = toHighwaterError(throttled, 'state', 'getLease k');
    expect(e).toBeInstanceOf(ConnectionError);
    expect(e.message).toBe('DynamoDB state table state, getLease k: ProvisionedThroughputExceededException: slow down');
    const server = new DynamoDBServiceException({
      name: 'InternalServerError',
      $fault: 'server',
      $metadata: { httpStatusCode: 500 },
      message: 'oops',
    });
    expect(toHighwaterError(server, 'state', 'op')).toBeInstanceOf(ConnectionError);
  });

  test('refused credentials are ConfigErrors; other client errors DataErrors; non-errors too', () => {
    const denied = new DynamoDBServiceException({
      name: 'AccessDeniedException',
      $fault: 'client',
      $metadata: meta,
      message: 'not allowed',
    });
    expect(toHighwaterError(denied, 'state', 'op')).toBeInstanceOf(ConfigError);
    const invalid = new DynamoDBServiceException({
      name: 'ValidationException',
      $fault: 'client',
      $metadata: meta,
      message: 'Item size has exceeded the maximum allowed size',
    });
    const e = toHighwaterError(invalid, 'state', 'putRun r');
    expect(e).toBeInstanceOf(DataError);
    expect(e.message).toContain('Item size has exceeded');
    expect(toHighwaterError('weird', 'state', 'op')).toBeInstanceOf(DataError);
  });

  test('cancelled transactions: conflicts are retried, throttling is transient, the rest is a DataError', () => {
    const cancelled = (codes: string[]) =>
      new TransactionCanceledException({
        message: 'cancelled',
        $metadata: meta,
        CancellationReasons: codes.map((Code) => ({ Code })),
      });
    const reasons = (codes: string[]) => codes.map((Code) => ({ Code }));
    const conflict = ['None', 'TransactionConflict'];
    expect(translateCancellation(cancelled(conflict), reasons(conflict), 't', 'op')).toBeInstanceOf(RetryAttempt);
    const throttled = ['ThrottlingError', 'None'];
    expect(translateCancellation(cancelled(throttled), reasons(throttled), 't', 'op')).toBeInstanceOf(ConnectionError);
    const other = ['ValidationError', 'None'];
    const e = translateCancellation(cancelled(other), reasons(other), 't', 'op');
    expect(e).toBeInstanceOf(DataError);
    expect(e.message).toContain('ValidationError, None');
  });

  test('optimistic retries give up with a ConnectionError once the state keeps changing', async () => {
    let calls = 0;
    const err = await withOptimisticRetry(
      'putRun r',
      async () => {
        calls += 1;
        throw new RetryAttempt('changed');
      },
      { attempts: 3, baseDelayMs: 1 },
    ).catch((e: unknown) => e);
    expect(calls).toBe(3);
    expect(err).toBeInstanceOf(ConnectionError);
    expect((err as Error).message).toContain('gave up after 3 attempts');
    let tries = 0;
    const ok = await withOptimisticRetry('op', async () => {
      tries += 1;
      if (tries < 2) throw new RetryAttempt('once');
      return 'done';
    });
    expect(ok).toBe('done');
  });
});
