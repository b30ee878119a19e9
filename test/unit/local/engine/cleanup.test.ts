/**
 * The s3clean engine on the real local adapters (a staging directory and a SQLite ledger in a temp dir): which
 * files are safe, what --force and leases change, and how the ledger follows the deletions.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { chunkKey, manifestKey, tableKey, tableStagingPrefix } from '../../../../lambdas/engine/naming.js';
import { ConfigError } from '../../../../lambdas/errors.js';
import { createLocalStaging } from '../../../../lambdas/local/adapters/local-staging/index.js';
import { createLocalStateStore } from '../../../../lambdas/local/adapters/local-state/index.js';
import {
  applyCleanup,
  type CleanupScope,
  FORCED_ERROR,
  globToRegExp,
  listStagedFiles,
  matchesPattern,
  planCleanup,
} from '../../../../lambdas/local/engine/cleanup.js';
import type { RunRecord, RunStatus, Staging, StateStore } from '../../../../lambdas/ports/index.js';

const parts = { pipeline: 'p', source: 'src', table: 'shop.orders', target: 'wh' };
const KEY = tableKey(parts);
let dir: string;
let staging: Staging;
let state: StateStore;
let scope: CleanupScope;
let seq = 0;

function runId(): string {
  seq++;
  return `20260101T0000000${String(seq).padStart(2, '0')}Z-0000000${seq % 10}`;
}

async function put(key: string): Promise<void> {
  await staging.putJson(key, { x: 1 });
}

/** A run with `files` chunk files staged, and optionally its manifest. */
async function run(status: RunStatus, files = 1, extra: Partial<RunRecord> = {}): Promise<RunRecord> {
  const id = runId();
  const chunks = [];
  for (let i = 0; i < files; i++) {
    const key = chunkKey('', parts, id, i);
    await put(key);
    chunks.push({ index: i, key, rows: 10, bytes: 7 });
  }
  const now = new Date().toISOString();
  const r: RunRecord = {
    runId: id,
    tableKey: KEY,
    pipeline: 'p',
    table: 'shop.orders',
    strategy: 'hybrid',
    status,
    from: { ts: null, id: null },
    to: { ts: '2024-01-01 00:00:00', id: '1' },
    advancesWatermark: true,
    chunks,
    plannedChunks: files,
    rowsExtracted: 10 * files,
    rowsLoaded: status === 'committed' ? 10 * files : null,
    bytes: 7 * files,
    startedAt: now,
    updatedAt: now,
    finishedAt: null,
    error: null,
    cleanedAt: null,
    plan: null,
    ...extra,
  };
  await state.putRun(r);
  return r;
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'hw-cleanup-'));
  staging = createLocalStaging({ root: join(dir, 'staging') });
  state = createLocalStateStore({ path: join(dir, 'state.sqlite') });
  scope = { staging, state, rootPrefix: '', parts, leaseSeconds: 60 };
});
afterEach(async () => {
  await state.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('globs', () => {
  test('* stays in a folder, ** crosses, ? is one character, the rest is literal', () => {
    expect(globToRegExp('chunk-*.parquet').test('chunk-00001.parquet')).toBe(true);
    expect(globToRegExp('run=*').test('run=a/chunk.parquet')).toBe(false);
    expect(globToRegExp('run=**').test('run=a/chunk.parquet')).toBe(true);
    expect(globToRegExp('chunk-0000?.parquet').test('chunk-00001.parquet')).toBe(true);
    expect(globToRegExp('a.b').test('axb')).toBe(false);
  });
  test('a pattern without / matches the file name, with / the key below the table prefix', () => {
    expect(matchesPattern('manifest.json', 'run=x/manifest.json')).toBe(true);
    expect(matchesPattern('run=x/*.json', 'run=x/manifest.json')).toBe(true);
    expect(matchesPattern('run=y/*', 'run=x/manifest.json')).toBe(false);
  });
});

describe('listing', () => {
  test('each run status gets its verdict; orphans are safe; totals cover the selection', async () => {
    const committed = await run('committed', 2);
    await put(manifestKey('', parts, committed.runId));
    const failed = await run('failed');
    const staged = await run('staged');
    const abandoned = await run('extracting');
    await put(`${tableStagingPrefix('', parts)}stray.txt`);
    await put(chunkKey('', parts, runId(), 0)); // a run the ledger never saw

    const l = await listStagedFiles(scope);
    const of = (id: string) => l.files.filter((f) => f.runId === id);
    expect(of(committed.runId).map((f) => [f.kind, f.safe])).toEqual([
      ['chunk', true],
      ['chunk', true],
      ['manifest', true],
    ]);
    expect(of(failed.runId)[0]).toMatchObject({ safe: true, runStatus: 'failed' });
    expect(of(staged.runId)[0]).toMatchObject({ safe: false, inUse: false, runStatus: 'staged' });
    expect(of(staged.runId)[0]!.reason).toContain('--redshift-only');
    expect(of(abandoned.runId)[0]).toMatchObject({ safe: true, runStatus: 'extracting' });
    expect(of(abandoned.runId)[0]!.reason).toContain('abandoned');
    const orphans = l.files.filter((f) => f.runStatus === null);
    expect(orphans).toHaveLength(2);
    expect(orphans.every((f) => f.safe && f.reason.startsWith('orphan'))).toBe(true);
    expect(l.totals).toMatchObject({ files: 8, safeFiles: 7, unsafeFiles: 1 });
  });

  test('a chunk read in parts: every part file is a chunk of its run', async () => {
    const r = await run('committed', 1);
    const part = chunkKey('', parts, r.runId, 0, 1);
    expect(part.endsWith('/chunk-00000-p0001.parquet')).toBe(true);
    await put(part);
    await state.updateRun(r.runId, {
      chunks: [
        { ...r.chunks[0]!, through: ['5'] },
        { index: 0, part: 1, key: part, rows: 3, bytes: 7, after: ['5'] },
      ],
    });
    const l = await listStagedFiles(scope);
    expect(l.files.filter((f) => f.runId === r.runId).map((f) => [f.kind, f.safe])).toEqual([
      ['chunk', true],
      ['chunk', true],
    ]);
  });

  test('a run holding a live lease is in use, and so is a staged run while another run holds it', async () => {
    const staged = await run('staged');
    const live = await run('extracting');
    await state.acquireLease(KEY, live.runId, 60);
    const l = await listStagedFiles(scope);
    expect(l.lease?.holder).toBe(live.runId);
    const byRun = (id: string) => l.files.find((f) => f.runId === id)!;
    expect(byRun(live.runId)).toMatchObject({ safe: false, inUse: true });
    expect(byRun(live.runId).reason).toContain('in progress');
    expect(byRun(staged.runId)).toMatchObject({ safe: false, inUse: true });
    expect(byRun(staged.runId).reason).toContain(`run ${live.runId} holds the lease`);

    // Once the lease has expired the run is abandoned, and its files are safe.
    const later = await listStagedFiles(scope, { now: new Date(Date.now() + 120_000) });
    expect(later.lease).toBeNull();
    expect(later.files.find((f) => f.runId === live.runId)).toMatchObject({ safe: true, inUse: false });
  });

  test('a stray object inside a staged run’s folder belongs to that run, not to the orphans', async () => {
    const staged = await run('staged');
    const stray = `${tableStagingPrefix('', parts)}run=${staged.runId}/extra/notes.json`;
    await put(stray);
    const f = (await listStagedFiles(scope)).files.find((x) => x.key === stray)!;
    expect(f).toMatchObject({ runId: staged.runId, runStatus: 'staged', kind: 'other', safe: false });
  });

  test('a full_sync staged run followed by a newer one is superseded; the newest is not', async () => {
    const old = await run('staged', 1, { strategy: 'full_sync', advancesWatermark: false });
    const newest = await run('staged', 1, { strategy: 'full_sync', advancesWatermark: false });
    const l = await listStagedFiles(scope);
    expect(l.files.find((f) => f.runId === old.runId)).toMatchObject({ safe: true });
    expect(l.files.find((f) => f.runId === old.runId)!.reason).toContain(`superseded by run ${newest.runId}`);
    expect(l.files.find((f) => f.runId === newest.runId)).toMatchObject({ safe: false });
  });

  test('--older-than and --pattern narrow the selection', async () => {
    const r = await run('committed', 2);
    await put(manifestKey('', parts, r.runId));
    expect((await listStagedFiles(scope, { olderThanSeconds: 3600 })).totals.files).toBe(0);
    const future = await listStagedFiles(scope, { olderThanSeconds: 3600, now: new Date(Date.now() + 7_200_000) });
    expect(future.totals.files).toBe(3);
    const json = await listStagedFiles(scope, { pattern: '*.json' });
    expect(json.files.filter((f) => f.selected).map((f) => f.kind)).toEqual(['manifest']);
  });
});

describe('cleaning', () => {
  test('safe files go, not-loaded ones stay without --force; committed runs become cleaned with their manifest', async () => {
    const committed = await run('committed', 2);
    await put(manifestKey('', parts, committed.runId));
    const staged = await run('staged');
    const plan = planCleanup(await listStagedFiles(scope), { force: false });
    expect(plan.kept.map((f) => f.runId)).toEqual([staged.runId]);
    expect(plan.forced).toEqual([]);
    await applyCleanup(scope, plan);
    expect(existsSync(join(dir, 'staging', staged.chunks[0]!.key))).toBe(true);
    expect(existsSync(join(dir, 'staging', committed.chunks[0]!.key))).toBe(false);
    expect(existsSync(join(dir, 'staging', manifestKey('', parts, committed.runId)))).toBe(false);
    const after = await state.getRun(committed.runId);
    expect(after?.status).toBe('cleaned');
    expect(after?.cleanedAt).not.toBeNull();
    expect((await state.getRun(staged.runId))?.status).toBe('staged');
  });

  test('a pattern that takes every chunk also takes the manifest; one that takes part leaves the run committed', async () => {
    const a = await run('committed', 2);
    await put(manifestKey('', parts, a.runId));
    const part = planCleanup(await listStagedFiles(scope, { pattern: 'chunk-00000.parquet' }), { force: false });
    expect(part.delete.map((f) => f.key)).toEqual([a.chunks[0]!.key]);
    await applyCleanup(scope, part);
    expect((await state.getRun(a.runId))?.status).toBe('committed');
    const rest = planCleanup(await listStagedFiles(scope, { pattern: '*.parquet' }), { force: false });
    expect(rest.delete.map((f) => f.kind).sort()).toEqual(['chunk', 'manifest']);
    await applyCleanup(scope, rest);
    expect((await state.getRun(a.runId))?.status).toBe('cleaned');
  });

  test('a run loaded but never committed (no lease) loses its files as failed, not as cleaned', async () => {
    const loaded = await run('loaded', 2);
    const plan = planCleanup(await listStagedFiles(scope), { force: false });
    expect(plan.delete.map((f) => f.runId)).toEqual([loaded.runId, loaded.runId]);
    await applyCleanup(scope, plan);
    const after = await state.getRun(loaded.runId);
    expect(after).toMatchObject({ status: 'failed' });
    expect(after?.error).toContain('loaded but never committed');
    expect(after?.cleanedAt).not.toBeNull();
  });

  test('--force deletes a not-loaded run and marks it failed so --redshift-only never loads it', async () => {
    const staged = await run('staged', 2);
    const plan = planCleanup(await listStagedFiles(scope), { force: true });
    expect(plan.forced.map((f) => f.key)).toEqual(staged.chunks.map((c) => c.key));
    expect(plan.runUpdates).toEqual([
      { runId: staged.runId, from: 'staged', to: 'failed', complete: true, error: FORCED_ERROR },
    ]);
    await applyCleanup(scope, plan);
    const after = await state.getRun(staged.runId);
    expect(after).toMatchObject({ status: 'failed', error: FORCED_ERROR });
    expect(after?.cleanedAt).not.toBeNull();
    expect(await state.listRuns(KEY, { status: ['staged'] })).toEqual([]);
    expect(await state.getLease(KEY)).toBeUndefined(); // the cleaner's own lease is released
  });

  test('--force is refused while a run is in progress, and deletes nothing', async () => {
    const live = await run('extracting');
    await state.acquireLease(KEY, live.runId, 60);
    const listing = await listStagedFiles(scope);
    expect(() => planCleanup(listing, { force: true })).toThrow(ConfigError);
    expect(() => planCleanup(listing, { force: true })).toThrow(live.runId);
    // Without --force the in-progress files simply stay.
    expect(planCleanup(listing, { force: false }).delete).toEqual([]);
  });

  test('a sync that takes the lease between listing and deleting makes --force refuse, leaving the ledger alone', async () => {
    const staged = await run('staged');
    const plan = planCleanup(await listStagedFiles(scope), { force: true });
    await state.acquireLease(KEY, 'someone-else', 60);
    await expect(applyCleanup(scope, plan)).rejects.toThrow(/refusing to delete staged files while run someone-else/);
    expect((await state.getRun(staged.runId))?.status).toBe('staged');
    expect(existsSync(join(dir, 'staging', staged.chunks[0]!.key))).toBe(true);
  });

  test('an abandoned run is cleaned while a newer run holds the lease, which stays that run’s', async () => {
    const abandoned = await run('extracting');
    const live = await run('extracting');
    await state.acquireLease(KEY, live.runId, 60);
    const plan = planCleanup(await listStagedFiles(scope), { force: false });
    expect(plan.delete.map((f) => f.runId)).toEqual([abandoned.runId]);
    expect(plan.kept.map((f) => f.runId)).toEqual([live.runId]);
    await applyCleanup(scope, plan);
    expect((await state.getRun(abandoned.runId))?.status).toBe('failed');
    expect((await state.getRun(live.runId))?.status).toBe('extracting');
    expect((await state.getLease(KEY))?.holder).toBe(live.runId);
    expect(existsSync(join(dir, 'staging', live.chunks[0]!.key))).toBe(true);
  });

  test('failed and abandoned runs keep or get status failed, with cleanedAt', async () => {
    const failed = await run('failed', 1, { error: 'boom' });
    const abandoned = await run('extracting');
    await applyCleanup(scope, planCleanup(await listStagedFiles(scope), { force: false }));
    expect(await state.getRun(failed.runId)).toMatchObject({ status: 'failed', error: 'boom' });
    expect((await state.getRun(failed.runId))?.cleanedAt).not.toBeNull();
    expect((await state.getRun(abandoned.runId))?.status).toBe('failed');
    expect((await state.getRun(abandoned.runId))?.error).toContain('abandoned');
  });
});
