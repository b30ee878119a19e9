/** Turns whatever DuckDB threw into a WarehouseError that names the table (or file) concerned. */
import { describeError, HighwaterError, WarehouseError } from '../../../errors.js';

/** DuckDB's message when another process holds the file's write lock. */
const LOCK_PATTERN = /Could not set lock on file|Conflicting lock is held/i;

export function isLockError(e: unknown): boolean {
  return LOCK_PATTERN.test(describeError(e));
}

/** Keeps our own errors as they are; wraps anything else with `context` (e.g. `loading "s"."t"`) in front. */
export function toHighwaterError(e: unknown, context: string): HighwaterError {
  if (e instanceof HighwaterError) return e;
  return new WarehouseError(`DuckDB failed ${context}: ${describeError(e)}`, { cause: e });
}

export function lockedError(path: string, e: unknown): WarehouseError {
  return new WarehouseError(
    `DuckDB warehouse ${path} is locked: another process has the warehouse open (${describeError(e)})`,
    {
      cause: e,
      suggestion: 'Wait for the other highwater run (or DuckDB shell) using this file to finish, then retry.',
    },
  );
}
