/**
 * `highwater config setup|reset|status|list-pipelines|show-pipeline|validate-pipeline`: switch between the two
 * configuration modes of the migration guide, and inspect and check what is configured.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import type { TableSchema } from '../../../../lambdas/domain/model.js';
import { resolveConnectionsFile } from '../../../../lambdas/engine/config/connections-file.js';
import {
  configEnv,
  getPipeline,
  type LoadedConfig,
  type PipelineConfig,
  requireSource,
} from '../../../../lambdas/engine/config/index.js';
import {
  formatProblem,
  liveTableProblems,
  type PipelineProblem,
  staticPipelineProblems,
} from '../../../../lambdas/engine/config/pipeline-checks.js';
import { pipelineView } from '../../../../lambdas/engine/config/pipeline-view.js';
import { ConfigError, ConnectionError, DataError, HighwaterError } from '../../../../lambdas/errors.js';
import type { SourceReader } from '../../../../lambdas/ports/index.js';
import { type GlobalOptions, openContext } from '../../context.js';
import { ExitError } from '../../exit.js';
import { table } from '../../output.js';
import { show } from './show-path.js';

// ── files: the state of connections.yml and each pipeline file ────────────────────────────────────────────────

interface FileCheck {
  connectionsFile: { path: string; exists: boolean; error?: string };
  pipelines: { name: string; file: string; valid: boolean; error?: string }[];
}

async function checkFiles(cfg: LoadedConfig): Promise<FileCheck> {
  const file = join(cfg.configDir, 'connections.yml');
  const exists = existsSync(file);
  const check: FileCheck = { connectionsFile: { path: show(file), exists }, pipelines: [] };
  // In single mode a connections.yml that exists was either ignored because it is broken, or defines only defaults.
  if (exists && cfg.mode === 'single') {
    try {
      resolveConnectionsFile(await readFile(file, 'utf8'), show(file), configEnv(cfg), cfg.home);
    } catch (e) {
      if (!(e instanceof HighwaterError)) throw e;
      check.connectionsFile.error = e.message;
    }
  }
  for (const name of cfg.pipelines) {
    try {
      const p = getPipeline(cfg, name);
      check.pipelines.push({ name, file: p.origin, valid: true });
    } catch (e) {
      if (!(e instanceof HighwaterError)) throw e;
      const guess = join(cfg.configDir, 'pipelines', `${name}.yml`);
      check.pipelines.push({ name, file: show(guess), valid: false, error: e.message });
    }
  }
  return check;
}

// ── validate-pipeline ──────────────────────────────────────────────────────────────────────────────────────────

interface LiveResult {
  checked: boolean;
  skipped?: string;
  tables: { table: string; strategy: string; ok: boolean }[];
}

async function liveChecks(
  p: PipelineConfig,
  open: () => Promise<SourceReader>,
  redact: (text: string) => string,
  problems: PipelineProblem[],
): Promise<LiveResult> {
  const result: LiveResult = { checked: false, tables: [] };
  try {
    requireSource(p);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    result.skipped = e.message;
    return result;
  }
  let source: SourceReader | undefined;
  try {
    source = await open();
    await source.query('SELECT 1 AS ok');
  } catch (e) {
    await source?.close().catch(() => undefined);
    // Unreachable, or a secret that is not available here: the static checks still stand.
    if (e instanceof ConnectionError || e instanceof ConfigError) {
      const why = e instanceof ConnectionError ? 'is unreachable' : 'cannot be connected to from here';
      result.skipped = `source ${p.source.name} (${p.source.host}:${p.source.port}) ${why}: ${redact(e.message)}`;
      return result;
    }
    throw e;
  }
  try {
    for (const t of p.tables) {
      let schema: TableSchema;
      try {
        schema = await source.describeTable(t.sourceSchema, t.sourceTable);
      } catch (e) {
        if (!(e instanceof DataError || e instanceof ConfigError)) throw e;
        problems.push({ severity: 'error', pipeline: p.name, table: t.name, message: e.message });
        result.tables.push({ table: t.name, strategy: t.strategy, ok: false });
        continue;
      }
      const found = liveTableProblems(p, t, schema);
      problems.push(...found);
      result.tables.push({ table: t.name, strategy: t.strategy, ok: !found.some((f) => f.severity === 'error') });
    }
    result.checked = true;
  } finally {
    await source.close();
  }
  return result;
}

/** `config status`, `list-pipelines`, `show-pipeline`, `validate-pipeline`: what the configuration says. */
export function addInspectCommands(cmd: Command, global: () => GlobalOptions): void {
  cmd
    .command('status')
    .description('the mode and why, where the configuration is, its connections and pipelines, and whether it loads')
    .option('--json', 'print as JSON')
    .addHelpText('after', '\nExample:\n  highwater config status --json')
    .action(async (o: { json?: boolean }) => {
      const g = global();
      const { out, config: cfg } = await openContext({ ...g, json: o.json || g.json });
      const files = await checkFiles(cfg);
      const warnings = 'warnings' in cfg && Array.isArray(cfg.warnings) ? (cfg.warnings as string[]) : [];
      const valid = files.connectionsFile.error === undefined && files.pipelines.every((p) => p.valid);
      if (out.opts.json) {
        out.json({
          mode: cfg.mode,
          reason: cfg.reason,
          configDir: cfg.configDir,
          home: cfg.home,
          sources: Object.keys(cfg.sources),
          targets: Object.keys(cfg.targets),
          connectionsFile: files.connectionsFile,
          pipelines: files.pipelines,
          valid,
          warnings,
        });
        return;
      }
      const sources = Object.keys(cfg.sources);
      const targets = Object.keys(cfg.targets);
      const rows = [
        ['mode', cfg.mode === 'single' ? 'single-connection (v1.0.0 compatibility)' : 'multi-connection'],
        ['why', cfg.reason],
        ['config dir', `${cfg.configDir}${files.connectionsFile.exists ? '' : ' (no connections.yml)'}`],
        ['home', cfg.home],
        [
          'connections',
          `${sources.length} source${sources.length === 1 ? '' : 's'} (${sources.join(', ')}), ${targets.length} target${targets.length === 1 ? '' : 's'} (${targets.join(', ')})`,
        ],
        ['pipelines', files.pipelines.map((p) => (p.valid ? p.name : `${p.name} (invalid)`)).join(', ')],
        ['files', valid ? 'valid' : 'INVALID (see below)'],
      ];
      for (const l of table(rows)) out.data(l);
      if (files.connectionsFile.error) out.data(`  ${files.connectionsFile.path}: ${files.connectionsFile.error}`);
      for (const p of files.pipelines) if (p.error) out.data(`  pipeline ${p.name}: ${p.error}`);
      for (const w of warnings) out.warn(w);
    });

  cmd
    .command('list-pipelines')
    .description('every pipeline: source → target, tables, schedule and file')
    .option('--json', 'print as JSON')
    .addHelpText('after', '\nExample:\n  highwater config list-pipelines')
    .action(async (o: { json?: boolean }) => {
      const g = global();
      const { out, config: cfg } = await openContext({ ...g, json: o.json || g.json });
      const list: Record<string, unknown>[] = [];
      for (const name of cfg.pipelines) {
        try {
          const p = getPipeline(cfg, name);
          list.push({
            name,
            source: p.source.name,
            target: p.target.name,
            tables: p.tables.length,
            schedule: p.schedule ?? null,
            file: p.origin,
            valid: true,
          });
        } catch (e) {
          if (!(e instanceof HighwaterError)) throw e;
          list.push({ name, valid: false, error: e.message });
        }
      }
      if (out.opts.json) {
        out.json(list);
        return;
      }
      const rows = [['pipeline', 'source → target', 'tables', 'schedule', 'file']];
      for (const p of list) {
        if (p.valid) {
          rows.push([
            String(p.name),
            `${String(p.source)} → ${String(p.target)}`,
            String(p.tables),
            p.schedule === null ? '-' : String(p.schedule),
            String(p.file),
          ]);
        } else {
          rows.push([String(p.name), 'INVALID', '-', '-', '-']);
        }
      }
      for (const l of table(rows, true)) out.data(l);
      for (const p of list) if (!p.valid) out.error(`pipeline ${String(p.name)}: ${String(p.error)}`);
    });

  cmd
    .command('show-pipeline')
    .description('the resolved pipeline: every table with its strategy and columns, processing, staging, state')
    .argument('<pipeline>', 'pipeline name')
    .option('--json', 'print as JSON')
    .addHelpText(
      'after',
      '\nSecrets are never printed: a literal is ***, a reference is shown as written.\nExample:\n  highwater config show-pipeline sales',
    )
    .action(async (name: string, o: { json?: boolean }) => {
      const g = global();
      const { out, config: cfg } = await openContext({ ...g, json: o.json || g.json });
      const p = getPipeline(cfg, name);
      const view = pipelineView(p);
      if (out.opts.json) {
        out.json(view);
        return;
      }
      // Imported here, not at the top: every command's start loads this module (commander registers them all).
      const { stringify } = await import('yaml');
      out.data(stringify(view, { lineWidth: 0 }).trimEnd());
      if (p.tables.length === 0 && name === 'default') {
        out.data('# tables named with sync -t are registered on the fly with the default table config');
      }
    });

  cmd
    .command('validate-pipeline')
    .description(
      'check a pipeline: its files, connection references and, when the source is reachable, every table against it',
    )
    .argument('<pipeline>', 'pipeline name')
    .option('--require-source', 'exit 2 when the source cannot be reached (default: warn and skip the live checks)')
    .option('--json', 'print as JSON')
    .addHelpText(
      'after',
      `
Live checks: the table exists; cdc_timestamp_column / cdc_id_column exist with types the strategy can use; a primary
key exists (or primary_key is set); distkey/sortkey columns exist. Exit 1 when invalid, 0 when valid.
Examples:
  highwater config validate-pipeline sales
  highwater config validate-pipeline default --require-source --json`,
    )
    .action(async (name: string, o: { requireSource?: boolean; json?: boolean }) => {
      const g = global();
      const { out, config: cfg, runtime } = await openContext({ ...g, json: o.json || g.json });
      try {
        const problems: PipelineProblem[] = [];
        const files = await checkFiles(cfg);
        if (files.connectionsFile.error) {
          problems.push({ severity: 'error', pipeline: name, message: files.connectionsFile.error });
        }
        let p: PipelineConfig | undefined;
        if (!cfg.pipelines.includes(name)) getPipeline(cfg, name); // unknown: a ConfigError naming the known ones
        try {
          p = getPipeline(cfg, name);
        } catch (e) {
          if (!(e instanceof ConfigError)) throw e;
          problems.push({ severity: 'error', pipeline: name, message: e.message });
        }
        let live: LiveResult = { checked: false, tables: [] };
        if (p) {
          problems.push(...staticPipelineProblems(p));
          const pipeline = p;
          live = await liveChecks(
            pipeline,
            () => runtime.openSource(pipeline),
            (x) => runtime.redact(x),
            problems,
          );
        }
        const errors = problems.filter((x) => x.severity === 'error');
        const valid = errors.length === 0;
        if (out.opts.json) {
          out.json({
            pipeline: name,
            file: p?.origin ?? null,
            valid,
            liveChecks: live.checked ? 'done' : 'skipped',
            skippedReason: live.skipped ?? null,
            tables: live.tables,
            problems,
          });
        } else {
          if (p) {
            out.data(
              `pipeline ${p.name} (${p.origin}): ${p.source.name} → ${p.target.name}, ${p.tables.length} table${p.tables.length === 1 ? '' : 's'}`,
            );
            out.data('  files and connection references: ok');
            for (const t of live.tables) out.data(`  ${t.ok ? 'ok' : 'FAILED'}  ${t.table} (${t.strategy})`);
            if (p.tables.length === 0) out.data('  no tables listed (tables named with sync -t use the defaults)');
          }
          for (const x of problems) out.data(formatProblem(x));
          if (live.skipped) out.warn(`live checks against the source were skipped: ${live.skipped}`);
          out.data(
            valid
              ? `pipeline ${name} is valid`
              : `pipeline ${name} is INVALID (${errors.length} error${errors.length === 1 ? '' : 's'})`,
          );
        }
        if (!valid) throw new ExitError(1);
        if (live.skipped && o.requireSource) {
          if (!out.opts.json) out.error('--require-source: the source could not be checked');
          throw new ExitError(2);
        }
      } finally {
        await runtime.close();
      }
    });
}
