/**
 * Statements as the Data API keeps them: submitted, run asynchronously on their own PostgreSQL session
 * (SUBMITTED → STARTED → FINISHED / FAILED / ABORTED), results kept for GetStatementResult. A batch runs in one
 * transaction; its sub-statements are `<id>:1`, `<id>:2`, …
 */
import { randomUUID } from 'node:crypto';
import type { S3Client } from '@aws-sdk/client-s3';
import type { DuckDBInstance } from '@duckdb/node-api';
import pg from 'pg';
import { copyFromS3 } from './copy-from-s3.js';
import { RedshiftSqlError, type SessionState, translate } from './translate.js';

export type Status = 'SUBMITTED' | 'STARTED' | 'FINISHED' | 'FAILED' | 'ABORTED';

export interface ResultSet {
  fields: { name: string; oid: number }[];
  rows: (string | null)[][];
}

export interface SubStatement {
  id: string;
  sql: string;
  status: Status;
  error?: string;
  createdAt: number;
  updatedAt: number;
  resultRows: number;
  result?: ResultSet;
}

export interface Statement {
  id: string;
  batch: boolean;
  subs: SubStatement[];
  status: Status;
  error?: string;
  createdAt: number;
  updatedAt: number;
  parameters: { name: string; value: string }[];
  connection: Record<string, string>;
  pid?: number;
  cancelRequested: boolean;
  done: Promise<void>;
}

export interface EngineOptions {
  connectionString: string;
  s3: S3Client;
  duckdb: DuckDBInstance;
  /** ms a statement stays SUBMITTED before it starts (makes the asynchrony observable). */
  startDelayMs: number;
}

const CANCELLED = "ERROR: Query cancelled on user's request";

/** pg hands every value back as PostgreSQL's text; the stand-in maps text to Data API fields itself. */
const rawTypes: pg.CustomTypesConfig = {
  getTypeParser: (() => (value: string) => value) as pg.CustomTypesConfig['getTypeParser'],
};

function now(): number {
  return Date.now() / 1000;
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export class StatementEngine {
  readonly statements = new Map<string, Statement>();
  hang: ((sql: string) => boolean) | undefined;
  /**
   * Batches whose SQL matches take this long to commit after their last statement: a cancel that arrives meanwhile
   * is accepted but cannot stop a commit under way, so the batch still FINISHES (as in Redshift, where a cancel
   * racing the commit loses).
   */
  slowCommit: { when: (sqls: readonly string[]) => boolean; ms: number } | undefined;

  constructor(private readonly opts: EngineOptions) {}

  submit(
    sqls: string[],
    batch: boolean,
    parameters: { name: string; value: string }[],
    connection: Record<string, string>,
  ): Statement {
    const id = randomUUID();
    const t = now();
    const st: Statement = {
      id,
      batch,
      subs: sqls.map((sql, i) => ({
        id: batch ? `${id}:${i + 1}` : id,
        sql,
        status: 'SUBMITTED',
        createdAt: t,
        updatedAt: t,
        resultRows: -1,
      })),
      status: 'SUBMITTED',
      createdAt: t,
      updatedAt: t,
      parameters,
      connection,
      cancelRequested: false,
      done: Promise.resolve(),
    };
    this.statements.set(id, st);
    st.done = new Promise<void>((resolve) => setTimeout(resolve, this.opts.startDelayMs)).then(() => this.run(st));
    return st;
  }

  /** The statement and, for `<id>:N`, the sub-statement. */
  find(id: string): { st: Statement; sub?: SubStatement } | undefined {
    const m = /^(.*):(\d+)$/.exec(id);
    if (m?.[1] && m[2]) {
      const st = this.statements.get(m[1]);
      const sub = st?.batch ? st.subs[Number(m[2]) - 1] : undefined;
      return st && sub ? { st, sub } : undefined;
    }
    const st = this.statements.get(id);
    return st ? { st } : undefined;
  }

  /** Marks the statement for cancellation and interrupts whatever its session is running. */
  async cancel(st: Statement): Promise<void> {
    st.cancelRequested = true;
    if (st.pid === undefined) return;
    const admin = new pg.Client({ connectionString: this.opts.connectionString });
    try {
      await admin.connect();
      await admin.query('SELECT pg_cancel_backend($1)', [st.pid]);
    } finally {
      await admin.end().catch(() => undefined);
    }
  }

  private async run(st: Statement): Promise<void> {
    if (st.cancelRequested) {
      this.end(st, 'ABORTED', CANCELLED, undefined);
      return;
    }
    st.status = 'STARTED';
    st.updatedAt = now();
    const client = new pg.Client({ connectionString: this.opts.connectionString, types: rawTypes });
    const session: SessionState = { lastCopyCount: -1, inTransactionBlock: st.batch };
    const params = new Map(st.parameters.map((p) => [p.name, p.value]));
    let current: SubStatement | undefined;
    try {
      await client.connect();
      const pid = await client.query<[string]>({ text: 'SELECT pg_backend_pid()', rowMode: 'array' });
      st.pid = Number(pid.rows[0]?.[0]);
      if (st.batch) await client.query('BEGIN');
      for (const sub of st.subs) {
        if (st.cancelRequested) throw new RedshiftSqlError(CANCELLED);
        current = sub;
        sub.status = 'STARTED';
        sub.updatedAt = now();
        if (this.hang?.(sub.sql)) await client.query('SELECT pg_sleep(3600)');
        const cmd = translate(sub.sql, params, session);
        if (cmd.kind === 'copy') {
          session.lastCopyCount = await copyFromS3(client, cmd, this.opts.s3, this.opts.duckdb);
          sub.resultRows = session.lastCopyCount;
        } else {
          const r = await client.query<(string | null)[]>({ text: cmd.text, values: cmd.values, rowMode: 'array' });
          if (r.fields.length > 0) {
            sub.result = { fields: r.fields.map((f) => ({ name: f.name, oid: f.dataTypeID })), rows: r.rows };
            sub.resultRows = r.rows.length;
          } else sub.resultRows = r.rowCount ?? 0;
        }
        sub.status = 'FINISHED';
        sub.updatedAt = now();
      }
      if (st.batch && this.slowCommit?.when(st.subs.map((x) => x.sql))) {
        await new Promise((resolve) => setTimeout(resolve, this.slowCommit?.ms ?? 0));
      }
      if (st.batch) await client.query('COMMIT');
      this.end(st, 'FINISHED', undefined, undefined);
    } catch (e) {
      if (st.batch) await client.query('ROLLBACK').catch(() => undefined);
      const cancelled = st.cancelRequested;
      const text = cancelled ? CANCELLED : `ERROR: ${message(e)}`;
      this.end(st, cancelled ? 'ABORTED' : 'FAILED', text, current);
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  private end(st: Statement, status: Status, error: string | undefined, failed: SubStatement | undefined): void {
    const t = now();
    st.status = status;
    st.updatedAt = t;
    if (error) st.error = error;
    for (const sub of st.subs) {
      if (sub === failed) {
        sub.status = status;
        sub.error = error;
      } else if (sub.status !== 'FINISHED') sub.status = 'ABORTED';
      sub.updatedAt = t;
    }
  }
}
