/** The Redshift warehouse's options, checked once when it is created (every problem is a ConfigError naming the option). */
import type { RedshiftDataClient } from '@aws-sdk/client-redshift-data';
import { ConfigError } from '../../errors.js';

export interface RedshiftWarehouseOptions {
  database: string;
  /** Redshift Serverless: the workgroup (auth: secretArn, or the caller's IAM identity when absent). */
  workgroupName?: string;
  /** Provisioned cluster: the cluster identifier (auth: secretArn or dbUser). */
  clusterIdentifier?: string;
  secretArn?: string;
  /** Provisioned clusters only: temporary credentials for this database user (redshift:GetClusterCredentials). */
  dbUser?: string;
  /** The role COPY assumes to read the staged files (`IAM_ROLE '…'`), or `default` for the cluster's default role. */
  iamRoleArn: string;
  region?: string;
  endpoint?: string;
  /** A ready client (tests, shared clients); not destroyed by close(). */
  client?: RedshiftDataClient;
  /** First DescribeStatement delay; doubles up to 2 s. Default 50 ms. */
  pollIntervalMs?: number;
  /** A statement still running after this long is cancelled and fails the call. Default 15 minutes. */
  statementTimeoutMs?: number;
  /**
   * Time kept back from a step's deadline for cancelling a statement and seeing it end (StepContext): a wait ends
   * this long before the invocation would be ended from outside. Default 60 s.
   */
  cancelMarginMs?: number;
  /** How JSON columns land: SUPER (default) or VARCHAR(65535). */
  jsonAs?: 'super' | 'varchar';
}

/** The connection fields every Data API call carries. */
export interface DataApiTarget {
  Database: string;
  WorkgroupName?: string;
  ClusterIdentifier?: string;
  SecretArn?: string;
  DbUser?: string;
}

export interface ResolvedOptions {
  target: DataApiTarget;
  /** Ready to splice into COPY: `'arn:…'` or `default`. Checked against a strict pattern, never escaped. */
  iamRoleSql: string;
  pollIntervalMs: number;
  maxPollIntervalMs: number;
  statementTimeoutMs: number;
  cancelMarginMs: number;
  jsonAs: 'super' | 'varchar';
}

const DEFAULT_POLL_MS = 50;
const MAX_POLL_MS = 2000;
const DEFAULT_TIMEOUT_MS = 15 * 60 * 1000;
const DEFAULT_CANCEL_MARGIN_MS = 60 * 1000;
/** IAM role ARNs: partition, 12-digit account, role path and name from IAM's own character set (no quotes). */
const ROLE_ARN_RE = /^arn:aws[a-z-]*:iam::\d{12}:role\/[A-Za-z0-9+=,.@_/-]{1,512}$/;

function present(v: string | undefined): v is string {
  return v !== undefined && v !== '';
}

function positiveInt(name: string, v: number | undefined, fallback: number): number {
  if (v === undefined) return fallback;
  if (!Number.isSafeInteger(v) || v <= 0)
    throw new ConfigError(`redshift option ${name} must be a positive integer, got ${v}`);
  return v;
}

export function resolveOptions(opts: RedshiftWarehouseOptions): ResolvedOptions {
  if (!present(opts.database)) throw new ConfigError('redshift option database is required');
  const serverless = present(opts.workgroupName);
  const cluster = present(opts.clusterIdentifier);
  if (serverless === cluster) {
    throw new ConfigError('redshift options: give exactly one of workgroupName (Serverless) or clusterIdentifier', {
      suggestion: 'Set REDSHIFT_WORKGROUP for Redshift Serverless or REDSHIFT_CLUSTER_ID for a provisioned cluster.',
    });
  }
  if (serverless && present(opts.dbUser)) {
    throw new ConfigError(
      'redshift option dbUser applies to provisioned clusters only; Serverless uses secretArn or IAM',
    );
  }
  if (cluster && present(opts.secretArn) === present(opts.dbUser)) {
    throw new ConfigError('redshift options: a cluster needs exactly one of secretArn or dbUser');
  }
  let iamRoleSql: string;
  if (opts.iamRoleArn === 'default') iamRoleSql = 'default';
  else if (ROLE_ARN_RE.test(opts.iamRoleArn)) iamRoleSql = `'${opts.iamRoleArn}'`;
  else {
    throw new ConfigError(
      `redshift option iamRoleArn ${JSON.stringify(opts.iamRoleArn)} is not an IAM role ARN (arn:aws:iam::123456789012:role/name) or "default"`,
    );
  }
  const jsonAs = opts.jsonAs ?? 'super';
  if (jsonAs !== 'super' && jsonAs !== 'varchar') {
    throw new ConfigError(`redshift option jsonAs must be super or varchar, got ${JSON.stringify(jsonAs)}`);
  }
  const target: DataApiTarget = { Database: opts.database };
  if (serverless) target.WorkgroupName = opts.workgroupName;
  if (cluster) target.ClusterIdentifier = opts.clusterIdentifier;
  if (present(opts.secretArn)) target.SecretArn = opts.secretArn;
  if (present(opts.dbUser)) target.DbUser = opts.dbUser;
  const pollIntervalMs = positiveInt('pollIntervalMs', opts.pollIntervalMs, DEFAULT_POLL_MS);
  return {
    target,
    iamRoleSql,
    pollIntervalMs,
    maxPollIntervalMs: Math.max(pollIntervalMs, MAX_POLL_MS),
    statementTimeoutMs: positiveInt('statementTimeoutMs', opts.statementTimeoutMs, DEFAULT_TIMEOUT_MS),
    cancelMarginMs: positiveInt('cancelMarginMs', opts.cancelMarginMs, DEFAULT_CANCEL_MARGIN_MS),
    jsonAs,
  };
}
