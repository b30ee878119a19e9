/**
 * Local staging stays bounded: after a local sync, the staged files of a table's committed runs are removed once
 * the run committed more than `processing.keep_staged_files` ago (default 0: at once). Nothing else is touched —
 * never a file of a run that is not committed (staged by --backup-only, in progress, failed: those stay for
 * `--redshift-only` or for looking into, and `s3clean` handles them), nor an orphan. Committed runs never need their
 * files again: a load reads only staged runs. The files go through s3clean's own engine (cleanup.ts), so the run
 * becomes `cleaned` exactly as `s3clean clean` would leave it.
 *
 * S3 staging is left alone: it belongs to the deployed pipeline, whose bucket's lifecycle rules or `s3clean` bound it.
 */
import type { PipelineConfig } from '../../domain/config.js';
import { getTableConfig } from '../../engine/config/index.js';
import { pipelineTableParts } from '../../engine/naming.js';
import type { Runtime } from '../../ports/runtime.js';
import { applyCleanup, type CleanupListing, type CleanupScope, listStagedFiles, planCleanup } from './cleanup.js';

export interface PruneResult {
  table: string;
  /** Files removed, and their bytes. */
  files: number;
  bytes: number;
  /** The runs whose files went. */
  runs: string[];
}

/** Whether a file may go now: its run committed (or was cleaned before) at least `keepSeconds` ago. */
function expired(listing: CleanupListing, runId: string | null, keepSeconds: number, now: Date): boolean {
  if (runId === null) return false;
  const run = listing.runs.find((r) => r.runId === runId);
  if (!run || (run.status !== 'committed' && run.status !== 'cleaned')) return false;
  const at = Date.parse(run.finishedAt ?? run.updatedAt);
  return Number.isFinite(at) && now.getTime() - at >= keepSeconds * 1000;
}

/** Removes the table's staged files of committed runs older than the pipeline's keep_staged_files. */
export async function pruneCommittedStaging(
  rt: Runtime,
  p: PipelineConfig,
  table: string,
  now: Date = new Date(),
): Promise<PruneResult> {
  const tc = getTableConfig(p, table);
  const none: PruneResult = { table: tc.name, files: 0, bytes: 0, runs: [] };
  if (p.staging.type !== 'local') return none;
  const staging = await rt.staging(p);
  const scope: CleanupScope = {
    staging,
    state: await rt.state(p),
    rootPrefix: staging.prefix,
    parts: pipelineTableParts(p, tc.name),
    leaseSeconds: p.processing.leaseSeconds,
  };
  const keep = p.processing.keepStagedSeconds ?? 0;
  const listing = await listStagedFiles(scope, { now });
  const files = listing.files.map((f) => ({
    ...f,
    // Only what s3clean itself calls safe, and of those only committed runs past their keeping time.
    selected: f.safe && !f.inUse && expired(listing, f.runId, keep, now),
  }));
  const chosen = { ...listing, files };
  if (!files.some((f) => f.selected)) return none;
  const planned = planCleanup(chosen, { force: false });
  // A committed run stays `committed` (its cleanedAt says the files went): pruning is routine, and `status` and
  // `runs` keep showing the outcome that matters. (`s3clean clean` marks them `cleaned`.)
  const plan = {
    ...planned,
    runUpdates: planned.runUpdates.map((u) => (u.from === 'committed' ? { ...u, to: 'committed' as const } : u)),
  };
  const result = await applyCleanup(scope, plan);
  return {
    table: tc.name,
    files: result.deleted.length,
    bytes: result.deleted.reduce((n, f) => n + f.size, 0),
    runs: [...new Set(result.deleted.flatMap((f) => (f.runId === null ? [] : [f.runId])))],
  };
}

/** What pruning after a run did per table: removed files, or why it could not (the run itself is unaffected). */
export type PruneOutcome = PruneResult | { table: string; error: string };

/**
 * After a local run: prunes each table of the run (`tables` as the request named them). A failure to prune is
 * reported, never thrown: the run it follows has committed, and the next run tries again.
 */
export async function pruneAfterRun(
  rt: Runtime,
  pipeline: string,
  adhoc: { source: string; target: string } | undefined,
  tables: readonly string[],
): Promise<PruneOutcome[]> {
  const out: PruneOutcome[] = [];
  for (const table of tables) {
    try {
      out.push(await pruneCommittedStaging(rt, rt.pipeline(pipeline, adhoc), table));
    } catch (e) {
      out.push({ table, error: rt.redact(e instanceof Error ? e.message : String(e)) });
    }
  }
  return out;
}
