/**
 * Optimistic concurrency: read, write conditionally on what was read, and start again when another writer got
 * there first. DynamoDB also cancels a transaction that touches an item another transaction is writing
 * (TransactionConflict); that is retried the same way.
 */
import { ConnectionError } from '../../errors.js';

/** Thrown by an attempt whose condition failed because the item changed since it was read. */
export class RetryAttempt extends Error {
  constructor(readonly why: string) {
    super(why);
  }
}

export interface RetryOptions {
  attempts?: number;
  baseDelayMs?: number;
}

export async function withOptimisticRetry<T>(
  what: string,
  attempt: () => Promise<T>,
  opts: RetryOptions = {},
): Promise<T> {
  const attempts = opts.attempts ?? 12;
  const base = opts.baseDelayMs ?? 10;
  let last = '';
  for (let i = 0; i < attempts; i++) {
    try {
      return await attempt();
    } catch (e) {
      if (!(e instanceof RetryAttempt)) throw e;
      last = e.why;
      // Full jitter, capped: concurrent chunk writers spread out instead of colliding again in lock step.
      const cap = Math.min(1000, base * 2 ** i);
      await new Promise((r) => setTimeout(r, Math.random() * cap));
    }
  }
  throw new ConnectionError(`${what}: gave up after ${attempts} attempts because the state kept changing (${last})`);
}
