/**
 * The CLI's remote mode: building the StartExecution input, reading execution history into a progress model,
 * rendering it, and turning the outcome into an exit code — all pure, tested on history events shaped like the
 * ones Step Functions records for lambda:invoke tasks. Tests named "(fake SFN client)" use a real SFNClient whose
 * middleware answers with canned responses before anything is signed or sent. There is no Step Functions endpoint
 * stand-in here: the remote path against a real state machine is exercised on AWS, not in CI.
 */

import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ExecutionDoesNotExist,
  type HistoryEvent,
  type HistoryEventType,
  type ServiceOutputTypes,
  SFNClient,
} from '@aws-sdk/client-sfn';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ZodError } from 'zod';
import { executionsCommand } from '../../../../bin/cli/commands/executions.js';
import { ExitError } from '../../../../bin/cli/exit.js';
import { Output } from '../../../../bin/cli/output.js';
import { createProgram } from '../../../../bin/cli/program.js';
import { buildStartInput } from '../../../../bin/cli/remote/client.js';
import { sfnError } from '../../../../bin/cli/remote/errors.js';
import { summarizeHistory, summarizeRun } from '../../../../bin/cli/remote/history.js';
import { outcomeExitCode, remoteResult, remoteTables } from '../../../../bin/cli/remote/outcome.js';
import { runRemoteSync } from '../../../../bin/cli/remote/remote-sync.js';
import { renderProgress } from '../../../../bin/cli/remote/render.js';
import { terminalView } from '../../../../bin/cli/remote/view.js';
import { buildRunRequest, stateMachineArnFrom } from '../../../../bin/cli/run-request.js';
import { type RunContext, RunRequestSchema, TableOutcomeSchema } from '../../../../lambdas/domain/manifests.js';
import { ConfigError, ConnectionError } from '../../../../lambdas/errors.js';
import { tableReport } from '../../../../lambdas/orchestration/report.js';

const SM = 'arn:aws:states:eu-west-1:123456789012:stateMachine:highwater-prod';
const TABLE_SM = 'arn:aws:states:eu-west-1:123456789012:stateMachine:highwater-prod-table';
const EXEC = 'arn:aws:states:eu-west-1:123456789012:execution:highwater-prod:sales-shop-orders-x';
/** The table executions the sync execution started. */
const CHILD = 'arn:aws:states:eu-west-1:123456789012:execution:highwater-prod-table:c-orders';
const CHILD2 = 'arn:aws:states:eu-west-1:123456789012:execution:highwater-prod-table:c-customers';
const FN = 'arn:aws:lambda:eu-west-1:123456789012:function:highwater-prod';

const run: RunContext = {
  runId: '20261125T131603123Z-1a2b3c4d',
  holder: '20261125T131603123Z-1a2b3c4d',
  pipeline: 'sales',
  table: 'shop.orders',
  tableKey: 'sales/mysql_main/shop.orders/warehouse',
  strategy: 'hybrid',
  mode: 'merge',
  from: { ts: null, id: null },
  to: { ts: '2024-01-01 00:00:00', id: '4' },
  next: { ts: '2024-01-01 00:00:00', id: '4' },
  kind: 'sync',
  advancesWatermark: true,
  columns: [
    {
      source: {
        name: 'id',
        dataType: 'bigint',
        columnType: 'bigint',
        nullable: false,
        charMaxLength: null,
        numericPrecision: 19,
        numericScale: 0,
        ordinal: 1,
      },
      target: 'id',
      type: { kind: 'int64' },
      nullable: false,
    },
  ],
  primaryKey: ['id'],
  cursorColumns: ['id'],
  target: { schema: 'public', name: 'orders' },
  stagedRunIds: [],
  backupOnly: false,
  redshiftOnly: false,
  customUpperTimestamp: null,
  deletes: null,
  verify: false,
};
const chunk0 = { index: 0, lower: null, upper: ['3'] };
const chunk1 = { index: 1, lower: ['3'], upper: null };
const result0 = { index: 0, key: 'k0', rows: 3, bytes: 100, maxCursor: null };
const result1 = { index: 1, key: 'k1', rows: 1, bytes: 50, maxCursor: null };
const loadOut = { rowsStaged: 4, rowsLoaded: 4, rowsDeleted: 0, files: 2 };
const commitOut = {
  runId: run.runId,
  table: 'shop.orders',
  status: 'committed',
  watermark: run.to,
  rowsExtracted: 4,
  rowsLoaded: 4,
};
const request = { pipeline: 'sales', tables: ['shop.orders'], options: {} };
/** Two table outcomes as the definition's TableCommitted and TableFailed states write them. */
const committedOutcome = {
  table: 'shop.orders',
  status: 'committed',
  runId: run.runId,
  watermarkBefore: run.from,
  watermarkAfter: run.to,
  rowsExtracted: 4,
  rowsLoaded: 4,
  chunks: 2,
  load: loadOut,
  horizon: null,
  warnings: [],
};
const failedOutcome = {
  table: 'shop.customers',
  status: 'failed',
  run: null,
  error: { Error: 'DataError', Cause: JSON.stringify({ errorType: 'DataError', errorMessage: 'no primary key' }) },
  abortError: null,
  horizon: null,
  warnings: [],
};

/** Builds a history the way Step Functions records it: ids in order, each task's events chained by previousEventId. */
class HistoryBuilder {
  readonly events: HistoryEvent[] = [];
  private at = Date.parse('2026-11-25T13:16:00Z');

  private add(type: HistoryEventType, previousEventId: number, details: Partial<HistoryEvent> = {}): number {
    const id = this.events.length + 1;
    this.at += 250;
    this.events.push({ id, previousEventId, type, timestamp: new Date(this.at), ...details });
    return id;
  }

  started(input: unknown): number {
    return this.add('ExecutionStarted', 0, {
      executionStartedEventDetails: { input: JSON.stringify(input), roleArn: 'arn:aws:iam::123456789012:role/sfn' },
    });
  }

  /** A lambda:invoke task: entered → scheduled → started → (failed, retried… | succeeded) → exited. */
  task(
    state: string,
    prev: number,
    payload: unknown,
    outcome: { output: unknown } | { error: string; errorType: string; message: string },
    stateInput: unknown = {},
  ): number {
    const entered = this.add('TaskStateEntered', prev, {
      stateEnteredEventDetails: { name: state, input: JSON.stringify(stateInput) },
    });
    const scheduled = this.add('TaskScheduled', entered, {
      taskScheduledEventDetails: {
        resourceType: 'lambda',
        resource: 'invoke',
        region: 'eu-west-1',
        parameters: JSON.stringify({ FunctionName: FN, Payload: payload }),
      },
    });
    const started = this.add('TaskStarted', scheduled, {
      taskStartedEventDetails: { resourceType: 'lambda', resource: 'invoke' },
    });
    if ('output' in outcome) {
      const done = this.add('TaskSucceeded', started, {
        taskSucceededEventDetails: {
          resourceType: 'lambda',
          resource: 'invoke',
          output: JSON.stringify({
            ExecutedVersion: '$LATEST',
            Payload: outcome.output,
            SdkHttpMetadata: { HttpStatusCode: 200 },
            StatusCode: 200,
          }),
        },
      });
      return this.add('TaskStateExited', done, { stateExitedEventDetails: { name: state, output: '{}' } });
    }
    return this.add('TaskFailed', started, {
      taskFailedEventDetails: {
        resourceType: 'lambda',
        resource: 'invoke',
        error: outcome.error,
        cause: JSON.stringify({ errorType: outcome.errorType, errorMessage: outcome.message, trace: ['at x'] }),
      },
    });
  }

  /** A sync execution's RunTable task (startExecution.sync:2): submitted to `child`, then its outcome or failure. */
  runTable(
    prev: number,
    table: string,
    child: string,
    outcome: { output: unknown } | { childError: string; childCause: string; status?: string },
  ): number {
    const input = { pipeline: 'sales', table, options: { maxWorkers: 4 }, adhoc: null };
    const entered = this.add('TaskStateEntered', prev, {
      stateEnteredEventDetails: { name: 'RunTable', input: JSON.stringify(input) },
    });
    const scheduled = this.add('TaskScheduled', entered, {
      taskScheduledEventDetails: {
        resourceType: 'states',
        resource: 'startExecution.sync:2',
        region: 'eu-west-1',
        parameters: JSON.stringify({ StateMachineArn: TABLE_SM, Input: input }),
      },
    });
    const started = this.add('TaskStarted', scheduled, {
      taskStartedEventDetails: { resourceType: 'states', resource: 'startExecution.sync:2' },
    });
    const submitted = this.add('TaskSubmitted', started, {
      taskSubmittedEventDetails: {
        resourceType: 'states',
        resource: 'startExecution.sync:2',
        output: JSON.stringify({ ExecutionArn: child, StartDate: '2026-11-25T13:16:01Z' }),
      },
    });
    if ('output' in outcome) {
      const done = this.add('TaskSucceeded', submitted, {
        taskSucceededEventDetails: {
          resourceType: 'states',
          resource: 'startExecution.sync:2',
          output: JSON.stringify({ ExecutionArn: child, Output: outcome.output, Status: 'SUCCEEDED' }),
        },
      });
      return this.add('TaskStateExited', done, { stateExitedEventDetails: { name: 'RunTable', output: '{}' } });
    }
    return this.add('TaskFailed', submitted, {
      taskFailedEventDetails: {
        resourceType: 'states',
        resource: 'startExecution.sync:2',
        error: 'States.TaskFailed',
        cause: JSON.stringify({
          ExecutionArn: child,
          Status: outcome.status ?? 'FAILED',
          Error: outcome.childError,
          Cause: outcome.childCause,
        }),
      },
    });
  }

  summarize(prev: number, tables: unknown[]): number {
    return this.add('PassStateExited', prev, {
      stateExitedEventDetails: {
        name: 'Summarize',
        output: JSON.stringify({ tables, report: JSON.stringify(tables) }),
      },
    });
  }

  mapIteration(prev: number, index: number): number {
    return this.add('MapIterationStarted', prev, { mapIterationStartedEventDetails: { name: 'Chunks', index } });
  }

  end(type: 'ExecutionSucceeded' | 'ExecutionFailed', prev: number, details: Partial<HistoryEvent> = {}): number {
    return this.add(type, prev, details);
  }
}

/** A table synced in two chunks; chunk 1's first attempt fails with a transient StagingError and is retried. */
function successfulHistory(stopAfterRetry = false): HistoryEvent[] {
  const h = new HistoryBuilder();
  const s = h.started(request);
  const planned = h.task(
    'Plan',
    s,
    { pipeline: 'sales', table: 'shop.orders', options: request.options },
    {
      output: { run, chunks: [chunk0, chunk1], chunkCount: 2, stagedChunks: null, skipped: null },
    },
  );
  const i0 = h.mapIteration(planned, 0);
  const i1 = h.mapIteration(planned, 1);
  h.task('ExtractChunk', i0, { run, chunk: chunk0 }, { output: result0 });
  const failed = h.task(
    'ExtractChunk',
    i1,
    { run, chunk: chunk1 },
    {
      error: 'StagingError',
      errorType: 'StagingError',
      message: 'S3 upload of chunk 1 timed out',
    },
  );
  if (stopAfterRetry) return h.events;
  const e1 = h.task('ExtractChunk', failed, { run, chunk: chunk1 }, { output: result1 });
  const loaded = h.task('Load', e1, { run, chunks: [result0, result1] }, { output: loadOut });
  const committed = h.task('Commit', loaded, { run, load: loadOut }, { output: commitOut });
  h.end('ExecutionSucceeded', committed, {
    executionSucceededEventDetails: { output: JSON.stringify({ tables: [committedOutcome] }) },
  });
  return h.events;
}

function failedHistory(): HistoryEvent[] {
  const h = new HistoryBuilder();
  const s = h.started(request);
  const planned = h.task(
    'Plan',
    s,
    { pipeline: 'sales', table: 'shop.orders', options: request.options },
    {
      output: { run, chunks: [chunk0], chunkCount: 1, stagedChunks: null, skipped: null },
    },
  );
  const e0 = h.task('ExtractChunk', planned, { run, chunk: chunk0 }, { output: result0 });
  const loadFailed = h.task(
    'Load',
    e0,
    { run, chunks: [result0] },
    {
      error: 'WarehouseError',
      errorType: 'WarehouseError',
      message: 'COPY into public.orders failed: column "amount" type mismatch',
    },
  );
  const cause = JSON.stringify({ errorType: 'WarehouseError', errorMessage: 'COPY into public.orders failed' });
  const aborted = h.task(
    'Abort',
    loadFailed,
    { run, error: { Error: 'WarehouseError', Cause: cause } },
    {
      output: { aborted: true, error: 'WarehouseError: COPY into public.orders failed' },
    },
  );
  h.end('ExecutionFailed', aborted, {
    executionFailedEventDetails: { error: 'WarehouseError', cause: 'COPY into public.orders failed' },
  });
  return h.events;
}

// ── Fake SFN client ──────────────────────────────────────────────────────────────────────────────────────────────

type Answer = Record<string, unknown> | Error;
type Responder = (input: Record<string, unknown>) => Answer;

/** A real SFNClient whose initialize middleware answers each command from `answers` (no signing, no network). */
function fakeSfnClient(answers: Record<string, Responder>): { client: SFNClient; calls: [string, unknown][] } {
  const calls: [string, unknown][] = [];
  const client = new SFNClient({
    region: 'eu-west-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
  });
  client.middlewareStack.add(
    (_next, context) => async (args) => {
      const name = String(context.commandName).replace(/Command$/, '');
      calls.push([name, args.input]);
      const respond = answers[name];
      if (!respond) throw new Error(`fake SFN client: no answer for ${name}`);
      const answer = respond(args.input as Record<string, unknown>);
      if (answer instanceof Error) throw answer;
      return { output: { $metadata: {}, ...answer } as ServiceOutputTypes, response: {} };
    },
    { step: 'initialize', name: 'fakeSfnAnswers' },
  );
  return { client, calls };
}

function memoryOutput(json = false): { out: Output; stdout: () => string; stderr: () => string } {
  const o: string[] = [];
  const e: string[] = [];
  const stream = (buf: string[]) =>
    ({
      isTTY: false,
      write(s: string) {
        buf.push(s);
        return true;
      },
    }) as unknown as NodeJS.WriteStream;
  const out = new Output({ quiet: false, debug: false, json }, stream(o), stream(e));
  return { out, stdout: () => o.join(''), stderr: () => e.join('') };
}

afterEach(() => vi.restoreAllMocks());

// ── Pure functions ───────────────────────────────────────────────────────────────────────────────────────────────

describe('buildStartInput', () => {
  it('sends the RunRequest a local run would run, defaults filled in and nothing undefined', () => {
    const req = buildRunRequest({
      pipeline: 'sales',
      table: ['shop.orders', 'shop.customers'],
      maxWorkers: 4,
      limit: undefined,
      backupOnly: false,
      redshiftOnly: false,
      dryRun: false,
    });
    const input = buildStartInput(req);
    expect(JSON.parse(input)).toEqual({
      pipeline: 'sales',
      tables: ['shop.orders', 'shop.customers'],
      options: { maxWorkers: 4, backupOnly: false, redshiftOnly: false, dryRun: false, resync: false },
    });
    expect(input).not.toContain('undefined');
    expect(RunRequestSchema.parse(JSON.parse(input))).toEqual(req);
  });

  it('carries the ad-hoc connections of `sync connections`', () => {
    const req = buildRunRequest(
      { pipeline: 'adhoc_a_to_b', table: ['s.t'], backupOnly: false, redshiftOnly: true, dryRun: false },
      { source: 'a', target: 'b' },
    );
    expect(JSON.parse(buildStartInput(req))).toMatchObject({ adhoc: { source: 'a', target: 'b' } });
  });

  it('refuses a request without tables, naming the field', () => {
    const err = (() => {
      try {
        buildRunRequest({ pipeline: 'p', table: [], backupOnly: false, redshiftOnly: false, dryRun: false });
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(ZodError);
    expect((err as ZodError).issues[0]!.path).toEqual(['tables']);
  });
});

describe('summarizeHistory', () => {
  it('follows a table through plan, chunks (one retried), load and commit', () => {
    const m = summarizeHistory(successfulHistory());
    expect(m.status).toBe('SUCCEEDED');
    expect(m.error).toBeNull();
    expect(m.tables).toEqual([
      {
        table: 'shop.orders',
        phase: 'committed',
        runId: run.runId,
        chunksPlanned: 2,
        chunks: [
          { index: 0, status: 'done', rows: 3, attempts: 1 },
          { index: 1, status: 'done', rows: 1, attempts: 2 },
        ],
        rowsExtracted: 4,
        rowsLoaded: 4,
        failedAttempts: 1,
        skipped: null,
        error: null,
        execution: null,
      },
    ]);
  });

  it('shows a running execution with a chunk waiting for its retry and the error it hit', () => {
    const m = summarizeHistory(successfulHistory(true));
    expect(m.status).toBe('RUNNING');
    const t = m.tables[0]!;
    expect(t.phase).toBe('extracting');
    expect(t.chunks.map((c) => c.status)).toEqual(['done', 'retrying']);
    expect(t.error).toBe('StagingError: S3 upload of chunk 1 timed out');
  });

  it('marks a table failed when its run reaches Abort, with the Lambda error message', () => {
    const m = summarizeHistory(failedHistory());
    expect(m.status).toBe('FAILED');
    expect(m.error).toBe('WarehouseError: COPY into public.orders failed');
    expect(m.tables[0]).toMatchObject({
      phase: 'failed',
      error: 'WarehouseError: COPY into public.orders failed',
      rowsExtracted: 3,
    });
  });

  it('lists tables from the execution input before they start, and reads plain function-ARN tasks', () => {
    const events: HistoryEvent[] = [
      {
        id: 1,
        previousEventId: 0,
        type: 'ExecutionStarted',
        timestamp: new Date(),
        executionStartedEventDetails: {
          input: JSON.stringify({ pipeline: 'sales', tables: ['shop.orders', 'shop.customers'] }),
        },
      },
      {
        id: 2,
        previousEventId: 1,
        type: 'LambdaFunctionScheduled',
        timestamp: new Date(),
        lambdaFunctionScheduledEventDetails: {
          resource: FN,
          input: JSON.stringify({ pipeline: 'sales', table: 'shop.customers', options: {} }),
        },
      },
      { id: 3, previousEventId: 2, type: 'LambdaFunctionStarted', timestamp: new Date() },
      {
        id: 4,
        previousEventId: 3,
        type: 'LambdaFunctionSucceeded',
        timestamp: new Date(),
        lambdaFunctionSucceededEventDetails: {
          output: JSON.stringify({ run: null, chunks: [], chunkCount: 0, stagedChunks: null, skipped: 'no new rows' }),
        },
      },
    ];
    const m = summarizeHistory(events);
    expect(m.tables.map((t) => [t.table, t.phase, t.skipped])).toEqual([
      ['shop.orders', 'pending', null],
      ['shop.customers', 'skipped', 'no new rows'],
    ]);
  });

  it('fails tables left unfinished when the execution times out', () => {
    const events = successfulHistory(true);
    events.push({ id: 99, previousEventId: 98, type: 'ExecutionTimedOut', timestamp: new Date() });
    const m = summarizeHistory(events);
    expect(m.status).toBe('TIMED_OUT');
    expect(m.tables[0]).toMatchObject({ phase: 'failed', error: 'StagingError: S3 upload of chunk 1 timed out' });
  });
});

describe('a sync execution and its table executions (lambdas/orchestration/definition.ts)', () => {
  /** orders: its table execution failed outside its Catch (a payload quota); customers: skipped. */
  function twoTables() {
    const h = new HistoryBuilder();
    const s = h.started({ pipeline: 'sales', tables: ['shop.orders', 'shop.customers'] });
    const t1 = h.runTable(s, 'shop.orders', CHILD, {
      childError: 'States.DataLimitExceeded',
      childCause: 'the output of state Plan is 300000 bytes, above the 262144-byte payload quota',
    });
    const skipped = { table: 'shop.customers', status: 'skipped', skipped: 'no new rows', horizon: null, warnings: [] };
    const t2 = h.runTable(t1, 'shop.customers', CHILD2, { output: skipped });
    const summaries = [
      // TableExecutionFailed keeps only the error's name; the Cause is in the RunTable TaskFailed event.
      { table: 'shop.orders', status: 'failed', execution: null, error: { Error: 'States.TaskFailed' } },
      { table: 'shop.customers', status: 'skipped', execution: CHILD2, error: null },
    ];
    const summarized = h.summarize(t2, summaries);
    h.end('ExecutionFailed', summarized, {
      executionFailedEventDetails: { error: 'Highwater.TablesFailed', cause: 'at least one table failed' },
    });
    return { events: h.events, skipped };
  }

  it("reads each table's start, execution and end from the sync execution's history", () => {
    const m = summarizeHistory(twoTables().events);
    expect(m.error).toBe('Highwater.TablesFailed: 1 of 2 tables failed');
    expect(m.tables.map((t) => [t.table, t.phase, t.execution, t.error, t.skipped])).toEqual([
      [
        'shop.orders',
        'failed',
        CHILD,
        'States.DataLimitExceeded: the output of state Plan is 300000 bytes, above the 262144-byte payload quota',
        null,
      ],
      ['shop.customers', 'skipped', CHILD2, null, 'no new rows'],
    ]);
  });

  it("takes a running table's steps and chunks from its table execution's history", () => {
    const h = new HistoryBuilder();
    const s = h.started({ pipeline: 'sales', tables: ['shop.orders'] });
    const entered = h.runTable(s, 'shop.orders', CHILD, { output: committedOutcome });
    // Still running: cut the parent's history after TaskSubmitted.
    const running = h.events.filter((e) => e.type !== 'TaskSucceeded' && e.type !== 'TaskStateExited');
    expect(entered).toBeGreaterThan(0);
    const m = summarizeRun(running, new Map([[CHILD, successfulHistory(true)]]));
    expect(m.tables).toEqual([
      expect.objectContaining({
        table: 'shop.orders',
        phase: 'extracting',
        execution: CHILD,
        runId: run.runId,
        chunksPlanned: 2,
        error: 'StagingError: S3 upload of chunk 1 timed out',
      }),
    ]);
  });

  it('reports each table from its execution, with bytes and duration from the ledger (fake SFN client)', async () => {
    const { events, skipped } = twoTables();
    const { client } = fakeSfnClient({
      GetExecutionHistory: () => ({ events }),
      DescribeExecution: (input) => {
        expect(input.executionArn).toBe(CHILD2);
        return {
          executionArn: CHILD2,
          status: 'SUCCEEDED',
          startDate: new Date('2026-11-25T13:16:00Z'),
          stopDate: new Date('2026-11-25T13:16:02Z'),
          output: JSON.stringify(skipped),
        };
      },
    });
    const outcome = { status: 'FAILED', error: 'Highwater.TablesFailed', cause: 'at least one table failed' };
    const reported = await remoteTables(client, EXEC, outcome, async () => null);
    expect(reported.map((t) => [t.table, t.status, t.exitCode, t.error, t.skipped, t.bytes, t.durationMs])).toEqual([
      [
        'shop.orders',
        'failed',
        4,
        'States.DataLimitExceeded: the output of state Plan is 300000 bytes, above the 262144-byte payload quota',
        null,
        null,
        null,
      ],
      ['shop.customers', 'skipped', 0, null, 'no new rows', 0, 2000],
    ]);
    expect(outcomeExitCode(outcome, reported)).toBe(3);
    expect(remoteResult(outcome, reported)).toBe('partial_success');
    expect(remoteResult({ status: 'FAILED', error: 'States.Timeout' }, [])).toBe('failed');
  });
});

describe('renderProgress', () => {
  it('renders one line per table, a cell per chunk and the chunks still in flight', () => {
    expect(renderProgress(summarizeHistory(successfulHistory(true)))).toEqual([
      'execution RUNNING',
      'shop.orders  extracting  [#!] 1/2 chunks  3 rows  1 failed attempt',
      '  chunk 1 retrying',
      '  last error: StagingError: S3 upload of chunk 1 timed out',
    ]);
  });

  it('renders a finished run and a failed one', () => {
    expect(renderProgress(summarizeHistory(successfulHistory()))).toEqual([
      'execution SUCCEEDED',
      'shop.orders  committed  [##] 2/2 chunks  4 rows  4 loaded  1 failed attempt',
    ]);
    expect(renderProgress(summarizeHistory(failedHistory()))).toEqual([
      'execution FAILED: WarehouseError: COPY into public.orders failed',
      'shop.orders  failed  [#] 1/1 chunks  3 rows  1 failed attempt',
      '  error: WarehouseError: COPY into public.orders failed',
    ]);
  });

  it('draws a proportional bar when there are more chunks than cells', () => {
    const m = summarizeHistory(successfulHistory());
    m.tables[0]!.chunksPlanned = 48;
    expect(renderProgress(m)[1]).toContain(`[#${'.'.repeat(23)}] 2/48 chunks`);
  });
});

describe('outcomeExitCode', () => {
  const wm = { ts: '2026-11-25 13:00:00', id: '10' };
  const committed = {
    table: 'a.b',
    status: 'committed',
    runId: 'r1',
    watermarkBefore: { ts: null, id: null },
    watermarkAfter: wm,
    rowsExtracted: 4,
    rowsLoaded: 4,
    chunks: 2,
    load: { rowsStaged: 4, rowsLoaded: 4, rowsDeleted: 0, files: 2, schemaChanges: [] },
    horizon: 'NOW() - 15 s',
    warnings: [],
  };
  const failed = (name: string) => ({
    table: 'a.c',
    status: 'failed',
    run: null,
    error: { Error: name, Cause: JSON.stringify({ errorType: name, errorMessage: 'it broke' }) },
    abortError: null,
    horizon: null,
    warnings: [],
  });
  const tablesFailed = { status: 'FAILED', error: 'Highwater.TablesFailed' };
  const reports = (outcomes: unknown[]) => outcomes.map((o) => tableReport(TableOutcomeSchema.parse(o), null));

  it('is 0 for a succeeded run, and for a succeeded execution it cannot read', () => {
    expect(outcomeExitCode({ status: 'SUCCEEDED' }, reports([committed]))).toBe(0);
    expect(outcomeExitCode({ status: 'SUCCEEDED', output: 'not json' }, [])).toBe(0);
  });

  it('is 3 when some tables failed', () => {
    expect(outcomeExitCode(tablesFailed, reports([committed, failed('StagingError.Permanent')]))).toBe(3);
  });

  it("is the first failed table's code, from its error class, when every table failed", () => {
    expect(outcomeExitCode(tablesFailed, reports([failed('StagingError'), failed('WarehouseError')]))).toBe(5);
    expect(outcomeExitCode(tablesFailed, reports([failed('WarehouseError.Permanent')]))).toBe(6);
    expect(outcomeExitCode(tablesFailed, reports([failed('LeaseHeldError')]))).toBe(3);
    // A name that is no Highwater class (Lambda's own, a States.* error) is a data error.
    expect(outcomeExitCode(tablesFailed, reports([failed('States.TaskFailed')]))).toBe(4);
  });

  it('reads a failed table as the local report does: the message of the Lambda error, its code', () => {
    const [t] = reports([failed('ConnectionError')]);
    expect(t).toMatchObject({ table: 'a.c', status: 'failed', exitCode: 2, error: 'ConnectionError: it broke' });
    const [c] = reports([committed]);
    expect(c).toMatchObject({ status: 'committed', files: 2, watermarkAfter: wm, horizon: 'NOW() - 15 s' });
  });

  it('maps a failed execution with no tables by its error name, else 4', () => {
    expect(outcomeExitCode({ status: 'FAILED', error: 'ConfigError' }, [])).toBe(1);
    expect(outcomeExitCode({ status: 'FAILED', error: 'ConnectionError' }, [])).toBe(2);
    expect(outcomeExitCode({ status: 'FAILED', error: 'ZodError' }, [])).toBe(1);
    expect(outcomeExitCode({ status: 'FAILED', error: 'States.TaskFailed' }, [])).toBe(4);
    expect(outcomeExitCode({ status: 'TIMED_OUT', error: null }, [])).toBe(4);
    expect(outcomeExitCode({ status: 'ABORTED' }, [])).toBe(4);
    expect(outcomeExitCode({ status: 'FAILED', error: 'StagingError.Permanent' }, [])).toBe(5);
  });
});

describe('stateMachineArnFrom', () => {
  it('takes the option over the environment, and nothing when neither is set', () => {
    const other = SM.replace('highwater-prod', 'other');
    expect(stateMachineArnFrom(SM, { HIGHWATER_STATE_MACHINE_ARN: other })).toBe(SM);
    expect(stateMachineArnFrom(undefined, { HIGHWATER_STATE_MACHINE_ARN: other })).toBe(other);
    expect(stateMachineArnFrom(undefined, {})).toBeUndefined();
  });

  it('refuses a value that is not a state machine ARN, naming where it came from', () => {
    expect(() => stateMachineArnFrom('arn:aws:lambda:x', {})).toThrow(/--state-machine-arn is not a state machine ARN/);
    expect(() => stateMachineArnFrom(undefined, { HIGHWATER_STATE_MACHINE_ARN: 'x' })).toThrow(
      /HIGHWATER_STATE_MACHINE_ARN is not/,
    );
  });
});

describe('terminalView', () => {
  it('redraws its block in place on each update', () => {
    const writes: string[] = [];
    const view = terminalView((s) => writes.push(s));
    view.update(summarizeHistory(successfulHistory(true)));
    view.update(summarizeHistory(successfulHistory()));
    expect(writes[0]!.startsWith('\x1b[2Kexecution RUNNING\n')).toBe(true);
    // The second frame moves up over the four lines of the first one before drawing.
    expect(writes[1]!.startsWith('\x1b[4F\x1b[2Kexecution SUCCEEDED\n')).toBe(true);
    expect(writes[1]!.endsWith('\x1b[0J')).toBe(true);
  });
});

// ── With a fake SFN client ───────────────────────────────────────────────────────────────────────────────────────

describe('remote sync', () => {
  const started = () => ({ executionArn: EXEC, startDate: new Date('2026-11-25T13:16:00Z') });
  const req = RunRequestSchema.parse(request);

  it('--no-wait prints the execution ARN and returns at once (fake SFN client)', async () => {
    const { client, calls } = fakeSfnClient({ StartExecution: started });
    const { out, stdout } = memoryOutput();
    const summary = await runRemoteSync({ client, out, stateMachineArn: SM, request: req, wait: false });
    expect(stdout()).toBe(`${EXEC}\n`);
    expect(summary.status).toBe('RUNNING');
    expect(calls.map((c) => c[0])).toEqual(['StartExecution']);
    const input = calls[0]![1] as { stateMachineArn: string; name: string; input: string };
    expect(input.stateMachineArn).toBe(SM);
    expect(input.name).toMatch(/^sales-shop-orders-\d{8}T\d{6}-[0-9a-f]{4}$/);
    expect(input.input).toBe(buildStartInput(req));
  });

  it('--no-wait --json prints the execution as JSON (fake SFN client)', async () => {
    const { client } = fakeSfnClient({ StartExecution: started });
    const { out, stdout } = memoryOutput(true);
    await runRemoteSync({ client, out, stateMachineArn: SM, request: req, wait: false });
    expect(JSON.parse(stdout())).toMatchObject({ executionArn: EXEC, status: 'RUNNING', exitCode: 0 });
  });

  it("follows the sync execution and its table executions to the end over paginated history; the report's bytes and durations come from the ledger (fake SFN client)", async () => {
    // The sync execution: shop.orders runs in CHILD (still running at the first poll), shop.customers in CHILD2.
    const parent = (done: boolean) => {
      const h = new HistoryBuilder();
      const s = h.started({ pipeline: 'sales', tables: ['shop.orders', 'shop.customers'] });
      const t1 = h.runTable(s, 'shop.orders', CHILD, { output: committedOutcome });
      if (!done) return h.events.filter((e) => e.type !== 'TaskSucceeded' && e.type !== 'TaskStateExited');
      const t2 = h.runTable(t1, 'shop.customers', CHILD2, { output: failedOutcome });
      h.end('ExecutionSucceeded', t2);
      return h.events;
    };
    const histories: Record<string, (done: boolean) => HistoryEvent[]> = {
      [EXEC]: parent,
      [CHILD]: (done) => successfulHistory(!done),
      [CHILD2]: () => failedHistory(),
    };
    const children: Record<string, unknown> = { [CHILD]: committedOutcome, [CHILD2]: failedOutcome };
    let polls = 0;
    const { client, calls } = fakeSfnClient({
      StartExecution: started,
      DescribeExecution: (input) => {
        const arn = String(input.executionArn);
        if (arn !== EXEC) {
          return {
            executionArn: arn,
            status: 'SUCCEEDED',
            startDate: new Date('2026-11-25T13:16:00Z'),
            stopDate: new Date('2026-11-25T13:17:00Z'),
            output: JSON.stringify(children[arn]),
          };
        }
        polls++;
        return polls === 1
          ? { executionArn: EXEC, status: 'RUNNING', startDate: new Date() }
          : {
              executionArn: EXEC,
              status: 'SUCCEEDED',
              startDate: new Date(),
              stopDate: new Date(),
              output: JSON.stringify({
                tables: [
                  { table: 'shop.orders', status: 'committed', execution: CHILD, error: null },
                  { table: 'shop.customers', status: 'failed', execution: CHILD2, error: null },
                ],
              }),
            };
      },
      // Two pages per read: the paginator must follow nextToken to the end.
      GetExecutionHistory: (input) => {
        const events = histories[String(input.executionArn)]!(polls > 1);
        const half = Math.ceil(events.length / 2);
        return input.nextToken === 'p2'
          ? { events: events.slice(half) }
          : { events: events.slice(0, half), nextToken: 'p2' };
      },
    });
    const { out, stdout, stderr } = memoryOutput();
    const sleeps: number[] = [];
    const reportFile = join(mkdtempSync(join(tmpdir(), 'hw-remote-')), 'run.json');
    const err = await runRemoteSync({
      client,
      out,
      stateMachineArn: SM,
      request: req,
      wait: true,
      jsonOutput: reportFile,
      intervalMs: 5,
      sleep: async (ms) => {
        sleeps.push(ms);
      },
      ledger: async (table, runId) =>
        table === 'shop.orders' && runId === run.runId ? { bytes: 150, durationMs: 4321 } : null,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ExitError);
    expect((err as ExitError).exitCode).toBe(3);
    expect(sleeps).toEqual([5]);
    // The running child is read again at the second poll; an ended child only once.
    const histories_ = calls
      .filter((c) => c[0] === 'GetExecutionHistory')
      .map((c) => (c[1] as { executionArn: string }).executionArn);
    expect(histories_.filter((a) => a === CHILD).length).toBe(4);
    expect(histories_.filter((a) => a === CHILD2).length).toBe(2);
    // Piped: each progress line once, as it changes; the final state on stdout.
    expect(stderr()).toContain('shop.orders  extracting  [#!] 1/2 chunks  3 rows  1 failed attempt\n');
    expect(stderr()).toContain('execution SUCCEEDED\n');
    expect(stdout()).toContain(
      'execution SUCCEEDED\nshop.orders  committed  [##] 2/2 chunks  4 rows  4 loaded  1 failed attempt\n',
    );
    // --json-output: the local report's shape (executionId, pipeline, result, tables[]) next to the execution's own.
    const report = JSON.parse(readFileSync(reportFile, 'utf8'));
    expect(report).toMatchObject({
      executionId: expect.stringMatching(/^sales-shop-orders-\d{8}T\d{6}-[0-9a-f]{4}$/),
      pipeline: req.pipeline,
      result: 'partial_success',
      status: 'SUCCEEDED',
      exitCode: 3,
    });
    expect(report.tables).toEqual([
      expect.objectContaining({
        table: 'shop.orders',
        status: 'committed',
        runId: run.runId,
        rowsExtracted: 4,
        rowsLoaded: 4,
        watermarkAfter: run.to,
        error: null,
        exitCode: 0,
        bytes: 150,
        durationMs: 4321,
      }),
      // No run in the ledger: the table execution's own duration.
      expect.objectContaining({ status: 'failed', error: 'DataError: no primary key', exitCode: 4, durationMs: 60000 }),
    ]);
  });

  it('AccessDenied on StartExecution is a ConfigError with exit code 1 (fake SFN client)', async () => {
    const denied = Object.assign(new Error('User: arn:aws:iam::123456789012:user/x is not authorized'), {
      name: 'AccessDeniedException',
    });
    const { client } = fakeSfnClient({ StartExecution: () => denied });
    const { out } = memoryOutput();
    const err = await runRemoteSync({ client, out, stateMachineArn: SM, request: req, wait: true }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).exitCode).toBe(1);
    expect((err as Error).message).toBe(
      `StartExecution on ${SM}: access denied by AWS (User: arn:aws:iam::123456789012:user/x is not authorized)`,
    );
    expect((err as ConfigError).suggestion).toContain('states:StartExecution');
  });
});

describe('executions command', () => {
  function capture(): { text: () => string } {
    const buf: string[] = [];
    const sink = (c: string | Uint8Array) => {
      buf.push(String(c));
      return true;
    };
    vi.spyOn(process.stdout, 'write').mockImplementation(sink);
    vi.spyOn(process.stderr, 'write').mockImplementation(sink);
    return { text: () => buf.join('') };
  }

  it('describe of an unknown execution says so clearly (fake SFN client)', async () => {
    const { client } = fakeSfnClient({
      DescribeExecution: () =>
        new ExecutionDoesNotExist({ message: `Execution Does Not Exist: '${EXEC}'`, $metadata: {} }),
    });
    const cmd = executionsCommand(
      () => ({}),
      () => client,
    );
    const err = await cmd.parseAsync(['describe', EXEC], { from: 'user' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toBe(`DescribeExecution ${EXEC}: no such execution`);
    expect((err as ConfigError).suggestion).toContain('highwater executions list');
    expect((err as ConfigError).exitCode).toBe(1);
  });

  it('describe renders status, input and per-table progress (fake SFN client)', async () => {
    const { client } = fakeSfnClient({
      DescribeExecution: () => ({
        executionArn: EXEC,
        name: 'sales-shop-orders-x',
        status: 'FAILED',
        startDate: new Date('2026-11-25T13:16:00Z'),
        stopDate: new Date('2026-11-25T13:17:00Z'),
        input: JSON.stringify(request),
        error: 'WarehouseError',
        cause: 'COPY failed',
      }),
      GetExecutionHistory: () => ({ events: failedHistory() }),
    });
    const out = capture();
    await executionsCommand(
      () => ({}),
      () => client,
    ).parseAsync(['describe', EXEC], { from: 'user' });
    expect(out.text().split('\n')).toEqual([
      'sales-shop-orders-x  FAILED',
      `  arn      ${EXEC}`,
      '  started  2026-11-25T13:16:00.000Z',
      '  stopped  2026-11-25T13:17:00.000Z',
      `  input    ${JSON.stringify(request)}`,
      '  error    WarehouseError: COPY failed',
      'execution FAILED: WarehouseError: COPY into public.orders failed',
      'shop.orders  failed  [#] 1/1 chunks  3 rows  1 failed attempt',
      '  error: WarehouseError: COPY into public.orders failed',
      '',
    ]);
  });

  it('list pages until --max with the status filter, and prints a table (fake SFN client)', async () => {
    const item = (n: number) => ({
      executionArn: `${EXEC}${n}`,
      stateMachineArn: SM,
      name: `run-${n}`,
      status: 'SUCCEEDED',
      startDate: new Date(Date.UTC(2026, 10, 25, 13, n)),
      stopDate: new Date(Date.UTC(2026, 10, 25, 13, n, 30)),
    });
    const { client, calls } = fakeSfnClient({
      ListExecutions: (input) =>
        input.nextToken ? { executions: [item(3), item(4)] } : { executions: [item(1), item(2)], nextToken: 't' },
    });
    const out = capture();
    await executionsCommand(
      () => ({}),
      () => client,
    ).parseAsync(['list', '--state-machine-arn', SM, '--status', 'SUCCEEDED', '--max', '3'], { from: 'user' });
    expect(calls.map((c) => (c[1] as { statusFilter: string; maxResults: number }).maxResults)).toEqual([3, 1]);
    expect((calls[0]![1] as { statusFilter: string }).statusFilter).toBe('SUCCEEDED');
    expect(out.text().split('\n')).toEqual([
      'NAME   STATUS     STARTED                   STOPPED',
      'run-1  SUCCEEDED  2026-11-25T13:01:00.000Z  2026-11-25T13:01:30.000Z',
      'run-2  SUCCEEDED  2026-11-25T13:02:00.000Z  2026-11-25T13:02:30.000Z',
      'run-3  SUCCEEDED  2026-11-25T13:03:00.000Z  2026-11-25T13:03:30.000Z',
      '',
    ]);
  });

  it('list refuses an unknown --status and a missing state machine', async () => {
    const { client } = fakeSfnClient({});
    const cmd = () =>
      executionsCommand(
        () => ({}),
        () => client,
      );
    const bad = await cmd()
      .parseAsync(['list', '--state-machine-arn', SM, '--status', 'DONE'], { from: 'user' })
      .catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(ZodError);
    expect((bad as ZodError).issues[0]!.path).toEqual(['status']);
    vi.stubEnv('HIGHWATER_STATE_MACHINE_ARN', '');
    const missing = await cmd()
      .parseAsync(['list'], { from: 'user' })
      .catch((e: unknown) => e);
    vi.unstubAllEnvs();
    expect((missing as Error).message).toBe('executions list needs --state-machine-arn or HIGHWATER_STATE_MACHINE_ARN');
  });

  it('stop sends the cause and confirms (fake SFN client)', async () => {
    const { client, calls } = fakeSfnClient({ StopExecution: () => ({ stopDate: new Date('2026-11-25T13:20:00Z') }) });
    const out = capture();
    await executionsCommand(
      () => ({}),
      () => client,
    ).parseAsync(['stop', EXEC, '--cause', 'wrong window'], {
      from: 'user',
    });
    expect(calls[0]).toEqual(['StopExecution', { executionArn: EXEC, cause: 'wrong window', error: 'StoppedByUser' }]);
    expect(out.text()).toBe(`stopped ${EXEC} at 2026-11-25T13:20:00.000Z\n`);
  });
});

describe('sfnError', () => {
  it('turns an unknown service failure into a ConnectionError (exit 2) and keeps Highwater errors', () => {
    const throttled = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
    const e = sfnError(throttled, 'ListExecutions on x');
    expect(e).toBeInstanceOf(ConnectionError);
    expect(e.exitCode).toBe(2);
    expect(e.message).toBe('ListExecutions on x: Step Functions call failed: ThrottlingException: Rate exceeded');
    const own = new ConfigError('mine');
    expect(sfnError(own, 'x')).toBe(own);
    expect(sfnError(Object.assign(new Error('m'), { name: 'CredentialsProviderError' }), 'x').exitCode).toBe(1);
    expect(sfnError(Object.assign(new Error('m'), { name: 'StateMachineDoesNotExist' }), 'x').message).toBe(
      'x: no such state machine',
    );
    expect(sfnError(Object.assign(new Error('m'), { name: 'InvalidArn' }), 'x').message).toBe('x: InvalidArn: m');
  });
});

describe('sync wiring', () => {
  it('takes the remote path from HIGHWATER_STATE_MACHINE_ARN and refuses a malformed one before reading config', async () => {
    vi.stubEnv('HIGHWATER_STATE_MACHINE_ARN', 'bogus');
    try {
      const err = await createProgram()
        .exitOverride()
        .parseAsync(['sync', '-t', 'shop.orders', '--no-wait'], { from: 'user' })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as Error).message).toBe('HIGHWATER_STATE_MACHINE_ARN is not a state machine ARN: "bogus"');
    } finally {
      vi.unstubAllEnvs();
    }
  });
});
