/**
 * A local sync's progress, per table: phase (plan, extract, load, commit), rows against the plan's estimate, rows/s,
 * elapsed and an ETA. On a terminal (stderr) it is one live line per table drawn by cli-progress, redrawn while a
 * step runs (so the load shows its elapsed time); when stderr is piped it is one plain line per event, plus a
 * heartbeat line when a step has printed nothing for a while; with --json or --quiet it shows nothing. Retries are
 * warnings in every mode but --json, whose report carries them; failures are the run report's.
 */
import { createRequire } from 'node:module';
import type cliProgressModule from 'cli-progress';
import type { RunEvent } from '../../lambdas/domain/manifests.js';
import type { Output } from './output.js';
import { barFraction, eventLine, heartbeatLine, liveText, ProgressModel, phaseLabel } from './progress-model.js';

export interface ProgressReporter {
  event(e: RunEvent): void;
  /** Ends the display (the terminal's bars stay on screen as they were last drawn); safe to call twice. */
  stop(): void;
}

export interface ProgressOptions {
  /** The terminal stream (default: stderr); tests pass a fake TTY. */
  stream?: NodeJS.WriteStream;
  /** A piped step that printed nothing for this long prints a heartbeat (default 30 s). */
  heartbeatMs?: number;
  now?: () => number;
}

const BAR_SIZE = 24;

type CliProgress = typeof cliProgressModule;
// cli-progress (16 modules) is loaded when a terminal's bars are first drawn, not at every command's start: piped,
// --json and --quiet runs never draw them. require() keeps progressReporter synchronous.
const requireHere = createRequire(import.meta.url);
let cliProgressLibrary: CliProgress | undefined;
function cliProgress(): CliProgress {
  cliProgressLibrary ??= requireHere('cli-progress') as CliProgress;
  return cliProgressLibrary;
}
const TABLE_WIDTH = 24;

export function progressReporter(out: Output, opts: ProgressOptions = {}): ProgressReporter {
  if (out.opts.json) return { event: () => undefined, stop: () => undefined };
  const now = opts.now ?? Date.now;
  const model = new ProgressModel(now);
  const quiet = out.opts.quiet;
  return out.isTty && !quiet ? terminalReporter(out, model, now, opts) : plainReporter(out, model, now, opts);
}

/**
 * A retry of the run (a warning), in every mode but --json. A failure is not repeated here: the run report names
 * it once, with what to change.
 */
function problemOf(e: RunEvent): { kind: 'warning' | 'error'; text: string } | null {
  if (e.type === 'retry') {
    return { kind: 'warning', text: `${e.table}: ${e.step} attempt ${e.attempt} failed, retrying: ${e.error}` };
  }
  return null;
}

function plainReporter(out: Output, model: ProgressModel, now: () => number, opts: ProgressOptions): ProgressReporter {
  const lastLine = new Map<string, number>();
  const every = opts.heartbeatMs ?? 30_000;
  // A step that runs long (a big chunk, the load) prints a line now and then, so a log shows it is alive.
  const timer = setInterval(
    () => {
      const at = now();
      for (const t of model.tables()) {
        if (at - (lastLine.get(t.table) ?? t.startedAt) < every) continue;
        const line = heartbeatLine(t, at);
        if (line === null) continue;
        out.info(line);
        lastLine.set(t.table, at);
      }
    },
    Math.max(50, Math.min(every, 5000)),
  );
  timer.unref();
  return {
    event(e) {
      const t = model.apply(e);
      const problem = problemOf(e);
      if (problem !== null) {
        if (problem.kind === 'warning') out.warn(problem.text);
        else out.error(problem.text);
        return;
      }
      const line = eventLine(e, t, now());
      if (line === null) return;
      out.info(line);
      lastLine.set(t.table, now());
    },
    stop() {
      clearInterval(timer);
    },
  };
}

function terminalReporter(
  out: Output,
  model: ProgressModel,
  now: () => number,
  opts: ProgressOptions,
): ProgressReporter {
  const format: cliProgressModule.GenericFormatter = (options, params, payload: { table: string }) => {
    const t = model.get(payload.table);
    if (!t) return payload.table;
    const name = t.table.length > TABLE_WIDTH ? `…${t.table.slice(-(TABLE_WIDTH - 1))}` : t.table.padEnd(TABLE_WIDTH);
    const bar = cliProgress().Format.BarFormat(params.progress, options);
    return `${name} ${phaseLabel(t)} [${bar}] ${liveText(t, now())}`;
  };
  const bars = new (cliProgress().MultiBar)({
    stream: opts.stream ?? process.stderr,
    format,
    barsize: BAR_SIZE,
    barCompleteChar: '#',
    barIncompleteChar: '.',
    hideCursor: true,
    clearOnComplete: false,
    // Redrawn a few times a second even when no event comes, so elapsed times move during a long step.
    fps: 4,
    // The sync's own SIGINT/SIGTERM handling ends the display (stop) before it prints.
    gracefulExit: false,
  });
  const byTable = new Map<string, cliProgressModule.SingleBar>();
  let stopped = false;
  return {
    event(e) {
      if (stopped) return;
      const t = model.apply(e);
      const problem = problemOf(e);
      // Above the bars: cli-progress prints logged lines before it redraws them.
      if (problem !== null) {
        const label = problem.kind === 'warning' ? out.paint('33', 'warning:') : out.paint('31', 'error:');
        bars.log(`${label} ${problem.text}\n`);
      }
      let bar = byTable.get(t.table);
      if (!bar) {
        bar = bars.create(1000, 0, { table: t.table });
        byTable.set(t.table, bar);
      }
      bar.update(Math.round(barFraction(t) * 1000), { table: t.table });
    },
    stop() {
      if (stopped) return;
      stopped = true;
      if (byTable.size === 0) return;
      // One last draw flushes lines logged since the last redraw; stop leaves the bars as drawn.
      bars.update();
      bars.stop();
    },
  };
}
