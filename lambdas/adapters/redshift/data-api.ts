/**
 * The Redshift Data API as the warehouse uses it: submit (ExecuteStatement / BatchExecuteStatement), poll
 * DescribeStatement with doubling back-off until the statement ends, and read results page by page. A statement
 * keeps running in Redshift after its caller is gone, so no wait outlasts the step's deadline (StepContext): at the
 * deadline (or the statement timeout) the statement is cancelled and watched until it ends, and one that still
 * FINISHED committed (docs/decisions/0006-load-runs-once.md). Every failure becomes a WarehouseError carrying
 * Redshift's own message and the failing statement; throttling and server faults are transient.
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
import { NO_DEADLINE, type StepContext } from '../../ports/step-context.js';
import type { ResolvedOptions } from './options.js';

/** The Data API's limit on statements in one BatchExecuteStatement. */
export const MAX_BATCH_STATEMENTS = 40;
/**
 * "The maximum query statement size is 100 KB" (https://docs.aws.amazon.com/redshift/latest/mgmt/data-api.html,
 * Considerations): a longer statement is refused here, naming it, before anything is sent.
 */
export const MAX_STATEMENT_BYTES = 100 * 1024;
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

/**
 * Errors worth another try: the Data API's throttling (ThrottlingException, HTTP 400, in the Data API reference's
 * Common Errors, https://docs.aws.amazon.com/redshift-data/latest/APIReference/CommonErrors.html) and its own limits
 * on statements and sessions running at once, under every name the SDK gives throttling (its retry strategy's list:
 * THROTTLING_ERROR_CODES in @smithy/service-error-classification); server faults (5xx); dropped connections.
 */
const TRANSIENT_NAMES: ReadonlySet<string> = new Set([
  'ThrottlingException',
  'Throttling',
  'ThrottledException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'LimitExceededException',
  'ActiveStatementsExceededException',
  'ActiveSessionsExceededException',
  'InternalServerException',
  'ServiceUnavailableException',
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
]);
const TRANSIENT_CODES: ReadonlySet<string> = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN']);

interface SdkErrorShape {
  name?: unknown;
  code?: unknown;
  $metadata?: { httpStatusCode?: unknown };
  $retryable?: { throttling?: unknown };
}

/** Whether a failed Data API call may succeed when tried again (see TRANSIENT_NAMES). */
export function isTransientDataApiError(e: unknown): boolean {
  if (typeof e !== 'object' || e === null) return false;
  const err = e as SdkErrorShape;
  if (typeof err.name === 'string' && TRANSIENT_NAMES.has(err.name)) return true;
  if (typeof err.code === 'string' && TRANSIENT_CODES.has(err.code)) return true;
  if (err.$retryable?.throttling === true) return true;
  const status = err.$metadata?.httpStatusCode;
  return typeof status === 'number' && status >= 500;
}

const TERMINAL: ReadonlySet<string> = new Set(['FINISHED', 'FAILED', 'ABORTED']);

/** Whether a DescribeStatement status is final. */
export function isTerminal(status: string | undefined): boolean {
  return status !== undefined && TERMINAL.has(status);
}

/** What a load does right after a statement is submitted and before it waits: records the id in the ledger. */
export type OnSubmitted = (id: string) => Promise<void>;

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

function checkStatementSize(context: string, sqls: readonly string[]): void {
  for (const [i, sql] of sqls.entries()) {
    const bytes = Buffer.byteLength(sql, 'utf8');
    if (bytes <= MAX_STATEMENT_BYTES) continue;
    const which = sqls.length > 1 ? `statement ${i + 1} of ${sqls.length} (${abbreviate(sql)})` : abbreviate(sql);
    throw new WarehouseError(
      `${context}: ${which} is ${bytes} bytes, more than the Data API's ${MAX_STATEMENT_BYTES}-byte statement limit; nothing was sent`,
      { suggestion: 'A table this wide needs fewer columns per load: leave some out with a custom_query.' },
    );
  }
}

export class DataApi {
  /**
   * Statements this instance cancelled or gave up on that had not ended when it last looked: a load whose wait ends
   * with any here must not release its claim (a later attempt settles them).
   */
  readonly unsettled = new Set<string>();

  constructor(
    private readonly client: RedshiftDataClient,
    private readonly opts: ResolvedOptions,
    private readonly step: StepContext = NO_DEADLINE,
  ) {}

  /** The same client and options, bounded by another step's deadline. */
  withStep(step: StepContext): DataApi {
    return new DataApi(this.client, this.opts, step);
  }

  /** Runs one statement with named parameters and waits for it. */
  async execute(
    context: string,
    sql: string,
    parameters: SqlParameter[] = [],
    onSubmitted?: OnSubmitted,
  ): Promise<Finished> {
    checkStatementSize(context, [sql]);
    this.ensureTime(context, abbreviate(sql));
    const out = await this.call(context, () =>
      this.client.send(
        new ExecuteStatementCommand({
          ...this.opts.target,
          Sql: sql,
          ...(parameters.length ? { Parameters: parameters } : {}),
        }),
      ),
    );
    const id = this.requireId(context, out.Id);
    await this.afterSubmit(context, id, onSubmitted);
    return this.wait(context, id, [sql]);
  }

  /** Runs statements as one transaction (BatchExecuteStatement) and waits for it. */
  async batch(context: string, sqls: readonly string[], onSubmitted?: OnSubmitted): Promise<Finished> {
    if (sqls.length === 0 || sqls.length > MAX_BATCH_STATEMENTS) {
      throw new WarehouseError(
        `${context}: a Data API batch takes 1–${MAX_BATCH_STATEMENTS} statements, this one has ${sqls.length}`,
      );
    }
    checkStatementSize(context, sqls);
    this.ensureTime(context, `a batch of ${sqls.length} statements`);
    const out = await this.call(context, () =>
      this.client.send(new BatchExecuteStatementCommand({ ...this.opts.target, Sqls: [...sqls] })),
    );
    const id = this.requireId(context, out.Id);
    await this.afterSubmit(context, id, onSubmitted);
    return this.wait(context, id, sqls);
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

  /** A statement's description, or undefined when the Data API no longer knows it (older than its retention). */
  async describe(context: string, id: string): Promise<DescribeStatementResponse | undefined> {
    try {
      return await this.client.send(new DescribeStatementCommand({ Id: id }));
    } catch (e) {
      if (e instanceof Error && e.name === 'ResourceNotFoundException') return undefined;
      throw this.translate(context, e);
    }
  }

  /**
   * Sees a statement submitted by an earlier invocation to its end: waits for it within this step's deadline and
   * the statement timeout, cancelling it there. The final description (undefined: unknown to the Data API).
   */
  async settle(context: string, id: string): Promise<DescribeStatementResponse | undefined> {
    const d = await this.describe(context, id);
    if (!d || isTerminal(d.Status)) return d;
    return this.waitFor(context, id, this.waitBudgetMs());
  }

  /** Cancels a statement an earlier invocation left running and watches it end (FINISHED if it committed first). */
  async cancelAndSettle(context: string, id: string): Promise<DescribeStatementResponse | undefined> {
    const d = await this.describe(context, id);
    if (!d || isTerminal(d.Status)) return d;
    return this.waitFor(context, id, 0);
  }

  private requireId(context: string, id: string | undefined): string {
    if (!id) throw new WarehouseError(`${context}: the Data API returned no statement id`);
    return id;
  }

  /** How long a wait may last: the statement timeout, or the step's remaining time less the cancel margin. */
  private waitBudgetMs(): number {
    return Math.min(this.opts.statementTimeoutMs, this.step.remainingMs() - this.opts.cancelMarginMs);
  }

  /** Refuses to submit what this invocation would have no time to wait for or cancel. */
  private ensureTime(context: string, what: string): void {
    const left = this.step.remainingMs();
    if (left - this.opts.cancelMarginMs > 0) return;
    throw new WarehouseError(
      `${context}: ${what} was not submitted: this invocation has ${Math.max(0, Math.round(left))} ms left, within the ${this.opts.cancelMarginMs} ms kept for cancelling`,
      { transient: true, suggestion: 'A retried step starts with its full time.' },
    );
  }

  /** The ledger hook: if it fails, the statement is cancelled (and watched to its end) before the error goes on. */
  private async afterSubmit(context: string, id: string, onSubmitted: OnSubmitted | undefined): Promise<void> {
    if (!onSubmitted) return;
    try {
      await onSubmitted(id);
    } catch (e) {
      await this.waitFor(context, id, 0).catch(() => undefined);
      throw e;
    }
  }

  private async wait(context: string, id: string, sqls: readonly string[]): Promise<Finished> {
    const budget = this.waitBudgetMs();
    const d = await this.waitFor(context, id, budget);
    if (d?.Status === 'FINISHED') return { id, description: d };
    const what = sqls.length > 1 ? `a batch of ${sqls.length} statements` : abbreviate(sqls[0] ?? '');
    if (d && (d.Status === 'FAILED' || d.Status === 'ABORTED') && !this.cancelled.has(id)) {
      throw new WarehouseError(`${context}: ${failureDetail(d, sqls)}`);
    }
    const limit =
      budget >= this.opts.statementTimeoutMs
        ? `within the statement timeout of ${this.opts.statementTimeoutMs} ms`
        : `within the ${Math.max(0, Math.round(budget))} ms this invocation had for it (its deadline less ${this.opts.cancelMarginMs} ms for cancelling)`;
    const outcome = this.unsettled.has(id)
      ? `statement ${id} was cancelled but had not ended when the wait had to stop, so it may still commit (a load records it, and the next load of the table waits for it)`
      : `statement ${id} was cancelled and rolled back: nothing of it committed`;
    throw new WarehouseError(`${context}: ${what} did not finish ${limit}; ${outcome}`, {
      suggestion:
        'Check the warehouse for locks or load (SVV_TRANSACTIONS, STV_RECENTS); load fewer runs at once, or raise statementTimeoutMs.',
    });
  }

  private readonly cancelled = new Set<string>();

  /**
   * Polls until the statement ends or `budgetMs` passes; then cancels it and polls on until it ends, for at most
   * the cancel margin (and never past the step's deadline). A poll the Data API throttles is tried again. Returns
   * the last description seen; an id still running at the end is left in `unsettled`.
   */
  private async waitFor(context: string, id: string, budgetMs: number): Promise<DescribeStatementResponse | undefined> {
    let deadline = Date.now() + Math.max(0, budgetMs);
    let delay = this.opts.pollIntervalMs;
    let last: DescribeStatementResponse | undefined;
    for (;;) {
      try {
        last = await this.describe(context, id);
        if (!last || isTerminal(last.Status)) {
          this.unsettled.delete(id);
          return last;
        }
      } catch (e) {
        if (!(e instanceof WarehouseError && e.transient)) throw e;
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        if (this.cancelled.has(id)) {
          this.unsettled.add(id);
          return last;
        }
        this.cancelled.add(id);
        this.unsettled.add(id);
        await this.cancel(id);
        // After the cancel: until it ends, within the margin, keeping a tenth of it to report before the deadline.
        const reserve = this.opts.cancelMarginMs / 10;
        deadline = Date.now() + Math.max(0, Math.min(this.opts.cancelMarginMs, this.step.remainingMs() - reserve));
        delay = this.opts.pollIntervalMs;
        continue;
      }
      await sleep(Math.min(delay, left));
      delay = Math.min(delay * 2, this.opts.maxPollIntervalMs);
    }
  }

  private async cancel(id: string): Promise<void> {
    try {
      await this.client.send(new CancelStatementCommand({ Id: id }));
    } catch {
      // A statement that ended meanwhile cannot be cancelled (ValidationException): the next describe shows how.
    }
  }

  private translate(context: string, e: unknown): Error {
    if (e instanceof HighwaterError) return e;
    const name = e instanceof Error ? e.name : 'Error';
    return new WarehouseError(`${context}: Redshift Data API ${name}: ${describeError(e)}`, {
      cause: e,
      transient: isTransientDataApiError(e),
    });
  }

  /** One Data API call; SDK and network errors become WarehouseErrors that keep the service's message. */
  private async call<T>(context: string, send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (e) {
      throw this.translate(context, e);
    }
  }
}
