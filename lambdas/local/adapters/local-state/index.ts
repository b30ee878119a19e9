/**
 * The local StateStore: one SQLite file (better-sqlite3, synchronous). Every read-modify-write runs in a
 * BEGIN IMMEDIATE transaction, so two highwater processes sharing the file serialise on the write lock and the
 * lease check and the write it guards can never interleave.
 */
import type Database from 'better-sqlite3';
import { z } from 'zod';
import type { VerificationRecord } from '../../../domain/manifests.js';
import type { Watermark } from '../../../domain/model.js';
import { chunkSchema, RUN_STATUSES, watermarkAfter, watermarkSchema } from '../../../domain/records.js';
import { ConfigError, DataError, LeaseHeldError, LeaseLostError } from '../../../errors.js';
import {
  checkLeaseOwner,
  checkRunRecord,
  checkVerification,
  VERIFICATIONS_KEPT,
  verificationFromStore,
} from '../../../ports/checks.js';
import type { ChunkRecord, Lease, RunRecord, RunStatus, StateStore, WatermarkRecord } from '../../../ports/index.js';
import { localClaimStore } from './load-claims.js';
import {
  chunkFromRow,
  chunkToParams,
  leaseFromRow,
  leaseToParams,
  runFromRow,
  runToParams,
  watermarkFromRow,
} from './rows.js';
import { openStateDatabase } from './schema.js';

export interface LocalStateStoreOptions {
  /** The SQLite file; created (with its directory) when missing. */
  path: string;
  /** The clock for lease expiry and timestamps; injectable so tests can expire a lease without sleeping. */
  now?: () => Date;
}

/** A run in one of these states has finished: it cannot be committed again or take more chunks. */
const FINISHED: ReadonlySet<RunStatus> = new Set(['committed', 'failed', 'cleaned']);

const RUN_COLUMNS = [
  'run_id',
  'table_key',
  'pipeline',
  'table_name',
  'strategy',
  'status',
  'from_ts',
  'from_id',
  'to_ts',
  'to_id',
  'advances_watermark',
  'planned_chunks',
  'rows_extracted',
  'rows_loaded',
  'bytes',
  'started_at',
  'updated_at',
  'finished_at',
  'error',
  'cleaned_at',
  'plan_json',
  'steps_json',
] as const;

const sumsSchema = z.object({ rows: z.number().int().nonnegative(), bytes: z.number().int().nonnegative() });
const runStatusSchema = z.object({ status: z.enum(RUN_STATUSES) });

function prepareStatements(db: Database.Database) {
  const runColumnList = RUN_COLUMNS.map((c) => `"${c}"`).join(', ');
  return {
    getLease: db.prepare('SELECT * FROM "leases" WHERE "table_key" = ?'),
    listLeases: db.prepare('SELECT * FROM "leases" ORDER BY "table_key"'),
    upsertLease: db.prepare(
      `INSERT INTO "leases" ("table_key", "holder", "expires_at", "owner_host", "owner_pid", "owner_start_time",
         "owner_pid_space") VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT ("table_key") DO UPDATE SET "holder" = excluded."holder", "expires_at" = excluded."expires_at",
         "owner_host" = excluded."owner_host", "owner_pid" = excluded."owner_pid",
         "owner_start_time" = excluded."owner_start_time", "owner_pid_space" = excluded."owner_pid_space"`,
    ),
    extendLease: db.prepare('UPDATE "leases" SET "expires_at" = ? WHERE "table_key" = ? AND "holder" = ?'),
    deleteLease: db.prepare('DELETE FROM "leases" WHERE "table_key" = ? AND "holder" = ?'),
    getWatermark: db.prepare('SELECT * FROM "watermarks" WHERE "table_key" = ?'),
    listWatermarks: db.prepare('SELECT * FROM "watermarks" ORDER BY "table_key"'),
    upsertWatermark: db.prepare(
      `INSERT INTO "watermarks" ("table_key", "ts", "id", "updated_at", "last_run_id", "manual")
       VALUES (@table_key, @ts, @id, @updated_at, @last_run_id, @manual)
       ON CONFLICT ("table_key") DO UPDATE SET "ts" = excluded."ts", "id" = excluded."id",
         "updated_at" = excluded."updated_at", "last_run_id" = excluded."last_run_id", "manual" = excluded."manual"`,
    ),
    deleteWatermark: db.prepare('DELETE FROM "watermarks" WHERE "table_key" = ?'),
    getRun: db.prepare('SELECT * FROM "runs" WHERE "run_id" = ?'),
    upsertRun: db.prepare(
      `INSERT INTO "runs" (${runColumnList}) VALUES (${RUN_COLUMNS.map((c) => `@${c}`).join(', ')})
       ON CONFLICT ("run_id") DO UPDATE SET ${RUN_COLUMNS.filter((c) => c !== 'run_id')
         .map((c) => `"${c}" = excluded."${c}"`)
         .join(', ')}`,
    ),
    listRuns: db.prepare('SELECT * FROM "runs" WHERE "table_key" = ? ORDER BY "run_id"'),
    getChunks: db.prepare(
      `SELECT "idx", "part", "key", "rows", "bytes", "after_json", "through_json", "started_at", "finished_at",
         "truncated_json" FROM "chunks" WHERE "run_id" = ? ORDER BY "idx", "part"`,
    ),
    getChunkTotals: db.prepare('SELECT "rows", "bytes" FROM "chunks" WHERE "run_id" = ? AND "idx" = ? AND "part" = ?'),
    getRunStatus: db.prepare('SELECT "status" FROM "runs" WHERE "run_id" = ?'),
    deleteChunks: db.prepare('DELETE FROM "chunks" WHERE "run_id" = ?'),
    upsertChunk: db.prepare(
      `INSERT INTO "chunks" ("run_id", "idx", "part", "key", "rows", "bytes", "after_json", "through_json",
         "started_at", "finished_at", "truncated_json")
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT ("run_id", "idx", "part") DO UPDATE SET "key" = excluded."key", "rows" = excluded."rows",
         "bytes" = excluded."bytes", "after_json" = excluded."after_json", "through_json" = excluded."through_json",
         "started_at" = excluded."started_at", "finished_at" = excluded."finished_at",
         "truncated_json" = excluded."truncated_json"`,
    ),
    addRunTotals: db.prepare(
      `UPDATE "runs" SET "rows_extracted" = "rows_extracted" + ?, "bytes" = "bytes" + ?, "updated_at" = ?
       WHERE "run_id" = ?`,
    ),
    upsertVerification: db.prepare(
      `INSERT INTO "verifications" ("table_key", "at", "record_json") VALUES (?, ?, ?)
       ON CONFLICT ("table_key", "at") DO UPDATE SET "record_json" = excluded."record_json"`,
    ),
    listVerifications: db.prepare(
      'SELECT "record_json" FROM "verifications" WHERE "table_key" = ? ORDER BY "at" DESC LIMIT ?',
    ),
    pruneVerifications: db.prepare(
      `DELETE FROM "verifications" WHERE "table_key" = @table_key AND "at" < coalesce(
         (SELECT "at" FROM "verifications" WHERE "table_key" = @table_key ORDER BY "at" DESC LIMIT 1 OFFSET @keep), '')`,
    ),
    commitRun: db.prepare(
      `UPDATE "runs" SET "status" = 'committed', "rows_loaded" = ?, "finished_at" = ?, "updated_at" = ?
       WHERE "run_id" = ?`,
    ),
  };
}

function checkTtl(tableKey: string, ttlSeconds: number): void {
  if (!Number.isFinite(ttlSeconds) || ttlSeconds <= 0) {
    throw new ConfigError(`lease on ${tableKey}: ttl must be a positive number of seconds, got ${ttlSeconds}`);
  }
}

function leaseHeld(lease: Lease): LeaseHeldError {
  return new LeaseHeldError(lease.tableKey, lease.holder, lease.expiresAt, lease.owner);
}

function nothingToTakeOver(tableKey: string, previousHolder: string): LeaseLostError {
  return new LeaseLostError(`${tableKey}: the lease of run ${previousHolder} is gone (released); nothing to take over`);
}

function checkWatermark(tableKey: string, watermark: Watermark): Watermark {
  const parsed = watermarkSchema.safeParse(watermark);
  if (!parsed.success) {
    throw new DataError(`watermark for ${tableKey}: ts and id must each be a string or null`);
  }
  return parsed.data;
}

const verificationRowSchema = z.object({ record_json: z.string() });

function verificationFromRow(path: string, tableKey: string, row: unknown): VerificationRecord {
  const { record_json } = verificationRowSchema.parse(row);
  let value: unknown;
  try {
    value = JSON.parse(record_json);
  } catch {
    throw new DataError(`state file ${path}: a verification of ${tableKey} is not JSON`);
  }
  return verificationFromStore(`state file ${path}`, tableKey, value);
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

export function createLocalStateStore(opts: LocalStateStoreOptions): StateStore {
  const path = opts.path;
  const now = opts.now ?? (() => new Date());
  const db = openStateDatabase(path);
  const q = prepareStatements(db);

  const readLease = (tableKey: string): Lease | undefined => {
    const row = q.getLease.get(tableKey);
    return row === undefined ? undefined : leaseFromRow(row);
  };
  // ISO-8601 UTC strings from toISOString all have the same width, so string order is time order.
  const isLive = (lease: Lease, at: string): boolean => lease.expiresAt > at;

  const readRun = (runId: string): RunRecord | undefined => {
    const row = q.getRun.get(runId);
    if (row === undefined) return undefined;
    return runFromRow(
      row,
      q.getChunks.all(runId).map((c) => chunkFromRow(runId, c)),
    );
  };
  const requireRun = (what: string, runId: string): RunRecord => {
    const run = readRun(runId);
    if (run === undefined) throw new DataError(`${what}: run ${runId} is not in the state file ${path}`);
    return run;
  };
  const writeRun = (run: RunRecord, replaceChunks: boolean): void => {
    q.upsertRun.run(runToParams(run));
    if (!replaceChunks) return;
    q.deleteChunks.run(run.runId);
    for (const c of run.chunks) q.upsertChunk.run(...chunkToParams(run.runId, c));
  };
  /** Refuses a manual watermark change while any run holds a live lease on the table. */
  const refuseWhileLeased = (tableKey: string, at: string): void => {
    const lease = readLease(tableKey);
    if (lease !== undefined && isLive(lease, at)) throw leaseHeld(lease);
  };
  const until = (at: Date, ttlSeconds: number): string => new Date(at.getTime() + ttlSeconds * 1000).toISOString();
  // IMMEDIATE takes the write lock before the first read, so checks and writes see one consistent state.
  const atomically = <T>(fn: () => T): T => db.transaction(fn).immediate();
  /**
   * A transaction that need not survive power loss on its own: a chunk record or a lease renewal. WAL with
   * synchronous=NORMAL still commits it atomically and keeps it through a process crash; only an OS crash or power
   * loss may drop the newest such writes — a run in flight then, which dies with the machine and is read again.
   * The next ordinary (FULL) commit makes them durable too. It spares the fsync that made recording a small
   * chunk cost milliseconds of the event loop (better-sqlite3 is synchronous).
   */
  const atomicallyNoSync = <T>(fn: () => T): T => {
    db.pragma('synchronous = NORMAL');
    try {
      return atomically(fn);
    } finally {
      db.pragma('synchronous = FULL');
    }
  };
  // Multi-statement reads share one snapshot (a run and its chunks) without taking the write lock.
  const snapshot = <T>(fn: () => T): T => db.transaction(fn).deferred();
  const claims = localClaimStore(db, path, now, atomically);

  return {
    ...claims,
    async acquireLease(tableKey, holder, ttlSeconds, owner) {
      checkTtl(tableKey, ttlSeconds);
      const who = checkLeaseOwner(tableKey, owner);
      return atomically(() => {
        const at = now();
        const current = readLease(tableKey);
        if (current !== undefined && current.holder !== holder && isLive(current, at.toISOString())) {
          throw leaseHeld(current);
        }
        const lease: Lease = { tableKey, holder, expiresAt: until(at, ttlSeconds), owner: who };
        q.upsertLease.run(...leaseToParams(lease));
        return lease;
      });
    },

    async takeOverLease(tableKey, previousHolder, holder, ttlSeconds, owner) {
      checkTtl(tableKey, ttlSeconds);
      const who = checkLeaseOwner(tableKey, owner);
      return atomically(() => {
        const current = readLease(tableKey);
        if (current === undefined) throw nothingToTakeOver(tableKey, previousHolder);
        if (current.holder !== previousHolder) throw leaseHeld(current);
        const lease: Lease = { tableKey, holder, expiresAt: until(now(), ttlSeconds), owner: who };
        q.upsertLease.run(...leaseToParams(lease));
        return lease;
      });
    },

    async renewLease(tableKey, holder, ttlSeconds) {
      checkTtl(tableKey, ttlSeconds);
      return atomicallyNoSync(() => {
        const current = readLease(tableKey);
        // An expired lease nobody took over is still ours: the work it guards has not been disturbed.
        if (current === undefined || current.holder !== holder) {
          throw new LeaseLostError(
            `${tableKey}: run ${holder} no longer holds the lease (${current === undefined ? 'released' : `now held by ${current.holder}`})`,
          );
        }
        const lease: Lease = { ...current, expiresAt: until(now(), ttlSeconds) };
        q.extendLease.run(lease.expiresAt, tableKey, holder);
        return lease;
      });
    },

    async releaseLease(tableKey, holder) {
      q.deleteLease.run(tableKey, holder);
    },

    async getLease(tableKey) {
      return readLease(tableKey);
    },

    async listLeases() {
      return q.listLeases.all().map(leaseFromRow);
    },

    async getWatermark(tableKey) {
      const row = q.getWatermark.get(tableKey);
      return row === undefined ? undefined : watermarkFromRow(row);
    },

    async setWatermark(tableKey, watermark, { manual }) {
      const wm = checkWatermark(tableKey, watermark);
      atomically(() => {
        const at = now().toISOString();
        refuseWhileLeased(tableKey, at);
        q.upsertWatermark.run({
          table_key: tableKey,
          ts: wm.ts,
          id: wm.id,
          updated_at: at,
          last_run_id: null,
          manual: manual ? 1 : 0,
        });
      });
    },

    async deleteWatermark(tableKey) {
      atomically(() => {
        refuseWhileLeased(tableKey, now().toISOString());
        q.deleteWatermark.run(tableKey);
      });
    },

    async listWatermarks(): Promise<WatermarkRecord[]> {
      return q.listWatermarks.all().map(watermarkFromRow);
    },

    async putRun(run) {
      const checked = checkRunRecord(`putRun ${run.runId}`, run);
      atomically(() => writeRun(checked, true));
    },

    async getRun(runId) {
      return snapshot(() => readRun(runId));
    },

    async recordChunk(runId, chunk) {
      const c = checkChunk(runId, chunk);
      const what = `recordChunk ${c.index}${c.part ? ` part ${c.part}` : ''}`;
      atomicallyNoSync(() => {
        // The run's status alone: reading every chunk of the run here made recording n chunks cost n².
        const status = runStatusSchema.safeParse(q.getRunStatus.get(runId));
        if (!status.success) throw new DataError(`${what}: run ${runId} is not in the state file ${path}`);
        if (FINISHED.has(status.data.status)) {
          throw new DataError(`${what}: run ${runId} is already ${status.data.status}; it takes no more chunks`);
        }
        const old = q.getChunkTotals.get(runId, c.index, c.part ?? 0);
        const before = old === undefined ? { rows: 0, bytes: 0 } : sumsSchema.parse(old);
        q.upsertChunk.run(...chunkToParams(runId, c));
        // Totals move by the difference, so a retried chunk replaces its count instead of adding to it.
        q.addRunTotals.run(c.rows - before.rows, c.bytes - before.bytes, now().toISOString(), runId);
      });
    },

    async updateRun(runId, patch) {
      atomically(() => {
        const current = requireRun('updateRun', runId);
        const next = checkRunRecord(`updateRun ${runId}`, {
          ...current,
          ...patch,
          runId,
          tableKey: current.tableKey,
          updatedAt: patch.updatedAt ?? now().toISOString(),
        });
        writeRun(next, patch.chunks !== undefined);
      });
    },

    async listRuns(tableKey, filter) {
      const wanted = filter?.status === undefined ? undefined : new Set(filter.status);
      return snapshot(() =>
        q.listRuns
          .all(tableKey)
          .map((row) => runFromRow(row, []))
          .filter((r) => wanted === undefined || wanted.has(r.status))
          .map((r) => ({ ...r, chunks: q.getChunks.all(r.runId).map((c) => chunkFromRow(r.runId, c)) })),
      );
    },

    async commitRun({ runId, tableKey, holder, rowsLoaded }) {
      if (!Number.isSafeInteger(rowsLoaded) || rowsLoaded < 0) {
        throw new DataError(`commitRun ${runId}: rowsLoaded must be a non-negative integer, got ${rowsLoaded}`);
      }
      atomically(() => {
        const at = now().toISOString();
        const lease = readLease(tableKey);
        if (lease === undefined || lease.holder !== holder || !isLive(lease, at)) {
          const why =
            lease === undefined
              ? 'no lease is held'
              : lease.holder !== holder
                ? `the lease is held by ${lease.holder}`
                : `its lease expired at ${lease.expiresAt}`;
          throw new LeaseLostError(`${tableKey}: run ${runId} cannot commit because ${why}; nothing was committed`);
        }
        const run = requireRun('commitRun', runId);
        if (run.tableKey !== tableKey) {
          throw new DataError(`commitRun: run ${runId} belongs to ${run.tableKey}, not ${tableKey}`);
        }
        if (FINISHED.has(run.status)) {
          throw new DataError(`commitRun: run ${runId} of ${tableKey} is already ${run.status}`);
        }
        if (run.advancesWatermark) {
          q.upsertWatermark.run({
            table_key: tableKey,
            ts: watermarkAfter(run).ts,
            id: watermarkAfter(run).id,
            updated_at: at,
            last_run_id: runId,
            manual: 0,
          });
        }
        q.commitRun.run(rowsLoaded, at, at, runId);
        q.deleteLease.run(tableKey, holder);
      });
    },

    async recordVerification(tableKey, record) {
      const checked = checkVerification(tableKey, record);
      atomically(() => {
        q.upsertVerification.run(tableKey, checked.at, JSON.stringify(checked));
        q.pruneVerifications.run({ table_key: tableKey, keep: VERIFICATIONS_KEPT - 1 });
      });
    },

    async listVerifications(tableKey, limit = 1) {
      return q.listVerifications
        .all(tableKey, Math.max(0, Math.floor(limit)))
        .map((row) => verificationFromRow(path, tableKey, row));
    },

    async close() {
      db.close();
    },
  };
}
