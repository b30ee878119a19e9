/**
 * One error base for the whole runtime. `code` is stable and machine-readable, `exitCode` follows the CLI contract
 * of the old tool (0 ok, 1 config, 2 connection, 3 partial, 4 data, 5 staging/S3, 6 warehouse/Redshift), and
 * `transient` decides whether a step may be retried (Step Functions Retry matches on `name`).
 */
import type { LeaseOwner } from './domain/records.js';

export const ExitCode = {
  ok: 0,
  config: 1,
  connection: 2,
  partial: 3,
  data: 4,
  staging: 5,
  warehouse: 6,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export interface HighwaterErrorOptions extends ErrorOptions {
  /** What the user can do about it, printed under the message. */
  suggestion?: string;
  /** Overrides the class's default retry classification (e.g. S3 AccessDenied is a StagingError that is not transient). */
  transient?: boolean;
}

export class HighwaterError extends Error {
  readonly code: string = 'HIGHWATER_ERROR';
  /** The class's exit code: static, so an error known only by its name (a remote step's `Error`) maps too. */
  static readonly exitCode: ExitCode = ExitCode.data;
  /** Whether a retry may succeed; from the options, else the class's `transientByDefault`. */
  readonly transient: boolean;
  readonly suggestion: string | undefined;
  static readonly transientByDefault: boolean = false;

  constructor(message: string, options: HighwaterErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.suggestion = options.suggestion;
    this.transient = options.transient ?? (new.target as typeof HighwaterError).transientByDefault;
  }

  get exitCode(): ExitCode {
    return (this.constructor as typeof HighwaterError).exitCode;
  }

  toJSON(): Record<string, unknown> {
    return { name: this.name, code: this.code, message: this.message, suggestion: this.suggestion };
  }
}

/** Bad configuration or command-line input: a file, line and key are named in the message. */
export class ConfigError extends HighwaterError {
  override readonly code: string = 'CONFIG';
  static override readonly exitCode: ExitCode = ExitCode.config;
}

/** The source (or a tunnel to it) could not be reached; worth retrying. */
export class ConnectionError extends HighwaterError {
  override readonly code: string = 'CONNECTION';
  static override readonly exitCode: ExitCode = ExitCode.connection;
  static override readonly transientByDefault: boolean = true;
}

/** The data itself is wrong for the requested operation: missing column, no primary key, count mismatch. */
export class DataError extends HighwaterError {
  override readonly code: string = 'DATA';
  static override readonly exitCode: ExitCode = ExitCode.data;
}

/** A statement the source refused, with MySQL's error code (e.g. ER_SPECIFIC_ACCESS_DENIED_ERROR) for callers to test. */
export class SourceStatementError extends DataError {
  override readonly code: string = 'SOURCE_STATEMENT';
  readonly mysqlCode: string;
  constructor(message: string, mysqlCode: string, options: HighwaterErrorOptions = {}) {
    super(message, options);
    this.mysqlCode = mysqlCode;
  }
}

/** The source's schema changed in a way the warehouse cannot follow in place (a narrowing or a new type). */
export class SchemaChangeError extends DataError {
  override readonly code: string = 'SCHEMA_CHANGE';
}

/** Row counts disagree between two hand-offs (read → Parquet → staged → loaded). Never retried blindly. */
export class CountMismatchError extends DataError {
  override readonly code: string = 'COUNT_MISMATCH';
}

/**
 * An extract step reached its deadline without anything it could hand on: no row read before the safety margin
 * (the range cannot be read within one step), or a range that cannot be cut at a key (custom_sql, no primary key).
 * Retrying the same range would fail the same way, so it is not transient.
 */
export class ChunkDeadlineError extends DataError {
  override readonly code: string = 'CHUNK_DEADLINE';
}

/** Staging (local disk or S3) failed. */
export class StagingError extends HighwaterError {
  override readonly code: string = 'STAGING';
  static override readonly exitCode: ExitCode = ExitCode.staging;
  static override readonly transientByDefault: boolean = true;
}

/** The warehouse (DuckDB or Redshift) refused or failed a statement. */
export class WarehouseError extends HighwaterError {
  override readonly code: string = 'WAREHOUSE';
  static override readonly exitCode: ExitCode = ExitCode.warehouse;
}

/** Another run holds the lease on this (pipeline, table, target). */
export class LeaseHeldError extends HighwaterError {
  override readonly code: string = 'LEASE_HELD';
  static override readonly exitCode: ExitCode = ExitCode.partial;
  readonly holder: string;
  readonly expiresAt: string;
  /** The holder's process when the lease recorded one. */
  readonly owner: LeaseOwner | null;
  constructor(key: string, holder: string, expiresAt: string, owner: LeaseOwner | null = null) {
    const by = owner ? `, process ${owner.pid} on ${owner.host}` : '';
    super(`${key} is being synced by run ${holder}${by} (lease until ${expiresAt}); refusing a second concurrent run`, {
      suggestion:
        'Wait for that run to finish. If its process is gone, `highwater lease release -t TABLE` frees the lease ' +
        '(`highwater lease list` shows every lease); otherwise it expires at the time above.',
    });
    this.holder = holder;
    this.expiresAt = expiresAt;
    this.owner = owner;
  }
}

/** The run lost its lease (expired and taken over) before it could commit: nothing is committed. */
export class LeaseLostError extends HighwaterError {
  override readonly code: string = 'LEASE_LOST';
  static override readonly exitCode: ExitCode = ExitCode.partial;
}

/**
 * Another Load attempt holds the load of this table (a retried invocation whose first still runs, or an earlier
 * run's load that has not ended). Transient: a later attempt finds it released or expired.
 */
export class LoadClaimHeldError extends HighwaterError {
  override readonly code: string = 'LOAD_CLAIM_HELD';
  static override readonly exitCode: ExitCode = ExitCode.warehouse;
  static override readonly transientByDefault: boolean = true;
}

/** This Load attempt's claim was taken over by a later attempt: it submits nothing more. */
export class LoadClaimLostError extends HighwaterError {
  override readonly code: string = 'LOAD_CLAIM_LOST';
  static override readonly exitCode: ExitCode = ExitCode.warehouse;
}

/** Every class a step can fail with, by name: what `exitCodeOfErrorName` reads. */
const ERROR_CLASSES: readonly { readonly name: string; readonly exitCode: ExitCode }[] = [
  HighwaterError,
  ConfigError,
  ConnectionError,
  DataError,
  SourceStatementError,
  SchemaChangeError,
  CountMismatchError,
  ChunkDeadlineError,
  StagingError,
  WarehouseError,
  LeaseHeldError,
  LeaseLostError,
  LoadClaimHeldError,
  LoadClaimLostError,
];

/**
 * The exit code of an error known only by its name, as Step Functions reports it (`StagingError.Permanent` is a
 * StagingError the state machine must not retry); a ZodError is bad input. Null for a name that is not ours.
 */
export function exitCodeOfErrorName(name: string | null | undefined): ExitCode | null {
  if (!name) return null;
  const base = name.replace(/\.Permanent$/, '');
  if (base === 'ZodError') return ExitCode.config;
  return ERROR_CLASSES.find((c) => c.name === base)?.exitCode ?? null;
}

export function isHighwaterError(e: unknown): e is HighwaterError {
  return e instanceof HighwaterError;
}

export function describeError(e: unknown): string {
  if (e instanceof Error) return e.message;
  return String(e);
}
