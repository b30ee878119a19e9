/** The command tree. Each command lives in its own file; this only wires them up. */
import { Command } from 'commander';
import { executionsCommand } from './commands/executions.js';
import { syncCommand } from './commands/sync.js';
import { watermarkCommand } from './commands/watermark.js';
import type { GlobalOptions } from './context.js';
import { VERSION } from './version.js';

export function createProgram(): Command {
  const program = new Command('highwater')
    .description('Keep warehouse tables in step with MySQL, incrementally, through Parquet')
    .version(VERSION, '-V, --version')
    .option('--config-dir <dir>', 'configuration directory (default: ./config, or HIGHWATER_CONFIG_DIR)')
    .option('--home <dir>', 'local state, staging and warehouse (default: ./.highwater, or HIGHWATER_HOME)')
    .option('--debug', 'print debug detail')
    .option('-q, --quiet', 'print only results and errors')
    .showHelpAfterError();
  const global = (): GlobalOptions => program.opts<GlobalOptions>();
  program.addCommand(syncCommand(global));
  program.addCommand(watermarkCommand(global));
  program.addCommand(executionsCommand(global));
  return program;
}
