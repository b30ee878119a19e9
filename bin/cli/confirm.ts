/**
 * The one question a destroying command asks. Every such command asks on a terminal and takes -y/--yes to skip
 * the question. Without a terminal: what loses something kept nowhere else (a watermark, a held lease, staged
 * files not loaded yet) needs --yes; what removes only what can be recreated or is already in the warehouse (loaded
 * staged files, a configuration moved aside with a backup) goes ahead, as the old tool's scripts expect.
 */
import { createInterface } from 'node:readline/promises';
import { ConfigError } from '../../lambdas/errors.js';

export interface Confirmation {
  /** -y/--yes was given. */
  yes: boolean | undefined;
  /** The question, answered y or n on a terminal. */
  question: string;
  /** The command, for the refusal: `watermark reset`. */
  command: string;
  /** Whether it may go ahead unasked without a terminal (see above). */
  unattended: 'refuse' | 'proceed';
  /** What to check before giving --yes. */
  checkFirst?: string;
}

/** True to go ahead, false when the user answered no; a ConfigError when it needs --yes and has no terminal. */
export async function confirmed(c: Confirmation): Promise<boolean> {
  if (c.yes) return true;
  if (!process.stdin.isTTY) {
    if (c.unattended === 'proceed') return true;
    throw new ConfigError(`${c.command} needs --yes when not run from a terminal`, {
      suggestion: c.checkFirst ? `Check ${c.checkFirst} first, then run it again with --yes.` : undefined,
    });
  }
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(`${c.question} [y/N] `)).trim());
  } finally {
    rl.close();
  }
}
