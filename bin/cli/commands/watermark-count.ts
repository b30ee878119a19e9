/** `highwater watermark-count`: placeholder wired into the command tree; being built for issue 5. */
import { Command } from 'commander';
import type { GlobalOptions } from '../context.js';

export function watermarkCountCommand(_global: () => GlobalOptions): Command {
  return new Command('watermark-count').description('(being built)').action(() => {
    throw new Error('watermark-count is being built');
  });
}
