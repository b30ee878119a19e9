/**
 * One Load attempt per table at a time, and the ledger's record of what each left running in the warehouse
 * (StateStore.claimLoad, LoadJournal; docs/decisions/0006-load-runs-once.md). A Load whose first invocation still
 * runs when Step Functions retries it (Lambda.ClientExecutionTimeoutException, a service error after the function
 * started) waits here for the first to end or to pass its deadline, instead of loading beside it.
 */
import { randomUUID } from 'node:crypto';
import { LoadClaimHeldError } from '../errors.js';
import type { LoadJournal, StateStore } from '../ports/index.js';
import type { StepContext } from '../ports/step-context.js';

/**
 * A claim lasts until the invocation's deadline, and at most this long: a local run without a Lambda deadline
 * (or one far off) that crashes leaves the table's loads blocked for no longer than this.
 */
export const CLAIM_CAP_MS = 16 * 60 * 1000;
/** Time left that is not worth waiting for a claim with: the load itself needs it. */
export const CLAIM_WAIT_RESERVE_MS = 2 * 60 * 1000;
const CLAIM_POLL_MS = 1000;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export interface ClaimOptions {
  /** How often a held claim is looked at again (tests shorten it). */
  pollMs?: number;
  /** Time kept back for the load itself: waiting for a claim stops this long before the deadline. */
  reserveMs?: number;
}

/**
 * Runs `body` holding the table's load claim, with the journal of the statements earlier attempts left. The claim
 * is released afterwards unless the load says a statement it submitted has not ended (then it expires at this
 * invocation's deadline, and the next attempt settles that statement).
 */
export async function withLoadClaim<T>(
  state: StateStore,
  tableKey: string,
  runId: string,
  step: StepContext,
  body: (journal: LoadJournal) => Promise<T>,
  opts: ClaimOptions = {},
): Promise<T> {
  const attempt = randomUUID();
  const pollMs = opts.pollMs ?? CLAIM_POLL_MS;
  const reserveMs = opts.reserveMs ?? CLAIM_WAIT_RESERVE_MS;
  const until = () => new Date(Date.now() + Math.min(step.remainingMs(), CLAIM_CAP_MS)).toISOString();
  let claim: Awaited<ReturnType<StateStore['claimLoad']>>;
  for (;;) {
    try {
      claim = await state.claimLoad(tableKey, { runId, attempt, until: until() });
      break;
    } catch (e) {
      // Held by an attempt still within its deadline: wait for it, while this invocation can afford to.
      if (!(e instanceof LoadClaimHeldError) || step.remainingMs() - reserveMs < pollMs) throw e;
      await sleep(pollMs);
    }
  }
  let unsettled = false;
  const journal: LoadJournal = {
    runId,
    earlier: claim.statements,
    record: (statement) => state.recordLoadStatement(tableKey, attempt, statement),
    markUnsettled: () => {
      unsettled = true;
    },
  };
  try {
    return await body(journal);
  } finally {
    // Best effort: a claim that could not be released expires at this invocation's deadline.
    if (!unsettled) await state.releaseLoad(tableKey, attempt).catch(() => undefined);
  }
}
