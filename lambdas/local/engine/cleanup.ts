/**
 * s3clean: which staged files of one table may go, and removing them while keeping the run ledger consistent.
 *
 * A file is judged by the run it belongs to (its `run=<id>/` folder), never by age alone:
 * - committed, loaded, cleaned: the rows are in the warehouse; the files are history → safe. (A `loaded` run with no
 *   lease never committed: it is marked failed, not cleaned, when its files go.)
 * - failed, or a run abandoned without its lease: nothing ever loads these files (the next run re-reads the
 *   window from the committed watermark) → safe.
 * - staged by --backup-only and not loaded yet: `sync --redshift-only` will load them → NOT safe (only --force).
 *   A full_sync staged run followed by a newer run is superseded (a full_sync load takes only the newest) → safe.
 * - a run holding the table's live lease (in progress), and staged runs while any run holds it (a --redshift-only
 *   load may be reading them) → in use: never deleted, --force is refused until the lease is released or expires.
 * - files under the table's prefix that no ledger run owns → orphans, safe.
 *
 * The staging listing is read BEFORE the ledger: a run is recorded before it writes its first file, so every file
 * the listing sees has its run visible in the ledger read that follows (no live file is mistaken for an orphan).
 */

import {
  isRunId,
  newRunId,
  parseStagingKey,
  type TableKeyParts,
  tableKey,
  tableStagingPrefix,
} from '../../engine/naming.js';
import { ConfigError, LeaseHeldError } from '../../errors.js';
import type { Lease, RunRecord, RunStatus, StagedObject, Staging, StateStore } from '../../ports/index.js';

export interface CleanupScope {
  staging: Staging;
  state: StateStore;
  /** The staging root prefix (Runtime.stagingPrefix). */
  rootPrefix: string;
  parts: TableKeyParts;
  /** Lease time-to-live while --force removes files of runs that are not loaded yet. */
  leaseSeconds: number;
}

export interface CleanupFilter {
  /** Only files at least this old (seconds). */
  olderThanSeconds?: number;
  /** A glob: without `/` it matches the file name, with `/` the key below the table's prefix. */
  pattern?: string;
  now?: Date;
}

export type FileKind = 'chunk' | 'manifest' | 'plan' | 'other';

export interface StagedFileEntry {
  key: string;
  /** The key below the table's staging prefix (`run=…/chunk-00000.parquet`). */
  relativeKey: string;
  kind: FileKind;
  size: number;
  lastModified: string;
  ageSeconds: number;
  /** The run the file's folder names (null when the key is not one of ours). */
  runId: string | null;
  /** The run's ledger status; null for an orphan. */
  runStatus: RunStatus | null;
  safe: boolean;
  /** Belongs to a run that is in progress (live lease): never deleted, even with --force. */
  inUse: boolean;
  reason: string;
  /** Passes --older-than and --pattern. */
  selected: boolean;
}

export interface Totals {
  files: number;
  bytes: number;
  safeFiles: number;
  safeBytes: number;
  unsafeFiles: number;
  unsafeBytes: number;
}

export interface CleanupListing {
  tableKey: string;
  prefix: string;
  /** The table's lease when it is live. */
  lease: Lease | null;
  /** Every file under the table's prefix, oldest run first; `selected` marks those the filter keeps. */
  files: StagedFileEntry[];
  /** Ledger runs that own at least one listed file. */
  runs: RunRecord[];
  /** Totals over the selected files. */
  totals: Totals;
}

// ── Globs ──────────────────────────────────────────────────────────────────────────────────────────────────────

/** `*` matches within one path segment, `**` across segments, `?` one character; everything else is literal. */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*' && glob[i + 1] === '*') {
      re += '.*';
      i++;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

export function matchesPattern(pattern: string, relativeKey: string): boolean {
  const target = pattern.includes('/') ? relativeKey : relativeKey.slice(relativeKey.lastIndexOf('/') + 1);
  return globToRegExp(pattern).test(target);
}

// ── Judging files ──────────────────────────────────────────────────────────────────────────────────────────────

interface Verdict {
  safe: boolean;
  inUse: boolean;
  reason: string;
}

/** The verdict on the files of one run. `later` are the table's runs started after it. */
export function judgeRun(run: RunRecord, lease: Lease | null, later: readonly RunRecord[]): Verdict {
  if (lease && lease.holder === run.runId) {
    return { safe: false, inUse: true, reason: `in progress: the run holds the lease until ${lease.expiresAt}` };
  }
  switch (run.status) {
    case 'committed':
      return { safe: true, inUse: false, reason: 'committed: the rows are in the warehouse' };
    case 'loaded':
      return { safe: true, inUse: false, reason: 'loaded into the warehouse (the commit did not follow)' };
    case 'cleaned':
      return { safe: true, inUse: false, reason: 'cleaned before: a leftover' };
    case 'failed':
      return { safe: true, inUse: false, reason: 'failed: never loaded, the next run re-reads its window' };
    case 'planned':
    case 'extracting':
      return { safe: true, inUse: false, reason: 'abandoned: the run ended without finishing and holds no lease' };
    case 'staged': {
      if (lease) {
        return {
          safe: false,
          inUse: true,
          reason: `staged, not loaded; run ${lease.holder} holds the lease until ${lease.expiresAt} and may be loading it`,
        };
      }
      const newer = later.find((r) => ['staged', 'loaded', 'committed', 'cleaned'].includes(r.status));
      // Without a watermark (full_sync), a load takes only the newest staged run.
      if (!run.advancesWatermark && newer) {
        return {
          safe: true,
          inUse: false,
          reason: `superseded by run ${newer.runId} (a full_sync load takes only the newest staged run)`,
        };
      }
      return { safe: false, inUse: false, reason: 'staged, not loaded yet: sync --redshift-only loads it' };
    }
  }
}

function kindOf(file: string, isChunk: boolean): FileKind {
  if (isChunk) return 'chunk';
  if (/^manifest(-\d+)?\.json$/.test(file)) return 'manifest';
  if (file === 'plan.json' || file === 'deletes.json') return 'plan';
  return 'other';
}

function totalsOf(files: readonly StagedFileEntry[]): Totals {
  const t: Totals = { files: 0, bytes: 0, safeFiles: 0, safeBytes: 0, unsafeFiles: 0, unsafeBytes: 0 };
  for (const f of files) {
    t.files++;
    t.bytes += f.size;
    if (f.safe) {
      t.safeFiles++;
      t.safeBytes += f.size;
    } else {
      t.unsafeFiles++;
      t.unsafeBytes += f.size;
    }
  }
  return t;
}

/** The table's staged files joined with its run ledger and live lease. */
export async function listStagedFiles(scope: CleanupScope, filter: CleanupFilter = {}): Promise<CleanupListing> {
  const now = filter.now ?? new Date();
  const key = tableKey(scope.parts);
  const prefix = tableStagingPrefix(scope.rootPrefix, scope.parts);
  // Listing first, ledger second: see the module comment.
  const objects: StagedObject[] = [];
  for await (const o of scope.staging.list(prefix)) objects.push(o);
  const runs = await scope.state.listRuns(key);
  const held = await scope.state.getLease(key);
  const lease = held && held.expiresAt > now.toISOString() ? held : null;

  const byId = new Map(runs.map((r, i) => [r.runId, { run: r, later: runs.slice(i + 1) }]));
  const verdicts = new Map<string, Verdict>();
  const files: StagedFileEntry[] = [];
  for (const o of objects) {
    const relativeKey = o.key.slice(prefix.length);
    const parsed = parseStagingKey(scope.rootPrefix, o.key);
    const ours = parsed && tableKey(parsed.parts) === key ? parsed : undefined;
    // A stray object inside a run's folder still belongs to that run (never an orphan of a run still needed).
    const folder = /^run=([^/]+)\//.exec(relativeKey)?.[1];
    const runId = ours?.runId ?? (folder !== undefined && isRunId(folder) ? folder : null);
    const found = runId ? byId.get(runId) : undefined;
    let verdict: Verdict;
    if (found) {
      verdict = verdicts.get(found.run.runId) ?? judgeRun(found.run, lease, found.later);
      verdicts.set(found.run.runId, verdict);
    } else if (lease && runId === lease.holder) {
      verdict = { safe: false, inUse: true, reason: `in progress: the run holds the lease until ${lease.expiresAt}` };
    } else {
      verdict = { safe: true, inUse: false, reason: 'orphan: no run in the ledger owns it' };
    }
    const ageSeconds = Math.max(0, (now.getTime() - o.lastModified.getTime()) / 1000);
    const selected =
      (filter.olderThanSeconds === undefined || ageSeconds >= filter.olderThanSeconds) &&
      (filter.pattern === undefined || matchesPattern(filter.pattern, relativeKey));
    files.push({
      key: o.key,
      relativeKey,
      kind: kindOf(ours?.file ?? relativeKey, ours?.chunkIndex !== null && ours?.chunkIndex !== undefined),
      size: o.size,
      lastModified: o.lastModified.toISOString(),
      ageSeconds,
      runId,
      runStatus: found?.run.status ?? null,
      ...verdict,
      selected,
    });
  }
  const owning = new Set(files.map((f) => f.runId));
  return {
    tableKey: key,
    prefix,
    lease,
    files,
    runs: runs.filter((r) => owning.has(r.runId)),
    totals: totalsOf(files.filter((f) => f.selected)),
  };
}

// ── Cleaning ───────────────────────────────────────────────────────────────────────────────────────────────────

export interface CleanupPlan {
  /** Files that go: the safe selected ones, the forced ones, and manifest/plan objects of runs left without files. */
  delete: StagedFileEntry[];
  /** Selected files that are not safe and are deleted only because of --force. */
  forced: StagedFileEntry[];
  /** Selected files that are not safe and stay (no --force). */
  kept: StagedFileEntry[];
  /** Ledger changes, per run that loses files. */
  runUpdates: RunUpdate[];
}

export interface RunUpdate {
  runId: string;
  from: RunStatus;
  to: RunStatus;
  /** Every file of the run goes. */
  complete: boolean;
  error?: string;
}

export const FORCED_ERROR = 'staged files deleted by s3clean --force';
const SUPERSEDED_ERROR = 'superseded staged files deleted by s3clean';
const ABANDONED_ERROR = 'abandoned run; staged files deleted by s3clean';
const UNCOMMITTED_ERROR =
  'loaded but never committed (its lease ended first); staged files deleted by s3clean — the next run re-reads its window';

/**
 * What `clean` would do. Refuses (ConfigError, nothing deleted) when --force would touch a run that is in progress.
 */
export function planCleanup(listing: CleanupListing, opts: { force: boolean }): CleanupPlan {
  const selected = listing.files.filter((f) => f.selected);
  const inUse = selected.filter((f) => f.inUse);
  if (opts.force && inUse.length > 0) {
    const runs = [...new Set(inUse.map((f) => f.runId ?? '?'))];
    throw new ConfigError(
      `${listing.tableKey}: refusing --force: ${inUse.length} selected file(s) belong to run(s) in use (${runs.join(', ')}): ${inUse[0]!.reason}`,
      {
        suggestion: `Wait until run ${listing.lease?.holder ?? runs[0]} finishes or its lease expires, then run s3clean again.`,
      },
    );
  }
  const kept = opts.force ? [] : selected.filter((f) => !f.safe);
  const forced = opts.force ? selected.filter((f) => !f.safe) : [];
  const going = new Set(selected.filter((f) => f.safe || opts.force).map((f) => f.key));

  // A run left without chunk files also loses its manifest.json / plan.json.
  const byRun = new Map<string, StagedFileEntry[]>();
  for (const f of listing.files) {
    if (f.runId === null) continue;
    byRun.set(f.runId, [...(byRun.get(f.runId) ?? []), f]);
  }
  for (const files of byRun.values()) {
    const chunksGone = files.filter((f) => f.kind === 'chunk').every((f) => going.has(f.key));
    const anyGoing = files.some((f) => going.has(f.key));
    if (chunksGone && anyGoing && files.every((f) => !f.inUse)) {
      for (const f of files) if (f.kind === 'manifest' || f.kind === 'plan') going.add(f.key);
    }
  }

  const runUpdates: RunUpdate[] = [];
  for (const run of listing.runs) {
    const files = byRun.get(run.runId) ?? [];
    const lost = files.filter((f) => going.has(f.key));
    if (lost.length === 0) continue;
    const complete = lost.length === files.length;
    const verdict = files[0]!;
    const update = ledgerChange(run, complete, verdict.safe);
    if (update) runUpdates.push({ runId: run.runId, from: run.status, complete, ...update });
  }
  return { delete: listing.files.filter((f) => going.has(f.key)), forced, kept, runUpdates };
}

/** The ledger change for a run that loses files (undefined: status stays, only cleanedAt when complete). */
function ledgerChange(run: RunRecord, complete: boolean, safe: boolean): { to: RunStatus; error?: string } | undefined {
  switch (run.status) {
    case 'committed':
      return complete ? { to: 'cleaned' } : undefined;
    case 'loaded':
      // Not `cleaned`: that would read as committed. Its rows are merged, but the watermark never moved past them.
      return { to: 'failed', error: UNCOMMITTED_ERROR };
    case 'cleaned':
    case 'failed':
      return complete ? { to: run.status } : undefined;
    case 'staged':
      // Even one missing file would break a later --redshift-only load: the run can never be loaded again.
      return { to: 'failed', error: safe ? SUPERSEDED_ERROR : FORCED_ERROR };
    case 'planned':
    case 'extracting':
      return { to: 'failed', error: ABANDONED_ERROR };
  }
}

export interface CleanupResult {
  deleted: StagedFileEntry[];
  runUpdates: RunUpdate[];
}

/**
 * Carries out a plan. Runs that stop being loadable are marked failed BEFORE their files go (a crash midway never
 * leaves a `staged` run pointing at missing files); runs that become `cleaned` are marked after. When the plan
 * touches staged runs, the table's lease is held for the duration so no sync (or --redshift-only load) starts
 * meanwhile; a live lease of another run makes it refuse (ConfigError) before anything changes.
 */
export async function applyCleanup(scope: CleanupScope, plan: CleanupPlan): Promise<CleanupResult> {
  const key = tableKey(scope.parts);
  const unloadable = plan.runUpdates.filter((u) => u.to === 'failed' && u.from !== 'failed');
  const holder = `s3clean-${newRunId()}`;
  // Only staged runs can be picked up by a load; abandoned and failed runs are never read again.
  const leased = unloadable.some((u) => u.from === 'staged');
  if (leased) {
    try {
      await scope.state.acquireLease(key, holder, scope.leaseSeconds);
    } catch (e) {
      if (e instanceof LeaseHeldError) {
        throw new ConfigError(
          `${key}: refusing to delete staged files while run ${e.holder} holds the lease (until ${e.expiresAt})`,
          { suggestion: 'Wait for that run to finish or its lease to expire, then run s3clean again.' },
        );
      }
      throw e;
    }
  }
  try {
    const stamp = (): string => new Date().toISOString();
    for (const u of unloadable) {
      const at = stamp();
      await scope.state.updateRun(u.runId, {
        status: 'failed',
        error: u.error ?? FORCED_ERROR,
        finishedAt: at,
        updatedAt: at,
        ...(u.complete ? { cleanedAt: at } : {}),
      });
    }
    const keys = plan.delete.map((f) => f.key);
    for (let i = 0; i < keys.length; i += 1000) await scope.staging.delete(keys.slice(i, i + 1000));
    for (const u of plan.runUpdates) {
      if (unloadable.includes(u) || !u.complete) continue;
      const at = stamp();
      await scope.state.updateRun(u.runId, { status: u.to, cleanedAt: at, updatedAt: at });
    }
  } finally {
    if (leased) await scope.state.releaseLease(key, holder);
  }
  return { deleted: plan.delete, runUpdates: plan.runUpdates };
}
