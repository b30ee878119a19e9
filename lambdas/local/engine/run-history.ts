/**
 * What `highwater runs` shows (and `highwater report` charts): a table's runs from the ledger, with the time each
 * step took — Plan, Load and Commit from the run's step times, Extract from its chunks' — rows, bytes, outcome and
 * error. Read-only; the same for every state store. Runs recorded before step times were kept show only their total.
 */
import type { PipelineConfig, TableConfig } from '../../domain/config.js';
import type { Watermark } from '../../domain/model.js';
import type { RunKind, RunRecord, RunStatus, StepTime } from '../../domain/records.js';
import { getTableConfig } from '../../engine/config/index.js';
import { parseTableKey, pipelineTableParts, tableKey } from '../../engine/naming.js';
import { ConfigError } from '../../errors.js';
import type { StateStore, WatermarkRecord } from '../../ports/index.js';

export const STEP_NAMES = ['plan', 'extract', 'load', 'commit'] as const;
export type StepName = (typeof STEP_NAMES)[number];

/** One step of a run: when it began and ended, and how long it took (null while it runs, or when it died). */
export interface StepView {
  startedAt: string;
  finishedAt: string | null;
  durationMs: number | null;
}

/** One extracted chunk: its rows, bytes and how long its extract took (null when not recorded). */
export interface ChunkView {
  index: number;
  rows: number;
  bytes: number;
  durationMs: number | null;
}

/** The spread of the chunks' extract times (of those that recorded one). */
export interface ChunkStats {
  count: number;
  timed: number;
  minMs: number | null;
  medianMs: number | null;
  maxMs: number | null;
}

/**
 * One run as `highwater runs --json` prints it. The field names and meanings are stable: new fields may be added,
 * none is renamed or removed (docs/runbook.md lists them).
 */
export interface RunView {
  pipeline: string;
  table: string;
  tableKey: string;
  runId: string;
  /** sync, resync or repair; null for runs recorded before plans were kept. */
  kind: RunKind | null;
  status: RunStatus;
  startedAt: string;
  finishedAt: string | null;
  /** From the start of Plan to the end of the run; null while it runs. */
  durationMs: number | null;
  rowsExtracted: number;
  rowsLoaded: number | null;
  bytes: number;
  plannedChunks: number;
  /** The window the run covered: after `from`, up to and including `to`. */
  from: Watermark;
  to: Watermark;
  /** Each step's time; null when the step did not run or its time was not recorded. */
  steps: Record<StepName, StepView | null>;
  chunkStats: ChunkStats;
  /** Every chunk (only with `--chunks`; otherwise null). */
  chunks: ChunkView[] | null;
  error: string | null;
  /** Where the source's clock was when the run planned (UTC), for the lag chart; null when not recorded. */
  snapshotAt: string | null;
}

const ended = (s: RunStatus): boolean => s === 'committed' || s === 'failed' || s === 'cleaned';

function ms(from: string, to: string | null): number | null {
  if (to === null) return null;
  const d = Date.parse(to) - Date.parse(from);
  return Number.isFinite(d) ? Math.max(0, d) : null;
}

function stepView(t: StepTime | undefined, end: string | null = null): StepView | null {
  if (!t) return null;
  const finishedAt = t.finishedAt ?? end;
  return { startedAt: t.startedAt, finishedAt, durationMs: ms(t.startedAt, finishedAt) };
}

/** Extract: from the first chunk's start to the last chunk's end, over the chunks that recorded their times. */
function extractView(run: RunRecord): StepView | null {
  const timed = run.chunks.filter((c) => c.startedAt !== undefined && c.finishedAt !== undefined);
  if (timed.length === 0) return null;
  const start = timed.map((c) => c.startedAt!).sort()[0]!;
  const end = timed.map((c) => c.finishedAt!).sort()[timed.length - 1]!;
  return { startedAt: start, finishedAt: end, durationMs: ms(start, end) };
}

function median(sorted: readonly number[]): number | null {
  if (sorted.length === 0) return null;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function chunkViews(run: RunRecord): ChunkView[] {
  return run.chunks.map((c) => ({
    index: c.index,
    rows: c.rows,
    bytes: c.bytes,
    durationMs: c.startedAt && c.finishedAt ? ms(c.startedAt, c.finishedAt) : null,
  }));
}

function statsOf(chunks: readonly ChunkView[]): ChunkStats {
  const times = chunks.flatMap((c) => (c.durationMs === null ? [] : [c.durationMs])).sort((a, b) => a - b);
  return {
    count: chunks.length,
    timed: times.length,
    minMs: times[0] ?? null,
    medianMs: median(times),
    maxMs: times[times.length - 1] ?? null,
  };
}

/** A ledger run as `runs` shows it. `withChunks`: list every chunk. */
export function runView(run: RunRecord, withChunks = false): RunView {
  const { pipeline, table } = parseTableKey(run.tableKey);
  const steps = run.steps ?? {};
  // A committed run's commit ends with it (commitRun sets finishedAt in the commit's own transaction).
  const commitEnd = run.status === 'committed' || run.status === 'cleaned' ? run.finishedAt : null;
  const start = steps.plan?.startedAt ?? run.startedAt;
  const end = ended(run.status) || run.status === 'staged' ? (run.finishedAt ?? run.updatedAt) : null;
  const chunks = chunkViews(run);
  return {
    pipeline,
    table: run.table || table,
    tableKey: run.tableKey,
    runId: run.runId,
    kind: run.plan?.kind ?? null,
    status: run.status,
    startedAt: start,
    finishedAt: end,
    durationMs: ms(start, end),
    rowsExtracted: run.rowsExtracted,
    rowsLoaded: run.rowsLoaded,
    bytes: run.bytes,
    plannedChunks: run.plannedChunks,
    from: run.from,
    to: run.to,
    steps: {
      plan: stepView(steps.plan),
      extract: extractView(run),
      load: stepView(steps.load),
      commit: stepView(steps.commit, commitEnd),
    },
    chunkStats: statsOf(chunks),
    chunks: withChunks ? chunks : null,
    error: run.error,
    snapshotAt: run.plan?.snapshotAt ?? null,
  };
}

/** A table of a pipeline whose runs are read, with its state key. */
export interface HistoryTable {
  pipeline: PipelineConfig;
  table: string;
  key: string;
}

/**
 * The tables whose history to read: those named (`-t`), else the pipeline's listed tables and every table its
 * watermarks know (tables synced on the fly in the default pipeline).
 */
export function historyTables(p: PipelineConfig, watermarks: readonly WatermarkRecord[], named: readonly string[]) {
  const out = new Map<string, HistoryTable>();
  const add = (t: TableConfig) => {
    const key = tableKey(pipelineTableParts(p, t.name));
    if (!out.has(key)) out.set(key, { pipeline: p, table: t.name, key });
  };
  if (named.length > 0) {
    for (const n of named) add(getTableConfig(p, n));
    return [...out.values()];
  }
  for (const t of p.tables) add(t);
  for (const w of watermarks) {
    const k = parseTableKey(w.tableKey);
    if (k.pipeline !== p.name || k.source !== p.source.name || k.target !== p.target.name) continue;
    try {
      add(getTableConfig(p, k.table));
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e; // a table no longer in the pipeline
    }
  }
  return [...out.values()];
}

/** Every run of the given tables, newest first, at most `last` of them (all when undefined). */
export async function readRunHistory(
  stateOf: (p: PipelineConfig) => Promise<StateStore>,
  tables: readonly HistoryTable[],
  opts: { last?: number; withChunks?: boolean } = {},
): Promise<RunView[]> {
  const runs: RunView[] = [];
  for (const t of tables) {
    const state = await stateOf(t.pipeline);
    for (const r of await state.listRuns(t.key)) runs.push(runView(r, opts.withChunks));
  }
  // Run ids begin with their start time (naming.ts), so id order is start order whatever the table.
  runs.sort((a, b) => (a.runId < b.runId ? 1 : a.runId > b.runId ? -1 : a.tableKey.localeCompare(b.tableKey)));
  return opts.last === undefined ? runs : runs.slice(0, opts.last);
}
