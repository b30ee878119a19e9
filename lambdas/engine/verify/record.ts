/**
 * A verification as the ledger keeps it (StateStore.recordVerification): what `status` and `runs` show and what
 * `verify_every` counts from.
 */
import type { VerificationRecord } from '../../domain/manifests.js';
import type { VerifyReport } from './verify-table.js';

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
