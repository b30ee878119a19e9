/**
 * What a sync's progress display knows about each table, built from the local runner's RunEvents and a clock:
 * the phase (plan, extract, load, commit), rows so far against the plan's estimate, when each phase began. The
 * renderers (progress.ts) turn it into a live line on a terminal or plain lines when piped; the text of both is
 * made here, so it is tested without a terminal.
 */
import type { RunEvent } from '../../lambdas/domain/manifests.js';
import {
  etaMs,
  formatCount,
  formatElapsed,
  formatEta,
  formatRate,
  percentOf,
  rowsPerSecond,
} from './progress-format.js';

export type Step = 'plan' | 'extract' | 'load' | 'commit';
export type Phase = Step | 'committed' | 'staged' | 'skipped' | 'failed';

export interface TableProgress {
  table: string;
  phase: Phase;
  /** When the table's first event came (ms since the epoch, the model's clock). */
  startedAt: number;
  /** When each step began, as the events said. */
  stepStartedAt: Partial<Record<Step, number>>;
  /** When the table ended (committed, staged, skipped or failed). */
  endedAt: number | null;
  runId: string | null;
  /** Rows extracted so far. */
  rows: number;
  /** About how many rows the run reads (the plan's estimate); null when unknown. */
  rowsEstimate: number | null;
  chunksDone: number;
  chunksTotal: number;
  rowsLoaded: number | null;
  /** Why nothing ran (skipped), or the error (failed). */
  note: string | null;
}

const PHASE_WIDTH = 9;

function isEnded(phase: Phase): boolean {
  return phase === 'committed' || phase === 'staged' || phase === 'skipped' || phase === 'failed';
}

export class ProgressModel {
  private readonly byTable = new Map<string, TableProgress>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Applies one event; returns the table's state after it. */
  apply(e: RunEvent): TableProgress {
    const at = this.now();
    const t = this.byTable.get(e.table) ?? this.fresh(e.table, at);
    this.byTable.set(e.table, t);
    switch (e.type) {
      case 'step-started':
        // A retried step begins again; its phase time counts from the first attempt.
        t.stepStartedAt[e.step] ??= at;
        if (!isEnded(t.phase)) t.phase = e.step;
        break;
      case 'planned':
        t.runId = e.runId;
        t.chunksTotal = e.chunks;
        t.rowsEstimate = e.rowsEstimate;
        if (e.runId === null) this.end(t, 'skipped', at, e.skipped);
        break;
      case 'chunk-done':
        t.rows += e.rows;
        t.chunksDone = e.done;
        t.chunksTotal = e.total;
        break;
      case 'loaded':
        t.rowsLoaded = e.rowsLoaded;
        break;
      case 'committed':
        this.end(t, e.status, at, null);
        break;
      case 'failed':
        this.end(t, 'failed', at, e.error);
        break;
      case 'retry':
        break;
    }
    return t;
  }

  get(table: string): TableProgress | undefined {
    return this.byTable.get(table);
  }

  tables(): TableProgress[] {
    return [...this.byTable.values()];
  }

  private fresh(table: string, at: number): TableProgress {
    return {
      table,
      phase: 'plan',
      startedAt: at,
      stepStartedAt: {},
      endedAt: null,
      runId: null,
      rows: 0,
      rowsEstimate: null,
      chunksDone: 0,
      chunksTotal: 0,
      rowsLoaded: null,
      note: null,
    };
  }

  private end(t: TableProgress, phase: Phase, at: number, note: string | null): void {
    if (isEnded(t.phase)) return;
    t.phase = phase;
    t.endedAt = at;
    t.note = note;
  }
}

/** How long a step has run (or ran, up to the next step or the end). */
function stepElapsed(t: TableProgress, step: Step, now: number): number {
  const start = t.stepStartedAt[step];
  if (start === undefined) return 0;
  const order: Step[] = ['plan', 'extract', 'load', 'commit'];
  const later = order
    .slice(order.indexOf(step) + 1)
    .map((s) => t.stepStartedAt[s])
    .find((v) => v !== undefined);
  return (later ?? t.endedAt ?? now) - start;
}

/** The rows against the estimate: `800,000/2,000,000 rows 40%`, or `800,000 rows` without one. */
function rowsText(t: TableProgress): string {
  if (t.rowsEstimate === null) return `${formatCount(t.rows)} rows`;
  const pct = percentOf(t.rows, t.rowsEstimate);
  return `${formatCount(t.rows)}/${formatCount(t.rowsEstimate)} rows${pct ? ` ${pct}` : ''}`;
}

/** Rate, elapsed and ETA of the extract step. */
function extractText(t: TableProgress, now: number): string {
  const elapsed = stepElapsed(t, 'extract', now);
  const rate = rowsPerSecond(t.rows, elapsed);
  return `${rowsText(t)}  ${formatRate(rate)}  elapsed ${formatElapsed(elapsed)}  ${formatEta(etaMs(t.rows, t.rowsEstimate, elapsed))}`;
}

/** The text after the bar on a terminal: what the table is doing now. */
export function liveText(t: TableProgress, now: number): string {
  switch (t.phase) {
    case 'plan':
      return `planning  elapsed ${formatElapsed(stepElapsed(t, 'plan', now))}`;
    case 'extract':
      return extractText(t, now);
    case 'load':
      return `${formatCount(t.rows)} rows extracted, loading  elapsed ${formatElapsed(stepElapsed(t, 'load', now))}`;
    case 'commit':
      return `${formatCount(t.rowsLoaded ?? t.rows)} rows loaded, committing`;
    case 'committed':
      return `${formatCount(t.rowsLoaded ?? t.rows)} rows loaded in ${formatElapsed((t.endedAt ?? now) - t.startedAt)}`;
    case 'staged':
      return `${formatCount(t.rows)} rows staged in ${formatElapsed((t.endedAt ?? now) - t.startedAt)}`;
    case 'skipped':
      return `nothing to do (${t.note ?? 'no new rows'})`;
    case 'failed':
      return `failed after ${formatElapsed((t.endedAt ?? now) - t.startedAt)}`;
  }
}

/** The phase column of the live line, padded so the bars line up. */
export function phaseLabel(t: TableProgress): string {
  return t.phase.padEnd(PHASE_WIDTH);
}

/** The bar's fill: rows against the estimate, else chunks against the plan; full once the table ended well. */
export function barFraction(t: TableProgress): number {
  if (t.phase === 'committed' || t.phase === 'staged' || t.phase === 'skipped') return 1;
  if (t.phase === 'load' || t.phase === 'commit') return 1;
  if (t.rowsEstimate !== null && t.rowsEstimate > 0) return Math.min(1, t.rows / t.rowsEstimate);
  if (t.chunksTotal > 0) return Math.min(1, t.chunksDone / t.chunksTotal);
  return 0;
}

/**
 * The plain line an event adds when stderr is not a terminal (null: the event adds none). Retries and failures
 * are not here: they are warnings and errors, printed as such.
 */
export function eventLine(e: RunEvent, t: TableProgress, now: number): string | null {
  switch (e.type) {
    case 'step-started':
      if (e.step === 'plan') return `${t.table}: plan: started`;
      if (e.step === 'load') {
        return `${t.table}: load: started, ${formatCount(t.rows)} rows extracted in ${formatElapsed(stepElapsed(t, 'extract', now))}`;
      }
      return null;
    case 'planned': {
      const took = formatElapsed(stepElapsed(t, 'plan', now));
      if (e.runId === null) return `${t.table}: plan: nothing to do (${e.skipped}) (${took})`;
      const about = e.rowsEstimate === null ? 'rows unknown' : `about ${formatCount(e.rowsEstimate)} rows`;
      return `${t.table}: plan: run ${e.runId}, ${e.chunks} chunk${e.chunks === 1 ? '' : 's'}, ${about} (${took})`;
    }
    case 'chunk-done':
      return `${t.table}: extract: chunk ${e.index} done (${formatCount(e.rows)} rows); ${e.done}/${e.total} chunks, ${extractText(t, now)}`;
    case 'loaded':
      return `${t.table}: load: ${formatCount(e.rowsLoaded)} rows loaded (${formatCount(e.rowsStaged)} staged) in ${formatElapsed(stepElapsed(t, 'load', now))}`;
    case 'committed':
      return `${t.table}: commit: ${e.status === 'staged' ? 'staged (watermark unchanged until loaded)' : 'committed'}, ${formatElapsed((t.endedAt ?? now) - t.startedAt)} in all`;
    case 'retry':
    case 'failed':
      return null;
  }
}

/** The heartbeat a long step prints when piped, so a log shows it is alive: `load: running, elapsed 1m30s`. */
export function heartbeatLine(t: TableProgress, now: number): string | null {
  if (isEnded(t.phase)) return null;
  const step = t.phase as Step;
  if (step === 'extract') return `${t.table}: extract: running; ${extractText(t, now)}`;
  return `${t.table}: ${step}: running, elapsed ${formatElapsed(stepElapsed(t, step, now))}`;
}
