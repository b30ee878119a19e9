/** `highwater status`: placeholder wired into the command tree; being built for issue 5. */
import { Command } from 'commander';
import type { GlobalOptions } from '../context.js';

export function statusCommand(_global: () => GlobalOptions): Command {
  return new Command('status').description('(being built)').action(() => {
    throw new Error('status is being built');
  });
}
