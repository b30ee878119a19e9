/** `highwater watermark-count validate-counts`: source rows vs warehouse rows, with the run ledger alongside. */
import { Command } from 'commander';
import { getTableConfig } from '../../../lambdas/engine/config/index.js';
import { DataError } from '../../../lambdas/errors.js';
import type { CountReport } from '../../../lambdas/local/engine/counts.js';
import { type GlobalOptions, openContext } from '../context.js';
import { type Output, table } from '../output.js';

function print(out: Output, r: CountReport): void {
  const rows: string[][] = [['count', 'rows']];
  if (r.source.upToWatermark !== null) {
    rows.push(['source up to the watermark', String(r.source.upToWatermark)]);
    rows.push(['source after the watermark (not yet synced)', String(r.source.notYetSynced)]);
    rows.push(['source total', String(r.source.total)]);
  } else {
    rows.push(['source', String(r.source.total)]);
  }
  rows.push([`warehouse ${r.target.schema}.${r.target.name}`, String(r.warehouse)]);
  rows.push([`ledger: rows loaded by ${r.ledger.committedRuns} committed run(s)`, String(r.ledger.rowsLoaded)]);
  rows.push(['ledger: rows extracted by those runs', String(r.ledger.rowsExtracted)]);
  out.data(`table      ${r.table}  (${r.strategy})`);
  if (r.cursor) {
    out.data(`watermark  ${r.watermark ? `timestamp ${r.watermark.ts ?? '-'}, id ${r.watermark.id ?? '-'}` : 'none'}`);
  }
  for (const l of table(rows, true)) out.data(`  ${l}`);
  for (const n of r.notes) out.data(`note: ${n}`);
  const what = r.source.upToWatermark !== null ? 'source up to the watermark' : 'source';
  const delta = (n: number) => `${n > 0 ? '+' : ''}${n}`;
  switch (r.verdict) {
    case 'equal':
      out.data(`verdict: OK — ${what} and warehouse both have ${r.warehouse} rows`);
      break;
    case 'within':
      out.data(
        `verdict: OK — the warehouse has ${r.warehouse} rows: all ${r.compared} of the ${what}, and ${r.warehouse - r.compared} more the next run settles (rows changed since the last run, still at their older version); the source has ${r.source.total} in all`,
      );
      break;
    case 'missing':
      out.data(
        `verdict: MISMATCH — ${what} has ${r.compared} rows, the warehouse ${r.warehouse} (${delta(r.warehouse - r.compared)}): rows are missing from the warehouse`,
      );
      break;
    case 'extra':
      out.data(
        `verdict: MISMATCH — the whole source has ${r.source.total} rows, the warehouse ${r.warehouse} (${delta(r.warehouse - r.source.total)}): the warehouse holds rows the source no longer has (deleted at the source, or duplicated)`,
      );
      break;
  }
}

export function watermarkCountCommand(global: () => GlobalOptions): Command {
  const cmd = new Command('watermark-count').description('check row counts of synced tables');

  cmd
    .command('validate-counts')
    .description("compare a table's source row count with its warehouse row count (and the run ledger)")
    .requiredOption('-t, --table <schema.table>', 'table')
    .option('-p, --pipeline <name>', 'pipeline', 'default')
    .option('--json', 'print as JSON')
    .addHelpText(
      'after',
      `
The contract is source == warehouse (exit 0); a difference exits 4. For strategies with a cursor the source is
counted up to the committed watermark: newer rows wait for the next run and are shown separately, not as a loss.
The ledger sums rows per committed run; rows updated between runs are loaded again and merged, so it can exceed
the warehouse without anything being wrong.
Example:
  highwater watermark-count validate-counts -t shop.orders`,
    )
    .action(async (o: { table: string; pipeline: string; json?: boolean }) => {
      const { runtime: rt, out } = await openContext({ ...global(), json: o.json || global().json });
      let report: CountReport;
      try {
        const p = rt.pipeline(o.pipeline);
        const tc = getTableConfig(p, o.table);
        const source = await rt.openSource(p);
        try {
          const { validateCounts } = await import('../../../lambdas/local/engine/counts.js');
          report = await validateCounts({ source, state: await rt.state(p), warehouse: await rt.warehouse(p) }, p, tc);
        } finally {
          await source.close();
        }
      } finally {
        await rt.close();
      }
      if (out.opts.json) out.json(report);
      else print(out, report);
      const target = `${report.target.schema}.${report.target.name}`;
      if (report.verdict === 'missing') {
        throw new DataError(
          `${report.table}: the ${report.source.upToWatermark !== null ? 'source up to the watermark' : 'source'} has ${report.compared} rows, the warehouse ${target} has ${report.warehouse}`,
          { suggestion: `\`highwater resync -t ${report.table}\` rebuilds the table from the source.` },
        );
      }
      if (report.verdict === 'extra') {
        throw new DataError(
          `${report.table}: the whole source has ${report.source.total} rows, the warehouse ${target} has ${report.warehouse}: rows deleted at the source stay in the warehouse`,
          { suggestion: `\`highwater resync -t ${report.table}\` rebuilds the table from the source.` },
        );
      }
    });
  return cmd;
}
