/**
 * `highwater verify [-t T …] [-p P] [--json] [--repair]`: compare each table in the warehouse with the source by
 * range checksums computed in both databases (lambdas/engine/verify/), name every differing key, and with
 * --repair read those ranges again through the normal extract → load path and verify once more.
 */
import { Command } from 'commander';
import { z } from 'zod';
import type { PipelineConfig, TableConfig } from '../../../lambdas/domain/config.js';
import { MAX_REPAIR_DELETES, MAX_REPAIR_RANGES, type RunRequest } from '../../../lambdas/domain/manifests.js';
import { getTableConfig } from '../../../lambdas/engine/config/index.js';
import type { VerifyReport } from '../../../lambdas/engine/verify/verify-table.js';
import { ConfigError, DataError } from '../../../lambdas/errors.js';
import { processHeldRuns } from '../../../lambdas/local/orchestration/held-runs.js';
import type { Runtime } from '../../../lambdas/local/runtime.js';
import { type GlobalOptions, openContext } from '../context.js';
import { abortRunsOnSignal } from '../interrupt.js';
import { collect } from '../options.js';
import type { Output } from '../output.js';

const VerifyOptionsSchema = z.object({
  table: z.array(z.string()).default([]),
  pipeline: z.string().default('default'),
  json: z.boolean().default(false),
  repair: z.boolean().default(false),
});

const keyText = (k: readonly string[]) => (k.length === 1 ? k[0]! : `(${k.join(', ')})`);

function list(keys: readonly string[][], count: number): string {
  const shown = keys.slice(0, 10).map(keyText).join(', ');
  return count > 10 ? `${shown}, … (${count - 10} more)` : shown;
}

function print(out: Output, r: VerifyReport, label = ''): void {
  const took = `${(r.durationMs / 1000).toFixed(1)} s`;
  const work = `${r.rangesChecked} range${r.rangesChecked === 1 ? '' : 's'} checked, ${r.rowsFetched} rows fetched, ${took}`;
  const rows = `${r.rows.source} source rows, ${r.rows.warehouse} warehouse rows (${r.scope})`;
  out.data(`${r.table}${label}  ${r.equal ? 'equal' : 'DIFFERS'}: ${rows}; ${work}`);
  if (r.missing.count > 0)
    out.data(`  missing from the warehouse (${r.missing.count}): ${list(r.missing.keys, r.missing.count)}`);
  if (r.extra.count > 0) out.data(`  extra in the warehouse (${r.extra.count}): ${list(r.extra.keys, r.extra.count)}`);
  if (r.changed.count > 0) {
    out.data(`  changed (${r.changed.count}):`);
    for (const c of r.changed.rows.filter((x) => x.columns.length > 0).slice(0, 10)) {
      out.data(`    ${keyText(c.key)}: ${c.columns.join(', ')}`);
    }
    if (r.changed.count > 10) out.data(`    … (${r.changed.count - 10} more)`);
  }
  for (const n of r.notes) out.data(`  note: ${n}`);
}

async function verifyOne(
  rt: Runtime,
  p: PipelineConfig,
  table: TableConfig,
  afterRepair: boolean,
): Promise<VerifyReport> {
  const [{ verifyTable }, { verificationOf }] = await Promise.all([
    import('../../../lambdas/engine/verify/verify-table.js'),
    import('../../../lambdas/engine/verify/record.js'),
  ]);
  const source = await rt.openSource(p);
  try {
    const state = await rt.state(p);
    const report = await verifyTable({ source, state, warehouse: await rt.warehouse(p) }, p, table);
    await state.recordVerification(report.tableKey, verificationOf(report, new Date(), afterRepair));
    return report;
  } finally {
    await source.close();
  }
}

/** The run request that repairs what `report` found, or why it cannot be one. */
function repairRequest(p: PipelineConfig, r: VerifyReport): RunRequest {
  if (r.key.length === 0) {
    throw new ConfigError(`${r.table}: without a primary key the differing rows cannot be named`, {
      suggestion: `\`highwater resync -t ${r.table}\` rebuilds the table.`,
    });
  }
  if (r.differingRanges.length > MAX_REPAIR_RANGES || r.extra.count > MAX_REPAIR_DELETES) {
    throw new ConfigError(
      `${r.table}: ${r.differingRanges.length} differing ranges and ${r.extra.count} extra rows are more than a repair carries (${MAX_REPAIR_RANGES} ranges, ${MAX_REPAIR_DELETES} rows)`,
      { suggestion: `\`highwater resync -t ${r.table}\` rebuilds the table.` },
    );
  }
  return {
    pipeline: p.name,
    tables: [r.table],
    options: {
      backupOnly: false,
      redshiftOnly: false,
      dryRun: false,
      resync: false,
      repair: { ranges: r.differingRanges, deleteKeys: r.extra.keys },
    },
  };
}

/** Runs the repair through the local state machine (a Ctrl-C ends it as any run's), failing on a failed run. */
async function repair(rt: Runtime, out: Output, request: RunRequest): Promise<void> {
  const held = processHeldRuns;
  const stop = abortRunsOnSignal({ held, write: (line) => process.stderr.write(`${line}\n`) });
  try {
    const { runLocal } = await import('../../../lambdas/local/orchestration/local-runner.js');
    const report = await runLocal(rt, request, { heldRuns: held });
    if (held.interrupted !== null) await new Promise<never>(() => undefined);
    for (const t of report.tables) {
      if (t.status === 'failed') throw new DataError(`${t.table}: the repair failed: ${t.error}`);
      out.info(`${t.table}: repaired ${t.rowsLoaded} row(s) in ${t.files} file(s)`);
      for (const w of t.warnings) out.info(`  ${w}`);
    }
  } finally {
    stop();
  }
}

export function verifyCommand(global: () => GlobalOptions): Command {
  return new Command('verify')
    .description('compare tables in the warehouse with the source, cell by cell, by checksums both databases compute')
    .option(
      '-t, --table <schema.table>',
      'table to verify (repeat for several; default: every table of the pipeline)',
      collect,
    )
    .option('-p, --pipeline <name>', 'pipeline', 'default')
    .option('--json', 'print the reports as JSON')
    .option(
      '--repair',
      'read the differing rows again, merge them (and delete rows the source no longer has, where the table carries deletes), then verify again',
    )
    .addHelpText(
      'after',
      `
Compares the rows the committed watermark covers (the whole table for full_sync). Exit 0 when every table is
equal, 4 when anything differs (after --repair: when anything still differs).
Examples:
  highwater verify -t shop.orders
  highwater verify -p sales --json
  highwater verify -t shop.orders --repair`,
    )
    .action(async (raw: unknown) => {
      const o = VerifyOptionsSchema.parse(raw);
      const { runtime: rt, out } = await openContext({ ...global(), json: o.json || global().json });
      const reports: VerifyReport[] = [];
      try {
        const p = rt.pipeline(o.pipeline);
        const tables = o.table.length > 0 ? o.table.map((t) => getTableConfig(p, t)) : p.tables;
        if (tables.length === 0) throw new ConfigError(`pipeline ${p.name} has no tables to verify`);
        for (const table of tables) {
          let report = await verifyOne(rt, p, table, false);
          if (!report.equal && o.repair) {
            if (!out.opts.json) print(out, report);
            await repair(rt, out, repairRequest(p, report));
            report = await verifyOne(rt, p, table, true);
            if (!out.opts.json) print(out, report, ' (after repair)');
          } else if (!out.opts.json) {
            print(out, report);
          }
          reports.push(report);
        }
      } finally {
        await rt.close();
      }
      if (out.opts.json) out.json(reports);
      const differing = reports.filter((r) => !r.equal);
      if (differing.length > 0) {
        throw new DataError(`${differing.map((r) => r.table).join(', ')}: the warehouse differs from the source`, {
          suggestion: o.repair
            ? '`highwater resync -t TABLE` rebuilds a table from the source.'
            : '`highwater verify --repair` reads the differing rows again; `highwater resync` rebuilds a table.',
        });
      }
    });
}
