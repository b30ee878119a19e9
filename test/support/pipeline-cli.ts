/**
 * The spawned CLI on the harness's multi-connection config (config dir, home, pipeline `test`), for tests that
 * drive one table at a time: configure its YAML entry, run `sync`/`resync` with a JSON report, read its watermark.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { TableReport } from '../../lambdas/domain/manifests.js';
import { type CliResult, runCli } from './cli.js';
import type { Harness } from './harness.js';

export interface Run extends CliResult {
  /** The table's entry of the run report (`--json-output`). */
  table: TableReport;
  /** The `warning:` lines of the text report. */
  warnings: string[];
}

export interface PipelineCli {
  hw(...args: string[]): CliResult;
  /** `schema.table` in the harness's database. */
  fq(table: string): string;
  /** Adds (or replaces) a table's entry in the test pipeline; `body` is its YAML keys, one per line. */
  configure(table: string, body?: string): void;
  /** `highwater sync` (or `resync`) of one table: exit code, text report and the JSON report together. */
  run(command: 'sync' | 'resync', table: string, ...extra: string[]): Run;
  /** A sync that must succeed: exit 0 and no error in the report. */
  syncOk(table: string, ...extra: string[]): Run;
  watermarkOf(table: string): unknown;
}

export function pipelineCli(h: () => Harness): PipelineCli {
  const entries = new Map<string, string>();
  let reports = 0;
  const cli: PipelineCli = {
    hw: (...args) => runCli(['--config-dir', h().configDir, '--home', h().home, ...args], { cwd: h().dir }),
    fq: (table) => `${h().db.database}.${table}`,
    configure(table, body = 'cdc_strategy: hybrid') {
      const lines = body
        .split('\n')
        .map((l) => `    ${l}`)
        .join('\n');
      entries.set(table, `  ${cli.fq(table)}:\n${lines}`);
      h().writePipeline([...entries.values()].join('\n'));
    },
    run(command, table, ...extra) {
      const file = join(h().dir, `report-${++reports}.json`);
      const r = cli.hw(command, '-p', 'test', '-t', cli.fq(table), '--json-output', file, ...extra);
      if (!existsSync(file))
        throw new Error(`${command} ${table} wrote no report (exit ${r.code}):\n${r.out}\n${r.err}`);
      const report = JSON.parse(readFileSync(file, 'utf8')) as { tables: TableReport[] };
      const warnings = r.out
        .split('\n')
        .filter((l) => l.startsWith('  warning: '))
        .map((l) => l.slice('  warning: '.length));
      return { ...r, table: report.tables[0]!, warnings };
    },
    syncOk(table, ...extra) {
      const r = cli.run('sync', table, ...extra);
      expect(r.table.error, r.out + r.err).toBeNull();
      expect(r.code, r.out + r.err).toBe(0);
      return r;
    },
    watermarkOf(table) {
      const r = cli.hw('watermark', 'get', '-p', 'test', '-t', cli.fq(table), '--json');
      expect(r.code, r.err).toBe(0);
      return JSON.parse(r.out).watermark;
    },
  };
  return cli;
}
