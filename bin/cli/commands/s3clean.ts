/** `highwater s3clean`: placeholder wired into the command tree; being built for issue 5. */
import { Command } from 'commander';
import type { GlobalOptions } from '../context.js';

export function s3cleanCommand(_global: () => GlobalOptions): Command {
  return new Command('s3clean').description('(being built)').action(() => {
    throw new Error('s3clean is being built');
  });
}
