/**
 * A Redshift Data API stand-in for tests: an HTTP server speaking the service's awsJson1_1 protocol
 * (`X-Amz-Target: RedshiftData.<Op>`) to the real @aws-sdk/client-redshift-data, running the SQL on a private
 * PostgreSQL. See README.md for what it implements and how it translates Redshift SQL.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { S3Client } from '@aws-sdk/client-s3';
import { DuckDBInstance } from '@duckdb/node-api';
import pg from 'pg';
import { z } from 'zod';
import { toWireField, typeName } from './pg-values.js';
import { type Statement, StatementEngine, type SubStatement } from './statements.js';

export interface RedshiftDataStandinOptions {
  /** The PostgreSQL the SQL runs on (test/support/postgres.ts). */
  connectionString: string;
  /** Where COPY reads manifests and Parquet files (the S3 stand-in). */
  s3: S3Client;
  /** Rows per GetStatementResult page (the real service pages by size); default 1000. */
  pageSize?: number;
  /** How long a statement stays SUBMITTED before it starts; default 5 ms. */
  startDelayMs?: number;
}

export interface RecordedRequest {
  operation: string;
  body: Record<string, unknown>;
}

export interface RedshiftDataStandin {
  endpoint: string;
  /** Every SQL text received, in order: ExecuteStatement's Sql and each of BatchExecuteStatement's Sqls. */
  readonly sqlLog: string[];
  /** Every request, operation and JSON body. */
  readonly requests: RecordedRequest[];
  /** Statements whose SQL matches hang (a real `pg_sleep` on their session) until cancelled. */
  hangWhen(predicate: ((sql: string) => boolean) | undefined): void;
  /**
   * Batches whose statements match commit only `ms` after their last statement, and a cancel meanwhile cannot stop
   * them (they FINISH): a cancel that loses the race with the commit.
   */
  slowCommitWhen(predicate: ((sqls: readonly string[]) => boolean) | undefined, ms?: number): void;
  /** The next `times` calls of `operation` are refused with ThrottlingException (HTTP 400), as the service throttles. */
  throttle(operation: string, times: number): void;
  stop(): Promise<void>;
}

/** Redshift-only types and functions that PostgreSQL can carry as they are: no text rewriting needed. */
const BOOTSTRAP_SQL = `
DO $$ BEGIN
  IF to_regtype('public.super') IS NULL THEN CREATE DOMAIN public.super AS jsonb; END IF;
  IF to_regtype('public.varbyte') IS NULL THEN CREATE DOMAIN public.varbyte AS bytea; END IF;
END $$;
CREATE OR REPLACE FUNCTION public.json_parse(text) RETURNS jsonb LANGUAGE sql IMMUTABLE STRICT AS 'SELECT $1::jsonb';
CREATE OR REPLACE FUNCTION public.getdate() RETURNS timestamp LANGUAGE sql STABLE AS 'SELECT now()::timestamp';
CREATE OR REPLACE FUNCTION public.strtol(text, integer) RETURNS bigint LANGUAGE plpgsql IMMUTABLE STRICT AS $$
BEGIN
  IF $2 <> 16 THEN RAISE EXCEPTION 'the stand-in''s STRTOL takes base 16 only'; END IF;
  IF length($1) > 15 THEN RAISE EXCEPTION 'the stand-in''s STRTOL takes at most 15 hex digits'; END IF;
  RETURN ('x' || lpad($1, 16, '0'))::bit(64)::bigint;
END $$;
CREATE OR REPLACE FUNCTION public.json_serialize(jsonb) RETURNS text LANGUAGE sql IMMUTABLE STRICT AS 'SELECT $1::text';
CREATE OR REPLACE FUNCTION public.to_hex(bytea) RETURNS text LANGUAGE sql IMMUTABLE STRICT AS 'SELECT encode($1, ''hex'')';
CREATE OR REPLACE FUNCTION public.from_hex(text) RETURNS bytea LANGUAGE sql IMMUTABLE STRICT AS 'SELECT decode($1, ''hex'')';
`;

class ServiceError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly extra: Record<string, string> = {},
  ) {
    super(message);
  }
}

const Connection = {
  Database: z.string().min(1),
  WorkgroupName: z.string().min(1).optional(),
  ClusterIdentifier: z.string().min(1).optional(),
  SecretArn: z.string().min(1).optional(),
  DbUser: z.string().min(1).optional(),
};
const ExecuteInput = z.object({
  ...Connection,
  ClientToken: z.string().min(1).max(64).optional(),
  Sql: z.string().min(1),
  Parameters: z
    .array(z.object({ name: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), value: z.string().min(1) }))
    .optional(),
});
const BatchInput = z.object({
  ...Connection,
  ClientToken: z.string().min(1).max(64).optional(),
  Sqls: z.array(z.string().min(1)).min(1).max(40),
});

/** "The maximum retention time for a client token used in ExecuteStatement or BatchExecuteStatement is 8 hours." */
const CLIENT_TOKEN_RETENTION_MS = 8 * 60 * 60 * 1000;
const IdInput = z.object({ Id: z.string().min(1) });
const ResultInput = z.object({ Id: z.string().min(1), NextToken: z.string().optional() });

function parse<T>(schema: z.ZodType<T>, body: unknown): T {
  const r = schema.safeParse(body);
  if (!r.success)
    throw new ServiceError(
      'ValidationException',
      r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
    );
  return r.data;
}

function connectionOf(input: z.infer<typeof BatchInput> | z.infer<typeof ExecuteInput>): Record<string, string> {
  if ((input.WorkgroupName === undefined) === (input.ClusterIdentifier === undefined)) {
    throw new ServiceError(
      'ValidationException',
      'Either ClusterIdentifier or WorkgroupName must be specified, not both',
    );
  }
  if (input.WorkgroupName !== undefined && input.DbUser !== undefined) {
    throw new ServiceError('ValidationException', 'DbUser is not supported for Redshift Serverless workgroups');
  }
  const out: Record<string, string> = { Database: input.Database };
  for (const k of ['WorkgroupName', 'ClusterIdentifier', 'SecretArn', 'DbUser'] as const) {
    const v = input[k];
    if (v !== undefined) out[k] = v;
  }
  return out;
}

function describeSub(sub: SubStatement): Record<string, unknown> {
  return {
    Id: sub.id,
    Status: sub.status,
    QueryString: sub.sql,
    ...(sub.error ? { Error: sub.error } : {}),
    HasResultSet: sub.result !== undefined,
    ResultRows: sub.resultRows,
    ResultSize: sub.result ? JSON.stringify(sub.result.rows).length : 0,
    CreatedAt: sub.createdAt,
    UpdatedAt: sub.updatedAt,
    Duration: Math.round((sub.updatedAt - sub.createdAt) * 1e9),
  };
}

function describe(st: Statement, sub: SubStatement | undefined): Record<string, unknown> {
  if (sub) return { ...st.connection, ...describeSub(sub) };
  const single = st.batch ? undefined : st.subs[0];
  return {
    ...st.connection,
    Id: st.id,
    Status: st.status,
    ...(st.error ? { Error: st.error } : {}),
    CreatedAt: st.createdAt,
    UpdatedAt: st.updatedAt,
    Duration: Math.round((st.updatedAt - st.createdAt) * 1e9),
    ...(st.pid === undefined ? {} : { RedshiftPid: st.pid }),
    QueryString: st.batch ? st.subs.map((s) => s.sql).join('; ') : (single?.sql ?? ''),
    HasResultSet: single?.result !== undefined,
    ResultRows: st.batch ? st.subs.reduce((n, s) => n + Math.max(0, s.resultRows), 0) : (single?.resultRows ?? -1),
    ...(st.parameters.length ? { QueryParameters: st.parameters } : {}),
    ...(st.batch ? { SubStatements: st.subs.map(describeSub) } : {}),
  };
}

export async function startRedshiftDataStandin(opts: RedshiftDataStandinOptions): Promise<RedshiftDataStandin> {
  const admin = new pg.Client({ connectionString: opts.connectionString });
  await admin.connect();
  try {
    await admin.query(BOOTSTRAP_SQL);
  } finally {
    await admin.end();
  }
  const duckdb = await DuckDBInstance.create(':memory:');
  const engine = new StatementEngine({
    connectionString: opts.connectionString,
    s3: opts.s3,
    duckdb,
    startDelayMs: opts.startDelayMs ?? 5,
  });
  const pageSize = opts.pageSize ?? 1000;
  const sqlLog: string[] = [];
  const requests: RecordedRequest[] = [];
  const tokens = new Map<string, { id: string; at: number }>();
  const throttled = new Map<string, number>();

  /**
   * Idempotency (https://docs.aws.amazon.com/redshift/latest/mgmt/data-api.html, "Running SQL statements with an
   * idempotency token"): a request repeating a ClientToken seen within 8 hours returns the first statement and runs
   * nothing. (The SDK sends a fresh token with every call, and the same one when it retries that call.)
   */
  function submitOnce(token: string | undefined, submit: () => Statement): Statement {
    const seen = token === undefined ? undefined : tokens.get(token);
    if (seen && Date.now() - seen.at < CLIENT_TOKEN_RETENTION_MS) {
      const st = engine.statements.get(seen.id);
      if (st) return st;
    }
    const st = submit();
    if (token !== undefined) tokens.set(token, { id: st.id, at: Date.now() });
    return st;
  }

  function lookup(id: string): { st: Statement; sub?: SubStatement } {
    const found = engine.find(id);
    if (!found) throw new ServiceError('ResourceNotFoundException', `Query does not exist: ${id}`, { ResourceId: id });
    return found;
  }

  async function handle(operation: string, body: unknown): Promise<unknown> {
    switch (operation) {
      case 'ExecuteStatement': {
        const input = parse(ExecuteInput, body);
        const connection = connectionOf(input);
        const st = submitOnce(input.ClientToken, () => {
          sqlLog.push(input.Sql);
          return engine.submit([input.Sql], false, input.Parameters ?? [], connection);
        });
        return { Id: st.id, CreatedAt: st.createdAt, ...connection };
      }
      case 'BatchExecuteStatement': {
        const input = parse(BatchInput, body);
        const connection = connectionOf(input);
        const st = submitOnce(input.ClientToken, () => {
          sqlLog.push(...input.Sqls);
          return engine.submit(input.Sqls, true, [], connection);
        });
        return { Id: st.id, CreatedAt: st.createdAt, ...connection };
      }
      case 'DescribeStatement': {
        const { st, sub } = lookup(parse(IdInput, body).Id);
        return describe(st, sub);
      }
      case 'CancelStatement': {
        const { st } = lookup(parse(IdInput, body).Id);
        if (st.status !== 'SUBMITTED' && st.status !== 'STARTED') {
          throw new ServiceError(
            'ValidationException',
            `Could not cancel a query that is already in ${st.status} state.`,
          );
        }
        await engine.cancel(st);
        return { Status: true };
      }
      case 'GetStatementResult': {
        const input = parse(ResultInput, body);
        const { st, sub: found } = lookup(input.Id);
        const sub = found ?? (st.batch ? undefined : st.subs[0]);
        if (!sub)
          throw new ServiceError('ValidationException', `${input.Id} is a batch: ask for <id>:N, the N-th statement`);
        if (sub.status !== 'FINISHED' || !sub.result) {
          throw new ServiceError(
            'ValidationException',
            'Query does not have result. Please check query status with DescribeStatement.',
          );
        }
        const offset =
          input.NextToken === undefined ? 0 : Number(Buffer.from(input.NextToken, 'base64').toString('utf8'));
        if (!Number.isSafeInteger(offset) || offset < 0 || offset > sub.result.rows.length) {
          throw new ServiceError('ValidationException', 'Invalid NextToken');
        }
        const { fields, rows } = sub.result;
        const page = rows.slice(offset, offset + pageSize);
        const next = offset + page.length;
        return {
          Records: page.map((row) => row.map((v, i) => toWireField(v, fields[i]?.oid ?? 25))),
          ColumnMetadata: fields.map((f) => ({ name: f.name, label: f.name, typeName: typeName(f.oid) })),
          TotalNumRows: rows.length,
          ...(next < rows.length ? { NextToken: Buffer.from(String(next)).toString('base64') } : {}),
        };
      }
      default:
        throw new ServiceError('UnknownOperationException', `the stand-in does not implement ${operation}`);
    }
  }

  function send(res: ServerResponse, status: number, body: unknown, errorType?: string): void {
    const text = JSON.stringify(body);
    res.writeHead(status, {
      'content-type': 'application/x-amz-json-1.1',
      'content-length': Buffer.byteLength(text),
      ...(errorType ? { 'x-amzn-errortype': errorType } : {}),
    });
    res.end(text);
  }

  async function onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const target = String(req.headers['x-amz-target'] ?? '');
    const operation = target.startsWith('RedshiftData.') ? target.slice('RedshiftData.'.length) : target;
    try {
      const body: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
      requests.push({ operation, body: (body ?? {}) as Record<string, unknown> });
      const refusals = throttled.get(operation) ?? 0;
      if (refusals > 0) {
        throttled.set(operation, refusals - 1);
        throw new ServiceError('ThrottlingException', 'Rate exceeded');
      }
      send(res, 200, await handle(operation, body));
    } catch (e) {
      if (e instanceof ServiceError) {
        send(res, 400, { __type: e.type, Message: e.message, message: e.message, ...e.extra }, e.type);
      } else {
        const text = e instanceof Error ? e.message : String(e);
        send(res, 500, { __type: 'InternalServerException', Message: text, message: text }, 'InternalServerException');
      }
    }
  }

  const server = createServer((req, res) => {
    void onRequest(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    endpoint: `http://127.0.0.1:${port}`,
    sqlLog,
    requests,
    hangWhen(predicate) {
      engine.hang = predicate;
    },
    slowCommitWhen(predicate, ms = 1000) {
      engine.slowCommit = predicate ? { when: predicate, ms } : undefined;
    },
    throttle(operation, times) {
      throttled.set(operation, times);
    },
    async stop() {
      for (const st of engine.statements.values()) {
        if (st.status === 'SUBMITTED' || st.status === 'STARTED') await engine.cancel(st).catch(() => undefined);
      }
      await Promise.allSettled([...engine.statements.values()].map((st) => st.done));
      await new Promise<void>((resolve) => server.close(() => resolve()));
      duckdb.closeSync();
    },
  };
}
