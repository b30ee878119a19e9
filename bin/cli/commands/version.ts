/** `highwater version`: placeholder wired into the command tree; being built for issue 5. */
import { Command } from 'commander';
import type { GlobalOptions } from '../context.js';

export function versionCommand(_global: () => GlobalOptions): Command {
  return new Command('version').description('(being built)').action(() => {
    throw new Error('version is being built');
  });
}
