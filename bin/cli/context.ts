/** Global options → loaded configuration and runtime, shared by every command. */
import { loadConfig, modeBanner } from '../../lambdas/engine/config/index.js';
import type { LoadedConfig } from '../../lambdas/engine/config/types.js';
import { createRuntime, type Runtime } from '../../lambdas/runtime/runtime.js';
import { Output } from './output.js';

export interface GlobalOptions {
  configDir?: string;
  home?: string;
  debug?: boolean;
  quiet?: boolean;
  json?: boolean;
}

export interface CommandContext {
  out: Output;
  config: LoadedConfig;
  runtime: Runtime;
}

/** `bannerFor`: the pipeline a command runs, to print the guide's mode banner for (omit for commands without one). */
export async function openContext(opts: GlobalOptions, bannerFor?: string): Promise<CommandContext> {
  const out = new Output({ quiet: Boolean(opts.quiet), debug: Boolean(opts.debug), json: Boolean(opts.json) });
  const config = await loadConfig({ cwd: process.cwd(), configDir: opts.configDir, home: opts.home, env: process.env });
  if (bannerFor !== undefined) out.banner(modeBanner(config, bannerFor));
  out.debug(`config dir ${config.configDir}, home ${config.home}, mode ${config.mode}`);
  return { out, config, runtime: createRuntime(config) };
}
