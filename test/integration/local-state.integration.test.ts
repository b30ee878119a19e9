import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import type { Watermark } from '../../lambdas/domain/model.js';
import { ConfigError, DataError, LeaseHeldError } from '../../lambdas/errors.js';
import { createLocalStateStore } from '../../lambdas/local/adapters/local-state/index.js';
import { MIGRATIONS, SCHEMA_VERSION } from '../../lambdas/local/adapters/local-state/schema.js';
import type { RunRecord } from '../../lambdas/ports/index.js';
import { describeStateStoreContract, ManualClock, sampleRun } from '../contract/state-store.contract.js';

describeStateStoreContract('local SQLite', async (clock) => {
  const dir = await mkdtemp(join(tmpdir(), 'hw-state-'));
  const store = createLocalStateStore({ path: join(dir, 'state.db'), now: clock.now });
  return {
    store,
    async cleanup() {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});

/** The error opening a state store at `path` throws (the test fails when it opens). */
function openError(path: string): ConfigError {
  try {
    createLocalStateStore({ path });
  } catch (e) {
    return e as ConfigError;
  }
  throw new Error(`opening ${path} did not fail`);
}

describe('local state store: file behaviour', () => {
  let dir: string;
  let path: string;
  const KEY = 'shop/main/shop.orders/warehouse';

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hw-state-local-'));
    path = join(dir, 'nested', 'state.db');
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('creates the directory, uses WAL and records the schema version; data survives reopening', async () => {
    const clock = new ManualClock();
    const store = createLocalStateStore({ path, now: clock.now });
    const run = sampleRun({ chunks: [{ index: 0, key: 'k0', rows: 4, bytes: 40 }], rowsExtracted: 4, bytes: 40 });
    await store.putRun(run);
    await store.setWatermark(KEY, { ts: '2026-01-01 00:00:00.000001', id: '0042' }, { manual: true });
    await store.acquireLease(KEY, 'run-a', 60);
    await store.close();

    const raw = new Database(path, { readonly: true });
    expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(raw.prepare('SELECT "version" FROM "schema_version"').all()).toEqual([{ version: SCHEMA_VERSION }]);
    raw.close();

    const again = createLocalStateStore({ path, now: clock.now });
    expect(await again.getRun(run.runId)).toEqual(run);
    expect((await again.getWatermark(KEY))?.watermark).toEqual({ ts: '2026-01-01 00:00:00.000001', id: '0042' });
    expect((await again.getLease(KEY))?.holder).toBe('run-a');
    await again.close();
  });

  test('two stores on one file see each other’s leases', async () => {
    const a = createLocalStateStore({ path });
    const b = createLocalStateStore({ path });
    await a.acquireLease(KEY, 'run-a', 60);
    await expect(b.acquireLease(KEY, 'run-b', 60)).rejects.toThrow(LeaseHeldError);
    await a.releaseLease(KEY, 'run-a');
    expect((await b.acquireLease(KEY, 'run-b', 60)).holder).toBe('run-b');
    await a.close();
    await b.close();
  });

  test('a process killed in the middle of a commit leaves nothing partial behind', async () => {
    const clock = new ManualClock();
    const store = createLocalStateStore({ path, now: clock.now });
    await store.setWatermark(KEY, { ts: 'before', id: '1' }, { manual: true });
    const run = sampleRun({ status: 'loaded' });
    await store.putRun(run);
    await store.acquireLease(KEY, run.runId, 3600);
    await store.close();

    // The child does what commitRun does (and much more, so pages spill into the WAL), then waits to be killed.
    const script = `
      const Database = require('better-sqlite3');
      const db = new Database(process.argv[1]);
      db.pragma('cache_size = 4');
      db.exec('BEGIN IMMEDIATE');
      db.prepare('UPDATE "watermarks" SET "ts" = ?, "last_run_id" = ? WHERE "table_key" = ?').run('partial', process.argv[2], process.argv[3]);
      db.prepare('UPDATE "runs" SET "status" = ?, "rows_loaded" = 5 WHERE "run_id" = ?').run('committed', process.argv[2]);
      db.prepare('DELETE FROM "leases" WHERE "table_key" = ?').run(process.argv[3]);
      const chunk = db.prepare('INSERT INTO "chunks" ("run_id", "idx", "key", "rows", "bytes") VALUES (?, ?, ?, 1, 1)');
      for (let i = 0; i < 20000; i++) chunk.run(process.argv[2], i, 'k'.repeat(40) + i);
      process.stdout.write('ready\\n');
      setInterval(() => {}, 1000);
    `;
    const child = spawn(process.execPath, ['-e', script, path, run.runId, KEY], {
      cwd: process.cwd(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const [line] = await Promise.race([
      once(child.stdout, 'data') as Promise<[Buffer]>,
      once(child, 'exit').then(() => {
        throw new Error(`child exited early: ${stderr}`);
      }),
    ]);
    expect(line.toString()).toBe('ready\n');
    // The uncommitted transaction really reached the disk (spilled into the WAL) before the kill.
    expect(statSync(`${path}-wal`).size).toBeGreaterThan(100_000);
    child.kill('SIGKILL');
    await once(child, 'exit');

    const again = createLocalStateStore({ path, now: clock.now });
    const wm = await again.getWatermark(KEY);
    expect(wm?.watermark).toEqual({ ts: 'before', id: '1' });
    expect(wm?.lastRunId).toBeNull();
    expect(await again.getRun(run.runId)).toEqual(run);
    expect((await again.getLease(KEY))?.holder).toBe(run.runId);
    // And the real commit still works on the recovered file.
    await again.commitRun({ runId: run.runId, tableKey: KEY, holder: run.runId, rowsLoaded: 7 });
    expect((await again.getWatermark(KEY))?.watermark).toEqual(run.to);
    await again.close();

    const raw = new Database(path, { readonly: true });
    expect(raw.pragma('integrity_check', { simple: true })).toBe('ok');
    raw.close();
  });

  test('a version-4 file (no step times) is upgraded in place: its runs and chunks read back without them', async () => {
    const store = createLocalStateStore({ path });
    const run = sampleRun({ chunks: [{ index: 0, key: 'k0', rows: 2, bytes: 20 }], rowsExtracted: 2, bytes: 20 });
    await store.putRun(run);
    await store.close();
    const raw = new Database(path);
    raw.exec('ALTER TABLE "runs" DROP COLUMN "steps_json"');
    raw.exec('ALTER TABLE "chunks" DROP COLUMN "started_at"');
    raw.exec('ALTER TABLE "chunks" DROP COLUMN "finished_at"');
    raw.exec('DROP TABLE "load_claims"');
    raw.exec('DROP TABLE "host_keys"');
    raw.exec('ALTER TABLE "chunks" DROP COLUMN "truncated_json"');
    raw.prepare('UPDATE "schema_version" SET "version" = 4').run();
    raw.close();
    const again = createLocalStateStore({ path });
    expect(await again.getRun(run.runId)).toEqual(run);
    const steps = { plan: { startedAt: '2026-03-01T09:00:00.000Z', finishedAt: '2026-03-01T09:00:01.000Z' } };
    await again.updateRun(run.runId, { steps });
    expect((await again.getRun(run.runId))?.steps).toEqual(steps);
    await again.close();
    const check = new Database(path, { readonly: true });
    expect(check.prepare('SELECT "version" FROM "schema_version"').pluck().get()).toBe(SCHEMA_VERSION);
    check.close();
  });

  test('a version-2 file (runs without plans) is upgraded in place and its runs read back with plan null', async () => {
    const store = createLocalStateStore({ path });
    const run = sampleRun({ plan: null });
    await store.putRun(run);
    await store.close();
    const raw = new Database(path);
    raw.exec('ALTER TABLE "runs" DROP COLUMN "plan_json"');
    raw.exec('ALTER TABLE "runs" DROP COLUMN "steps_json"');
    raw.exec('ALTER TABLE "chunks" DROP COLUMN "started_at"');
    raw.exec('ALTER TABLE "chunks" DROP COLUMN "finished_at"');
    raw.exec('DROP TABLE "verifications"');
    raw.exec('DROP TABLE "load_claims"');
    raw.exec('DROP TABLE "host_keys"');
    raw.exec('ALTER TABLE "chunks" DROP COLUMN "truncated_json"');
    raw.prepare('UPDATE "schema_version" SET "version" = 2').run();
    raw.close();
    const again = createLocalStateStore({ path });
    expect(await again.getRun(run.runId)).toEqual(run);
    const planned = sampleRun({
      plan: {
        kind: 'sync',
        next: run.to,
        snapshotAt: '2026-03-01 09:00:00.000001',
        columns: [],
        nullCursorRows: 3,
        deletesCheckedAt: null,
        execution: 'arn:aws:states:us-east-1:123456789012:execution:highwater-table:t1',
        warnings: ['w'],
      },
    });
    await again.putRun(planned);
    expect((await again.getRun(planned.runId))?.plan).toEqual(planned.plan);
    await again.close();
  });

  test('a version-6 file (chunks without parts) is upgraded in place: its chunks read back whole (part 0)', async () => {
    // Today's file, then its chunks table as version 6 held it (no part, no after/through; key (run_id, idx)).
    const run = sampleRun({ rowsExtracted: 5, bytes: 50 });
    const store = createLocalStateStore({ path });
    await store.putRun(run);
    await store.close();
    const raw = new Database(path);
    raw.exec('DROP TABLE "chunks"');
    raw.exec(`CREATE TABLE "chunks" (
      "run_id" TEXT NOT NULL REFERENCES "runs" ("run_id") ON DELETE CASCADE,
      "idx" INTEGER NOT NULL, "key" TEXT NOT NULL, "rows" INTEGER NOT NULL, "bytes" INTEGER NOT NULL,
      "started_at" TEXT, "finished_at" TEXT, "truncated_json" TEXT,
      PRIMARY KEY ("run_id", "idx")) STRICT`);
    raw
      .prepare('INSERT INTO "chunks" VALUES (?, 0, ?, 2, 20, NULL, NULL, NULL), (?, 1, ?, 3, 30, NULL, NULL, ?)')
      .run(run.runId, 'k0', run.runId, 'k1', '{"body":2}');
    raw.prepare('UPDATE "schema_version" SET "version" = 6').run();
    raw.close();

    const again = createLocalStateStore({ path });
    expect((await again.getRun(run.runId))?.chunks).toEqual([
      { index: 0, key: 'k0', rows: 2, bytes: 20 },
      { index: 1, key: 'k1', rows: 3, bytes: 30, truncated: { body: 2 } },
    ]);
    await again.recordChunk(run.runId, { index: 1, part: 1, key: 'k1p1', rows: 4, bytes: 40, after: ['9'] });
    const got = await again.getRun(run.runId);
    expect(got?.chunks.map((c) => [c.index, c.part ?? 0, c.key])).toEqual([
      [0, 0, 'k0'],
      [1, 0, 'k1'],
      [1, 1, 'k1p1'],
    ]);
    expect(got?.rowsExtracted).toBe(9);
    await again.close();
    const check = new Database(path, { readonly: true });
    expect(check.prepare('SELECT "version" FROM "schema_version"').pluck().get()).toBe(SCHEMA_VERSION);
    check.close();
  });

  test('a file with a newer schema version is refused with ConfigError naming the path', async () => {
    const store = createLocalStateStore({ path });
    await store.close();
    const raw = new Database(path);
    raw.prepare('UPDATE "schema_version" SET "version" = ?').run(SCHEMA_VERSION + 1);
    raw.close();
    const err = (() => {
      try {
        createLocalStateStore({ path });
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).message).toContain(path);
    expect((err as ConfigError).message).toContain(`schema version ${SCHEMA_VERSION + 1}`);
    // The refused open left the file as it was.
    const check = new Database(path, { readonly: true });
    expect(check.prepare('SELECT "version" FROM "schema_version"').all()).toEqual([{ version: SCHEMA_VERSION + 1 }]);
    check.close();
  });

  test('a file that is not a state database is refused with ConfigError naming the path', async () => {
    const bogus = join(dir, 'not-a-db.db');
    const garbage = 'this is not sqlite, just some text that is long enough to have a header'.repeat(20);
    await writeFile(bogus, garbage);
    const err = openError(bogus);
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toContain(`state file ${bogus} cannot be opened`);
    expect(err.message).toContain('not taken for a fresh start');
    expect(err.message).toContain('restore it from a backup, or point --home');
    expect(err.suggestion).toContain('move the file away');
    // Nothing was written: the file is as it was and no journal or temporary file appeared.
    expect(readFileSync(bogus, 'utf8')).toBe(garbage);
    expect(readdirSync(dir)).toEqual(['not-a-db.db']);
  });

  test('an empty (0-byte) file is refused naming it, never taken for a fresh start, and left alone', async () => {
    mkdirSync(dirname(path), { recursive: true });
    await writeFile(path, '');
    const err = openError(path);
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toBe(
      `state file ${path} is empty (0 bytes); it holds the watermarks, leases and run history, so it is not taken ` +
        `for a fresh start: restore it from a backup, or point --home (HIGHWATER_HOME) or the pipeline's state.path elsewhere`,
    );
    expect(statSync(path).size).toBe(0);
    expect(readdirSync(dirname(path))).toEqual(['state.db']);
  });

  test('a directory, or an SQLite database of something else, at the path is refused naming it', async () => {
    mkdirSync(path, { recursive: true });
    expect(openError(path).message).toContain(`state file ${path} is not a file`);
    const foreign = join(dir, 'foreign.db');
    const raw = new Database(foreign);
    raw.exec('CREATE TABLE "customers" ("id" INTEGER PRIMARY KEY)');
    raw.close();
    const err = openError(foreign);
    expect(err.message).toContain(`state file ${foreign} is an SQLite database but not a Highwater state file`);
    expect(err.message).toContain('customers');
    const check = new Database(foreign, { readonly: true });
    expect(check.prepare('SELECT "name" FROM "sqlite_master" WHERE "type" = \'table\'').pluck().all()).toEqual([
      'customers',
    ]);
    check.close();
  });

  test('a fresh start creates the file complete, with no temporary file left behind', async () => {
    const store = createLocalStateStore({ path });
    expect(readdirSync(dirname(path)).filter((f) => !/^state\.db(-wal|-shm)?$/.test(f))).toEqual([]);
    await store.close();
    expect(statSync(path).size).toBeGreaterThan(0);
    // A database that never got a table (a process killed right after creating it) is still a fresh start.
    const blank = join(dir, 'blank.db');
    const raw = new Database(blank);
    raw.pragma('journal_mode = WAL');
    raw.close();
    const again = createLocalStateStore({ path: blank });
    expect(await again.listLeases()).toEqual([]);
    await again.close();
  });

  test('a schema version 1 file is upgraded in place: its data is kept and its lease has no owner', async () => {
    mkdirSync(dirname(path), { recursive: true });
    const v1 = new Database(path);
    v1.pragma('journal_mode = WAL');
    v1.exec(MIGRATIONS[0]!);
    v1.exec(
      'CREATE TABLE "schema_version" ("id" INTEGER PRIMARY KEY CHECK ("id" = 1), "version" INTEGER NOT NULL) STRICT',
    );
    v1.prepare('INSERT INTO "schema_version" VALUES (1, 1)').run();
    v1.prepare('INSERT INTO "leases" VALUES (?, ?, ?)').run(KEY, 'run-old', '2026-03-01T11:00:00.000Z');
    v1.prepare('INSERT INTO "watermarks" VALUES (?, ?, ?, ?, ?, ?)').run(KEY, '2026-01-01 00:00:00', '7', 'x', null, 0);
    v1.close();

    const clock = new ManualClock();
    const store = createLocalStateStore({ path, now: clock.now });
    expect(await store.getLease(KEY)).toEqual({
      tableKey: KEY,
      holder: 'run-old',
      expiresAt: '2026-03-01T11:00:00.000Z',
      owner: null,
    });
    expect((await store.getWatermark(KEY))?.watermark).toEqual({ ts: '2026-01-01 00:00:00', id: '7' });
    const owner = { host: 'h', pid: 12, startTime: '99', pidSpace: null };
    expect((await store.takeOverLease(KEY, 'run-old', 'run-new', 60, owner)).owner).toEqual(owner);
    await store.close();
    const raw = new Database(path, { readonly: true });
    expect(raw.prepare('SELECT "version" FROM "schema_version"').pluck().get()).toBe(SCHEMA_VERSION);
    raw.close();
  });

  test('a damaged lease row (an owner pid without a host) is reported as DataError naming its table', async () => {
    const store = createLocalStateStore({ path });
    await store.acquireLease(KEY, 'run-a', 60);
    const raw = new Database(path);
    raw.prepare('UPDATE "leases" SET "owner_pid" = 5').run();
    raw.close();
    await expect(store.getLease(KEY)).rejects.toThrow(/malformed row in table leases/);
    await expect(store.listLeases()).rejects.toThrow(DataError);
    await store.close();
  });

  test('a damaged row is reported as DataError naming its table', async () => {
    const store = createLocalStateStore({ path });
    const run = sampleRun();
    await store.putRun(run);
    const raw = new Database(path);
    raw.prepare('UPDATE "runs" SET "status" = ? WHERE "run_id" = ?').run('exploded', run.runId);
    raw.close();
    await expect(store.getRun(run.runId)).rejects.toThrow(/malformed row in table runs/);
    await expect(store.listRuns(KEY)).rejects.toThrow(DataError);
    await store.close();
  });

  test('invalid records, chunks, watermarks and row counts are refused before they reach the file', async () => {
    const store = createLocalStateStore({ path });
    const run = sampleRun();
    await expect(store.putRun({ ...run, status: 'bogus' } as unknown as RunRecord)).rejects.toThrow(
      /putRun .*invalid run record/,
    );
    expect(await store.getRun(run.runId)).toBeUndefined();
    await store.putRun(run);
    await expect(store.updateRun(run.runId, { plannedChunks: -1 })).rejects.toThrow(DataError);
    await expect(store.recordChunk(run.runId, { index: 0, key: 'k', rows: -1, bytes: 0 })).rejects.toThrow(DataError);
    await expect(
      store.setWatermark(KEY, { ts: 5, id: null } as unknown as Watermark, { manual: true }),
    ).rejects.toThrow(DataError);
    await store.acquireLease(KEY, run.runId, 60);
    await expect(
      store.commitRun({ runId: run.runId, tableKey: KEY, holder: run.runId, rowsLoaded: 1.5 }),
    ).rejects.toThrow(DataError);
    expect(await store.getRun(run.runId)).toEqual(run);
    expect(await store.getWatermark(KEY)).toBeUndefined();
    await store.close();
  });
});
