/**
 * AWS SDK errors → Highwater errors. Throttling, server faults and network failures are transient
 * (ConnectionError, retried by the state machine); a missing table or refused credentials are configuration.
 */
import { z } from 'zod';
import { ConfigError, ConnectionError, DataError, HighwaterError } from '../../errors.js';
import { RetryAttempt } from './retry.js';

const TRANSIENT = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
  'InternalServerError',
  'ServiceUnavailable',
  'LimitExceededException',
  'TransactionConflictException',
  'TransactionInProgressException',
  'TimeoutError',
]);

const CREDENTIALS = new Set([
  'AccessDeniedException',
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'MissingAuthenticationTokenException',
  'ExpiredTokenException',
  'CredentialsProviderError',
]);

const sdkErrorSchema = z.object({
  name: z.string(),
  message: z.string(),
  $fault: z.enum(['client', 'server']).optional(),
  $metadata: z.object({ httpStatusCode: z.number().optional() }).optional(),
  code: z.string().optional(),
});

export function errorName(e: unknown): string | undefined {
  const parsed = sdkErrorSchema.safeParse(e);
  return parsed.success ? parsed.data.name : undefined;
}

/** `op` names the store operation and item, e.g. `acquireLease shop/main/shop.orders/warehouse`. */
export function toHighwaterError(e: unknown, table: string, op: string): HighwaterError {
  if (e instanceof HighwaterError) return e;
  const parsed = sdkErrorSchema.safeParse(e);
  if (!parsed.success) return new DataError(`DynamoDB state table ${table}, ${op}: ${String(e)}`, { cause: e });
  const { name, message, $fault, $metadata, code } = parsed.data;
  const where = `DynamoDB state table ${table}, ${op}`;
  if (name === 'ResourceNotFoundException') {
    return new ConfigError(`${where}: the table ${table} does not exist (${message})`, {
      cause: e,
      suggestion: 'Deploy the stack that creates the state table, or check the table name and region in the config.',
    });
  }
  if (CREDENTIALS.has(name)) {
    return new ConfigError(`${where}: access refused: ${name}: ${message}`, {
      cause: e,
      suggestion: 'Check the credentials and the IAM policy for this table.',
    });
  }
  // No HTTP status means the request never got an answer: refused, reset or timed out on the network.
  const noAnswer = $metadata?.httpStatusCode === undefined && $fault === undefined;
  if (TRANSIENT.has(name) || $fault === 'server' || noAnswer) {
    return new ConnectionError(
      `${where}: ${name}${code !== undefined && code !== name ? ` (${code})` : ''}: ${message}`,
      {
        cause: e,
      },
    );
  }
  return new DataError(`${where}: ${name}: ${message}`, { cause: e });
}

// ── Transaction cancellations ───────────────────────────────────────────────────────────────────────────────────

const rawString = z.object({ S: z.string() });
const reasonSchema = z.object({
  Code: z.string().optional(),
  Message: z.string().optional(),
  Item: z.record(z.string(), z.unknown()).optional(),
});
const canceledSchema = z.object({
  name: z.literal('TransactionCanceledException'),
  CancellationReasons: z.array(reasonSchema),
});

export type CancellationReason = z.infer<typeof reasonSchema>;

/** The per-item reasons of a cancelled transaction, in TransactItems order; undefined for any other error. */
export function cancellationReasons(e: unknown): CancellationReason[] | undefined {
  const parsed = canceledSchema.safeParse(e);
  return parsed.success ? parsed.data.CancellationReasons : undefined;
}

export function failedCondition(reason: CancellationReason | undefined): boolean {
  return reason?.Code === 'ConditionalCheckFailed';
}

/** A string attribute of an item returned raw (AttributeValue form) by ReturnValuesOnConditionCheckFailure. */
export function rawStringAttribute(item: Record<string, unknown> | undefined, name: string): string | undefined {
  const parsed = rawString.safeParse(item?.[name]);
  return parsed.success ? parsed.data.S : undefined;
}

const rawNumber = z.object({ N: z.string().regex(/^\d+$/) });

/** A whole-number attribute of an item returned raw (AttributeValue form). */
export function rawIntegerAttribute(item: Record<string, unknown> | undefined, name: string): number | undefined {
  const parsed = rawNumber.safeParse(item?.[name]);
  return parsed.success ? Number(parsed.data.N) : undefined;
}

const THROTTLED_REASONS = new Set(['ThrottlingError', 'ProvisionedThroughputExceeded', 'RequestLimitExceeded']);

/**
 * A cancelled transaction whose conditions the caller has already examined: a conflict with another transaction
 * is retried, throttling is transient, anything else (validation, item too large…) is a data error.
 */
export function translateCancellation(e: unknown, reasons: CancellationReason[], table: string, op: string): Error {
  if (reasons.some((r) => r.Code === 'TransactionConflict')) return new RetryAttempt(`${op}: transaction conflict`);
  const throttled = reasons.find((r) => THROTTLED_REASONS.has(r.Code ?? ''));
  if (throttled !== undefined) {
    return new ConnectionError(`DynamoDB state table ${table}, ${op}: ${throttled.Code}: ${throttled.Message ?? ''}`, {
      cause: e,
    });
  }
  const codes = reasons.map((r) => r.Code ?? 'None').join(', ');
  return new DataError(`DynamoDB state table ${table}, ${op}: transaction cancelled (${codes})`, { cause: e });
}

const conditionFailedSchema = z.object({
  name: z.literal('ConditionalCheckFailedException'),
  Item: z.record(z.string(), z.unknown()).optional(),
});

/** A failed condition on a single write, with the item as it was when ALL_OLD was asked for. */
export function conditionFailure(e: unknown): { item: Record<string, unknown> | undefined } | undefined {
  const parsed = conditionFailedSchema.safeParse(e);
  return parsed.success ? { item: parsed.data.Item } : undefined;
}
