/**
 * Local scheduling, no AWS needed: `highwater run --every 5m` syncs a pipeline's tables periodically, and
 * `highwater daemon` honours each pipeline's `schedule:` (the cron/rate evaluator `status` and the deployed
 * EventBridge schedules use). One line per run on stdout (a JSON object per line with --json); the run's progress,
 * warnings and errors on stderr as `sync` shows them. Each run reads the configuration afresh and closes the state,
 * staging and warehouse when it ends, so `highwater query` and edits of the YAML work between runs.
 *
 * SIGINT/SIGTERM: during a run, the run is ended as an interrupted `sync` ends it (marked failed, lease released, or
 * a commit under way finished) and the process exits 130/143; between runs it exits at once with the same code.
 */
import { Command } from 'commander';
import { z } from 'zod';
import type { RunReport } from '../../../lambdas/domain/manifests.js';
import { parseDuration } from '../../../lambdas/engine/config/duration.js';
import { describeSchedule, parseSchedule } from '../../../lambdas/engine/config/schedule.js';
import { ConfigError, describeError, HighwaterError } from '../../../lambdas/errors.js';
import { processHeldRuns } from '../../../lambdas/local/orchestration/held-runs.js';
import type { ScheduledJob } from '../../../lambdas/local/orchestration/schedule-loop.js';
import { type GlobalOptions, openContext, outputFor } from '../context.js';
import { abortRunsOnSignal, type InterruptSignal, SIGNAL_EXIT_CODES } from '../interrupt.js';
import { collect, positiveInt } from '../options.js';
import type { Output } from '../output.js';
import { progressReporter } from '../progress.js';
import { formatCount, formatElapsed } from '../progress-format.js';
import { buildRunRequest } from '../run-request.js';
import { pruneStaging } from '../staging-prune.js';
import { resolveTables } from '../table-selection.js';

/** The shortest interval: a run every few seconds is a loop, not a schedule. */
const MIN_EVERY_SECONDS = 1;

const RunOptionsSchema = z.object({
  pipeline: z.string().default('default'),
  table: z.array(z.string()).default([]),
  every: z.string(),
  maxWorkers: z.number().optional(),
  json: z.boolean().default(false),
});

interface LoopContext {
  global: GlobalOptions;
  json: boolean;
  maxWorkers?: number;
  /** The tables to run for a job (the pipeline's own when empty). */
  tables: (job: ScheduledJob) => string[];
}

/** `2026-03-01T10:00:00Z`: times in lines are UTC to the second. */
function stamp(d: Date): string {
  return `${d.toISOString().slice(0, 19)}Z`;
}

/** The one line a run leaves on stdout. */
function runLine(job: string, n: number, started: Date, report: RunReport, tookMs: number): string {
  const parts = report.tables.map((t) => {
    if (t.status === 'failed') return `${t.table} failed`;
    if (t.status === 'skipped') return `${t.table} skipped`;
    return `${t.table} ${t.status} ${formatCount(t.rowsLoaded)} rows`;
  });
  return `${stamp(started)} ${job} run ${n}: ${report.status}, ${parts.join(', ')} (${formatElapsed(tookMs)})`;
}

/** Which signal handling is in force: a sync's while a run holds runs, the waiting one otherwise. */
interface SignalModes {
  running(): void;
  waiting(): void;
}

/**
 * Runs one job: the pipeline's tables through the local state machine, then the staging prune; returns the report,
 * or throws what kept it from running (a configuration mistake, an unreachable state store).
 */
async function runJob(
  ctx: LoopContext,
  job: ScheduledJob,
  progressOut: Output,
  signals: SignalModes,
): Promise<RunReport> {
  const { out, runtime } = await openContext({ ...ctx.global, json: ctx.json });
  try {
    const p = runtime.pipeline(job.name);
    // Names or patterns, or every table of the pipeline; depends_on first (table-selection.ts).
    const tables = await resolveTables(runtime, p.name, ctx.tables(job));
    const request = buildRunRequest({
      pipeline: p.name,
      table: tables,
      maxWorkers: ctx.maxWorkers,
      backupOnly: false,
      redshiftOnly: false,
      dryRun: false,
    });
    const held = processHeldRuns;
    const progress = progressReporter(progressOut);
    signals.running();
    const stopHandling = abortRunsOnSignal({
      held,
      write: (line) => {
        progress.stop();
        process.stderr.write(`${line}\n`);
      },
    });
    let outcome: { report: RunReport } | { error: unknown };
    try {
      const { runLocal } = await import('../../../lambdas/local/orchestration/local-runner.js');
      outcome = await runLocal(runtime, request, {
        heldRuns: held,
        onEvent: (e) => {
          if (held.interrupted === null) progress.event(e);
        },
      }).then(
        (report) => ({ report }),
        (error: unknown) => ({ error }),
      );
      // Interrupted: the signal handler ends the runs and the process; nothing more happens here.
      if (held.interrupted !== null) await new Promise<never>(() => undefined);
    } finally {
      progress.stop();
      stopHandling();
      signals.waiting();
    }
    if ('error' in outcome) throw outcome.error;
    await pruneStaging(out, runtime, p.name, undefined, tables);
    return outcome.report;
  } finally {
    await runtime.close();
  }
}

/** Between runs a signal ends the process at once: nothing is held. */
function exitOnSignalWhileWaiting(stop: AbortController, next: () => string | null): () => void {
  const on = (signal: InterruptSignal) => () => {
    const at = next();
    process.stderr.write(`stopped (${signal}) while waiting${at ? ` for the next run (due ${at})` : ''}\n`);
    stop.abort();
    process.exit(SIGNAL_EXIT_CODES[signal]);
  };
  const onInt = on('SIGINT');
  const onTerm = on('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  return () => {
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
  };
}

async function loop(ctx: LoopContext, jobs: ScheduledJob[]): Promise<void> {
  const out = outputFor(ctx.global, ctx.json);
  // Progress shows as for `sync`; under --json only the JSON lines are printed (errors are in them).
  const progressOut = outputFor(ctx.global, ctx.json);
  const stop = new AbortController();
  let nextDue: string | null = null;
  let idle: (() => void) | null = null;
  const signals: SignalModes = {
    // A run installs the interrupt handling of a sync for its duration; before and after it, the waiting one.
    running: () => {
      idle?.();
      idle = null;
    },
    waiting: () => {
      idle ??= exitOnSignalWhileWaiting(stop, () => nextDue);
    },
  };
  signals.waiting();
  const { scheduleLoop } = await import('../../../lambdas/local/orchestration/schedule-loop.js');
  await scheduleLoop({
    jobs,
    stop: stop.signal,
    waiting: (job, at) => {
      nextDue = stamp(at);
      out.info(`next run of ${job.name} at ${nextDue}`);
    },
    run: async (job, n) => {
      nextDue = null;
      const started = new Date();
      out.info(`${job.name} run ${n}: started`);
      let line: string;
      let json: unknown;
      try {
        const report = await runJob(ctx, job, progressOut, signals);
        const took = Date.now() - started.getTime();
        line = runLine(job.name, n, started, report, took);
        json = { at: started.toISOString(), pipeline: job.name, run: n, durationMs: took, report };
      } catch (e) {
        const message = e instanceof HighwaterError ? e.message : describeError(e);
        line = `${stamp(started)} ${job.name} run ${n}: could not run: ${message}`;
        json = { at: started.toISOString(), pipeline: job.name, run: n, error: message };
        if (e instanceof HighwaterError && e.suggestion) out.info(`  ${e.suggestion}`);
      }
      signals.waiting();
      if (ctx.json) process.stdout.write(`${JSON.stringify(json)}\n`);
      else out.data(line);
    },
  });
  signals.running();
  out.info('nothing is scheduled any more');
}

export function runEveryCommand(global: () => GlobalOptions): Command {
  return new Command('run')
    .description("sync a pipeline's tables periodically on this machine (no AWS needed), until stopped")
    .requiredOption('--every <duration>', 'how often: 90s, 5m, 1h, 1d (a run that takes longer is followed at once)')
    .option('-p, --pipeline <name>', 'pipeline (config/pipelines/NAME.yml)', 'default')
    .option(
      '-t, --table <schema.table>',
      'table to sync (repeat for several; default: every table of the pipeline)',
      collect,
    )
    .option('--max-workers <n>', 'chunks extracted in parallel', positiveInt('--max-workers'))
    .option(
      '--json',
      'one JSON object per run on stdout (JSON Lines): {at, pipeline, run, durationMs, report} or {…, error}',
    )
    .addHelpText(
      'after',
      `
The first run starts at once. Each run prints one line on stdout, its progress and errors on stderr as sync does; a
failed run does not stop the schedule. SIGTERM or Ctrl-C during a run ends it as for sync (marked failed, lease
released; exit 143 or 130), between runs at once with the same code. For a single run use \`highwater sync\`.
Examples:
  highwater run --every 5m -p sales
  highwater run --every 1h -t shop.orders -t shop.customers
  highwater run --every 15m -p sales --json >> sync-log.jsonl`,
    )
    .action(async (raw: unknown) => {
      const o = RunOptionsSchema.parse(raw);
      const seconds = parseDuration(o.every);
      if (seconds === undefined || seconds < MIN_EVERY_SECONDS) {
        throw new ConfigError(
          `--every ${JSON.stringify(o.every)} is not a duration of at least ${MIN_EVERY_SECONDS}s: write 90s, 5m, 1h or 1d`,
        );
      }
      const { everyJob } = await import('../../../lambdas/local/orchestration/schedule-loop.js');
      // Configuration mistakes show before the first wait: the pipeline must load.
      // (With --json the mode banner is left out: stdout carries JSON Lines only.)
      const { runtime } = await openContext({ ...global(), json: o.json || global().json }, o.pipeline);
      try {
        runtime.pipeline(o.pipeline);
      } finally {
        await runtime.close();
      }
      await loop(
        { global: global(), json: o.json || Boolean(global().json), maxWorkers: o.maxWorkers, tables: () => o.table },
        [everyJob(o.pipeline, seconds)],
      );
    });
}

export function daemonCommand(global: () => GlobalOptions): Command {
  return new Command('daemon')
    .description('run every pipeline on its own schedule: (cron or rate, UTC) on this machine, until stopped')
    .option('-p, --pipeline <name>', 'only this pipeline (repeat for several)', collect)
    .option('--json', 'one JSON object per run on stdout (JSON Lines), as `run --every` prints')
    .addHelpText(
      'after',
      `
Pipelines without schedule: are left out. A cron runs at its next UTC time; a rate runs at once, then that long after
each start. One run at a time: a pipeline due while another runs starts when it ends. Lines, signals and exit codes
are those of \`highwater run --every\`.
Examples:
  highwater daemon
  highwater daemon -p sales -p crm --json >> sync-log.jsonl`,
    )
    .action(async (o: { pipeline?: string[]; json?: boolean }) => {
      const { scheduleJob } = await import('../../../lambdas/local/orchestration/schedule-loop.js');
      const { config, runtime, out } = await openContext(global());
      const jobs: ScheduledJob[] = [];
      try {
        for (const name of o.pipeline ?? config.pipelines) {
          const p = runtime.pipeline(name);
          if (p.schedule === undefined) {
            if (o.pipeline) throw new ConfigError(`pipeline ${name} (${p.origin}) has no schedule:`);
            continue;
          }
          const s = parseSchedule(p.schedule);
          out.info(`${name}: ${describeSchedule(s)}`);
          jobs.push(scheduleJob(name, s));
        }
      } finally {
        await runtime.close();
      }
      if (jobs.length === 0) {
        throw new ConfigError('no pipeline has a schedule:', {
          suggestion:
            'Add schedule: rate(15 minutes) or schedule: cron(0 * * * ? *) under pipeline: in a pipeline file.',
        });
      }
      await loop({ global: global(), json: Boolean(o.json || global().json), tables: () => [] }, jobs);
    });
}
