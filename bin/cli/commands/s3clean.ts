/** `highwater s3clean list|clean`: a table's staged files joined with the run ledger, and removing the safe ones. */
import { Command } from 'commander';
import type { PipelineConfig } from '../../../lambdas/domain/config.js';
import { getTableConfig, parseDuration } from '../../../lambdas/engine/config/index.js';
import { pipelineTableParts } from '../../../lambdas/engine/naming.js';
import { ConfigError } from '../../../lambdas/errors.js';
import type { CleanupListing, CleanupScope, StagedFileEntry } from '../../../lambdas/local/engine/cleanup.js';

/** What s3clean may delete is decided in lambdas/local/engine/cleanup.ts, loaded when an s3clean command runs. */
const cleanup = () => import('../../../lambdas/local/engine/cleanup.js');

import type { Runtime } from '../../../lambdas/local/runtime.js';
import { confirmed } from '../confirm.js';
import { type GlobalOptions, withContext } from '../context.js';
import { type Output, table } from '../output.js';

interface FilterOptions {
  table: string;
  pipeline: string;
  olderThan?: string;
  pattern?: string;
  json?: boolean;
}

function olderThanSeconds(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const s = parseDuration(value);
  if (s === undefined) {
    throw new ConfigError(`--older-than ${JSON.stringify(value)} is not a duration`, {
      suggestion: 'Write a number of seconds or 30s, 30m, 12h, 7d.',
    });
  }
  return s;
}

async function scopeFor(rt: Runtime, p: PipelineConfig, t: string): Promise<CleanupScope> {
  const staging = await rt.staging(p);
  const tc = getTableConfig(p, t);
  return {
    staging,
    state: await rt.state(p),
    rootPrefix: staging.prefix,
    parts: pipelineTableParts(p, tc.name),
    leaseSeconds: p.processing.leaseSeconds,
  };
}

/** A table that is not in the pipeline's list and has neither runs nor files is most likely a typo. */
function refuseUnknown(p: PipelineConfig, t: string, listing: CleanupListing, anyRuns: boolean): void {
  const configured = p.tables.some((x) => x.name.toLowerCase() === t.toLowerCase());
  if (!configured && !anyRuns && listing.files.length === 0) {
    throw new ConfigError(`table ${t} has no runs and no staged files in pipeline ${p.name}; is the name right?`, {
      suggestion: 'Check the schema.table name (and the pipeline with -p).',
    });
  }
}

async function load(
  rt: Runtime,
  o: FilterOptions,
): Promise<{ p: PipelineConfig; scope: CleanupScope; listing: CleanupListing }> {
  const seconds = olderThanSeconds(o.olderThan);
  const p = rt.pipeline(o.pipeline);
  const scope = await scopeFor(rt, p, o.table);
  const { listStagedFiles } = await cleanup();
  const listing = await listStagedFiles(scope, { olderThanSeconds: seconds, pattern: o.pattern });
  const anyRuns = (await scope.state.listRuns(listing.tableKey)).length > 0;
  refuseUnknown(p, o.table, listing, anyRuns);
  return { p, scope, listing };
}

function age(seconds: number): string {
  if (seconds < 120) return `${Math.floor(seconds)}s`;
  if (seconds < 7200) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 172800) return `${Math.floor(seconds / 3600)}h`;
  return `${Math.floor(seconds / 86400)}d`;
}

function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

function jsonFile(f: StagedFileEntry) {
  const { selected: _s, ...rest } = f;
  return rest;
}

function printFiles(out: Output, files: readonly StagedFileEntry[]): void {
  const rows = [['key', 'size', 'age', 'run', 'status', 'safe', 'why']];
  for (const f of files) {
    rows.push([
      f.key,
      bytes(f.size),
      age(f.ageSeconds),
      f.runId ?? '-',
      f.runStatus ?? 'orphan',
      f.safe ? 'yes' : 'NO',
      f.reason,
    ]);
  }
  for (const l of table(rows, true)) out.data(l);
}

const FILTER_HELP = `
--older-than takes seconds or 30s, 30m, 12h, 7d. --pattern is a glob: without "/" it matches the file name
(chunk-*.parquet), with "/" the key below the table's prefix (run=20261125*/*); * stays within one folder, ** crosses.`;

export function s3cleanCommand(global: () => GlobalOptions): Command {
  const cmd = new Command('s3clean').description("list and remove a table's staged Parquet files (local or S3)");

  const withRuntime = (json: boolean | undefined, fn: (rt: Runtime, out: Output) => Promise<void>): Promise<void> =>
    withContext(global(), json, ({ runtime, out }) => fn(runtime, out));

  cmd
    .command('list')
    .description("list a table's staged files with their run, status and whether they are safe to delete")
    .requiredOption('-t, --table <schema.table>', 'table')
    .option('-p, --pipeline <name>', 'pipeline', 'default')
    .option('--older-than <duration>', 'only files at least this old (7d, 12h, 30m, 90)')
    .option('--pattern <glob>', 'only files matching this glob')
    .option('--json', 'print as JSON')
    .addHelpText(
      'after',
      `${FILTER_HELP}
Safe: files of committed, loaded or failed runs, and orphans. Not safe: files staged by --backup-only that
sync --redshift-only has not loaded yet, and files of a run in progress.
Examples:
  highwater s3clean list -t shop.orders
  highwater s3clean list -t shop.orders --older-than 7d --json`,
    )
    .action(async (o: FilterOptions) =>
      withRuntime(o.json, async (rt, out) => {
        const { listing } = await load(rt, o);
        const files = listing.files.filter((f) => f.selected);
        if (out.opts.json) {
          out.json({
            table: o.table,
            tableKey: listing.tableKey,
            prefix: listing.prefix,
            lease: listing.lease,
            files: files.map(jsonFile),
            totals: listing.totals,
          });
          return;
        }
        if (files.length === 0) {
          out.data(
            `${o.table}: no staged files${listing.files.length > 0 ? ' match the filter' : ''} under ${listing.prefix}`,
          );
          return;
        }
        printFiles(out, files);
        const t = listing.totals;
        out.data(
          `total ${t.files} file(s), ${bytes(t.bytes)}: ${t.safeFiles} safe to delete (${bytes(t.safeBytes)}), ${t.unsafeFiles} not safe (${bytes(t.unsafeBytes)})`,
        );
        if (listing.lease)
          out.info(`the table's lease is held by ${listing.lease.holder} until ${listing.lease.expiresAt}`);
      }),
    );

  cmd
    .command('clean')
    .description("delete a table's staged files that are safe to delete, keeping the run ledger consistent")
    .requiredOption('-t, --table <schema.table>', 'table')
    .option('-p, --pipeline <name>', 'pipeline', 'default')
    .option('--older-than <duration>', 'only files at least this old (7d, 12h, 30m, 90)')
    .option('--pattern <glob>', 'only files matching this glob')
    .option('--dry-run', 'print what would be deleted; delete nothing')
    .option('--force', 'also delete files staged by --backup-only that are not loaded yet (their runs become failed)')
    .option('-y, --yes', 'do not ask for confirmation (without a terminal, --force needs it)')
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      `${FILTER_HELP}
On a terminal it lists what it would delete and asks first (unless --yes). Without one it deletes loaded files
unasked, as scripts of the old tool expect; --force (files not loaded yet) needs --yes there.
Files of runs not loaded yet stay unless --force; with --force each is named on stderr and its run is marked
failed, so sync --redshift-only never tries to load it (the next sync re-reads that window). Files of a run in
progress are never deleted: --force is refused until its lease is released or expires.
Examples:
  highwater s3clean clean -t shop.orders --older-than 7d --dry-run
  highwater s3clean clean -t shop.orders --older-than 7d
  highwater s3clean clean -t shop.orders --force --yes`,
    )
    .action(async (o: FilterOptions & { dryRun?: boolean; force?: boolean; yes?: boolean }) =>
      withRuntime(o.json, async (rt, out) => {
        const { scope, listing } = await load(rt, o);
        const { applyCleanup, planCleanup } = await cleanup();
        const plan = planCleanup(listing, { force: Boolean(o.force) });
        const freed = plan.delete.reduce((n, f) => n + f.size, 0);
        const keptRuns = [...new Set(plan.kept.map((f) => f.runId ?? '?'))];

        for (const f of plan.forced) {
          out.warn(
            `${o.dryRun ? 'would delete' : 'will delete'} ${f.key} of run ${f.runId ?? '-'} (${f.runStatus ?? 'orphan'}): ${f.reason}`,
          );
        }
        if (!o.dryRun && plan.delete.length > 0) {
          const go = await confirmed({
            yes: o.yes,
            question: `Delete ${plan.delete.length} staged file(s) of ${o.table} (${bytes(freed)})${plan.forced.length ? `, ${plan.forced.length} of them not loaded yet` : ''}?`,
            command: 's3clean clean --force',
            unattended: plan.forced.length > 0 ? 'refuse' : 'proceed',
            checkFirst: '`highwater s3clean clean --dry-run`',
          });
          if (!go) {
            out.info('left unchanged');
            return;
          }
          await applyCleanup(scope, plan);
        }

        if (out.opts.json) {
          out.json({
            table: o.table,
            tableKey: listing.tableKey,
            dryRun: Boolean(o.dryRun),
            deleted: plan.delete.map(jsonFile),
            forced: plan.forced.map((f) => f.key),
            kept: plan.kept.map(jsonFile),
            runUpdates: plan.runUpdates,
            bytes: freed,
          });
        } else {
          const verb = o.dryRun ? 'would delete' : 'deleted';
          for (const f of plan.delete) out.data(`${verb}  ${f.key}`);
          for (const u of plan.runUpdates) {
            if (u.to !== u.from) out.data(`run ${u.runId}: ${u.from} → ${u.to}${o.dryRun ? ' (dry run)' : ''}`);
          }
          out.data(`${o.table}: ${verb} ${plan.delete.length} file(s), ${bytes(freed)}`);
        }
        if (plan.kept.length > 0) {
          out.info(
            `kept ${plan.kept.length} file(s) that are not safe to delete (run ${keptRuns.join(', ')}: ${plan.kept[0]!.reason}); --force deletes files not loaded yet`,
          );
        }
        if (o.dryRun) out.info('dry run: nothing was deleted');
      }),
    );
  return cmd;
}
