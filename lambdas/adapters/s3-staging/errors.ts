/**
 * Turns what the AWS SDK throws into StagingError: S3's own error name and message (or the network error's code),
 * the HTTP status, and the s3:// location concerned. Nothing from the request (headers, signature) is copied.
 */
import { describeError, StagingError } from '../../errors.js';

interface SdkErrorFields {
  name?: unknown;
  message?: unknown;
  code?: unknown;
  errors?: unknown;
  $metadata?: { httpStatusCode?: unknown };
}

function fields(e: unknown): SdkErrorFields {
  return typeof e === 'object' && e !== null ? (e as SdkErrorFields) : {};
}

/** S3's error code (`NoSuchKey`, `AccessDenied`, …) or the network error code (`ECONNREFUSED`, …). */
export function s3ErrorName(e: unknown): string | undefined {
  const f = fields(e);
  if (typeof f.name === 'string' && f.name !== 'Error' && f.name !== 'AggregateError') return f.name;
  return typeof f.code === 'string' ? f.code : undefined;
}

function httpStatus(e: unknown): number | undefined {
  const status = fields(e).$metadata?.httpStatusCode;
  return typeof status === 'number' ? status : undefined;
}

function messageOf(e: unknown): string {
  const f = fields(e);
  if (typeof f.message === 'string' && f.message !== '') return f.message;
  // Node reports a refused dual-stack connect as an AggregateError with an empty message.
  if (Array.isArray(f.errors) && f.errors.length > 0) return f.errors.map(describeError).join('; ');
  return describeError(e);
}

export function describeS3Error(e: unknown): string {
  const name = s3ErrorName(e);
  const message = messageOf(e);
  const status = httpStatus(e);
  const head = name !== undefined && !message.startsWith(name) ? `${name}: ${message}` : message;
  return status === undefined ? head : `${head} (HTTP ${status})`;
}

function suggestionFor(e: unknown): string {
  const status = httpStatus(e);
  const name = s3ErrorName(e);
  if (name === 'NoSuchBucket') return 'Check the bucket name and region in the pipeline s3 settings.';
  if (status === 403 || name === 'InvalidAccessKeyId' || name === 'SignatureDoesNotMatch') {
    return 'Check the credentials and the IAM permissions listed in lambdas/adapters/s3-staging/README.md.';
  }
  return 'S3 or the network may be briefly unavailable; retrying may help.';
}

/**
 * @param action what we were doing, e.g. `write` or `list`.
 * @param location the `s3://bucket/key` (or prefix) concerned.
 */
export function toHighwaterError(action: string, location: string, e: unknown): StagingError {
  if (e instanceof StagingError) return e;
  return new StagingError(`S3 staging: cannot ${action} ${location}: ${describeS3Error(e)}`, {
    cause: e,
    suggestion: suggestionFor(e),
  });
}
