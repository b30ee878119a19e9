/** `highwater config`: placeholder wired into the command tree; being built for issue 5. */
import { Command } from 'commander';
import type { GlobalOptions } from '../context.js';

export function configCommand(_global: () => GlobalOptions): Command {
  return new Command('config').description('(being built)').action(() => {
    throw new Error('config is being built');
  });
}
