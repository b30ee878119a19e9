/**
 * `highwater status`: for each pipeline and table, the watermark, the last run, how far the source is ahead of the
 * watermark, and when the schedule fires next. Read-only: it never writes state (a local state file that does not
 * exist yet is not created).
 */
import { Command } from 'commander';
import type { PipelineConfig } from '../../../lambdas/domain/config.js';
import { ConfigError } from '../../../lambdas/errors.js';
import type { DiskUse } from '../../../lambdas/local/engine/disk-use.js';
import type { PipelineStatus, TableStatus } from '../../../lambdas/local/engine/status.js';
import { type GlobalOptions, openContext } from '../context.js';
import { table } from '../output.js';
import { formatBytes } from '../text-table.js';

function fmtWatermark(w: TableStatus['watermark']): string {
  if (!w) return 'none';
  if (w.ts !== null && w.id !== null) return `${w.ts} / ${w.id}`;
  return w.ts ?? w.id ?? 'none';
}

/** `equal 2026-12-04T10:00:00Z`, `3 keys differ …`, or `never`. */
function verifiedText(v: TableStatus['verification']): string {
  if (!v) return 'never';
  if (v.equal) return `equal ${v.at}`;
  return `${v.missing + v.extra + v.changed} keys differ ${v.at}`;
}

/** `/x/.highwater  12.3 MB (staging/ 11.9 MB, warehouse.duckdb 412 kB, …)`, or that it does not exist yet. */
function diskText(d: DiskUse): string {
  if (!d.exists) return `${d.home}  (not created yet)`;
  const parts = d.entries.map((e) => `${e.name} ${formatBytes(e.bytes)}`).join(', ');
  return `${d.home}  ${formatBytes(d.bytes)}${parts ? ` (${parts})` : ''}`;
}

export function statusCommand(global: () => GlobalOptions): Command {
  return new Command('status')
    .description('watermark, last run, lag behind the source and next scheduled run of every table')
    .option('-p, --pipeline <name>', 'only this pipeline')
    .option('--json', 'print as JSON')
    .addHelpText(
      'after',
      `
Lag compares the source's MAX of the cursor column with the watermark (when the source is reachable). Schedules are
EventBridge expressions evaluated in UTC. Warnings are the last run's (schema changes, a held watermark, rows with
a NULL cursor, a missing grant). Nothing is written.
Examples:
  highwater status
  highwater status -p sales --json`,
    )
    .action(async (o: { pipeline?: string; json?: boolean }) => {
      const g = global();
      const { out, config: cfg, runtime } = await openContext({ ...g, json: o.json || g.json });
      try {
        const names = o.pipeline ? [o.pipeline] : cfg.pipelines;
        const now = new Date();
        const pipelines: PipelineStatus[] = [];
        const invalid: { pipeline: string; error: string }[] = [];
        for (const name of names) {
          let p: PipelineConfig;
          try {
            p = runtime.pipeline(name);
          } catch (e) {
            // An unknown -p is an error; a broken file among many is reported and the rest still shown.
            if (o.pipeline || !(e instanceof ConfigError)) throw e;
            invalid.push({ pipeline: name, error: e.message });
            continue;
          }
          const { pipelineStatus } = await import('../../../lambdas/local/engine/status.js');
          pipelines.push(await pipelineStatus(runtime, p, now));
        }
        const configSource =
          cfg.mode === 'single' ? 'environment variables and .env' : `${cfg.configDir} (connections.yml, pipelines/)`;
        const { homeDiskUse } = await import('../../../lambdas/local/engine/disk-use.js');
        const disk = homeDiskUse(cfg.home);
        if (out.opts.json) {
          out.json({
            mode: cfg.mode,
            reason: cfg.reason,
            config: configSource,
            home: cfg.home,
            disk,
            pipelines,
            invalid,
          });
          return;
        }
        out.data(`mode    ${cfg.mode === 'single' ? 'single-connection' : 'multi-connection'}: ${cfg.reason}`);
        out.data(`config  ${configSource}`);
        out.data(`home    ${diskText(disk)}`);
        for (const ps of pipelines) {
          out.data('');
          out.data(`pipeline ${ps.pipeline}  ${ps.source} → ${ps.target}  (${ps.file})`);
          if (ps.schedule) {
            const next = ps.schedule.next ? `next ${ps.schedule.next}` : 'next unknown';
            out.data(
              `  schedule ${ps.schedule.description}, ${next}${ps.schedule.note ? ` (${ps.schedule.note})` : ''}`,
            );
          } else {
            out.data('  schedule none');
          }
          for (const n of ps.notes) out.data(`  ${n}`);
          if (ps.tables.length === 0) {
            out.data('  no tables yet');
            continue;
          }
          const rows = [['table', 'strategy', 'watermark', 'last run', 'lag', 'verified']];
          for (const t of ps.tables) {
            rows.push([
              t.table,
              t.strategy,
              ps.stateRead ? fmtWatermark(t.watermark) : 'unknown',
              t.lastRun
                ? `${t.lastRun.status} ${t.lastRun.at} (${t.lastRun.rows} rows)`
                : ps.stateRead
                  ? 'never'
                  : 'unknown',
              t.lag.text,
              verifiedText(t.verification),
            ]);
          }
          for (const l of table(rows, true)) out.data(`  ${l}`);
          for (const t of ps.tables) {
            for (const w of t.warnings) out.data(`  ${t.table}: warning: ${w}`);
          }
        }
        for (const i of invalid) out.error(`pipeline ${i.pipeline}: ${i.error}`);
      } finally {
        await runtime.close();
      }
    });
}
