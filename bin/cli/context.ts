/** Global options → loaded configuration and runtime, shared by every command. */

import type { LoadedConfig } from '../../lambdas/domain/config.js';
import { loadConfig, modeBanner } from '../../lambdas/engine/config/index.js';
import { createRuntime, type Runtime } from '../../lambdas/local/runtime.js';
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

/** A command's Output: the global --quiet, --debug and --json, and the command's own --json. */
export function outputFor(opts: GlobalOptions, json?: boolean): Output {
  return new Output({ quiet: Boolean(opts.quiet), debug: Boolean(opts.debug), json: Boolean(json || opts.json) });
}

/** `bannerFor`: the pipeline a command runs, to print the guide's mode banner for (omit for commands without one). */
export async function openContext(opts: GlobalOptions, bannerFor?: string): Promise<CommandContext> {
  const out = outputFor(opts);
  const config = await loadConfig({ cwd: process.cwd(), configDir: opts.configDir, home: opts.home, env: process.env });
  if (bannerFor !== undefined) out.banner(modeBanner(config, bannerFor));
  out.debug(`config dir ${config.configDir}, home ${config.home}, mode ${config.mode}`);
  return { out, config, runtime: createRuntime(config) };
}

/** Runs a command body with its context (`json`: the command's own --json) and always closes the runtime. */
export async function withContext<T>(
  opts: GlobalOptions,
  json: boolean | undefined,
  fn: (ctx: CommandContext) => Promise<T>,
): Promise<T> {
  const ctx = await openContext({ ...opts, json: json || opts.json });
  try {
    return await fn(ctx);
  } finally {
    await ctx.runtime.close();
  }
}
