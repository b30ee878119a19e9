/**
 * The StateStore contract: one suite every adapter (local SQLite, DynamoDB) must pass. The factory receives the
 * clock the store must use, so lease expiry is tested by moving time forward instead of sleeping.
 */
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import type { VerificationRecord } from '../../lambdas/domain/manifests.js';
import type { Watermark } from '../../lambdas/domain/model.js';
import { newRunId } from '../../lambdas/engine/naming.js';
import {
  ConfigError,
  DataError,
  LeaseHeldError,
  LeaseLostError,
  LoadClaimHeldError,
  LoadClaimLostError,
} from '../../lambdas/errors.js';
import { VERIFICATIONS_KEPT } from '../../lambdas/ports/checks.js';
import type { LeaseOwner, LoadStatement, RunRecord, StateStore } from '../../lambdas/ports/index.js';
import { MAX_STATEMENTS_KEPT } from '../../lambdas/ports/load-claims.js';

export interface StateStoreFixture {
  store: StateStore;
  cleanup(): Promise<void>;
}

/** A clock the test moves by hand. */
export class ManualClock {
  private t: number;
  constructor(start = '2026-03-01T10:00:00.000Z') {
    this.t = Date.parse(start);
  }
  readonly now = (): Date => new Date(this.t);
  advance(seconds: number): void {
    this.t += seconds * 1000;
  }
  iso(): string {
    return new Date(this.t).toISOString();
  }
}

const KEY = 'shop/main/shop.orders/warehouse';
const OTHER_KEY = 'shop/main/shop.customers/warehouse';

let runSeq = 0;
/** A plausible planned run; ids sort by start time like the engine's. */
export function sampleRun(overrides: Partial<RunRecord> = {}): RunRecord {
  runSeq += 1;
  const started = new Date(Date.UTC(2026, 2, 1, 9, 0, runSeq));
  return {
    runId: newRunId(started),
    tableKey: KEY,
    pipeline: 'shop',
    table: 'shop.orders',
    strategy: 'hybrid',
    status: 'planned',
    from: { ts: '2026-02-28 00:00:00', id: '41' },
    to: { ts: '2026-03-01 09:59:59.123456', id: '1000' },
    advancesWatermark: true,
    chunks: [],
    plannedChunks: 2,
    rowsExtracted: 0,
    rowsLoaded: null,
    bytes: 0,
    startedAt: started.toISOString(),
    updatedAt: started.toISOString(),
    finishedAt: null,
    error: null,
    cleanedAt: null,
    plan: null,
    ...overrides,
  };
}

export function describeStateStoreContract(
  name: string,
  factory: (clock: ManualClock) => Promise<StateStoreFixture>,
): void {
  describe(`StateStore contract: ${name}`, () => {
    let clock: ManualClock;
    let fixture: StateStoreFixture;
    let store: StateStore;

    beforeEach(async () => {
      clock = new ManualClock();
      fixture = await factory(clock);
      store = fixture.store;
    });
    afterEach(async () => {
      await fixture.cleanup();
    });

    describe('leases', () => {
      test('a free lease is taken for ttl seconds and reported by getLease', async () => {
        const lease = await store.acquireLease(KEY, 'run-a', 60);
        expect(lease).toEqual({ tableKey: KEY, holder: 'run-a', expiresAt: '2026-03-01T10:01:00.000Z', owner: null });
        expect(await store.getLease(KEY)).toEqual(lease);
        expect(await store.getLease(OTHER_KEY)).toBeUndefined();
      });

      test('a lease held by another run is refused with LeaseHeldError naming the holder', async () => {
        await store.acquireLease(KEY, 'run-a', 60);
        clock.advance(30);
        const err = await store.acquireLease(KEY, 'run-b', 60).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(LeaseHeldError);
        expect((err as LeaseHeldError).holder).toBe('run-a');
        expect((err as LeaseHeldError).expiresAt).toBe('2026-03-01T10:01:00.000Z');
        expect((err as LeaseHeldError).message).toContain(KEY);
        expect((await store.getLease(KEY))?.holder).toBe('run-a');
      });

      test('leases on different tables are independent', async () => {
        await store.acquireLease(KEY, 'run-a', 60);
        const other = await store.acquireLease(OTHER_KEY, 'run-b', 60);
        expect(other.holder).toBe('run-b');
      });

      test('the holder acquiring again extends its lease', async () => {
        await store.acquireLease(KEY, 'run-a', 60);
        clock.advance(50);
        const lease = await store.acquireLease(KEY, 'run-a', 60);
        expect(lease.expiresAt).toBe('2026-03-01T10:01:50.000Z');
        expect(await store.getLease(KEY)).toEqual(lease);
      });

      test('an expired lease is taken over by another run', async () => {
        await store.acquireLease(KEY, 'run-a', 60);
        clock.advance(61);
        const lease = await store.acquireLease(KEY, 'run-b', 60);
        expect(lease).toEqual({ tableKey: KEY, holder: 'run-b', expiresAt: '2026-03-01T10:02:01.000Z', owner: null });
        expect((await store.getLease(KEY))?.holder).toBe('run-b');
      });

      test('renew extends the holder’s lease, even after expiry when nobody took it over', async () => {
        await store.acquireLease(KEY, 'run-a', 60);
        clock.advance(45);
        expect((await store.renewLease(KEY, 'run-a', 60)).expiresAt).toBe('2026-03-01T10:01:45.000Z');
        clock.advance(120);
        const renewed = await store.renewLease(KEY, 'run-a', 60);
        expect(renewed).toEqual({
          tableKey: KEY,
          holder: 'run-a',
          expiresAt: '2026-03-01T10:03:45.000Z',
          owner: null,
        });
        expect(await store.getLease(KEY)).toEqual(renewed);
      });

      test('renew by a non-holder, after takeover, or with no lease throws LeaseLostError', async () => {
        await expect(store.renewLease(KEY, 'run-a', 60)).rejects.toThrow(LeaseLostError);
        await store.acquireLease(KEY, 'run-a', 60);
        await expect(store.renewLease(KEY, 'run-b', 60)).rejects.toThrow(LeaseLostError);
        clock.advance(61);
        await store.acquireLease(KEY, 'run-b', 60);
        const err = await store.renewLease(KEY, 'run-a', 60).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(LeaseLostError);
        expect((err as LeaseLostError).message).toContain(KEY);
        expect((await store.getLease(KEY))?.holder).toBe('run-b');
      });

      test('release by the holder frees the lease; release by anyone else is a no-op', async () => {
        await store.acquireLease(KEY, 'run-a', 60);
        await store.releaseLease(KEY, 'run-b');
        expect((await store.getLease(KEY))?.holder).toBe('run-a');
        await store.releaseLease(KEY, 'run-a');
        expect(await store.getLease(KEY)).toBeUndefined();
        await store.releaseLease(KEY, 'run-a');
        expect((await store.acquireLease(KEY, 'run-b', 60)).holder).toBe('run-b');
      });

      test('a ttl that is not a positive number is refused', async () => {
        await expect(store.acquireLease(KEY, 'run-a', 0)).rejects.toThrow(ConfigError);
        await expect(store.acquireLease(KEY, 'run-a', Number.NaN)).rejects.toThrow(ConfigError);
        await store.acquireLease(KEY, 'run-a', 60);
        await expect(store.renewLease(KEY, 'run-a', -5)).rejects.toThrow(ConfigError);
        expect((await store.getLease(KEY))?.expiresAt).toBe('2026-03-01T10:01:00.000Z');
      });
    });

    describe('lease owners, takeover and listing', () => {
      const OWNER: LeaseOwner = {
        host: 'build-7',
        pid: 4242,
        startTime: '123456',
        pidSpace: 'boot-1/pid:[4026531836]',
      };
      const BARE: LeaseOwner = { host: 'mac-mini', pid: 7, startTime: null, pidSpace: null };

      test('acquire records the owner exactly; getLease and listLeases return it; renew keeps it', async () => {
        const lease = await store.acquireLease(KEY, 'run-a', 60, OWNER);
        expect(lease).toEqual({ tableKey: KEY, holder: 'run-a', expiresAt: '2026-03-01T10:01:00.000Z', owner: OWNER });
        expect(await store.getLease(KEY)).toEqual(lease);
        await store.acquireLease(OTHER_KEY, 'run-b', 60, BARE);
        expect((await store.getLease(OTHER_KEY))?.owner).toEqual(BARE);
        clock.advance(30);
        const renewed = await store.renewLease(KEY, 'run-a', 60);
        expect(renewed).toEqual({ ...lease, expiresAt: '2026-03-01T10:01:30.000Z' });
        expect(await store.getLease(KEY)).toEqual(renewed);
        // The holder acquiring again replaces the owner with the one it gives (none here).
        expect((await store.acquireLease(KEY, 'run-a', 60)).owner).toBeNull();
        expect((await store.getLease(KEY))?.owner).toBeNull();
      });

      test('LeaseHeldError carries the owner and names its host and pid, from acquire and from watermark writes', async () => {
        await store.acquireLease(KEY, 'run-a', 60, OWNER);
        const err = await store.acquireLease(KEY, 'run-b', 60, BARE).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(LeaseHeldError);
        expect((err as LeaseHeldError).owner).toEqual(OWNER);
        expect((err as LeaseHeldError).message).toContain('run run-a, process 4242 on build-7');
        const wm = await store.setWatermark(KEY, { ts: 'x', id: null }, { manual: true }).catch((e: unknown) => e);
        expect(wm).toBeInstanceOf(LeaseHeldError);
        expect((wm as LeaseHeldError).owner).toEqual(OWNER);
        // A lease without an owner reports none.
        await store.acquireLease(OTHER_KEY, 'run-c', 60);
        const bare = await store.acquireLease(OTHER_KEY, 'run-d', 60).catch((e: unknown) => e);
        expect((bare as LeaseHeldError).owner).toBeNull();
        expect((bare as LeaseHeldError).message).not.toContain('process');
      });

      test('takeOverLease replaces a live lease held by the given holder, owner and expiry included', async () => {
        await store.acquireLease(KEY, 'run-dead', 3600, OWNER);
        clock.advance(10);
        const taken = await store.takeOverLease(KEY, 'run-dead', 'run-new', 60, BARE);
        expect(taken).toEqual({ tableKey: KEY, holder: 'run-new', expiresAt: '2026-03-01T10:01:10.000Z', owner: BARE });
        expect(await store.getLease(KEY)).toEqual(taken);
        // The previous holder has lost it for good: it can neither renew nor commit.
        await expect(store.renewLease(KEY, 'run-dead', 60)).rejects.toThrow(LeaseLostError);
        const run = sampleRun({ runId: 'run-dead', status: 'loaded' });
        await store.putRun(run);
        await expect(
          store.commitRun({ runId: 'run-dead', tableKey: KEY, holder: 'run-dead', rowsLoaded: 1 }),
        ).rejects.toThrow(LeaseLostError);
        expect(await store.getWatermark(KEY)).toBeUndefined();
      });

      test('takeOverLease refuses when another holder got the lease first, and changes nothing', async () => {
        await store.acquireLease(KEY, 'run-dead', 60, OWNER);
        clock.advance(61);
        const first = await store.acquireLease(KEY, 'run-quick', 60, BARE);
        const err = await store.takeOverLease(KEY, 'run-dead', 'run-slow', 60, OWNER).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(LeaseHeldError);
        expect((err as LeaseHeldError).holder).toBe('run-quick');
        expect((err as LeaseHeldError).owner).toEqual(BARE);
        expect(await store.getLease(KEY)).toEqual(first);
      });

      test('takeOverLease of a lease that is gone throws LeaseLostError and takes nothing', async () => {
        await store.acquireLease(KEY, 'run-dead', 60, OWNER);
        await store.releaseLease(KEY, 'run-dead');
        const err = await store.takeOverLease(KEY, 'run-dead', 'run-new', 60, BARE).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(LeaseLostError);
        expect((err as Error).message).toContain('run-dead');
        expect(await store.getLease(KEY)).toBeUndefined();
      });

      test('takeOverLease and acquireLease refuse a bad ttl or owner before writing', async () => {
        await store.acquireLease(KEY, 'run-a', 60, OWNER);
        await expect(store.takeOverLease(KEY, 'run-a', 'run-b', 0, BARE)).rejects.toThrow(ConfigError);
        const badOwner = { host: '', pid: -1, startTime: null, pidSpace: null };
        await expect(store.takeOverLease(KEY, 'run-a', 'run-b', 60, badOwner)).rejects.toThrow(DataError);
        await expect(store.acquireLease(OTHER_KEY, 'run-c', 60, badOwner)).rejects.toThrow(DataError);
        expect((await store.getLease(KEY))?.holder).toBe('run-a');
        expect(await store.getLease(OTHER_KEY)).toBeUndefined();
      });

      test('listLeases lists every lease sorted by table key, expired ones too, released ones not', async () => {
        expect(await store.listLeases()).toEqual([]);
        const a = await store.acquireLease(KEY, 'run-a', 60, OWNER);
        const b = await store.acquireLease(OTHER_KEY, 'run-b', 10);
        const third = 'shop/main/shop.archive/warehouse';
        await store.acquireLease(third, 'run-c', 60);
        clock.advance(30);
        expect(await store.listLeases()).toEqual([(await store.getLease(third))!, b, a]);
        await store.releaseLease(third, 'run-c');
        const taken = await store.takeOverLease(KEY, 'run-a', 'run-d', 60, BARE);
        expect(await store.listLeases()).toEqual([b, taken]);
      });
    });

    describe('watermarks', () => {
      test('a missing watermark is undefined', async () => {
        expect(await store.getWatermark(KEY)).toBeUndefined();
        expect(await store.listWatermarks()).toEqual([]);
      });

      test.each<[string, Watermark]>([
        ['microsecond timestamp and big id', { ts: '2026-03-01 09:59:59.123456', id: '18446744073709551615' }],
        ['leading zeros and a null ts', { ts: null, id: '007' }],
        ['unix integer text and null id', { ts: '1700000000', id: null }],
        ['both null', { ts: null, id: null }],
        ['empty string and unicode', { ts: '', id: 'ключ-✓' }],
      ])('set and get round-trip exactly: %s', async (_label, watermark) => {
        await store.setWatermark(KEY, watermark, { manual: true });
        expect(await store.getWatermark(KEY)).toEqual({
          tableKey: KEY,
          watermark,
          updatedAt: clock.iso(),
          lastRunId: null,
          manual: true,
        });
      });

      test('set overwrites, records the manual flag and the time', async () => {
        await store.setWatermark(KEY, { ts: '2026-01-01 00:00:00', id: '1' }, { manual: true });
        clock.advance(10);
        await store.setWatermark(KEY, { ts: '2026-01-02 00:00:00', id: '2' }, { manual: false });
        const wm = await store.getWatermark(KEY);
        expect(wm?.watermark).toEqual({ ts: '2026-01-02 00:00:00', id: '2' });
        expect(wm?.manual).toBe(false);
        expect(wm?.updatedAt).toBe('2026-03-01T10:00:10.000Z');
      });

      test('listWatermarks returns every table, sorted by key', async () => {
        await store.setWatermark(KEY, { ts: 'b', id: null }, { manual: true });
        await store.setWatermark(OTHER_KEY, { ts: 'a', id: null }, { manual: false });
        const all = await store.listWatermarks();
        expect(all.map((w) => [w.tableKey, w.watermark.ts, w.manual])).toEqual([
          [OTHER_KEY, 'a', false],
          [KEY, 'b', true],
        ]);
      });

      test('delete removes one table’s watermark only', async () => {
        await store.setWatermark(KEY, { ts: 'x', id: '1' }, { manual: true });
        await store.setWatermark(OTHER_KEY, { ts: 'y', id: '2' }, { manual: true });
        await store.deleteWatermark(KEY);
        await store.deleteWatermark('shop/main/shop.missing/warehouse');
        expect(await store.getWatermark(KEY)).toBeUndefined();
        expect((await store.getWatermark(OTHER_KEY))?.watermark).toEqual({ ts: 'y', id: '2' });
      });

      test('set and delete are refused with LeaseHeldError while a run holds the lease', async () => {
        await store.setWatermark(KEY, { ts: 'before', id: '1' }, { manual: true });
        await store.acquireLease(KEY, 'run-a', 60);
        const err = await store.setWatermark(KEY, { ts: 'manual', id: '9' }, { manual: true }).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(LeaseHeldError);
        expect((err as LeaseHeldError).holder).toBe('run-a');
        await expect(store.deleteWatermark(KEY)).rejects.toThrow(LeaseHeldError);
        expect((await store.getWatermark(KEY))?.watermark).toEqual({ ts: 'before', id: '1' });
        // Another table is not affected by this lease.
        await store.setWatermark(OTHER_KEY, { ts: 'free', id: null }, { manual: true });
        expect((await store.getWatermark(OTHER_KEY))?.watermark.ts).toBe('free');
      });

      test('set is allowed again once the lease is released or expired', async () => {
        await store.acquireLease(KEY, 'run-a', 60);
        clock.advance(61);
        await store.setWatermark(KEY, { ts: 'after-expiry', id: null }, { manual: true });
        expect((await store.getWatermark(KEY))?.watermark.ts).toBe('after-expiry');
        await store.acquireLease(KEY, 'run-b', 60);
        await store.releaseLease(KEY, 'run-b');
        await store.deleteWatermark(KEY);
        expect(await store.getWatermark(KEY)).toBeUndefined();
      });
    });

    describe('runs', () => {
      test('putRun and getRun round-trip a record exactly', async () => {
        const run = sampleRun({
          chunks: [
            { index: 0, key: 'a/run=x/chunk-00000.parquet', rows: 10, bytes: 100 },
            { index: 1, key: 'a/run=x/chunk-00001.parquet', rows: 5, bytes: 50 },
          ],
          rowsExtracted: 15,
          bytes: 150,
          from: { ts: null, id: null },
          error: 'previous attempt: timeout',
        });
        await store.putRun(run);
        expect(await store.getRun(run.runId)).toEqual(run);
        expect(await store.getRun('20990101T000000000Z-00000000')).toBeUndefined();
      });

      test('step times and chunk extract times round-trip; records without them read back without them', async () => {
        const steps = {
          plan: { startedAt: '2026-03-01T09:59:58.000Z', finishedAt: '2026-03-01T09:59:59.500Z' },
          load: { startedAt: '2026-03-01T10:00:03.000Z', finishedAt: null },
        };
        const run = sampleRun({
          steps,
          chunks: [
            {
              index: 0,
              key: 'k0',
              rows: 10,
              bytes: 100,
              startedAt: '2026-03-01T10:00:00.000Z',
              finishedAt: '2026-03-01T10:00:01.250Z',
            },
            { index: 1, key: 'k1', rows: 5, bytes: 50 },
          ],
          rowsExtracted: 15,
          bytes: 150,
        });
        await store.putRun(run);
        expect(await store.getRun(run.runId)).toEqual(run);
        const got = await store.getRun(run.runId);
        expect(got?.chunks[1]).not.toHaveProperty('startedAt');

        // A patch of the step times replaces them; a chunk recorded with its times keeps them.
        const finished = { ...steps, load: { ...steps.load, finishedAt: '2026-03-01T10:00:04.000Z' } };
        await store.updateRun(run.runId, { steps: finished });
        await store.recordChunk(run.runId, {
          index: 2,
          key: 'k2',
          rows: 1,
          bytes: 9,
          startedAt: '2026-03-01T10:00:02.000Z',
          finishedAt: '2026-03-01T10:00:02.500Z',
        });
        const [listed] = await store.listRuns(KEY);
        expect(listed?.steps).toEqual(finished);
        expect(listed?.chunks[2]).toEqual({
          index: 2,
          key: 'k2',
          rows: 1,
          bytes: 9,
          startedAt: '2026-03-01T10:00:02.000Z',
          finishedAt: '2026-03-01T10:00:02.500Z',
        });

        const plain = sampleRun();
        await store.putRun(plain);
        expect(await store.getRun(plain.runId)).not.toHaveProperty('steps');
      });

      test('a step time that is not an ISO-8601 UTC instant is refused with DataError, nothing written', async () => {
        const run = sampleRun();
        await store.putRun(run);
        await expect(
          store.updateRun(run.runId, { steps: { plan: { startedAt: 'yesterday', finishedAt: null } } }),
        ).rejects.toThrow(DataError);
        await expect(
          store.recordChunk(run.runId, { index: 0, key: 'k', rows: 1, bytes: 1, startedAt: '2026-03-01 10:00:00' }),
        ).rejects.toThrow(DataError);
        expect(await store.getRun(run.runId)).toEqual(run);
      });

      test('putRun of an existing run replaces it, chunks included', async () => {
        const run = sampleRun({ chunks: [{ index: 0, key: 'k0', rows: 1, bytes: 1 }], rowsExtracted: 1, bytes: 1 });
        await store.putRun(run);
        const replaced = { ...run, status: 'extracting' as const, chunks: [], rowsExtracted: 0, bytes: 0 };
        await store.putRun(replaced);
        expect(await store.getRun(run.runId)).toEqual(replaced);
      });

      test('updateRun patches the given fields and stamps updatedAt', async () => {
        const run = sampleRun();
        await store.putRun(run);
        clock.advance(5);
        await store.updateRun(run.runId, { status: 'failed', error: 'boom', finishedAt: clock.iso() });
        expect(await store.getRun(run.runId)).toEqual({
          ...run,
          status: 'failed',
          error: 'boom',
          finishedAt: '2026-03-01T10:00:05.000Z',
          updatedAt: '2026-03-01T10:00:05.000Z',
        });
      });

      test('updateRun with chunks replaces the chunk list', async () => {
        const run = sampleRun({ chunks: [{ index: 3, key: 'k3', rows: 3, bytes: 3 }], rowsExtracted: 3, bytes: 3 });
        await store.putRun(run);
        await store.updateRun(run.runId, { chunks: [{ index: 0, key: 'k0', rows: 7, bytes: 70 }] });
        expect((await store.getRun(run.runId))?.chunks).toEqual([{ index: 0, key: 'k0', rows: 7, bytes: 70 }]);
      });

      test('updateRun of an unknown run throws DataError', async () => {
        await expect(store.updateRun('20990101T000000000Z-00000000', { status: 'failed' })).rejects.toThrow(DataError);
      });

      test('recordChunk keeps the chunk list and totals as sums of the chunk records', async () => {
        const run = sampleRun();
        await store.putRun(run);
        clock.advance(1);
        await store.recordChunk(run.runId, { index: 1, key: 'k1', rows: 20, bytes: 2000 });
        await store.recordChunk(run.runId, { index: 0, key: 'k0', rows: 10, bytes: 1000 });
        const got = await store.getRun(run.runId);
        expect(got?.chunks).toEqual([
          { index: 0, key: 'k0', rows: 10, bytes: 1000 },
          { index: 1, key: 'k1', rows: 20, bytes: 2000 },
        ]);
        expect(got?.rowsExtracted).toBe(30);
        expect(got?.bytes).toBe(3000);
        expect(got?.updatedAt).toBe('2026-03-01T10:00:01.000Z');
        expect(got?.status).toBe('planned');
      });

      test('recordChunk retried for the same index replaces it (no double count)', async () => {
        const run = sampleRun();
        await store.putRun(run);
        await store.recordChunk(run.runId, { index: 0, key: 'k0', rows: 10, bytes: 1000 });
        await store.recordChunk(run.runId, { index: 1, key: 'k1', rows: 20, bytes: 2000 });
        await store.recordChunk(run.runId, { index: 1, key: 'k1', rows: 21, bytes: 2100 });
        const got = await store.getRun(run.runId);
        expect(got?.chunks).toHaveLength(2);
        expect(got?.chunks[1]).toEqual({ index: 1, key: 'k1', rows: 21, bytes: 2100 });
        expect(got?.rowsExtracted).toBe(31);
        expect(got?.bytes).toBe(3100);
      });

      test('a chunk keeps the counts of the values it truncated, through recordChunk, putRun and listRuns', async () => {
        const run = sampleRun();
        await store.putRun(run);
        await store.recordChunk(run.runId, { index: 0, key: 'k0', rows: 10, bytes: 1000, truncated: { body: 3 } });
        await store.recordChunk(run.runId, { index: 1, key: 'k1', rows: 5, bytes: 500, truncated: {} });
        const got = await store.getRun(run.runId);
        expect(got?.chunks[0]?.truncated).toEqual({ body: 3 });
        expect(got?.chunks[1]).not.toHaveProperty('truncated');
        await store.putRun({
          ...got!,
          chunks: [{ index: 0, key: 'k0', rows: 10, bytes: 1000, truncated: { a: 1, b: 2 } }],
        });
        expect((await store.listRuns(run.tableKey))[0]?.chunks).toEqual([
          { index: 0, key: 'k0', rows: 10, bytes: 1000, truncated: { a: 1, b: 2 } },
        ]);
      });

      test('recordChunk keeps the parts of a chunk apart, in order; a retried part replaces only itself', async () => {
        const run = sampleRun();
        await store.putRun(run);
        const part1 = { index: 2, part: 1, key: 'k2p1', rows: 5, bytes: 50, after: ['7', 'b'], through: ['9', 'a'] };
        const part2 = { index: 2, part: 2, key: 'k2p2', rows: 1, bytes: 10, after: ['9', 'a'] };
        await store.recordChunk(run.runId, part2);
        await store.recordChunk(run.runId, { index: 3, key: 'k3', rows: 2, bytes: 20 });
        await store.recordChunk(run.runId, { ...part1, rows: 4, bytes: 40 });
        await store.recordChunk(run.runId, { index: 2, key: 'k2', rows: 3, bytes: 30, through: ['7', 'b'] });
        await store.recordChunk(run.runId, part1); // the retried part
        const got = await store.getRun(run.runId);
        expect(got?.chunks).toEqual([
          { index: 2, key: 'k2', rows: 3, bytes: 30, through: ['7', 'b'] },
          part1,
          part2,
          { index: 3, key: 'k3', rows: 2, bytes: 20 },
        ]);
        expect(got?.rowsExtracted).toBe(11);
        expect(got?.bytes).toBe(110);
        expect((await store.listRuns(KEY))[0]?.chunks).toEqual(got?.chunks);
      });

      test('recordChunk refuses a continuation part that does not start after a key, and part 0 that does', async () => {
        const run = sampleRun();
        await store.putRun(run);
        await expect(store.recordChunk(run.runId, { index: 0, part: 1, key: 'k', rows: 1, bytes: 1 })).rejects.toThrow(
          DataError,
        );
        await expect(
          store.recordChunk(run.runId, { index: 0, key: 'k', rows: 1, bytes: 1, after: ['1'] }),
        ).rejects.toThrow(/only a part > 0 starts after a key/);
        expect((await store.getRun(run.runId))?.chunks).toEqual([]);
      });

      test('recordChunk for an unknown or finished run throws DataError', async () => {
        await expect(
          store.recordChunk('20990101T000000000Z-00000000', { index: 0, key: 'k', rows: 1, bytes: 1 }),
        ).rejects.toThrow(DataError);
        const run = sampleRun({ status: 'failed' });
        await store.putRun(run);
        await expect(store.recordChunk(run.runId, { index: 0, key: 'k', rows: 1, bytes: 1 })).rejects.toThrow(
          DataError,
        );
        expect((await store.getRun(run.runId))?.chunks).toEqual([]);
      });

      test('listRuns returns one table’s runs oldest first, optionally filtered by status', async () => {
        const r1 = sampleRun({ status: 'committed' });
        const r2 = sampleRun({ status: 'failed' });
        const r3 = sampleRun({ status: 'extracting', chunks: [{ index: 0, key: 'k', rows: 2, bytes: 3 }] });
        const foreign = sampleRun({ tableKey: OTHER_KEY, status: 'committed' });
        for (const r of [r3, foreign, r1, r2]) await store.putRun(r);
        expect((await store.listRuns(KEY)).map((r) => r.runId)).toEqual([r1.runId, r2.runId, r3.runId]);
        expect((await store.listRuns(KEY, { status: ['committed', 'extracting'] })).map((r) => r.runId)).toEqual([
          r1.runId,
          r3.runId,
        ]);
        expect((await store.listRuns(KEY, { status: ['extracting'] }))[0]).toEqual(r3);
        expect(await store.listRuns(KEY, { status: [] })).toEqual([]);
        expect(await store.listRuns('shop/main/shop.none/warehouse')).toEqual([]);
        expect((await store.listRuns(OTHER_KEY)).map((r) => r.runId)).toEqual([foreign.runId]);
      });
    });

    describe('commitRun', () => {
      async function plannedRun(overrides: Partial<RunRecord> = {}): Promise<RunRecord> {
        const run = sampleRun({ status: 'loaded', ...overrides });
        await store.putRun(run);
        await store.acquireLease(KEY, run.runId, 60);
        return run;
      }

      test('advances the watermark to the run’s `to`, commits the run and releases the lease', async () => {
        await store.setWatermark(KEY, { ts: '2026-02-28 00:00:00', id: '41' }, { manual: true });
        const run = await plannedRun();
        clock.advance(20);
        await store.commitRun({ runId: run.runId, tableKey: KEY, holder: run.runId, rowsLoaded: 959 });
        expect(await store.getWatermark(KEY)).toEqual({
          tableKey: KEY,
          watermark: run.to,
          updatedAt: '2026-03-01T10:00:20.000Z',
          lastRunId: run.runId,
          manual: false,
        });
        const got = await store.getRun(run.runId);
        expect(got?.status).toBe('committed');
        expect(got?.rowsLoaded).toBe(959);
        expect(got?.finishedAt).toBe('2026-03-01T10:00:20.000Z');
        expect(await store.getLease(KEY)).toBeUndefined();
      });

      test('a run that does not advance the watermark leaves it alone', async () => {
        await store.setWatermark(KEY, { ts: 'kept', id: '1' }, { manual: true });
        const run = await plannedRun({ strategy: 'full_sync', advancesWatermark: false, to: { ts: null, id: null } });
        await store.commitRun({ runId: run.runId, tableKey: KEY, holder: run.runId, rowsLoaded: 5 });
        const wm = await store.getWatermark(KEY);
        expect(wm?.watermark).toEqual({ ts: 'kept', id: '1' });
        expect(wm?.manual).toBe(true);
        expect(wm?.lastRunId).toBeNull();
        expect((await store.getRun(run.runId))?.status).toBe('committed');
        expect(await store.getLease(KEY)).toBeUndefined();
      });

      test('a lost lease (expired and taken over) throws LeaseLostError and changes nothing', async () => {
        await store.setWatermark(KEY, { ts: 'before', id: '1' }, { manual: true });
        const run = await plannedRun();
        clock.advance(61);
        await store.acquireLease(KEY, 'run-b', 60);
        await expect(
          store.commitRun({ runId: run.runId, tableKey: KEY, holder: run.runId, rowsLoaded: 1 }),
        ).rejects.toThrow(LeaseLostError);
        expect((await store.getWatermark(KEY))?.watermark).toEqual({ ts: 'before', id: '1' });
        expect(await store.getRun(run.runId)).toEqual(run);
        expect((await store.getLease(KEY))?.holder).toBe('run-b');
      });

      test('an expired lease, or no lease at all, also refuses the commit', async () => {
        const run = await plannedRun();
        clock.advance(61);
        await expect(
          store.commitRun({ runId: run.runId, tableKey: KEY, holder: run.runId, rowsLoaded: 1 }),
        ).rejects.toThrow(LeaseLostError);
        await store.releaseLease(KEY, run.runId);
        await expect(
          store.commitRun({ runId: run.runId, tableKey: KEY, holder: run.runId, rowsLoaded: 1 }),
        ).rejects.toThrow(LeaseLostError);
        expect(await store.getWatermark(KEY)).toBeUndefined();
        expect((await store.getRun(run.runId))?.status).toBe('loaded');
      });

      test('committing twice fails and keeps the first commit', async () => {
        const run = await plannedRun();
        await store.commitRun({ runId: run.runId, tableKey: KEY, holder: run.runId, rowsLoaded: 10 });
        const after = await store.getWatermark(KEY);
        await expect(
          store.commitRun({ runId: run.runId, tableKey: KEY, holder: run.runId, rowsLoaded: 99 }),
        ).rejects.toThrow(LeaseLostError);
        // Even holding the lease again, an already committed run is refused.
        await store.acquireLease(KEY, run.runId, 60);
        clock.advance(1);
        await expect(
          store.commitRun({ runId: run.runId, tableKey: KEY, holder: run.runId, rowsLoaded: 99 }),
        ).rejects.toThrow(DataError);
        expect(await store.getWatermark(KEY)).toEqual(after);
        expect((await store.getRun(run.runId))?.rowsLoaded).toBe(10);
        expect((await store.getLease(KEY))?.holder).toBe(run.runId);
      });

      test('a failed, unknown or foreign run is refused with DataError and the lease kept', async () => {
        const failed = await plannedRun({ status: 'failed' });
        await expect(
          store.commitRun({ runId: failed.runId, tableKey: KEY, holder: failed.runId, rowsLoaded: 1 }),
        ).rejects.toThrow(DataError);
        await expect(
          store.commitRun({
            runId: '20990101T000000000Z-00000000',
            tableKey: KEY,
            holder: failed.runId,
            rowsLoaded: 1,
          }),
        ).rejects.toThrow(DataError);
        const foreign = sampleRun({ tableKey: OTHER_KEY });
        await store.putRun(foreign);
        await expect(
          store.commitRun({ runId: foreign.runId, tableKey: KEY, holder: failed.runId, rowsLoaded: 1 }),
        ).rejects.toThrow(DataError);
        expect(await store.getWatermark(KEY)).toBeUndefined();
        expect((await store.getRun(failed.runId))?.status).toBe('failed');
        expect((await store.getRun(foreign.runId))?.status).toBe('planned');
        expect((await store.getLease(KEY))?.holder).toBe(failed.runId);
      });
    });

    describe('verifications', () => {
      const verification = (at: string, overrides: Partial<VerificationRecord> = {}): VerificationRecord => ({
        table: 'shop.orders',
        at,
        equal: true,
        rows: { source: 10, warehouse: 10 },
        missing: 0,
        extra: 0,
        changed: 0,
        pending: 0,
        durationMs: 12,
        afterRepair: false,
        ...overrides,
      });

      test('the newest comes first, per table; none is an empty list', async () => {
        expect(await store.listVerifications(KEY)).toEqual([]);
        await store.recordVerification(KEY, verification('2026-03-01T10:00:00.000Z'));
        await store.recordVerification(KEY, verification('2026-03-01T12:00:00.000Z', { equal: false, changed: 2 }));
        await store.recordVerification(KEY, verification('2026-03-01T11:00:00.000Z'));
        await store.recordVerification(
          OTHER_KEY,
          verification('2026-03-02T00:00:00.000Z', { table: 'shop.customers' }),
        );
        const [last] = await store.listVerifications(KEY);
        expect(last).toMatchObject({ at: '2026-03-01T12:00:00.000Z', equal: false, changed: 2 });
        expect((await store.listVerifications(KEY, 10)).map((v) => v.at)).toEqual([
          '2026-03-01T12:00:00.000Z',
          '2026-03-01T11:00:00.000Z',
          '2026-03-01T10:00:00.000Z',
        ]);
        expect(await store.listVerifications(KEY, 0)).toEqual([]);
        expect((await store.listVerifications(OTHER_KEY, 10)).map((v) => v.table)).toEqual(['shop.customers']);
      });

      test('a second record at the same instant replaces the first', async () => {
        await store.recordVerification(KEY, verification('2026-03-01T10:00:00.000Z', { equal: false, extra: 1 }));
        await store.recordVerification(KEY, verification('2026-03-01T10:00:00.000Z', { afterRepair: true }));
        expect(await store.listVerifications(KEY, 5)).toEqual([
          verification('2026-03-01T10:00:00.000Z', { afterRepair: true }),
        ]);
      });

      test(`the newest ${VERIFICATIONS_KEPT} are kept`, async () => {
        for (let i = 0; i < VERIFICATIONS_KEPT + 3; i++) {
          await store.recordVerification(KEY, verification(new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString()));
        }
        const kept = await store.listVerifications(KEY, VERIFICATIONS_KEPT + 10);
        expect(kept).toHaveLength(VERIFICATIONS_KEPT);
        expect(kept.at(-1)?.at).toBe(new Date(Date.UTC(2026, 0, 1, 0, 0, 3)).toISOString());
      });

      test('a malformed record or instant is refused with DataError, nothing written', async () => {
        await expect(
          store.recordVerification(KEY, verification('2026-03-01 10:00:00', { equal: true })),
        ).rejects.toThrow(DataError);
        await expect(
          store.recordVerification(KEY, { ...verification('2026-03-01T10:00:00.000Z'), missing: -1 }),
        ).rejects.toThrow(/verification of shop\/main\/shop.orders\/warehouse/);
        expect(await store.listVerifications(KEY)).toEqual([]);
      });
    });

    describe('load claims', () => {
      const statement = (id: string, overrides: Partial<LoadStatement> = {}): LoadStatement => ({
        id,
        runId: 'run-1',
        phase: 'apply',
        submittedAt: clock.iso(),
        ...overrides,
      });
      const inSeconds = (s: number) => new Date(clock.now().getTime() + s * 1000).toISOString();

      test('one attempt at a time: a live claim refuses another attempt; the holder may claim again', async () => {
        expect(await store.getLoadClaim(KEY)).toBeUndefined();
        const first = await store.claimLoad(KEY, { runId: 'run-1', attempt: 'a1', until: inSeconds(900) });
        expect(first).toMatchObject({ tableKey: KEY, runId: 'run-1', attempt: 'a1', released: false, statements: [] });
        const err = await store
          .claimLoad(KEY, { runId: 'run-1', attempt: 'a2', until: inSeconds(900) })
          .catch((e: unknown) => e);
        expect(err).toBeInstanceOf(LoadClaimHeldError);
        expect((err as LoadClaimHeldError).transient).toBe(true);
        expect((err as Error).message).toContain('attempt a1 of run run-1');
        expect(await store.claimLoad(KEY, { runId: 'run-1', attempt: 'a1', until: inSeconds(60) })).toMatchObject({
          attempt: 'a1',
        });
        // Another table's load is its own.
        await store.claimLoad(OTHER_KEY, { runId: 'run-9', attempt: 'b1', until: inSeconds(900) });
      });

      test('statements stay with the claim: a later attempt sees them after release or expiry', async () => {
        await store.claimLoad(KEY, { runId: 'run-1', attempt: 'a1', until: inSeconds(900) });
        await store.recordLoadStatement(KEY, 'a1', statement('s-stage', { phase: 'stage', detail: { stage: 't__x' } }));
        await store.recordLoadStatement(KEY, 'a1', statement('s-apply', { detail: { insertAt: 3 } }));
        await store.releaseLoad(KEY, 'a1');
        expect((await store.getLoadClaim(KEY))?.released).toBe(true);
        const second = await store.claimLoad(KEY, { runId: 'run-1', attempt: 'a2', until: inSeconds(900) });
        expect(second.statements.map((x) => [x.id, x.phase, x.detail])).toEqual([
          ['s-stage', 'stage', { stage: 't__x' }],
          ['s-apply', 'apply', { insertAt: 3 }],
        ]);
        // a2 never released: after its deadline a third attempt takes over, statements included.
        clock.advance(901);
        const third = await store.claimLoad(KEY, { runId: 'run-2', attempt: 'a3', until: inSeconds(900) });
        expect(third).toMatchObject({ runId: 'run-2', attempt: 'a3' });
        expect(third.statements).toHaveLength(2);
      });

      test('abandoning a dead run’s claim ends it at once, keeping its statements; another run’s claim stays', async () => {
        await store.claimLoad(KEY, { runId: 'run-1', attempt: 'a1', until: inSeconds(900) });
        await store.recordLoadStatement(KEY, 'a1', statement('s-apply', { detail: { insertAt: 3 } }));
        await store.abandonLoadClaim(KEY, 'run-other');
        await expect(store.claimLoad(KEY, { runId: 'run-2', attempt: 'a2', until: inSeconds(900) })).rejects.toThrow(
          LoadClaimHeldError,
        );
        await store.abandonLoadClaim(KEY, 'run-1');
        expect((await store.getLoadClaim(KEY))?.released).toBe(false);
        const next = await store.claimLoad(KEY, { runId: 'run-2', attempt: 'a2', until: inSeconds(900) });
        expect(next).toMatchObject({ runId: 'run-2', attempt: 'a2' });
        expect(next.statements.map((x) => x.id)).toEqual(['s-apply']);
        // Nothing to abandon any more: a no-op.
        await store.abandonLoadClaim(KEY, 'run-1');
        expect((await store.getLoadClaim(KEY))?.attempt).toBe('a2');
      });

      test('only the holder records or releases; a superseded attempt gets LoadClaimLostError', async () => {
        await expect(store.recordLoadStatement(KEY, 'a1', statement('s1'))).rejects.toThrow(LoadClaimLostError);
        await store.claimLoad(KEY, { runId: 'run-1', attempt: 'a1', until: inSeconds(10) });
        clock.advance(11);
        await store.claimLoad(KEY, { runId: 'run-1', attempt: 'a2', until: inSeconds(900) });
        const err = await store.recordLoadStatement(KEY, 'a1', statement('late')).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(LoadClaimLostError);
        expect((err as Error).message).toMatch(/no longer held by attempt a1 \(now attempt a2/);
        await store.releaseLoad(KEY, 'a1'); // not the holder: nothing happens
        expect(await store.getLoadClaim(KEY)).toMatchObject({ attempt: 'a2', released: false, statements: [] });
        await store.releaseLoad(KEY, 'a2');
        await expect(store.recordLoadStatement(KEY, 'a2', statement('after'))).rejects.toThrow(LoadClaimLostError);
      });

      test('a new run drops the statements of a released claim, keeps those of one never released', async () => {
        await store.claimLoad(KEY, { runId: 'run-1', attempt: 'a1', until: inSeconds(900) });
        await store.recordLoadStatement(KEY, 'a1', statement('r1'));
        await store.releaseLoad(KEY, 'a1');
        expect(
          (await store.claimLoad(KEY, { runId: 'run-2', attempt: 'a2', until: inSeconds(10) })).statements,
        ).toEqual([]);
        await store.recordLoadStatement(KEY, 'a2', statement('r2', { runId: 'run-2' }));
        clock.advance(11);
        const third = await store.claimLoad(KEY, { runId: 'run-3', attempt: 'a3', until: inSeconds(900) });
        expect(third.statements.map((x) => x.id)).toEqual(['r2']);
      });

      test('statements older than 24 hours are dropped, and at most the newest few are kept', async () => {
        await store.claimLoad(KEY, { runId: 'run-1', attempt: 'a1', until: inSeconds(900) });
        await store.recordLoadStatement(KEY, 'a1', statement('old'));
        clock.advance(24 * 3600 + 1);
        await store.recordLoadStatement(KEY, 'a1', statement('recent'));
        const next = await store.claimLoad(KEY, { runId: 'run-2', attempt: 'a2', until: inSeconds(900) });
        expect(next.statements.map((x) => x.id)).toEqual(['recent']);
        for (let i = 0; i < MAX_STATEMENTS_KEPT + 2; i++) {
          await store.recordLoadStatement(KEY, 'a2', statement(`s${i}`, { runId: 'run-2' }));
        }
        clock.advance(901);
        const kept = (await store.claimLoad(KEY, { runId: 'run-3', attempt: 'a3', until: inSeconds(900) })).statements;
        expect(kept).toHaveLength(MAX_STATEMENTS_KEPT);
        expect(kept.at(-1)?.id).toBe(`s${MAX_STATEMENTS_KEPT + 1}`);
      });

      test('a malformed statement or instant is refused with DataError', async () => {
        await store.claimLoad(KEY, { runId: 'run-1', attempt: 'a1', until: inSeconds(900) });
        await expect(store.recordLoadStatement(KEY, 'a1', statement(''))).rejects.toThrow(DataError);
        await expect(
          store.recordLoadStatement(KEY, 'a1', statement('s1', { submittedAt: 'yesterday' })),
        ).rejects.toThrow(/submittedAt must be an ISO-8601 UTC instant/);
        await expect(store.claimLoad(KEY, { runId: 'run-1', attempt: 'a1', until: 'soon' })).rejects.toThrow(DataError);
        expect((await store.getLoadClaim(KEY))?.statements).toEqual([]);
      });
    });

    describe('remembered host keys', () => {
      const FP1 = `SHA256:${'A'.repeat(43)}`;
      const FP2 = `SHA256:${'B'.repeat(43)}`;

      test('the first key seen is kept; a later different one gets the first back', async () => {
        const first = await store.rememberHostKey('bastion.example:22', FP1);
        expect(first).toEqual({ bastion: 'bastion.example:22', fingerprint: FP1, firstSeenAt: clock.iso() });
        clock.advance(60);
        expect(await store.rememberHostKey('bastion.example:22', FP2)).toEqual(first);
        expect(await store.rememberHostKey('bastion.example:22', FP1)).toEqual(first);
        // Another port is another bastion.
        expect((await store.rememberHostKey('bastion.example:2222', FP2)).fingerprint).toBe(FP2);
      });

      test('a malformed fingerprint is refused with DataError and nothing is remembered', async () => {
        await expect(store.rememberHostKey('bastion.example:22', 'md5:aa:bb')).rejects.toThrow(DataError);
        expect((await store.rememberHostKey('bastion.example:22', FP2)).fingerprint).toBe(FP2);
      });
    });
  });
}
