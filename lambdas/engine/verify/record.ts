/**
 * The last verification of a table, kept in staging beside its files (naming.ts verificationKey): what `status`
 * shows and what `verify_every` counts from.
 */
import { type VerificationRecord, VerificationRecordSchema } from '../../domain/manifests.js';
import type { Staging } from '../../ports/index.js';
import { parseTableKey, verificationKey } from '../naming.js';
import type { VerifyReport } from './verify-table.js';

export { type VerificationRecord, VerificationRecordSchema } from '../../domain/manifests.js';

export function verificationOf(report: VerifyReport, at: Date, afterRepair: boolean): VerificationRecord {
  return {
    table: report.table,
    at: at.toISOString(),
    equal: report.equal,
    rows: report.rows,
    missing: report.missing.count,
    extra: report.extra.count,
    changed: report.changed.count,
    pending: report.pending,
    durationMs: Math.max(0, Math.round(report.durationMs)),
    afterRepair,
  };
}

export async function saveVerification(staging: Staging, tableKey: string, record: VerificationRecord): Promise<void> {
  await staging.putJson(verificationKey(staging.prefix, parseTableKey(tableKey)), record);
}

/** The table's last verification; undefined when it was never verified (or the record is not one). */
export async function lastVerification(staging: Staging, tableKey: string): Promise<VerificationRecord | undefined> {
  const value = await staging.getJson(verificationKey(staging.prefix, parseTableKey(tableKey)));
  const parsed = VerificationRecordSchema.safeParse(value);
  return parsed.success ? parsed.data : undefined;
}
