/**
 * The rules of a table's load claim (StateStore.claimLoad / recordLoadStatement / releaseLoad), written once: both
 * state stores read the claim, apply one of these, and write the result in one transaction or conditional write.
 * See docs/decisions/0006-load-runs-once.md.
 */
import { z } from 'zod';
import {
  type HostKeyRecord,
  hostKeyRecordSchema,
  type LoadClaim,
  type LoadStatement,
  loadClaimSchema,
  loadStatementSchema,
} from '../domain/records.js';
import { DataError, LoadClaimHeldError, LoadClaimLostError } from '../errors.js';

/**
 * How long a statement stays worth looking at: the Data API runs a query at most 24 hours and keeps its status as
 * long ("The maximum duration of a query is 24 hours", "The maximum retention time for query results is 24 hours",
 * https://docs.aws.amazon.com/redshift/latest/mgmt/data-api.html). One submitted before that has ended.
 */
export const STATEMENT_RETENTION_MS = 24 * 60 * 60 * 1000;

/**
 * At most this many statements ride along in a claim (the newest): a load records two or three, every load settles
 * all earlier ones before it submits its own, so older ones have long ended; the cap keeps a DynamoDB item far below
 * its 400 KB limit (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html).
 */
export const MAX_STATEMENTS_KEPT = 100;

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

function checkInstant(what: string, value: string): string {
  if (!ISO_UTC.test(value)) throw new DataError(`${what} must be an ISO-8601 UTC instant, got ${value}`);
  return value;
}

/** Whether the claim still keeps other attempts out at `now`. */
export function claimIsLive(claim: LoadClaim, now: Date): boolean {
  return !claim.released && claim.until > now.toISOString();
}

function heldError(claim: LoadClaim): LoadClaimHeldError {
  return new LoadClaimHeldError(
    `the load of ${claim.tableKey} is held by attempt ${claim.attempt} of run ${claim.runId} until ${claim.until}; refusing a second load at the same time`,
    { suggestion: 'Wait: the holder ends before that time (its invocation is over then), and a retry takes over.' },
  );
}

/** The claim after `attempt` takes it at `now`; LoadClaimHeldError while another attempt's claim is live. */
export function takeClaim(
  tableKey: string,
  current: LoadClaim | undefined,
  request: { runId: string; attempt: string; until: string },
  now: Date,
): LoadClaim {
  checkInstant(`load claim on ${tableKey}: until`, request.until);
  if (current && current.attempt !== request.attempt && claimIsLive(current, now)) throw heldError(current);
  const oldest = new Date(now.getTime() - STATEMENT_RETENTION_MS).toISOString();
  // A released claim's statements had all ended when it was released: a new run needs none of them. The same run
  // keeps them (its finished apply is the result a retried Load returns), and so does anyone taking over a claim
  // that was never released (its holder may have left statements running).
  const carried = current && (current.runId === request.runId || !current.released) ? current.statements : [];
  return loadClaimSchema.parse({
    tableKey,
    runId: request.runId,
    attempt: request.attempt,
    until: request.until,
    released: false,
    statements: carried.filter((s) => s.submittedAt >= oldest).slice(-MAX_STATEMENTS_KEPT),
  });
}

/** The claim with `statement` appended; LoadClaimLostError unless `attempt` holds it. */
export function appendStatement(
  tableKey: string,
  current: LoadClaim | undefined,
  attempt: string,
  statement: LoadStatement,
): LoadClaim {
  const parsed = loadStatementSchema.safeParse(statement);
  if (!parsed.success) {
    throw new DataError(`load statement on ${tableKey}: invalid: ${z.prettifyError(parsed.error)}`);
  }
  checkInstant(`load statement ${statement.id} on ${tableKey}: submittedAt`, statement.submittedAt);
  if (!current || current.attempt !== attempt || current.released) {
    throw new LoadClaimLostError(
      `the load of ${tableKey} is no longer held by attempt ${attempt}${current ? ` (now attempt ${current.attempt} of run ${current.runId}${current.released ? ', released' : ''})` : ''}; statement ${statement.id} is not recorded`,
    );
  }
  return { ...current, statements: [...current.statements, parsed.data] };
}

/** The claim released by `attempt`, or undefined when `attempt` does not hold it (nothing to write). */
export function releaseClaim(current: LoadClaim | undefined, attempt: string): LoadClaim | undefined {
  if (!current || current.attempt !== attempt || current.released) return undefined;
  return { ...current, released: true };
}

/**
 * The claim of run `runId` after its process was found dead (a local takeover, handlers/lease.ts): live no longer,
 * but not released, so the next attempt carries its statements and settles any it left running. Undefined when the
 * claim is not that run's, or is already released or past.
 */
export function abandonClaim(current: LoadClaim | undefined, runId: string, now: Date): LoadClaim | undefined {
  if (!current || current.runId !== runId || !claimIsLive(current, now)) return undefined;
  return { ...current, until: now.toISOString() };
}

/** Parses a claim read back from a store; `where` names the file or table. */
export function loadClaimFromStore(where: string, value: unknown): LoadClaim {
  const parsed = loadClaimSchema.safeParse(value);
  if (!parsed.success) throw new DataError(`${where}: a load claim is malformed: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

/** The host key record `rememberHostKey` writes for a first sighting (validated). */
export function newHostKeyRecord(bastion: string, fingerprint: string, now: Date): HostKeyRecord {
  const parsed = hostKeyRecordSchema.safeParse({ bastion, fingerprint, firstSeenAt: now.toISOString() });
  if (!parsed.success) throw new DataError(`host key of ${bastion}: invalid: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

/** Parses a host key record read back from a store. */
export function hostKeyFromStore(where: string, value: unknown): HostKeyRecord {
  const parsed = hostKeyRecordSchema.safeParse(value);
  if (!parsed.success)
    throw new DataError(`${where}: a host key record is malformed: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}
