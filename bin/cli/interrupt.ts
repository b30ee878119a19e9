/**
 * SIGINT (Ctrl-C) and SIGTERM (kill) during a local `highwater sync`: every run this process holds is ended the way
 * Abort ends a failed one — marked failed ("interrupted by SIGINT"), its lease released — one line per run goes to
 * stderr, and the process exits 130 (SIGINT) or 143 (SIGTERM), as a shell reports a process killed by the signal.
 * A second signal while that cleanup runs exits at once. This and bin/highwater.ts are the only places that end
 * the process.
 */

import { describeError } from '../../lambdas/errors.js';
import type { HeldRuns, InterruptOutcome } from '../../lambdas/local/orchestration/held-runs.js';

export const SIGNAL_EXIT_CODES = { SIGINT: 130, SIGTERM: 143 } as const;
export type InterruptSignal = keyof typeof SIGNAL_EXIT_CODES;

/** The lines an interrupted sync prints: one per run it held. */
export function interruptLines(signal: InterruptSignal, outcomes: InterruptOutcome[]): string[] {
  if (outcomes.length === 0)
    return [`interrupted (${signal}): no run was left to end (runs that finished stay as they are)`];
  return outcomes.map((o) =>
    o.aborted
      ? `interrupted (${signal}): ${o.table} run ${o.runId} marked failed, lease released; the next sync reads its window again`
      : `interrupted (${signal}): ${o.table} run ${o.runId} could not be marked failed (${o.error}); its lease stays until it expires or \`highwater lease release -t ${o.table}\``,
  );
}

export interface InterruptHandlerOptions {
  held: HeldRuns;
  /** Writes one line to stderr (after ending a terminal status line). */
  write: (line: string) => void;
  exit?: (code: number) => void;
}

/** Installs the SIGINT/SIGTERM handlers for the duration of a local sync; returns their removal. */
export function abortRunsOnSignal({ held, write, exit = (c) => process.exit(c) }: InterruptHandlerOptions): () => void {
  let cleaning = false;
  const onSignal = (signal: InterruptSignal): void => {
    const code = SIGNAL_EXIT_CODES[signal];
    if (cleaning) {
      exit(code);
      return;
    }
    cleaning = true;
    held
      .interrupt(`interrupted by ${signal}`)
      .then(
        (outcomes) => {
          for (const line of interruptLines(signal, outcomes)) write(line);
        },
        (e: unknown) => write(`interrupted (${signal}): cleaning up failed: ${describeError(e)}`),
      )
      .finally(() => exit(code));
  };
  const onInt = () => onSignal('SIGINT');
  const onTerm = () => onSignal('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  return () => {
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
  };
}
