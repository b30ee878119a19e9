/** `highwater watermark get|set|reset|list`: read and (carefully) write a table's committed position. */
import { Command } from 'commander';
import type { PipelineConfig, TableConfig } from '../../../lambdas/domain/config.js';
import type { SourceColumn, Watermark } from '../../../lambdas/domain/model.js';
import { getTableConfig } from '../../../lambdas/engine/config/index.js';
import { parseTableKey, pipelineTableParts, tableKey } from '../../../lambdas/engine/naming.js';
import { strategyFor } from '../../../lambdas/engine/strategies/index.js';
import { checkWatermarkInput } from '../../../lambdas/engine/watermark-input.js';
import { ConfigError, ConnectionError } from '../../../lambdas/errors.js';
import type { Runtime } from '../../../lambdas/local/runtime.js';
import type { StateStore } from '../../../lambdas/ports/index.js';
import { confirmed } from '../confirm.js';
import { type GlobalOptions, withContext } from '../context.js';
import { type Output, table } from '../output.js';

/**
 * The table's columns, to check a typed watermark against: the source's, else (unreachable) the last run's as
 * its plan recorded them; undefined when neither is known (then only formats are checked, and said so).
 */
async function cursorColumns(
  rt: Runtime,
  p: PipelineConfig,
  tc: TableConfig,
  state: StateStore,
  key: string,
  out: Output,
): Promise<SourceColumn[] | undefined> {
  try {
    const source = await rt.openSource(p);
    try {
      return (await source.describeTable(tc.sourceSchema, tc.sourceTable)).columns;
    } finally {
      await source.close();
    }
  } catch (e) {
    if (!(e instanceof ConnectionError)) throw e;
    const runs = await state.listRuns(key);
    const planned = runs.findLast((r) => r.plan !== null)?.plan?.columns;
    if (!planned) out.warn(`the source cannot be reached and no run recorded its columns: only formats were checked`);
    return planned;
  }
}

function keyFor(p: PipelineConfig, t: string): string {
  const tc = getTableConfig(p, t);
  return tableKey(pipelineTableParts(p, tc.name));
}

function fmt(w: Watermark | undefined): string {
  if (!w) return 'none (the next run starts from the beginning)';
  return `timestamp ${w.ts ?? '-'}, id ${w.id ?? '-'}`;
}

export function watermarkCommand(global: () => GlobalOptions): Command {
  const cmd = new Command('watermark').description("show and manage tables' committed positions");

  cmd
    .command('get')
    .description("show a table's watermark, lease and recent runs")
    .requiredOption('-t, --table <schema.table>', 'table')
    .option('-p, --pipeline <name>', 'pipeline', 'default')
    .option('--show-files', 'list the staged files of recent runs')
    .option('--json', 'print as JSON')
    .addHelpText('after', '\nExample:\n  highwater watermark get -t shop.orders --show-files')
    .action(async (o: { table: string; pipeline: string; showFiles?: boolean; json?: boolean }) =>
      withContext(global(), o.json, async ({ runtime: rt, out }) => {
        const p = rt.pipeline(o.pipeline);
        const key = keyFor(p, o.table);
        const state = await rt.state(p);
        const wm = await state.getWatermark(key);
        const lease = await state.getLease(key);
        const runs = (await state.listRuns(key)).slice(-10);
        if (out.opts.json) {
          out.json({
            table: o.table,
            key,
            watermark: wm ?? null,
            lease: lease ?? null,
            runs: o.showFiles ? runs : runs.map(({ chunks: _c, ...r }) => r),
          });
          return;
        }
        out.data(`table      ${o.table}  (pipeline ${p.name}, ${p.source.name} → ${p.target.name})`);
        out.data(`watermark  ${fmt(wm?.watermark)}${wm?.manual ? '  (set by hand)' : ''}`);
        if (wm) out.data(`updated    ${wm.updatedAt}${wm.lastRunId ? ` by run ${wm.lastRunId}` : ''}`);
        out.data(`lease      ${lease ? `held by ${lease.holder} until ${lease.expiresAt}` : 'free'}`);
        if (runs.length > 0) {
          out.data('recent runs:');
          const rows = [['run', 'status', 'rows', 'loaded', 'files', 'up to']];
          for (const r of runs) {
            rows.push([
              r.runId,
              r.status,
              String(r.rowsExtracted),
              String(r.rowsLoaded ?? '-'),
              String(r.chunks.length),
              `${r.to.ts ?? '-'} / ${r.to.id ?? '-'}`,
            ]);
          }
          for (const l of table(rows, true)) out.data(`  ${l}`);
          if (o.showFiles) {
            for (const r of runs)
              for (const c of r.chunks) out.data(`  ${r.runId}  ${c.key}  ${c.rows} rows  ${c.bytes} bytes`);
          }
        }
      }),
    );

  cmd
    .command('set')
    .description('set the watermark by hand (the next run starts after it)')
    .requiredOption('-t, --table <schema.table>', 'table')
    .option('-p, --pipeline <name>', 'pipeline', 'default')
    .option(
      '--timestamp <value>',
      "cursor timestamp, 'YYYY-MM-DD HH:MM:SS[.ffffff]' (or seconds for timestamp_format unix)",
    )
    .option('--id <value>', 'cursor id (tie-breaker, or the cursor for id_only)')
    .addHelpText(
      'after',
      `
A half you leave out keeps its current value (it is never silently cleared).
Examples:
  highwater watermark set -t shop.orders --timestamp '2025-08-09 20:00:01' --id 0
  highwater watermark set -t shop.events --id 1500000`,
    )
    .action(async (o: { table: string; pipeline: string; timestamp?: string; id?: string }) =>
      withContext(global(), false, async ({ runtime: rt, out }) => {
        if (o.timestamp === undefined && o.id === undefined)
          throw new ConfigError('watermark set needs --timestamp, --id or both');
        const p = rt.pipeline(o.pipeline);
        const tc = getTableConfig(p, o.table);
        const key = keyFor(p, o.table);
        const state = await rt.state(p);
        const columns = await cursorColumns(rt, p, tc, state, key, out);
        checkWatermarkInput(tc, columns, { ts: o.timestamp, id: o.id });
        const current = (await state.getWatermark(key))?.watermark;
        const next: Watermark = { ts: o.timestamp ?? current?.ts ?? null, id: o.id ?? current?.id ?? null };
        await state.setWatermark(key, next, { manual: true });
        if (o.timestamp === undefined && current?.ts) out.info(`kept the current timestamp ${current.ts}`);
        if (o.id === undefined && current?.id) out.info(`kept the current id ${current.id}`);
        if (next.ts !== null && next.id === null && strategyFor(tc.strategy).lagCursor(tc)?.half === 'ts') {
          out.info(`no id: the next run starts after every row at ${next.ts}`);
        }
        out.data(`${o.table}: watermark set to ${fmt(next)}`);
      }),
    );

  cmd
    .command('reset')
    .description(
      'forget the watermark (the next run re-reads the whole table; the merge keeps the warehouse free of duplicates)',
    )
    .requiredOption('-t, --table <schema.table>', 'table')
    .option('-p, --pipeline <name>', 'pipeline', 'default')
    .option('-y, --yes', 'do not ask for confirmation')
    .addHelpText('after', '\nExample:\n  highwater watermark reset -t shop.orders --yes')
    .action(async (o: { table: string; pipeline: string; yes?: boolean }) =>
      withContext(global(), false, async ({ runtime: rt, out }) => {
        const p = rt.pipeline(o.pipeline);
        const key = keyFor(p, o.table);
        const go = await confirmed({
          yes: o.yes,
          question: `Reset the watermark of ${o.table} (pipeline ${p.name})? The next run reads the whole table again.`,
          command: 'watermark reset',
          unattended: 'refuse',
          checkFirst: `\`highwater watermark get -t ${o.table}\``,
        });
        if (!go) {
          out.info('left unchanged');
          return;
        }
        await (await rt.state(p)).deleteWatermark(key);
        out.data(`${o.table}: watermark reset`);
      }),
    );

  cmd
    .command('list')
    .description('list every watermark')
    .option('-p, --pipeline <name>', 'only this pipeline')
    .option('--json', 'print as JSON')
    .addHelpText('after', '\nExamples:\n  highwater watermark list\n  highwater watermark list -p sales --json')
    .action(async (o: { pipeline?: string; json?: boolean }) =>
      withContext(global(), o.json, async ({ runtime: rt, out }) => {
        const p = rt.pipeline(o.pipeline ?? 'default');
        const all = (await (await rt.state(p)).listWatermarks()).filter(
          (w) => !o.pipeline || parseTableKey(w.tableKey).pipeline === o.pipeline,
        );
        if (out.opts.json) {
          out.json(all);
          return;
        }
        if (all.length === 0) {
          out.data('no watermarks yet');
          return;
        }
        const rows = [['pipeline', 'source', 'table', 'target', 'timestamp', 'id', 'updated']];
        for (const w of all) {
          const k = parseTableKey(w.tableKey);
          rows.push([
            k.pipeline,
            k.source,
            k.table,
            k.target,
            w.watermark.ts ?? '-',
            w.watermark.id ?? '-',
            w.updatedAt,
          ]);
        }
        for (const l of table(rows, true)) out.data(l);
      }),
    );
  return cmd;
}
