#!/usr/bin/env node
/**
 * The highwater CLI. The one place that turns errors into exit codes (0 ok, 1 config, 2 connection, 3 partial,
 * 4 data, 5 staging, 6 warehouse) and calls process.exit — but for an interrupted sync, which bin/cli/interrupt.ts
 * ends with 130 (SIGINT) or 143 (SIGTERM) once its runs are aborted.
 */
import { existsSync } from 'node:fs';
import nodeModule from 'node:module';
import { fileURLToPath } from 'node:url';
import { deferStepFunctionsLibraryImports } from '../lambdas/local/orchestration/sfn-lazy/hooks.js';
import { reexecWithNodeFlags } from './cli/node-flags.js';
import { VERSION } from './cli/version.js';

// `--version` answers before anything else loads: commander, zod and the commands take most of a start.
const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  process.stdout.write(`${VERSION}\n`);
} else {
  // First of all: the command's own V8 flags (cli/node-flags.ts). Where the launcher (bin/highwater) did not give
  // them, this process is replaced by one that has them, keeping its pid.
  reexecWithNodeFlags(fileURLToPath(import.meta.url));
  // A command loads ~700 modules; Node keeps V8's compiled code for them on disk (in the temp directory, or
  // NODE_COMPILE_CACHE), so a later start skips compiling them: ~0.1 s of every run's start (decision 0007).
  // (@types/node for Node 20 does not declare it; the Node.js this runs on, ≥ 22.12, has it.)
  (nodeModule as { enableCompileCache?: () => unknown }).enableCompileCache?.();
  // Before the commands load: the Step Functions library's unused AWS SDK imports wait for a first use (0.1 s).
  deferStepFunctionsLibraryImports();
  // --debug prints the stack of an unexpected error: through the bundle's source maps it names the TypeScript sources,
  // not chunk files. Enabled before the bundle loads (Node reads a file's map when it loads the file).
  if (args.includes('--debug')) process.setSourceMapsEnabled(true);
  // The commands as scripts/bundle-cli.mjs bundled them (a few dozen files to read instead of ~450), where the build
  // made them; tsc's modules otherwise (running from the TypeScript sources, or a build without the bundle step).
  const bundled = new URL('./cli/bundle/main.js', import.meta.url);
  const commands: Promise<typeof import('./cli/main.js')> = existsSync(bundled)
    ? import(bundled.href)
    : import('./cli/main.js');
  commands
    .then(({ main }) => main(process.argv))
    .then(
      (code) => process.exit(code),
      (e: unknown) => {
        process.stderr.write(`fatal: ${String(e)}\n`);
        process.exit(4);
      },
    );
}
