/**
 * The CLI's body: parse the command line, run the command, and turn what it threw into an exit code (0 ok,
 * 1 config, 2 connection, 3 partial, 4 data, 5 staging, 6 warehouse) — the one place that does so.
 */
import { CommanderError } from 'commander';
import { ZodError } from 'zod';
import { ExitCode, HighwaterError } from '../../lambdas/errors.js';
import { ExitError } from './exit.js';
import { jsonWritten } from './output.js';
import { createProgram } from './program.js';

/** Under --json a failure is a JSON object on stdout (what a script parses), not text on stderr. */
function jsonFailure(e: unknown, exitCode: number): number {
  const fields =
    e instanceof HighwaterError
      ? { name: e.name, code: e.code, message: e.message, suggestion: e.suggestion ?? null }
      : e instanceof ZodError
        ? {
            name: 'ConfigError',
            code: 'CONFIG',
            message: e.issues.map((i) => `${i.path.join('.') || 'input'}: ${i.message}`).join('; '),
            suggestion: null,
          }
        : {
            name: e instanceof Error ? e.name : 'Error',
            code: 'ERROR',
            message: e instanceof Error ? e.message : String(e),
            suggestion: null,
          };
  process.stdout.write(`${JSON.stringify({ ok: false, exitCode, error: fields }, null, 2)}\n`);
  return exitCode;
}

export async function main(argv: string[]): Promise<number> {
  const program = createProgram();
  const hasJsonFlag = argv.includes('--json');
  try {
    await program.parseAsync(argv);
    return ExitCode.ok;
  } catch (e) {
    if (e instanceof ExitError) return e.exitCode;
    if (e instanceof CommanderError) {
      // --help and --version end through here with exit code 0; usage errors were already printed.
      const global = /unknown option '(--debug|--quiet|-q|--json|--config-dir|--home)'/.exec(e.message);
      if (global)
        process.stderr.write(
          `  ${global[1]} is a global option: put it before the command (highwater ${global[1]} sync …)\n`,
        );
      return e.exitCode === 0 ? 0 : ExitCode.config;
    }
    // A command that printed its JSON report before failing (health down, tables differ) keeps stdout one
    // document: the report is what a script parses; the failure goes to stderr as text.
    const json = hasJsonFlag && !jsonWritten();
    if (json && (e instanceof HighwaterError || e instanceof ZodError)) {
      return jsonFailure(e, e instanceof HighwaterError ? e.exitCode : ExitCode.config);
    }
    if (e instanceof HighwaterError) {
      process.stderr.write(`error: ${e.message}\n`);
      if (e.suggestion) process.stderr.write(`  ${e.suggestion}\n`);
      if (program.opts().debug && e.cause) process.stderr.write(`  cause: ${String(e.cause)}\n`);
      return e.exitCode;
    }
    if (e instanceof ZodError) {
      for (const issue of e.issues)
        process.stderr.write(`error: ${issue.path.join('.') || 'input'}: ${issue.message}\n`);
      return ExitCode.config;
    }
    if (json) return jsonFailure(e, ExitCode.data);
    process.stderr.write(`error: ${e instanceof Error ? e.message : String(e)}\n`);
    if (program.opts().debug && e instanceof Error && e.stack) process.stderr.write(`${e.stack}\n`);
    return ExitCode.data;
  }
}
