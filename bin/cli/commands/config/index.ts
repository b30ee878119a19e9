/** `highwater config`: set up, inspect and check the configuration (both modes). */
import { Command } from 'commander';
import type { GlobalOptions } from '../../context.js';
import { addFileCommands } from './files.js';
import { addInspectCommands } from './inspect.js';

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

  addFileCommands(cmd, global);
  addInspectCommands(cmd, global);
  return cmd;
}
