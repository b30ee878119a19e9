/**
 * The state machine definitions: their structure (states, Retry/Catch, JSONPath only, Map concurrency path, child
 * executions) and their data flow, executed by aws-local-stepfunctions with small in-test Lambda stand-ins for the
 * handlers and a stand-in for `states:startExecution.sync:2` that runs the table state machine.
 */
import { type RunOptions, StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import { expect, test } from 'vitest';
import { ConfigError, ConnectionError, StagingError } from '../../../lambdas/errors.js';
import { LOCAL_ARNS, localDefinition, localMachines } from '../../../lambdas/local/orchestration/local-machine.js';
import {
  aslErrorName,
  type DefinitionArns,
  LOAD_RETRY_ERRORS,
  LOAD_TIMEOUT_SLACK_SECONDS,
  START_EXECUTION_SYNC,
  syncStateMachineDefinition,
  TABLE_TIMEOUT_SECONDS,
  TRANSIENT_ERRORS,
  tableStateMachineDefinition,
} from '../../../lambdas/orchestration/definition.js';
import { FUNCTION_SIZING } from '../../../lambdas/orchestration/function-sizing.js';

type State = Record<string, unknown> & { Type: string };
const ARNS: DefinitionArns = LOCAL_ARNS;
const TABLE_ARN = 'arn:aws:states:us-east-1:123456789012:stateMachine:highwater-table';

function states(def: Record<string, unknown>): Record<string, State> {
  return def.States as Record<string, State>;
}
/** The table state machine's states (the definition under test in most of this file). */
function tableStates(def: Record<string, unknown>): Record<string, State> {
  return states(def);
}
const stateMachineDefinition = tableStateMachineDefinition;

test('the sync state machine normalizes the request and runs each table as a child execution, failing when a table failed', () => {
  const def = syncStateMachineDefinition(TABLE_ARN);
  expect(def.StartAt).toBe('Defaults');
  expect(def.TimeoutSeconds).toBe(7 * 24 * 3600);
  expect(Object.keys(states(def))).toEqual([
    'Defaults',
    'MergeRequest',
    'MergeOptions',
    'Tables',
    'Summarize',
    'AnyTableFailed',
    'TablesFailed',
    'Done',
  ]);
  const tables = states(def).Tables!;
  expect(tables.Type).toBe('Map');
  expect(tables.ItemsPath).toBe('$.request.tables');
  expect(tables.MaxConcurrency).toBe(1);
  expect(tables.ItemSelector).toEqual({
    'pipeline.$': '$.request.pipeline',
    'table.$': '$$.Map.Item.Value',
    'options.$': '$.options',
    'adhoc.$': '$.request.adhoc',
  });
  const iteration = (tables.ItemProcessor as { States: Record<string, State> }).States;
  expect(iteration.RunTable).toMatchObject({
    Type: 'Task',
    Resource: START_EXECUTION_SYNC,
    Parameters: {
      StateMachineArn: TABLE_ARN,
      Input: { 'AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID.$': '$$.Execution.Id', 'table.$': '$.table' },
    },
    TimeoutSeconds: TABLE_TIMEOUT_SECONDS + 300,
    Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'TableExecutionFailed' }],
  });
  // The sync execution keeps a few hundred bytes per table: the name, the status and the child's ARN.
  expect(iteration.RunTable!.ResultSelector).toEqual({
    'table.$': '$.Output.table',
    'status.$': '$.Output.status',
    'execution.$': '$.ExecutionArn',
    error: null,
  });
  // A table execution that failed outside its Catch: its summary keeps the error's name only (the Cause, up to
  // 32,768 characters, stays in the history).
  expect(iteration.TableExecutionFailed!.Parameters).toEqual({
    'table.$': '$.table',
    status: 'failed',
    execution: null,
    error: { 'Error.$': '$.error.Error' },
  });
  expect(states(def).TablesFailed).toMatchObject({ Type: 'Fail', Error: 'Highwater.TablesFailed' });
  expect(states(def).TablesFailed!.CausePath).toBeUndefined();
});

test('per table: Plan → HasWork → ExtractChunks → ChunksInLedger → Load → Commit, every step caught into Abort', () => {
  const def = stateMachineDefinition(ARNS);
  expect(def.TimeoutSeconds).toBe(TABLE_TIMEOUT_SECONDS);
  const t = tableStates(def);
  expect(Object.keys(t).sort()).toEqual(
    [
      'TableInput',
      'Plan',
      'HasWork',
      'TableSkipped',
      'ExtractChunks',
      'ExtractChunksDistributed',
      'ChunksInLedger',
      'BackupOnly',
      'SkipLoad',
      'Load',
      'Commit',
      'VerifyDue',
      'Verify',
      'TableCommitted',
      'Abort',
      'TableFailed',
      'AbortFailed',
    ].sort(),
  );
  expect(t.Plan!.Next).toBe('HasWork');
  // Plan records which execution runs the run (for the reaper).
  expect((t.Plan!.Parameters as { Payload: Record<string, string> }).Payload['execution.$']).toBe('$$.Execution.Id');
  expect(t.ExtractChunks!.Next).toBe('ChunksInLedger');
  expect(t.ChunksInLedger!.Next).toBe('BackupOnly');
  // Load takes the chunks from the ledger on both paths.
  expect((t.Load!.Parameters as { Payload: unknown }).Payload).toEqual({ 'run.$': '$.plan.run', chunks: 'in-ledger' });
  expect(t.Load!.Next).toBe('Commit');
  expect(t.SkipLoad!.Next).toBe('Commit');
  expect(t.Commit!.Next).toBe('VerifyDue');
  // A verification after the commit never sends the committed run to Abort: its failure is reported with the table.
  expect(t.Verify!.Catch).toEqual([
    { ErrorEquals: ['States.ALL'], ResultPath: '$.verifyError', Next: 'TableCommitted' },
  ]);
  expect(t.Verify!.Next).toBe('TableCommitted');
  for (const name of ['Plan', 'ExtractChunks', 'ExtractChunksDistributed', 'Load', 'Commit']) {
    expect(t[name]!.Catch, name).toEqual([{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'Abort' }]);
  }
  expect(t.Abort!.Catch).toEqual([{ ErrorEquals: ['States.ALL'], ResultPath: '$.abortError', Next: 'AbortFailed' }]);
  expect(t.Abort!.Parameters).toEqual({
    FunctionName: ARNS.abort,
    Payload: { 'run.$': '$.plan.run', 'error.$': '$.error' },
  });
});

test('every Task invokes its own function through lambda:invoke and retries transient errors with full jitter', () => {
  const def = stateMachineDefinition(ARNS, { retryMaxAttempts: 5, retryIntervalSeconds: 3, taskTimeoutSeconds: 120 });
  const t = tableStates(def);
  const extract = (t.ExtractChunks!.ItemProcessor as { States: Record<string, State> }).States.ExtractChunk!;
  const capped = (fn: keyof typeof FUNCTION_SIZING) => Math.min(120, FUNCTION_SIZING[fn].timeoutSeconds);
  const tasks: [State, string, readonly string[], number][] = [
    [t.Plan!, ARNS.plan, TRANSIENT_ERRORS, capped('plan')],
    [extract, ARNS.extract, TRANSIENT_ERRORS, capped('extract')],
    // Load: never retried on a timeout, and its task outlives its function (decision 0006).
    [t.Load!, ARNS.load, LOAD_RETRY_ERRORS, capped('load') + LOAD_TIMEOUT_SLACK_SECONDS],
    [t.Commit!, ARNS.commit, TRANSIENT_ERRORS, capped('commit')],
    [t.Abort!, ARNS.abort, TRANSIENT_ERRORS, capped('abort')],
  ];
  for (const [state, arn, errors, timeout] of tasks) {
    expect(state.Resource).toBe('arn:aws:states:::lambda:invoke');
    expect((state.Parameters as { FunctionName: string }).FunctionName).toBe(arn);
    expect(state.TimeoutSeconds).toBe(timeout);
    expect(state.Retry).toEqual([
      {
        ErrorEquals: [...errors],
        IntervalSeconds: 3,
        BackoffRate: 2,
        MaxAttempts: 5,
        MaxDelaySeconds: 60,
        JitterStrategy: 'FULL',
      },
    ]);
  }
  expect(TRANSIENT_ERRORS).toEqual(
    expect.arrayContaining([
      'ConnectionError',
      'StagingError',
      'Lambda.ClientExecutionTimeoutException',
      'Lambda.TooManyRequestsException',
      'States.Timeout',
    ]),
  );
  expect(LOAD_RETRY_ERRORS).toEqual(TRANSIENT_ERRORS.filter((e) => e !== 'States.Timeout'));
  expect(LOAD_RETRY_ERRORS).toContain('Lambda.ClientExecutionTimeoutException');
});

test("each Lambda Task's TimeoutSeconds is its function's own timeout, unless a smaller cap is given", () => {
  const t = tableStates(stateMachineDefinition(ARNS));
  expect(t.Plan!.TimeoutSeconds).toBe(FUNCTION_SIZING.plan.timeoutSeconds);
  // Load outlives its function (decision 0006).
  expect(t.Load!.TimeoutSeconds).toBe(FUNCTION_SIZING.load.timeoutSeconds + LOAD_TIMEOUT_SLACK_SECONDS);
  expect(t.Commit!.TimeoutSeconds).toBe(FUNCTION_SIZING.commit.timeoutSeconds);
  expect(t.Abort!.TimeoutSeconds).toBe(FUNCTION_SIZING.abort.timeoutSeconds);
  const capped = tableStates(stateMachineDefinition(ARNS, { taskTimeoutSeconds: 120 }));
  expect(capped.Plan!.TimeoutSeconds).toBe(120);
  expect(capped.Commit!.TimeoutSeconds).toBe(FUNCTION_SIZING.commit.timeoutSeconds);
});

test('the chunk Map takes its concurrency from the request options, defaulted by the definition', () => {
  const map = tableStates(stateMachineDefinition(ARNS)).ExtractChunks!;
  expect(map).toMatchObject({
    Type: 'Map',
    ItemsPath: '$.plan.chunks',
    MaxConcurrencyPath: '$.input.options.maxWorkers',
    ResultPath: null,
  });
  expect(map.MaxConcurrency).toBeUndefined();
  // Each iteration returns its chunk index only: the Map's result stays small.
  const iteration = (map.ItemProcessor as { States: Record<string, State> }).States;
  expect(iteration.ExtractChunk!.Next).toBe('ExtractChunkHasRest');
  expect(iteration.ExtractChunkDone).toEqual({ Type: 'Pass', OutputPath: '$.extracted.out.index', End: true });
  expect(
    JSON.stringify(states(syncStateMachineDefinition(TABLE_ARN, { defaultMaxConcurrency: 7 })).Defaults),
  ).toContain('"maxWorkers":7');
});

test('a staged chunk list goes to a Distributed Map reading it with ItemReader; Load then takes the ledger', () => {
  const def = stateMachineDefinition(ARNS);
  const t = tableStates(def);
  expect(t.HasWork!.Choices).toEqual([
    { Variable: '$.plan.run', IsNull: true, Next: 'TableSkipped' },
    { Not: { Variable: '$.plan.stagedChunks', IsNull: true }, Next: 'ExtractChunksDistributed' },
  ]);
  const map = t.ExtractChunksDistributed!;
  expect(map).toMatchObject({
    Type: 'Map',
    ItemReader: {
      Resource: 'arn:aws:states:::s3:getObject',
      ReaderConfig: { InputType: 'JSON' },
      Parameters: { 'Bucket.$': '$.plan.stagedChunks.bucket', 'Key.$': '$.plan.stagedChunks.key' },
    },
    ItemSelector: { 'run.$': '$.plan.run', 'chunk.$': '$$.Map.Item.Value' },
    MaxConcurrencyPath: '$.input.options.maxWorkers',
    ResultPath: null,
    Next: 'ChunksInLedger',
  });
  expect(map.ItemsPath).toBeUndefined();
  const processor = map.ItemProcessor as { ProcessorConfig: unknown; States: Record<string, State> };
  expect(processor.ProcessorConfig).toEqual({ Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' });
  const child = processor.States.ExtractStagedChunk!;
  expect((child.Parameters as { FunctionName: string }).FunctionName).toBe(ARNS.extract);
  expect(child.ResultSelector).toEqual({ 'out.$': '$.Payload' });
  expect(child.Next).toBe('ExtractStagedChunkHasRest');
  expect(processor.States.ExtractStagedChunkDone).toEqual({
    Type: 'Pass',
    OutputPath: '$.extracted.out.index',
    End: true,
  });
  // After either Map the chunk list leaves the state.
  expect(JSON.stringify(t.ChunksInLedger)).not.toContain('chunks');
});

test('the local translation serves the Distributed Map as a Task and moves Task timeouts to the runner, nothing else', () => {
  const def = stateMachineDefinition(ARNS);
  const local = localDefinition(def);
  const t = tableStates(local.definition);
  expect(t.ExtractChunksDistributed).toEqual({
    Type: 'Task',
    Resource: START_EXECUTION_SYNC,
    Parameters: {
      reader: { 'Bucket.$': '$.plan.stagedChunks.bucket', 'Key.$': '$.plan.stagedChunks.key' },
      'run.$': '$.plan.run',
      'maxConcurrency.$': '$.input.options.maxWorkers',
      'input.$': '$',
    },
    TimeoutSeconds: TABLE_TIMEOUT_SECONDS,
    ResultPath: null,
    Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'Abort' }],
    Next: 'ChunksInLedger',
  });
  const deployed = tableStates(def).ExtractChunksDistributed!;
  expect(local.distributedMaps.get('ExtractChunksDistributed')).toEqual({
    itemSelector: deployed.ItemSelector,
    itemProcessor: {
      ...(deployed.ItemProcessor as Record<string, unknown>),
      States: {
        ...(deployed.ItemProcessor as { States: Record<string, State> }).States,
        ExtractStagedChunk: {
          ...(deployed.ItemProcessor as { States: Record<string, State> }).States.ExtractStagedChunk,
          TimeoutSeconds: TABLE_TIMEOUT_SECONDS,
        },
      },
    },
  });
  // Each Lambda Task keeps its deployed TimeoutSeconds with the runner, which enforces it from the handler's start.
  expect(local.taskTimeouts.get('Plan')).toBe(FUNCTION_SIZING.plan.timeoutSeconds);
  expect(local.taskTimeouts.get('ExtractStagedChunk')).toBe(FUNCTION_SIZING.extract.timeoutSeconds);
  // Every other field of every other state is untouched, and the input definition is not modified.
  const strip = (states: Record<string, State>) =>
    JSON.parse(
      JSON.stringify(
        Object.fromEntries(Object.entries(states).filter(([k]) => k !== 'ExtractChunksDistributed')),
        (k, v) => (k === 'TimeoutSeconds' ? undefined : v),
      ),
    );
  expect(strip(t)).toEqual(strip(tableStates(def)));
  expect(def).toEqual(stateMachineDefinition(ARNS));
});

test('JSONPath only: no JSONata anywhere, and the library validates both with ARN and path checks', () => {
  for (const def of [stateMachineDefinition(ARNS), syncStateMachineDefinition(TABLE_ARN)]) {
    const text = JSON.stringify(def);
    expect(text).not.toMatch(/JSONata|QueryLanguage|"Arguments"|\{%/);
    expect(
      () =>
        new StateMachine(def as unknown as StateMachineDefinition, {
          validationOptions: { checkArn: true, checkPaths: true },
        }),
    ).not.toThrow();
  }
});

test('the local machines (the deployed definitions with local Task resources) pass the same validation', () => {
  expect(() => localMachines({}, true)).not.toThrow();
  expect(() => localMachines({ retryMaxAttempts: 1, taskTimeoutSeconds: 30 }, true)).not.toThrow();
});

test('error names: transient classes keep their name, others are renamed so Retry classifies them as the runtime does', () => {
  expect(aslErrorName(new ConnectionError('down'))).toBe('ConnectionError');
  expect(aslErrorName(new StagingError('slow down'))).toBe('StagingError');
  expect(aslErrorName(new StagingError('AccessDenied', { transient: false }))).toBe('StagingError.Permanent');
  expect(aslErrorName(new ConfigError('bad'))).toBe('ConfigError');
  expect(aslErrorName(new ConfigError('flaky', { transient: true }))).toBe('Highwater.Transient');
  expect(aslErrorName(Object.assign(new Error('reset'), { code: 'ECONNRESET' }))).toBe('Highwater.Transient');
  expect(aslErrorName(new TypeError('x'))).toBe('TypeError');
  expect(aslErrorName('a string')).toBe('Error');
});

// --- executed: the data flow between states, with in-test Lambda stand-ins ----------------------------------------

type Payload = Record<string, unknown>;
type LocalHandlers = NonNullable<NonNullable<RunOptions['overrides']>['taskResourceLocalHandlers']>;
function lambda(fn: (p: Payload) => unknown | Promise<unknown>) {
  return async (input: unknown) => ({ StatusCode: 200, Payload: await fn((input as { Payload: Payload }).Payload) });
}
function run(name: string, extra: Payload = {}) {
  return { runId: `run-${name}`, table: name, backupOnly: false, verify: false, from: { ts: null, id: '0' }, ...extra };
}

/**
 * Runs the sync state machine; its RunTable task runs the table state machine (a stand-in for
 * startExecution.sync:2). `output.tables` is each table execution's own output, in order.
 */
/** What the extract step returns for a chunk read in one step (or its last part, with the chunk's totals). */
function chunkResult(index: number, rows: number, bytes: number, rest: unknown = null) {
  return { index, key: `chunk-${index}`, rows, bytes, maxCursor: null, rest };
}

async function execute(input: unknown, handlers: Record<string, (p: Payload) => unknown>) {
  const table = new StateMachine(stateMachineDefinition(ARNS) as never);
  const sync = new StateMachine(syncStateMachineDefinition(TABLE_ARN, { defaultMaxConcurrency: 3 }) as never);
  const wrapped = Object.fromEntries(Object.entries(handlers).map(([k, f]) => [k, lambda(f)])) as LocalHandlers;
  const outputs = new Map<string, unknown>();
  let n = 0;
  const runTable = async (params: unknown) => {
    const { Input } = params as { Input: unknown };
    const arn = `arn:aws:states:us-east-1:123456789012:execution:highwater-table:t${n++}`;
    const output = await table.run(Input as never, {
      overrides: { taskResourceLocalHandlers: wrapped, retryIntervalOverrides: { ExtractChunk: 0, Plan: 0 } },
      context: { Execution: { Id: arn } },
    }).result;
    outputs.set(arn, output);
    return { ExecutionArn: arn, Output: output, Status: 'SUCCEEDED' };
  };
  const ex = sync.run(input as never, {
    overrides: { taskResourceLocalHandlers: { RunTable: runTable } },
    context: { Execution: { Id: 'arn:aws:states:us-east-1:123456789012:execution:highwater-sync:s' } },
  });
  return ex.result.then(
    (output) => ({
      ok: true as const,
      summary: output,
      output: { tables: (output as { tables: { execution: string }[] }).tables.map((s) => outputs.get(s.execution)) },
    }),
    (e: { cause?: { name: string } }) => ({ ok: false as const, error: e.cause?.name }),
  );
}

test('executed: defaults fill pipeline and options, adhoc reaches Plan, chunk concurrency follows the default', async () => {
  const plans: Payload[] = [];
  let inFlight = 0;
  let peak = 0;
  const r = await execute(
    { tables: ['s.a'], adhoc: { source: 'src', target: 'dst' } },
    {
      Plan: (p) => {
        plans.push(p);
        return {
          run: run('s.a'),
          chunks: [0, 1, 2, 3, 4, 5].map((index) => ({ index })),
          chunkCount: 6,
          stagedChunks: null,
          skipped: null,
          horizon: null,
          warnings: [],
        };
      },
      ExtractChunk: async (p) => {
        inFlight++;
        peak = Math.max(peak, inFlight);
        await new Promise((res) => setTimeout(res, 15));
        inFlight--;
        return chunkResult((p.chunk as { index: number }).index, 2, 10);
      },
      Load: (p) => {
        expect(p.chunks).toBe('in-ledger');
        return { rowsLoaded: 12, rowsStaged: 12, rowsDeleted: 0, files: 6 };
      },
      Commit: (p) => ({
        status: 'committed',
        watermark: { ts: null, id: '9' },
        rowsExtracted: 12,
        rowsLoaded: (p.load as { rowsLoaded: number }).rowsLoaded,
      }),
    },
  );
  expect(plans[0]).toMatchObject({
    pipeline: 'default',
    table: 's.a',
    adhoc: { source: 'src', target: 'dst' },
    options: { maxWorkers: 3, backupOnly: false },
    execution: 'arn:aws:states:us-east-1:123456789012:execution:highwater-table:t0',
  });
  expect(peak).toBe(3);
  expect(r).toMatchObject({
    ok: true,
    summary: {
      tables: [
        {
          table: 's.a',
          status: 'committed',
          execution: 'arn:aws:states:us-east-1:123456789012:execution:highwater-table:t0',
          error: null,
        },
      ],
    },
    output: {
      tables: [
        {
          table: 's.a',
          status: 'committed',
          runId: 'run-s.a',
          watermarkBefore: { ts: null, id: '0' },
          watermarkAfter: { ts: null, id: '9' },
          rowsExtracted: 12,
          rowsLoaded: 12,
          chunks: 6,
          load: { rowsLoaded: 12, rowsStaged: 12, rowsDeleted: 0, files: 6 },
          verification: null,
          verifyError: null,
          horizon: null,
          warnings: [],
        },
      ],
    },
  });
});

test('executed: options.maxWorkers bounds the chunk Map; backup-only skips Load and commits with load null', async () => {
  let inFlight = 0;
  let peak = 0;
  const commits: Payload[] = [];
  const r = await execute(
    { pipeline: 'p', tables: ['s.a'], options: { maxWorkers: 2, backupOnly: true } },
    {
      Plan: () => ({
        run: run('s.a', { backupOnly: true }),
        chunks: [0, 1, 2, 3].map((index) => ({ index })),
        chunkCount: 4,
        stagedChunks: null,
        skipped: null,
        horizon: null,
        warnings: [],
      }),
      ExtractChunk: async (p) => {
        inFlight++;
        peak = Math.max(peak, inFlight);
        await new Promise((res) => setTimeout(res, 15));
        inFlight--;
        return chunkResult((p.chunk as { index: number }).index, 1, 1);
      },
      Load: () => {
        throw new Error('Load must not run for a backup-only run');
      },
      Commit: (p) => {
        commits.push(p);
        return { status: 'staged', watermark: { ts: null, id: null }, rowsExtracted: 4, rowsLoaded: 0 };
      },
    },
  );
  expect(peak).toBe(2);
  expect(commits).toEqual([{ run: run('s.a', { backupOnly: true }), load: null }]);
  expect(r.ok && (r.output as { tables: { status: string }[] }).tables[0]?.status).toBe('staged');
});

/** Plan's report notes, empty. */
const noNotes = { horizon: null, warnings: [] };

test('executed: one table failing is aborted and reported while the others commit or skip; the execution fails', async () => {
  const aborts: Payload[] = [];
  const r = await execute(
    { pipeline: 'p', tables: ['s.ok', 's.bad', 's.none'], options: {} },
    {
      Plan: (p) => {
        if (p.table === 's.none')
          return { run: null, chunks: [], chunkCount: 0, stagedChunks: null, skipped: 'no new rows', ...noNotes };
        if (p.table === 's.bad') throw Object.assign(new Error('unknown column "x"'), { name: 'ConfigError' });
        return {
          run: run(p.table as string),
          chunks: [{ index: 0 }],
          chunkCount: 1,
          stagedChunks: null,
          skipped: null,
          horizon: null,
          warnings: [],
        };
      },
      ExtractChunk: () => chunkResult(0, 1, 1),
      Load: () => ({ rowsLoaded: 1, rowsStaged: 1, rowsDeleted: 0, files: 1 }),
      Commit: () => ({ status: 'committed', watermark: { ts: null, id: '1' }, rowsExtracted: 1, rowsLoaded: 1 }),
      Abort: (p) => {
        aborts.push(p);
        return { aborted: false, error: 'x' };
      },
    },
  );
  expect(r).toEqual({ ok: false, error: 'Highwater.TablesFailed' });
  expect(aborts).toEqual([{ run: null, error: { Error: 'ConfigError', Cause: 'unknown column "x"' } }]);
});

test('executed: a Verify that fails after the commit is caught into TableCommitted with its error; the run stays committed', async () => {
  const r = await execute(
    { pipeline: 'p', tables: ['s.a'], options: {} },
    {
      Plan: () => ({
        run: run('s.a', { verify: true }),
        chunks: [{ index: 0 }],
        chunkCount: 1,
        stagedChunks: null,
        skipped: null,
        horizon: null,
        warnings: [],
      }),
      ExtractChunk: () => chunkResult(0, 1, 1),
      Load: () => ({ rowsLoaded: 1, rowsStaged: 1, rowsDeleted: 0, files: 1 }),
      Commit: () => ({ status: 'committed', watermark: { ts: null, id: '1' }, rowsExtracted: 1, rowsLoaded: 1 }),
      Verify: () => {
        throw Object.assign(new Error('source gone'), { name: 'DataError' });
      },
    },
  );
  expect(r.ok).toBe(true);
  const [t] = (r as unknown as { output: { tables: Record<string, unknown>[] } }).output.tables;
  expect(t).toMatchObject({ status: 'committed', verification: null, verifyError: { Error: 'DataError' } });
});

test('executed: a chunk that hands back the rest of its range runs again on it until the rest is null', async () => {
  const extracted: Payload[] = [];
  const loads: Payload[] = [];
  const r = await execute(
    { tables: ['s.a'] },
    {
      Plan: () => ({
        run: run('s.a'),
        chunks: [0, 1].map((index) => ({ index, lower: null, upper: null })),
        chunkCount: 2,
        stagedChunks: null,
        skipped: null,
        horizon: null,
        warnings: [],
      }),
      ExtractChunk: (p) => {
        extracted.push(p);
        const chunk = p.chunk as { index: number; part?: number; before?: { rows: number; bytes: number } };
        const part = chunk.part ?? 0;
        // Chunk 1 stops twice near its deadline: parts 0, 1 and 2, 3 rows each.
        if (chunk.index === 1 && part < 2) {
          const before = chunk.before ?? { rows: 0, bytes: 0 };
          const total = { rows: before.rows + 3, bytes: before.bytes + 30 };
          const rest = { index: 1, part: part + 1, lower: [`k${part}`], upper: null, before: total };
          return chunkResult(1, total.rows, total.bytes, rest);
        }
        return chunkResult(chunk.index, (chunk.before?.rows ?? 0) + 3, (chunk.before?.bytes ?? 0) + 30);
      },
      Load: (p) => {
        loads.push(p);
        return { rowsLoaded: 12, rowsStaged: 12, rowsDeleted: 0, files: 4 };
      },
      Commit: () => ({ status: 'committed', watermark: { ts: null, id: '9' }, rowsExtracted: 12, rowsLoaded: 12 }),
    },
  );
  expect(r.ok).toBe(true);
  const seen = extracted.map((p) => {
    const c = p.chunk as { index: number; part?: number; lower: unknown };
    return [c.index, c.part ?? 0, c.lower];
  });
  expect(seen).toEqual(
    expect.arrayContaining([
      [0, 0, null],
      [1, 0, null],
      [1, 1, ['k0']],
      [1, 2, ['k1']],
    ]),
  );
  expect(seen).toHaveLength(4);
  // Every continuation carries the run; Load then takes the chunks (and their parts) from the ledger.
  for (const p of extracted) expect((p.run as { runId: string }).runId).toBe('run-s.a');
  expect(loads[0]!.chunks).toBe('in-ledger');
});
