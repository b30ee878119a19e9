/**
 * `highwater sync`: run tables now, on this machine (local adapters or AWS adapters chosen by configuration), or
 * with --state-machine-arn / HIGHWATER_STATE_MACHINE_ARN as an execution of the deployed state machine.
 */
import { writeFileSync } from 'node:fs';
import { Command } from 'commander';
import { z } from 'zod';
import type { RunReport, TableReport } from '../../../lambdas/domain/manifests.js';
import { renderForDisplay } from '../../../lambdas/engine/strategies/sql/reads.js';
import { ConfigError, describeError } from '../../../lambdas/errors.js';
import { processHeldRuns } from '../../../lambdas/local/orchestration/held-runs.js';
import { exitCodeOfTables } from '../../../lambdas/orchestration/report.js';
import type { Runtime } from '../../../lambdas/ports/runtime.js';
import { type GlobalOptions, openContext, outputFor } from '../context.js';
import { ExitError } from '../exit.js';
import { abortRunsOnSignal } from '../interrupt.js';
import { collect, positiveInt } from '../options.js';
import type { Output } from '../output.js';
import { checkOutputFile } from '../output-file.js';
import { progressReporter } from '../progress.js';
import type { LedgerLookup } from '../remote/outcome.js';
import { buildRunRequest, stateMachineArnFrom } from '../run-request.js';
import { pruneStaging } from '../staging-prune.js';
import { needsSelection, resolveTables } from '../table-selection.js';

const SyncOptionsSchema = z.object({
  /** Names or patterns; none: every table the pipeline lists (table-selection.ts). */
  table: z.array(z.string()).default([]),
  pipeline: z.string().default('default'),
  limit: z.number().optional(),
  maxWorkers: z.number().optional(),
  maxChunks: z.number().optional(),
  backupOnly: z.boolean().default(false),
  redshiftOnly: z.boolean().default(false),
  dryRun: z.boolean().default(false),
  json: z.boolean().default(false),
  jsonOutput: z.string().optional(),
  stateMachineArn: z.string().optional(),
  wait: z.boolean().default(true),
  resync: z.boolean().default(false),
});
type SyncOptions = z.infer<typeof SyncOptionsSchema>;

function addRunOptions(cmd: Command): Command {
  return cmd
    .option(
      '-t, --table <schema.table>',
      "table to sync (repeat for several; a pattern such as 'shop.*' selects by name); none: every table of the pipeline",
      collect,
    )
    .option('--limit <n>', 'at most this many rows per table in this run', positiveInt('--limit'))
    .option(
      '--max-workers <n>',
      'chunks extracted in parallel, at most 40 (default: the pipeline’s max_workers, locally at most one per CPU)',
      positiveInt('--max-workers'),
    )
    .option('--max-chunks <n>', 'at most this many chunks per table in this run', positiveInt('--max-chunks'))
    .option('--backup-only', 'extract and stage files only; load them later with --redshift-only')
    .option('--redshift-only', 'load staged runs that are not loaded yet, oldest first')
    .option('--dry-run', 'print the plan (chunks, SQL with parameters, target DDL) and change nothing')
    .option('--json', 'print the run report as JSON on stdout')
    .option('--json-output <file>', 'also write the run report as JSON to this file')
    .option(
      '--state-machine-arn <arn>',
      'run on AWS as an execution of this state machine (or HIGHWATER_STATE_MACHINE_ARN)',
    )
    .option('--no-wait', 'with a state machine: print the execution ARN and return at once');
}

/** An error as the report line shows it: the line already starts with the table. */
function withoutTablePrefix(table: string, error: string): string {
  return error.startsWith(`${table}: `) ? error.slice(table.length + 2) : error;
}

/** What the load did: rows, or for a history table versions (docs/history.md, "The run report"). */
function loadedText(t: TableReport): string {
  const v = t.versions;
  if (!v) return `${t.rowsLoaded} loaded`;
  return `${v.opened} version${v.opened === 1 ? '' : 's'} opened, ${v.closedByChange} closed by a change, ${v.closedByDelete} closed by a delete`;
}

function renderReport(out: Output, report: RunReport): void {
  out.info(`execution ${report.executionId} (pipeline ${report.pipeline}): ${report.status}`);
  // A warning about the connection (a missing grant) comes with every table: say it once.
  const said = new Set<string>();
  for (const t of report.tables) {
    const wm = t.watermarkAfter ? `, watermark ${t.watermarkAfter.ts ?? '-'} / ${t.watermarkAfter.id ?? '-'}` : '';
    const files = `${t.files} file${t.files === 1 ? '' : 's'}`;
    const what =
      t.status === 'skipped'
        ? `skipped: ${t.skipped}`
        : t.status === 'failed'
          ? `FAILED: ${withoutTablePrefix(t.table, t.error ?? '')}`
          : `${t.status}: ${t.rowsExtracted} rows extracted, ${loadedText(t)}, ${files}${wm}`;
    const took = t.durationMs === null ? '' : `  (${(t.durationMs / 1000).toFixed(1)} s)`;
    out.data(`${t.table}  ${what}${took}`);
    // Where this run stopped reading and why (docs/correctness.md, "The commit horizon"): rows newer than it, however
    // fresh in the source, wait for the next run, and "skipped" alone would not say so.
    if (t.horizon) out.data(`  horizon: ${t.horizon}`);
    if (t.suggestion) out.data(`  ${t.suggestion}`);
    if (t.verification?.equal) out.data(`  verified: equal to the source (${t.verification.rows.source} rows)`);
    for (const w of t.warnings) {
      if (said.has(w)) continue;
      said.add(w);
      out.data(`  warning: ${w}`);
    }
  }
}

/**
 * Both phase flags, as the migration guide's "all options" example passes them: stage, then load — which is what a
 * plain sync does, so that is what runs (said on stderr).
 */
function bothPhases(opts: SyncOptions): SyncOptions {
  if (!(opts.backupOnly && opts.redshiftOnly)) return opts;
  process.stderr.write('--backup-only with --redshift-only: staging and then loading, as a plain sync does\n');
  return { ...opts, backupOnly: false, redshiftOnly: false };
}

/** The ledger of the pipeline a remote run writes, read through this machine's configuration; undefined if none loads. */
async function remoteLedger(
  global: GlobalOptions,
  pipeline: string,
  adhoc: { source: string; target: string } | undefined,
  out: Output,
): Promise<{ runtime: Runtime; lookup: LedgerLookup } | undefined> {
  try {
    const { runtime } = await openContext({ ...global, quiet: true });
    const { ledgerLookup } = await import('../remote/ledger.js');
    return { runtime, lookup: ledgerLookup(runtime, pipeline, adhoc) };
  } catch (e) {
    out.debug(`no ledger for the report's bytes and durations: ${describeError(e)}`);
    return undefined;
  }
}

async function runSync(
  given: SyncOptions,
  global: GlobalOptions,
  adhoc?: { source: string; target: string },
): Promise<void> {
  let opts = bothPhases(given);
  if (opts.jsonOutput !== undefined) checkOutputFile('--json-output', opts.jsonOutput);
  if (opts.resync && opts.table.length === 0) {
    throw new ConfigError('resync rebuilds whole tables: name each one with -t schema.table');
  }
  if (needsSelection(opts.table)) {
    const ctx = await openContext({ ...global, quiet: true });
    try {
      opts = { ...opts, table: await resolveTables(ctx.runtime, opts.pipeline, opts.table, adhoc) };
    } finally {
      await ctx.runtime.close();
    }
  }
  const request = buildRunRequest(opts, adhoc);
  // --dry-run always plans here: it reads the source but changes nothing, so there is nothing to run remotely.
  const stateMachineArn = opts.dryRun ? undefined : stateMachineArnFrom(opts.stateMachineArn);
  if (stateMachineArn) {
    // The Step Functions client and the follow view load only for a remote run.
    const [{ createSfnClient }, { runRemoteSync }, { terminalView }] = await Promise.all([
      import('../remote/client.js'),
      import('../remote/remote-sync.js'),
      import('../remote/view.js'),
    ]);
    const out = outputFor(global, opts.json);
    // The report's bytes and durations come from the ledger, when this machine's configuration reaches it.
    const ledger = opts.wait ? await remoteLedger(global, request.pipeline, adhoc, out) : undefined;
    try {
      await runRemoteSync({
        client: createSfnClient(stateMachineArn),
        out,
        stateMachineArn,
        request,
        wait: opts.wait,
        jsonOutput: opts.jsonOutput,
        view: out.isTty && !out.opts.quiet && !out.opts.json ? terminalView((s) => process.stderr.write(s)) : undefined,
        ledger: ledger?.lookup,
      });
    } finally {
      await ledger?.runtime.close();
    }
    return;
  }
  const { out, runtime } = await openContext(
    { ...global, json: opts.json || global.json },
    adhoc ? undefined : opts.pipeline,
  );
  try {
    if (opts.dryRun) {
      const { previewTable } = await import('../../../lambdas/local/orchestration/dry-run.js');
      const previews = [];
      for (const t of opts.table) previews.push(await previewTable(runtime, opts.pipeline, t, request.options, adhoc));
      if (out.opts.json) out.json({ dryRun: true, tables: previews });
      for (const p of previews) {
        out.data(`${p.table} → ${p.target} (${p.strategy}, ${p.mode})`);
        out.data(`  window: after ${JSON.stringify(p.from)} up to ${JSON.stringify(p.to)}`);
        if (p.horizon) out.data(`  horizon: ${p.horizon}`);
        if (p.skipped) out.data(`  nothing to do: ${p.skipped}`);
        if (p.chunkSize && !p.skipped) out.data(`  chunk size: ${p.chunkSize}`);
        for (const c of p.chunks) {
          out.data(`  chunk ${c.index}: key > ${JSON.stringify(c.lower)} and ≤ ${JSON.stringify(c.upper)}`);
          out.data(`    ${c.sql}`);
          out.data(`    params ${JSON.stringify(c.params)}`);
          out.data(`    as run: ${renderForDisplay({ sql: c.sql, params: c.params })}`);
        }
        out.data(`  target DDL if missing: ${p.ddl}`);
      }
      return;
    }
    // Ctrl-C or a kill ends every run this process holds (failed, lease released) instead of leaving its lease.
    const held = processHeldRuns;
    const progress = progressReporter(out);
    const stopHandling = abortRunsOnSignal({
      held,
      write: (line) => {
        progress.stop();
        process.stderr.write(`${line}\n`);
      },
    });
    // The state machine interpreter and the step handlers load only for a local run.
    const { runLocal } = await import('../../../lambdas/local/orchestration/local-runner.js');
    const outcome = await runLocal(runtime, request, {
      heldRuns: held,
      // After an interruption the run's remaining events would only repeat it: the interrupt line says it all.
      onEvent: (e) => {
        if (held.interrupted === null) progress.event(e);
      },
    }).then(
      (report) => ({ report }),
      (error: unknown) => ({ error }),
    );
    if (held.interrupted === null) progress.stop();
    // Interrupted: the signal handler exits once it has aborted the runs; the runtime stays open for it until then.
    if (held.interrupted !== null) await new Promise<never>(() => undefined);
    stopHandling();
    if ('error' in outcome) throw outcome.error;
    const { report } = outcome;
    await pruneStaging(out, runtime, request.pipeline, adhoc, opts.table);
    if (opts.jsonOutput) writeFileSync(opts.jsonOutput, `${JSON.stringify(report, null, 2)}\n`);
    if (out.opts.json) out.json(report);
    else renderReport(out, report);
    const code = exitCodeOfTables(report.tables);
    if (code !== 0) throw new ExitError(code);
  } finally {
    await runtime.close();
  }
}

export function syncCommand(global: () => GlobalOptions): Command {
  const sync = addRunOptions(new Command('sync'))
    // `sync pipeline -p P -t T`: options after a subcommand's name are the subcommand's, not sync's own.
    .enablePositionalOptions()
    .description('sync tables from MySQL to the warehouse now')
    .option('-p, --pipeline <name>', 'pipeline (config/pipelines/NAME.yml)', 'default')
    .addHelpText(
      'after',
      `
Examples:
  highwater sync -t shop.orders
  highwater sync -t shop.orders -t shop.customers --max-workers 4
  highwater sync -t shop.orders --limit 100000 --backup-only
  highwater sync -t shop.orders --redshift-only
  highwater sync -t shop.orders --dry-run
  highwater sync -t shop.orders --state-machine-arn arn:aws:states:eu-west-1:123456789012:stateMachine:highwater-prod
  highwater sync -t shop.orders --no-wait --json   (with HIGHWATER_STATE_MACHINE_ARN set)`,
    )
    .action(async (raw: unknown) => runSync(SyncOptionsSchema.parse(raw), global()));

  sync.addCommand(
    addRunOptions(new Command('pipeline'))
      .description('sync tables of a named pipeline')
      .requiredOption('-p, --pipeline <name>', 'pipeline name')
      .addHelpText(
        'after',
        "\nExamples:\n  highwater sync pipeline -p sales                  (every table of the pipeline, depends_on first)\n  highwater sync pipeline -p sales -t 'shop.order*'\n  highwater sync pipeline -p sales -t shop.orders --max-workers 6",
      )
      .action(async (raw: unknown) => runSync(SyncOptionsSchema.parse(raw), global())),
  );
  sync.addCommand(
    addRunOptions(new Command('connections'))
      .description('sync tables between two named connections (an ad-hoc pipeline)')
      .requiredOption('-s, --source <name>', 'source connection')
      .requiredOption('-r, --target <name>', 'target connection')
      .addHelpText(
        'after',
        '\nExample:\n  highwater sync connections --source mysql_default --target local -t shop.orders',
      )
      .action(async (raw: { source: string; target: string }) =>
        runSync(SyncOptionsSchema.parse({ ...raw, pipeline: `adhoc_${raw.source}_to_${raw.target}` }), global(), {
          source: raw.source,
          target: raw.target,
        }),
      ),
  );
  return sync;
}

/** `highwater resync`: rebuild tables whose warehouse copy cannot follow the source any more. */
export function resyncCommand(global: () => GlobalOptions): Command {
  return new Command('resync')
    .description(
      'read the whole table again and replace the warehouse table with it in one transaction, then continue incrementally',
    )
    .option('-t, --table <schema.table>', 'table to rebuild (repeat for several)', collect)
    .option('-p, --pipeline <name>', 'pipeline (config/pipelines/NAME.yml)', 'default')
    .option(
      '--max-workers <n>',
      'chunks extracted in parallel, at most 40 (default: the pipeline’s max_workers, locally at most one per CPU)',
      positiveInt('--max-workers'),
    )
    .option('--dry-run', 'print the plan (chunks, SQL with parameters, target DDL) and change nothing')
    .option('--json', 'print the run report as JSON on stdout')
    .option('--json-output <file>', 'also write the run report as JSON to this file')
    .addHelpText(
      'after',
      `
After a schema change the warehouse cannot follow in place (a narrowing, a new type), sync stops with a message
naming the column; resync rebuilds the table from the source and the watermark continues from there.

Examples:
  highwater resync -t shop.orders
  highwater resync -p sales -t shop.orders --max-workers 4`,
    )
    .action(async (raw: unknown) => runSync(SyncOptionsSchema.parse({ ...(raw as object), resync: true }), global()));
}
