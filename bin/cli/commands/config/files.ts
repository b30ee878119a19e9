/**
 * `highwater config setup|reset|status|list-pipelines|show-pipeline|validate-pipeline`: switch between the two
 * configuration modes of the migration guide, and inspect and check what is configured.
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { forcedBy } from '../../../../lambdas/engine/config/detect-mode.js';
import {
  configEnv,
  type Env,
  type LoadedConfig,
  loadConfig,
  modeBanner,
} from '../../../../lambdas/engine/config/index.js';
import { ConfigError, HighwaterError } from '../../../../lambdas/errors.js';
import { confirmed } from '../../confirm.js';
import { type GlobalOptions, outputFor } from '../../context.js';
import { show } from './show-path.js';

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

// ── validate-pipeline ──────────────────────────────────────────────────────────────────────────────────────────

/** `config setup` and `config reset`: write a starting config directory, or move it aside. */
export function addFileCommands(cmd: Command, global: () => GlobalOptions): void {
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
      const { planSetup } = await import('../../../../lambdas/engine/config/setup.js');
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
      // Moving aside loses nothing (the .bak stays), so without a terminal it goes ahead unasked.
      const what = [moveFile ? show(file) : '', moveDir ? show(pdir) : ''].filter(Boolean).join(' and ');
      const go = await confirmed({
        yes: o.yes,
        question: `Move ${what} aside and go back to single-connection mode?`,
        command: 'config reset',
        unattended: 'proceed',
      });
      if (!go) {
        out.info('left unchanged');
        return;
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
}
