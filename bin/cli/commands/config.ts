/**
 * `highwater config setup|reset|status|list-pipelines|show-pipeline|validate-pipeline`: switch between the two
 * configuration modes of the migration guide, and inspect and check what is configured.
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { Command } from 'commander';
import { stringify } from 'yaml';
import type { TableSchema } from '../../../lambdas/domain/model.js';
import { resolveConnectionsFile } from '../../../lambdas/engine/config/connections-file.js';
import { forcedBy } from '../../../lambdas/engine/config/detect-mode.js';
import {
  configEnv,
  type Env,
  getPipeline,
  type LoadedConfig,
  loadConfig,
  modeBanner,
  type PipelineConfig,
  requireSource,
} from '../../../lambdas/engine/config/index.js';
import {
  formatProblem,
  liveTableProblems,
  type PipelineProblem,
  staticPipelineProblems,
} from '../../../lambdas/engine/config/pipeline-checks.js';
import { pipelineView } from '../../../lambdas/engine/config/pipeline-view.js';
import { planSetup } from '../../../lambdas/engine/config/setup.js';
import { ConfigError, ConnectionError, DataError, HighwaterError } from '../../../lambdas/errors.js';
import type { SourceReader } from '../../../lambdas/ports/index.js';
import { type GlobalOptions, openContext, outputFor } from '../context.js';
import { ExitError } from '../exit.js';
import { table } from '../output.js';

function show(path: string): string {
  const r = relative(process.cwd(), path);
  return r !== '' && !r.startsWith('..') && !isAbsolute(r) ? r : path;
}

/**
 * Where the config directory is and the environment, even when the configuration does not load (setup and reset
 * are how a user fixes that, e.g. ENABLE_MULTI_SCHEMA=true without a connections.yml).
 */
async function locate(g: GlobalOptions): Promise<{ configDir: string; env: Env; loaded?: LoadedConfig }> {
  try {
    const loaded = await loadConfig({ cwd: process.cwd(), configDir: g.configDir, home: g.home, env: process.env });
    return { configDir: loaded.configDir, env: configEnv(loaded), loaded };
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    const env: Env = Object.fromEntries(Object.entries(process.env).filter(([, v]) => v !== undefined)) as Env;
    return { configDir: resolve(process.cwd(), g.configDir ?? env.HIGHWATER_CONFIG_DIR ?? 'config'), env };
  }
}

/** The directory holding the shipped examples (pipelines/connections.yml), found upwards from this file. */
async function examplesDir(): Promise<string> {
  let dir = import.meta.dirname;
  for (;;) {
    if (existsSync(join(dir, 'pipelines', 'connections.yml'))) return join(dir, 'pipelines');
    const up = dirname(dir);
    if (up === dir) throw new ConfigError('cannot find the example configuration (pipelines/connections.yml)');
    dir = up;
  }
}

function stamp(now = new Date()): string {
  return now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
}

async function confirm(question: string, what: string): Promise<boolean> {
  if (!process.stdin.isTTY) throw new ConfigError(`${what} needs --yes when not run from a terminal`);
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  const answer = await rl.question(`${question} [y/N] `);
  rl.close();
  return /^y(es)?$/i.test(answer.trim());
}

/** The reload after setup/reset: the mode lines, or why the configuration does not load now. */
async function modeNow(g: GlobalOptions): Promise<{ lines: string[]; mode?: string }> {
  try {
    const cfg = await loadConfig({ cwd: process.cwd(), configDir: g.configDir, home: g.home, env: process.env });
    return { lines: modeBanner(cfg), mode: cfg.mode };
  } catch (e) {
    if (!(e instanceof HighwaterError)) throw e;
    return { lines: [`the configuration does not load now: ${e.message}`] };
  }
}

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
        if (!(e instanceof DataError)) throw e;
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

export function configCommand(global: () => GlobalOptions): Command {
  const cmd = new Command('config').description('set up, inspect and check the configuration (both modes)').addHelpText(
    'after',
    `
Examples:
  highwater config setup                     # switch to multi-connection mode (writes config/)
  highwater config status
  highwater config validate-pipeline default
  highwater config reset --yes               # back to single-connection mode`,
  );

  cmd
    .command('setup')
    .description(
      'write a starting config directory (connections.yml, pipelines/*.yml) from the examples; switches to multi-connection mode',
    )
    .option('--force', 'overwrite existing files, pipelines too (each is kept as FILE.bak-<timestamp> first)')
    .option('--json', 'print as JSON')
    .addHelpText(
      'after',
      `
The default source is filled in from MYSQL_HOST, MYSQL_PORT, MYSQL_USER, MYSQL_DATABASE (and the password as a
\${MYSQL_PASSWORD} reference, never its value) when they are set, so the default pipeline keeps syncing the same
tables with the same watermarks. JSON Schemas are written next to the files for editors. An existing
connections.yml is never overwritten without --force; existing pipeline files are kept as they are (so setup after
\`rm config/connections.yml\` brings multi-connection mode back with your pipelines).
Examples:
  highwater config setup
  highwater --config-dir /etc/highwater config setup --force`,
    )
    .action(async (o: { force?: boolean; json?: boolean }) => {
      const g = global();
      const out = outputFor(g, o.json);
      const { configDir, env } = await locate(g);
      const dir = await examplesDir();
      const names = (await readdir(join(dir, 'pipelines'))).filter((f) => f.endsWith('.yml')).sort();
      const pipelines: Record<string, string> = {};
      for (const n of names) pipelines[n] = await readFile(join(dir, 'pipelines', n), 'utf8');
      const plan = planSetup({ connections: await readFile(join(dir, 'connections.yml'), 'utf8'), pipelines }, env);
      const connectionsFile = join(configDir, 'connections.yml');
      if (existsSync(connectionsFile) && !o.force) {
        throw new ConfigError(
          `${show(connectionsFile)} already exists; config setup does not overwrite configuration`,
          {
            suggestion: 'Edit the file, or run config setup --force (the old files are kept as FILE.bak-<timestamp>).',
          },
        );
      }
      const ts = stamp();
      const written: string[] = [];
      const backups: string[] = [];
      const kept: string[] = [];
      for (const f of plan.files) {
        const path = join(configDir, f.path);
        await mkdir(dirname(path), { recursive: true });
        if (!f.generated && existsSync(path) && !o.force) {
          // A pipeline the user already has (setup after `rm config/connections.yml`): theirs wins.
          kept.push(show(path));
          continue;
        }
        if (!f.generated && existsSync(path)) {
          await rename(path, `${path}.bak-${ts}`);
          backups.push(show(`${path}.bak-${ts}`));
        }
        await writeFile(path, f.content, { mode: 0o644 });
        written.push(show(path));
      }
      const now = await modeNow(g);
      if (out.opts.json) {
        out.json({
          configDir,
          written,
          backups,
          kept,
          prefilledFrom: plan.prefilledFrom ?? [],
          mode: now.mode ?? null,
        });
        return;
      }
      for (const b of backups) out.data(`kept the old file as ${b}`);
      for (const w of written) out.data(`wrote ${w}`);
      for (const k of kept) out.data(`kept ${k} (it exists; --force replaces it)`);
      if (plan.prefilledFrom) {
        out.data(`the default source and pipeline use your environment: ${plan.prefilledFrom.join(', ')}`);
      } else {
        out.data('MYSQL_HOST is not set, so the example connections are placeholders: edit them');
      }
      out.data('');
      for (const l of now.lines) out.data(l);
      out.data('');
      out.data('Next:');
      out.data(`  edit ${show(join(configDir, 'connections.yml'))} and ${show(join(configDir, 'pipelines'))}/*.yml`);
      out.data('  highwater config status');
      out.data('  highwater config validate-pipeline default');
      out.data('  highwater sync -t schema.table --dry-run');
      out.data(`To go back to single-connection mode: highwater config reset`);
    });

  cmd
    .command('reset')
    .description('go back to single-connection mode: connections.yml is moved aside to connections.yml.bak-<timestamp>')
    .option('--pipelines', 'also move the pipelines directory aside (pipelines.bak-<timestamp>)')
    .option('-y, --yes', 'do not ask for confirmation on a terminal')
    .option('--json', 'print as JSON')
    .addHelpText(
      'after',
      `
Nothing is deleted. Pipelines are left alone unless --pipelines is given (they are only read in multi-connection
mode). Undo by renaming the .bak file back to connections.yml. On a terminal it asks first (unless --yes); in a
script it goes ahead, as the migration guide's \`config reset\` does.
Example:
  highwater config reset --yes`,
    )
    .action(async (o: { pipelines?: boolean; yes?: boolean; json?: boolean }) => {
      const g = global();
      const out = outputFor(g, o.json);
      const { configDir, env } = await locate(g);
      const file = join(configDir, 'connections.yml');
      const pdir = join(configDir, 'pipelines');
      const moveFile = existsSync(file);
      const moveDir = Boolean(o.pipelines) && existsSync(pdir);
      if (!moveFile && !moveDir) {
        if (out.opts.json) out.json({ moved: [], mode: (await modeNow(g)).mode ?? null });
        else out.data(`${show(file)} does not exist: nothing to reset (single-connection mode)`);
        return;
      }
      // Moving aside loses nothing, so only a person at a terminal is asked.
      if (!o.yes && process.stdin.isTTY) {
        const what = [moveFile ? show(file) : '', moveDir ? show(pdir) : ''].filter(Boolean).join(' and ');
        if (!(await confirm(`Move ${what} aside and go back to single-connection mode?`, 'config reset'))) {
          out.info('left unchanged');
          return;
        }
      }
      const ts = stamp();
      const moved: { from: string; to: string }[] = [];
      if (moveFile) {
        await rename(file, `${file}.bak-${ts}`);
        moved.push({ from: show(file), to: show(`${file}.bak-${ts}`) });
      }
      if (moveDir) {
        await rename(pdir, `${pdir}.bak-${ts}`);
        moved.push({ from: show(pdir), to: show(`${pdir}.bak-${ts}`) });
      }
      const forced = forcedBy(env);
      const now = await modeNow(g);
      if (out.opts.json) {
        out.json({ moved, mode: now.mode ?? null, forcedBy: forced ?? null });
        return;
      }
      for (const m of moved) out.data(`moved ${m.from} to ${m.to}`);
      if (!moveDir && existsSync(pdir)) {
        out.info(`left ${show(pdir)} alone (it is read only in multi-connection mode; --pipelines moves it aside)`);
      }
      if (forced) out.warn(`${forced} still forces multi-connection mode; unset it to use single-connection mode`);
      for (const l of now.lines) out.data(l);
    });

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
      for (const l of table(rows)) out.data(l);
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

  return cmd;
}
