/** `highwater connections`: placeholder wired into the command tree; being built for issue 5. */
import { Command } from 'commander';
import type { GlobalOptions } from '../context.js';

export function connectionsCommand(_global: () => GlobalOptions): Command {
  return new Command('connections').description('(being built)').action(() => {
    throw new Error('connections is being built');
  });
}
