/**
 * The checks every StateStore adapter applies to what the engine hands it, so a bad record or owner is refused
 * with the same error on SQLite and DynamoDB and never becomes a bad row or item.
 */
import { z } from 'zod';
import { type LeaseOwner, leaseOwnerSchema, type RunRecord, runRecordSchema } from '../domain/records.js';
import { DataError } from '../errors.js';

/** Validates a record the engine hands in; `what` names the operation and run for the error. */
export function checkRunRecord(what: string, run: unknown): RunRecord {
  const parsed = runRecordSchema.safeParse(run);
  if (!parsed.success) throw new DataError(`${what}: invalid run record: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

/** Validates a lease owner the engine hands in (null: none recorded). */
export function checkLeaseOwner(tableKey: string, owner: LeaseOwner | null | undefined): LeaseOwner | null {
  if (owner === undefined || owner === null) return null;
  const parsed = leaseOwnerSchema.safeParse(owner);
  if (!parsed.success) throw new DataError(`lease on ${tableKey}: invalid owner: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}
