/** `highwater version`: the build, the Node runtime and platform, and which configuration mode is in effect. */
import { Command } from 'commander';
import { loadConfig } from '../../../lambdas/engine/config/index.js';
import { describeError } from '../../../lambdas/errors.js';
import { type GlobalOptions, outputFor } from '../context.js';
import { VERSION } from '../version.js';

export interface ConfigModeInfo {
  mode: 'single' | 'multi' | null;
  reason: string;
  configDir: string | null;
  home: string | null;
}

/** The configuration mode, or why the configuration could not be loaded (version must work even then). */
export async function configModeInfo(g: GlobalOptions): Promise<ConfigModeInfo> {
  try {
    const c = await loadConfig({ cwd: process.cwd(), configDir: g.configDir, home: g.home, env: process.env });
    return { mode: c.mode, reason: c.reason, configDir: c.configDir, home: c.home };
  } catch (e) {
    return {
      mode: null,
      reason: `the configuration could not be loaded: ${describeError(e)}`,
      configDir: null,
      home: null,
    };
  }
}

export function modeTitle(mode: ConfigModeInfo['mode']): string {
  if (mode === 'single') return 'single-connection (v1.0.0 compatibility)';
  if (mode === 'multi') return 'multi-connection (v1.1.0)';
  return 'unknown';
}

export function versionCommand(global: () => GlobalOptions): Command {
  return new Command('version')
    .description('show the version, Node.js, platform and the configuration mode in effect')
    .option('--json', 'print as JSON')
    .addHelpText('after', '\nExamples:\n  highwater version\n  highwater version --json')
    .action(async (o: { json?: boolean }) => {
      const g = global();
      const out = outputFor(g, o.json);
      const config = await configModeInfo(g);
      const info = {
        name: 'highwater',
        version: VERSION,
        node: process.version,
        platform: process.platform,
        arch: process.arch,
        config,
      };
      if (out.opts.json) {
        out.json(info);
        return;
      }
      out.data(`highwater ${VERSION}`);
      out.data(`node      ${process.version}`);
      out.data(`platform  ${process.platform} ${process.arch}`);
      out.data(`mode      ${modeTitle(config.mode)}: ${config.reason}`);
      if (config.configDir !== null) out.data(`config    ${config.configDir}`);
      if (config.home !== null) out.data(`home      ${config.home}`);
    });
}
