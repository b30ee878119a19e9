/** The command tree. Each command lives in its own file; this only wires them up. */
import { Command } from 'commander';
import { configCommand } from './commands/config/index.js';
import { connectionsCommand } from './commands/connections/index.js';
import { executionsCommand } from './commands/executions.js';
import { featuresCommand } from './commands/features.js';
import { leaseCommand } from './commands/lease.js';
import { multiSchemaCommand } from './commands/multi-schema.js';
import { queryCommand } from './commands/query.js';
import { reportCommand } from './commands/report.js';
import { runsCommand } from './commands/runs.js';
import { s3cleanCommand } from './commands/s3clean.js';
import { daemonCommand, runEveryCommand } from './commands/schedule.js';
import { statusCommand } from './commands/status.js';
import { resyncCommand, syncCommand } from './commands/sync.js';
import { verifyCommand } from './commands/verify.js';
import { versionCommand } from './commands/version.js';
import { watermarkCommand } from './commands/watermark.js';
import { watermarkCountCommand } from './commands/watermark-count.js';
import type { GlobalOptions } from './context.js';
import { VERSION } from './version.js';

export function createProgram(): Command {
  const program = new Command('highwater')
    .description('Keep warehouse tables in step with MySQL, incrementally, through Parquet')
    .version(VERSION, '-V, --version')
    .option('--config-dir <dir>', 'configuration directory (default: ./config, or HIGHWATER_CONFIG_DIR)')
    .option('--home <dir>', 'local state, staging and warehouse (default: ./.highwater, or HIGHWATER_HOME)')
    .option('--debug', "print debug detail, and an unexpected error's stack (in the TypeScript sources)")
    .option('-q, --quiet', 'print only results and errors')
    .option('--json', 'print results as JSON on stdout (every read command)')
    .showHelpAfterError()
    // Global options go before the command (`highwater --debug sync …`, as the guide writes them); this is also
    // what lets `sync pipeline --pipeline P` reach the subcommand instead of `sync`'s own --pipeline.
    .enablePositionalOptions();
  const global = (): GlobalOptions => program.opts<GlobalOptions>();
  program.addCommand(syncCommand(global));
  program.addCommand(resyncCommand(global));
  program.addCommand(watermarkCommand(global));
  program.addCommand(watermarkCountCommand(global));
  program.addCommand(verifyCommand(global));
  program.addCommand(leaseCommand(global));
  program.addCommand(s3cleanCommand(global));
  program.addCommand(connectionsCommand(global));
  program.addCommand(configCommand(global));
  program.addCommand(statusCommand(global));
  program.addCommand(runsCommand(global));
  program.addCommand(queryCommand(global));
  program.addCommand(reportCommand(global));
  program.addCommand(runEveryCommand(global));
  program.addCommand(daemonCommand(global));
  program.addCommand(versionCommand(global));
  program.addCommand(featuresCommand(global));
  program.addCommand(multiSchemaCommand(global));
  program.addCommand(executionsCommand(global));
  // Usage errors anywhere in the tree come back to bin/highwater.ts as exceptions (addCommand copies no settings).
  const override = (c: Command): void => {
    c.exitOverride();
    for (const sub of c.commands) override(sub);
  };
  override(program);
  return program;
}
