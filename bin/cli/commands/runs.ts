/**
 * `highwater runs`: the run history of the ledger — per run its outcome, rows, bytes and the time each step took
 * (Plan, Extract, Load, Commit) and the spread of its chunks' extract times, newest first. Read-only: a state file
 * that does not exist yet is not created.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { Command } from 'commander';
import type { PipelineConfig } from '../../../lambdas/domain/config.js';
import type { RunView, StepView } from '../../../lambdas/local/engine/run-history.js';
import { type GlobalOptions, withContext } from '../context.js';
import { collect, positiveInt } from '../options.js';
import type { Output } from '../output.js';
import { formatCount, formatElapsed } from '../progress-format.js';
import { formatBytes, textTable } from '../text-table.js';

interface RunsOptions {
  table?: string[];
  pipeline?: string;
  last: number;
  chunks?: boolean;
  json?: boolean;
}

const duration = (ms: number | null): string => (ms === null ? '–' : formatElapsed(ms));
const step = (s: StepView | null): string => (s === null ? '–' : duration(s.durationMs));

/** `2026-03-01 10:00:00`: the run's start in UTC, to the second. */
function when(iso: string): string {
  return iso
    .replace('T', ' ')
    .replace(/\.\d+Z$/, '')
    .replace(/Z$/, '');
}

function render(out: Output, runs: RunView[], withChunks: boolean): void {
  if (runs.length === 0) {
    out.data('no runs yet');
    return;
  }
  const header = [
    'started (UTC)',
    'table',
    'status',
    'read',
    'loaded',
    'size',
    'plan',
    'extract',
    'load',
    'commit',
    'total',
  ];
  const rows = [header];
  for (const r of runs) {
    rows.push([
      when(r.startedAt),
      r.table,
      r.status,
      formatCount(r.rowsExtracted),
      r.rowsLoaded === null ? '–' : formatCount(r.rowsLoaded),
      formatBytes(r.bytes),
      step(r.steps.plan),
      step(r.steps.extract),
      step(r.steps.load),
      step(r.steps.commit),
      r.finishedAt === null ? 'running' : duration(r.durationMs),
    ]);
  }
  const lines = textTable(rows, [
    'left',
    'left',
    'left',
    'right',
    'right',
    'right',
    'right',
    'right',
    'right',
    'right',
    'right',
  ]);
  out.data(lines[0]);
  for (const [i, r] of runs.entries()) {
    out.data(lines[i + 1]);
    const c = r.chunkStats;
    const spread =
      c.timed > 0
        ? `, extract ${duration(c.minMs)}–${duration(c.maxMs)} per chunk (median ${duration(c.medianMs)})`
        : '';
    out.data(
      `  run ${r.runId}${r.kind && r.kind !== 'sync' ? ` (${r.kind})` : ''}: ${c.count} chunk${c.count === 1 ? '' : 's'}${spread}`,
    );
    if (withChunks && r.chunks) {
      const chunkRows = [['chunk', 'rows', 'size', 'extract']];
      for (const ch of r.chunks) {
        chunkRows.push([String(ch.index), formatCount(ch.rows), formatBytes(ch.bytes), duration(ch.durationMs)]);
      }
      for (const l of textTable(chunkRows, ['right', 'right', 'right', 'right'])) out.data(`    ${l}`);
    }
    if (r.error) out.data(`  error: ${r.error}`);
  }
}

export function runsCommand(global: () => GlobalOptions): Command {
  return new Command('runs')
    .description('run history from the ledger: outcome, rows, bytes and how long each step and chunk took')
    .option('-t, --table <schema.table>', 'only this table (repeat for several)', collect)
    .option('-p, --pipeline <name>', 'only this pipeline (default: every pipeline; with -t, `default`)')
    .option('--last <n>', 'the newest N runs', positiveInt('--last'), 20)
    .option('--chunks', "list each run's chunks with their rows, size and extract time")
    .option('--json', 'print as JSON: {"runs": [...]}, newest first (fields in docs/runbook.md)')
    .addHelpText(
      'after',
      `
Steps: plan, extract (first chunk's start to last chunk's end), load, commit; total is from the start of plan to the
end of the run. A dash is a step that did not run, or a run recorded before step times were kept. Without -t every
table of the pipeline's YAML and every table it has a watermark for is shown. Nothing is written.
Examples:
  highwater runs
  highwater runs -t shop.orders --last 5
  highwater runs -p sales --chunks --json`,
    )
    .action(async (o: RunsOptions) =>
      withContext(global(), o.json, async ({ out, config, runtime }) => {
        const { historyTables, readRunHistory } = await import('../../../lambdas/local/engine/run-history.js');
        // -t names a table of one pipeline (-p, else `default`, as everywhere); without it every pipeline is read.
        const names = o.pipeline ? [o.pipeline] : o.table?.length ? ['default'] : config.pipelines;
        const tables = [];
        for (const name of names) {
          const p: PipelineConfig = runtime.pipeline(name);
          // A local state file that does not exist yet holds no runs: it is not created by looking.
          if (p.state.type === 'local' && !existsSync(resolve(config.home, p.state.path))) continue;
          const watermarks = await (await runtime.state(p)).listWatermarks();
          tables.push(...historyTables(p, watermarks, o.table ?? []));
        }
        const runs = await readRunHistory((p) => runtime.state(p), tables, {
          last: o.last,
          withChunks: Boolean(o.chunks),
        });
        if (out.opts.json) out.json({ runs });
        else render(out, runs, Boolean(o.chunks));
      }),
    );
}
