#!/usr/bin/env -S node --max-semi-space-size=8
/**
 * The highwater CLI. The one place that turns errors into exit codes (0 ok, 1 config, 2 connection, 3 partial,
 * 4 data, 5 staging, 6 warehouse) and calls process.exit — but for an interrupted sync, which bin/cli/interrupt.ts
 * ends with 130 (SIGINT) or 143 (SIGTERM) once its runs are aborted.
 *
 * The shebang caps V8's young generation at 8 MiB a semi-space: a sync decodes millions of short-lived row values on
 * the main thread, and with V8's default (sized from the machine's RAM) the young generation alone grew the heap by
 * 60–130 MB with no gain in speed (decision 0007). A V8 heap flag takes effect only on the command line.
 */
import nodeModule from 'node:module';
import { VERSION } from './cli/version.js';

// `--version` answers before anything else loads: commander, zod and the commands take most of a start.
const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  process.stdout.write(`${VERSION}\n`);
} else {
  // A command loads ~700 modules; Node keeps V8's compiled code for them on disk (in the temp directory, or
  // NODE_COMPILE_CACHE), so a later start skips compiling them: ~0.1 s of every run's start (decision 0007).
  // (@types/node for Node 20 does not declare it; the Node.js this runs on, ≥ 22.12, has it.)
  (nodeModule as { enableCompileCache?: () => unknown }).enableCompileCache?.();
  import('./cli/main.js')
    .then(({ main }) => main(process.argv))
    .then(
      (code) => process.exit(code),
      (e: unknown) => {
        process.stderr.write(`fatal: ${String(e)}\n`);
        process.exit(4);
      },
    );
}
