/**
 * The Redshift Data API as the warehouse uses it: submit (ExecuteStatement / BatchExecuteStatement), poll
 * DescribeStatement with doubling back-off until the statement ends, cancel it past the timeout, and read results
 * page by page. Every failure becomes a WarehouseError carrying Redshift's own message and the failing statement.
 */
import {
  BatchExecuteStatementCommand,
  CancelStatementCommand,
  DescribeStatementCommand,
  type DescribeStatementResponse,
  ExecuteStatementCommand,
  type Field,
  GetStatementResultCommand,
  type RedshiftDataClient,
  type SqlParameter,
  type SubStatementData,
} from '@aws-sdk/client-redshift-data';
import { describeError, HighwaterError, WarehouseError } from '../../errors.js';
import type { ResolvedOptions } from './options.js';

/** The Data API's limit on statements in one BatchExecuteStatement. */
export const MAX_BATCH_STATEMENTS = 40;
const SQL_IN_MESSAGE = 300;

export interface ResultSet {
  columns: string[];
  rows: Field[][];
}

export interface Finished {
  id: string;
  description: DescribeStatementResponse;
}

function abbreviate(sql: string): string {
  const flat = sql.replace(/\s+/g, ' ').trim();
  return flat.length > SQL_IN_MESSAGE ? `${flat.slice(0, SQL_IN_MESSAGE)}…` : flat;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Which statement failed and what Redshift said, from a FAILED / ABORTED description. */
export function failureDetail(d: DescribeStatementResponse, sqls: readonly string[]): string {
  const subs: SubStatementData[] = d.SubStatements ?? [];
  const failedIndex = subs.findIndex((s) => s.Status === 'FAILED' || (s.Status === 'ABORTED' && s.Error));
  const sub = failedIndex >= 0 ? subs[failedIndex] : undefined;
  const message = sub?.Error || d.Error || `statement ${d.Status?.toLowerCase() ?? 'ended'} without an error message`;
  if (sqls.length > 1) {
    const where =
      failedIndex >= 0
        ? `statement ${failedIndex + 1} of ${sqls.length} (${abbreviate(sqls[failedIndex] ?? '')})`
        : `a batch of ${sqls.length} statements`;
    return `${where} failed: ${message}`;
  }
  return `${abbreviate(sqls[0] ?? '')} failed: ${message}`;
}

export class DataApi {
  constructor(
    private readonly client: RedshiftDataClient,
    private readonly opts: ResolvedOptions,
  ) {}

  /** Runs one statement with named parameters and waits for it. */
  async execute(context: string, sql: string, parameters: SqlParameter[] = []): Promise<Finished> {
    const out = await this.call(context, () =>
      this.client.send(
        new ExecuteStatementCommand({
          ...this.opts.target,
          Sql: sql,
          ...(parameters.length ? { Parameters: parameters } : {}),
        }),
      ),
    );
    return this.wait(context, this.requireId(context, out.Id), [sql]);
  }

  /** Runs statements as one transaction (BatchExecuteStatement) and waits for it. */
  async batch(context: string, sqls: readonly string[]): Promise<Finished> {
    if (sqls.length === 0 || sqls.length > MAX_BATCH_STATEMENTS) {
      throw new WarehouseError(
        `${context}: a Data API batch takes 1–${MAX_BATCH_STATEMENTS} statements, this one has ${sqls.length}`,
      );
    }
    const out = await this.call(context, () =>
      this.client.send(new BatchExecuteStatementCommand({ ...this.opts.target, Sqls: [...sqls] })),
    );
    return this.wait(context, this.requireId(context, out.Id), sqls);
  }

  /** All rows of a finished statement (or of `id:N`, the N-th statement of a batch), every page. */
  async results(context: string, id: string): Promise<ResultSet> {
    const rows: Field[][] = [];
    let columns: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.call(context, () =>
        this.client.send(new GetStatementResultCommand({ Id: id, ...(token ? { NextToken: token } : {}) })),
      );
      if (page.ColumnMetadata) columns = page.ColumnMetadata.map((c, i) => c.label || c.name || `column${i + 1}`);
      rows.push(...(page.Records ?? []));
      token = page.NextToken || undefined;
    } while (token);
    return { columns, rows };
  }

  /** Executes `sql` and returns its rows. */
  async select(context: string, sql: string, parameters: SqlParameter[] = []): Promise<ResultSet> {
    const done = await this.execute(context, sql, parameters);
    if (!done.description.HasResultSet) return { columns: [], rows: [] };
    return this.results(context, done.id);
  }

  private requireId(context: string, id: string | undefined): string {
    if (!id) throw new WarehouseError(`${context}: the Data API returned no statement id`);
    return id;
  }

  private async wait(context: string, id: string, sqls: readonly string[]): Promise<Finished> {
    const deadline = Date.now() + this.opts.statementTimeoutMs;
    let delay = this.opts.pollIntervalMs;
    for (;;) {
      const d = await this.call(context, () => this.client.send(new DescribeStatementCommand({ Id: id })));
      if (d.Status === 'FINISHED') return { id, description: d };
      if (d.Status === 'FAILED' || d.Status === 'ABORTED') {
        throw new WarehouseError(`${context}: ${failureDetail(d, sqls)}`);
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        const cancelled = await this.cancel(id);
        throw new WarehouseError(
          `${context}: ${sqls.length > 1 ? `a batch of ${sqls.length} statements` : abbreviate(sqls[0] ?? '')} did not finish within ${this.opts.statementTimeoutMs} ms; ${cancelled}`,
          {
            suggestion:
              'Check the warehouse for locks or load (SVV_TRANSACTIONS, STV_RECENTS), or raise statementTimeoutMs.',
          },
        );
      }
      await sleep(Math.min(delay, left));
      delay = Math.min(delay * 2, this.opts.maxPollIntervalMs);
    }
  }

  private async cancel(id: string): Promise<string> {
    try {
      await this.client.send(new CancelStatementCommand({ Id: id }));
      return `statement ${id} was cancelled`;
    } catch (e) {
      return `cancelling statement ${id} failed too (${describeError(e)})`;
    }
  }

  /** One Data API call; SDK and network errors become WarehouseErrors that keep the service's message. */
  private async call<T>(context: string, send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (e) {
      if (e instanceof HighwaterError) throw e;
      const name = e instanceof Error ? e.name : 'Error';
      throw new WarehouseError(`${context}: Redshift Data API ${name}: ${describeError(e)}`, { cause: e });
    }
  }
}
