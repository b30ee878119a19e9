/**
 * The V8 flags a highwater command runs with, and the re-exec that applies them where the launcher did not.
 *
 * `--max-semi-space-size=8` caps V8's young generation at 8 MiB a semi-space: a sync decodes millions of short-lived
 * row values on the main thread, and with V8's default (sized from the machine's RAM) the young generation alone grew
 * the heap by 60–130 MB, with no gain in speed (decision 0007). A heap flag counts only on the command line: set at
 * run time (`v8.setFlagsFromString`) it does not resize the running heap. So npm's bin is a POSIX shell launcher,
 * bin/highwater, that starts Node.js with these flags (a shebang cannot carry them portably: `env -S` is missing
 * from BusyBox, so from Alpine); keep its list and this one the same (test/cli/launcher.cli.test.ts compares them).
 * Started any other way (`node dist/bin/highwater.js`), the command replaces its own process image with
 * `process.execve` (Node ≥ 23.11; same pid, so signals and crash handling see one process) before it loads
 * anything: a second Node.js start, which the launcher saves (~0.1 s).
 */
export const CLI_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=8'];

type Execve = (file: string, args: string[], env: NodeJS.ProcessEnv) => never;

/** Whether this process should be replaced by one started with CLI_NODE_FLAGS. */
export function needsNodeFlags(execArgv: readonly string[], env: NodeJS.ProcessEnv): boolean {
  // The user's own NODE_OPTIONS setting of the same flag wins (a command-line flag would override it).
  if ((env.NODE_OPTIONS ?? '').includes('--max-semi-space-size')) return false;
  return CLI_NODE_FLAGS.some((f) => !execArgv.includes(f));
}

/**
 * Replaces this process with the same script under CLI_NODE_FLAGS, when the Node.js running it can (`execve` is
 * POSIX-only and new in Node 23.11; elsewhere the command runs with V8's defaults). Returns only when it did not.
 */
export function reexecWithNodeFlags(script: string): void {
  const execve = (process as unknown as { execve?: Execve }).execve;
  if (typeof execve !== 'function' || !needsNodeFlags(process.execArgv, process.env)) return;
  const flags = CLI_NODE_FLAGS.filter((f) => !process.execArgv.includes(f));
  execve(
    process.execPath,
    [process.execPath, ...flags, ...process.execArgv, script, ...process.argv.slice(2)],
    process.env,
  );
}
