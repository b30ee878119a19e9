/**
 * The checks every StateStore adapter applies to what the engine hands it, so a bad record or owner is refused
 * with the same error on SQLite and DynamoDB and never becomes a bad row or item.
 */
import { z } from 'zod';
import { type VerificationRecord, VerificationRecordSchema } from '../domain/manifests.js';
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

/** Every store keeps at least this many verifications per table (newest first); older ones may be pruned. */
export const VERIFICATIONS_KEPT = 100;

/** Validates a verification the engine hands in; its `at` must be an ISO-8601 UTC instant (the record's order). */
export function checkVerification(tableKey: string, record: unknown): VerificationRecord {
  const parsed = VerificationRecordSchema.safeParse(record);
  if (!parsed.success) {
    throw new DataError(`verification of ${tableKey}: invalid record: ${z.prettifyError(parsed.error)}`);
  }
  if (!ISO_UTC.test(parsed.data.at)) {
    throw new DataError(`verification of ${tableKey}: at must be an ISO-8601 UTC instant, got ${parsed.data.at}`);
  }
  return parsed.data;
}

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** Parses a verification read back from a store; `where` names the file or table for the error. */
export function verificationFromStore(where: string, tableKey: string, value: unknown): VerificationRecord {
  const parsed = VerificationRecordSchema.safeParse(value);
  if (!parsed.success) {
    throw new DataError(`${where}: a verification of ${tableKey} is malformed: ${z.prettifyError(parsed.error)}`);
  }
  return parsed.data;
}
