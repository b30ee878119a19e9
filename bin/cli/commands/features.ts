/** `highwater features`: placeholder wired into the command tree; being built for issue 5. */
import { Command } from 'commander';
import type { GlobalOptions } from '../context.js';

export function featuresCommand(_global: () => GlobalOptions): Command {
  return new Command('features').description('(being built)').action(() => {
    throw new Error('features is being built');
  });
}
