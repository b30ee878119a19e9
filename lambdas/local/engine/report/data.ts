/**
 * What `highwater report` draws, read from the ledger alone (no source or warehouse is opened): per table its runs
 * (rows, step times, outcome), its lag behind the source at each commit, its failures and its last verification.
 *
 * Lag at a commit: how old the newest change the run committed was when the run finished — the commit time less
 * the run's upper bound H (the watermark it wrote). A TIMESTAMP cursor is UTC and a `unix` one seconds since the
 * epoch, both exact; a DATETIME cursor is a wall clock of the source's `time_zone:`, and without one the server's
 * zone, which the ledger does not keep: it is then taken as UTC and the chart says so. Tables without a time cursor
 * (id_only, full_sync, custom_sql) have no lag in time.
 */
import type { PipelineConfig, TableConfig } from '../../../domain/config.js';
import type { VerificationRecord } from '../../../domain/manifests.js';
import type { RunRecord } from '../../../domain/records.js';
import { getTableConfig } from '../../../engine/config/index.js';
import { lagCursor, mysqlDatetimeMs } from '../../../engine/config/lag.js';
import { zoneOffsetSeconds } from '../../../engine/strategies/horizon.js';
import type { StateStore, WatermarkRecord } from '../../../ports/index.js';
import { type HistoryTable, type RunView, runView } from '../run-history.js';

export interface LagPoint {
  /** The commit (ISO-8601 UTC). */
  at: string;
  runId: string;
  seconds: number;
}

export interface ReportTable {
  pipeline: string;
  table: string;
  strategy: string;
  watermark: WatermarkRecord['watermark'] | null;
  /** The newest `runs` runs, oldest first. */
  runs: RunView[];
  /** Points of the lag chart, oldest first; empty when the table has no time cursor or no commit yet. */
  lag: LagPoint[];
  /** Why there is no lag chart, or what it assumes; null when nothing needs saying. */
  lagNote: string | null;
  failures: { runId: string; at: string; error: string }[];
  verification: VerificationRecord | null;
}

export interface ReportData {
  generatedAt: string;
  home: string;
  tables: ReportTable[];
}

/** The lag of one committed run, in seconds (null: not measurable for this cursor). */
export function lagAtCommit(
  run: RunRecord,
  table: TableConfig,
  timeZone: string | undefined,
): { seconds: number; assumedUtc: boolean } | null {
  const cursor = lagCursor(table);
  const h = run.to.ts;
  if (cursor?.half !== 'ts' || h === null || run.finishedAt === null) return null;
  const committed = Date.parse(run.finishedAt);
  if (!Number.isFinite(committed)) return null;
  if (table.timestampFormat === 'unix') {
    const s = Number(h);
    return Number.isFinite(s) ? { seconds: committed / 1000 - s, assumedUtc: false } : null;
  }
  const wall = mysqlDatetimeMs(h);
  if (wall === undefined) return null;
  const column = run.plan?.columns.find((c) => c.name.toLowerCase() === cursor.column.toLowerCase());
  const utc = column?.dataType === 'timestamp';
  const offset = utc || timeZone === undefined ? 0 : zoneOffsetSeconds(timeZone, BigInt(wall) * 1000n);
  return { seconds: (committed - (wall - offset * 1000)) / 1000, assumedUtc: !utc && timeZone === undefined };
}

function lagOf(runs: readonly RunRecord[], p: PipelineConfig, t: TableConfig) {
  const cursor = lagCursor(t);
  if (cursor?.half !== 'ts') {
    return { lag: [], lagNote: `no lag in time: ${t.strategy} has no timestamp cursor` };
  }
  let assumed = false;
  const lag: LagPoint[] = [];
  for (const r of runs) {
    if (r.status !== 'committed' && r.status !== 'cleaned') continue;
    if (!r.advancesWatermark || r.finishedAt === null) continue;
    const l = lagAtCommit(r, t, p.source.timeZone);
    if (!l) continue;
    assumed ||= l.assumedUtc;
    lag.push({ at: r.finishedAt, runId: r.runId, seconds: Math.max(0, l.seconds) });
  }
  const note = assumed
    ? `${cursor.column} is a DATETIME read as UTC: set time_zone: on source ${p.source.name} if its clock is elsewhere`
    : lag.length === 0
      ? 'no committed run yet'
      : null;
  return { lag, lagNote: note };
}

/** The report's data for the given tables; `runs` caps the runs drawn per table. */
export async function reportData(
  stateOf: (p: PipelineConfig) => Promise<StateStore>,
  tables: readonly HistoryTable[],
  opts: { runs: number; home: string; now?: Date },
): Promise<ReportData> {
  const out: ReportTable[] = [];
  for (const t of tables) {
    const config = getTableConfig(t.pipeline, t.table);
    const state = await stateOf(t.pipeline);
    const all = await state.listRuns(t.key);
    const recent = all.slice(-opts.runs);
    const [verification] = await state.listVerifications(t.key, 1);
    const watermark = (await state.getWatermark(t.key))?.watermark ?? null;
    out.push({
      pipeline: t.pipeline.name,
      table: t.table,
      strategy: config.strategy,
      watermark,
      runs: recent.map((r) => runView(r)),
      ...lagOf(recent, t.pipeline, config),
      failures: recent
        .filter((r) => r.status === 'failed')
        .map((r) => ({
          runId: r.runId,
          at: r.finishedAt ?? r.updatedAt,
          error: r.error ?? 'failed (no error recorded)',
        })),
      verification: verification ?? null,
    });
  }
  return { generatedAt: (opts.now ?? new Date()).toISOString(), home: opts.home, tables: out };
}
