/** `highwater report`: one self-contained HTML page of the ledger's history, with charts, for every table. */
import { existsSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Command } from 'commander';
import { ConfigError, describeError } from '../../../lambdas/errors.js';
import type { HistoryTable } from '../../../lambdas/local/engine/run-history.js';
import { type GlobalOptions, withContext } from '../context.js';
import { collect, positiveInt } from '../options.js';
import { formatBytes } from '../text-table.js';

interface ReportOptions {
  output: string;
  pipeline?: string;
  table?: string[];
  runs: number;
}

export function reportCommand(global: () => GlobalOptions): Command {
  return new Command('report')
    .description('write one self-contained HTML page with charts of every table: lag, rows, step times, failures')
    .option('-o, --output <file>', 'where to write the page', 'report.html')
    .option('-p, --pipeline <name>', 'only this pipeline (default: every pipeline; with -t, `default`)')
    .option('-t, --table <schema.table>', 'only this table (repeat for several)', collect)
    .option('--runs <n>', 'the newest N runs of each table', positiveInt('--runs'), 100)
    .addHelpText(
      'after',
      `
Per table: its lag behind the source at each commit, rows per run, each run's time by step (plan, extract, load,
commit), its failed runs with their errors, and its last verification. Everything is read from the ledger; the page
holds its data and Chart.js inline and fetches nothing when it is opened (offline, attached to a mail, in CI).
Examples:
  highwater report
  highwater report -o /tmp/highwater.html -p sales --runs 30`,
    )
    .action(async (o: ReportOptions) =>
      withContext(global(), undefined, async ({ out, config, runtime }) => {
        const [{ historyTables }, { reportData }, { renderReportHtml }] = await Promise.all([
          import('../../../lambdas/local/engine/run-history.js'),
          import('../../../lambdas/local/engine/report/data.js'),
          import('../../../lambdas/local/engine/report/html.js'),
        ]);
        const names = o.pipeline ? [o.pipeline] : o.table?.length ? ['default'] : config.pipelines;
        const tables: HistoryTable[] = [];
        for (const name of names) {
          const p = runtime.pipeline(name);
          // A local state file that does not exist yet has nothing to report: it is not created by looking.
          if (p.state.type === 'local' && !existsSync(resolve(config.home, p.state.path))) continue;
          tables.push(...historyTables(p, await (await runtime.state(p)).listWatermarks(), o.table ?? []));
        }
        const data = await reportData((p) => runtime.state(p), tables, { runs: o.runs, home: config.home });
        const html = renderReportHtml(data);
        const target = resolve(o.output);
        try {
          writeFileSync(target, html);
        } catch (e) {
          throw new ConfigError(`cannot write the report to ${target}: ${describeError(e)}`, {
            suggestion: 'Give -o a file in a directory that exists and can be written.',
          });
        }
        out.info(`wrote ${target} (${formatBytes(Buffer.byteLength(html))}, ${data.tables.length} table(s))`);
        out.data(target);
      }),
    );
}
