/** Builds the app's stacks from context; shared by bin/app.ts and the stack tests. */
import { resolve } from 'node:path';
import { type App, Tags, Validations } from 'aws-cdk-lib';
import type { LoadConfigOptions, LoadedConfig } from '../lambdas/engine/config/index.js';
import { readAppContext } from './app-context.js';
import { AwsSolutionsChecks } from './cdk-nag.js';
import { deployedPipelines } from './deployed-pipelines.js';
import { HighwaterStack, type HighwaterStackProps } from './highwater-stack.js';
import { addNagSuppressions } from './nag-suppressions.js';

export interface BuildAppOptions {
  readonly projectRoot: string;
  readonly loadConfig: (opts: LoadConfigOptions) => Promise<LoadedConfig>;
  /** Passed through to every stack (tests point `entries` at existing modules). */
  readonly stackProps?: Pick<HighwaterStackProps, 'entries' | 'definitions'>;
}

export async function buildHighwaterApp(app: App, opts: BuildAppOptions): Promise<HighwaterStack[]> {
  const ctx = readAppContext((key) => app.node.tryGetContext(key));
  const configDir = resolve(opts.projectRoot, ctx.configDir);
  // The YAML is bundled as written; the environment only fills ${VAR} defaults needed to validate it here.
  const config = await opts.loadConfig({ cwd: opts.projectRoot, configDir });
  const pipelines = deployedPipelines(config);
  const stacks = ctx.environments.map(
    ({ name, settings }) =>
      new HighwaterStack(app, `Highwater-${name}`, {
        env: { account: settings.account, region: settings.region },
        description: `Highwater MySQL → Redshift sync (${name})`,
        settings,
        pipelines,
        projectRoot: opts.projectRoot,
        configDir,
        removeDataOnDestroy: ctx.removeDataOnDestroy,
        ...opts.stackProps,
      }),
  );
  for (const stack of stacks) {
    Tags.of(stack).add('highwater:environment', stack.stackName);
    addNagSuppressions(stack);
  }
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
  return stacks;
}
