/**
 * The state machine definition: its structure (states, Retry/Catch, JSONPath only, Map concurrency path) and its
 * data flow, executed by aws-local-stepfunctions with small in-test Lambda stand-ins for the five handlers.
 */
import { type RunOptions, StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import { expect, test } from 'vitest';
import { ConfigError, ConnectionError, StagingError } from '../../../lambdas/errors.js';
import { LOCAL_ARNS, localDefinition } from '../../../lambdas/local/orchestration/local-machine.js';
import {
  aslErrorName,
  type DefinitionArns,
  stateMachineDefinition,
  TRANSIENT_ERRORS,
} from '../../../lambdas/orchestration/definition.js';

type State = Record<string, unknown> & { Type: string };
const ARNS: DefinitionArns = LOCAL_ARNS;

function states(def: Record<string, unknown>): Record<string, State> {
  return def.States as Record<string, State>;
}
function tableStates(def: Record<string, unknown>): Record<string, State> {
  return (states(def).Tables!.ItemProcessor as { States: Record<string, State> }).States;
}

test('the top level normalizes the request, maps over the tables and fails the execution when a table failed', () => {
  const def = stateMachineDefinition(ARNS);
  expect(def.StartAt).toBe('Defaults');
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
  expect(states(def).TablesFailed).toMatchObject({ Type: 'Fail', Error: 'Highwater.TablesFailed' });
});

test('per table: Plan → HasWork → ExtractChunks → BackupOnly → Load → Commit, every step caught into Abort', () => {
  const def = stateMachineDefinition(ARNS);
  const t = tableStates(def);
  expect(Object.keys(t).sort()).toEqual(
    [
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
  expect(t.ExtractChunks!.Next).toBe('BackupOnly');
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
  const tasks: [State, string][] = [
    [t.Plan!, ARNS.plan],
    [extract, ARNS.extract],
    [t.Load!, ARNS.load],
    [t.Commit!, ARNS.commit],
    [t.Abort!, ARNS.abort],
  ];
  for (const [state, arn] of tasks) {
    expect(state.Resource).toBe('arn:aws:states:::lambda:invoke');
    expect((state.Parameters as { FunctionName: string }).FunctionName).toBe(arn);
    expect(state.TimeoutSeconds).toBe(120);
    expect(state.Retry).toEqual([
      {
        ErrorEquals: [...TRANSIENT_ERRORS],
        IntervalSeconds: 3,
        BackoffRate: 2,
        MaxAttempts: 5,
        MaxDelaySeconds: 60,
        JitterStrategy: 'FULL',
      },
    ]);
  }
  expect(TRANSIENT_ERRORS).toEqual(
    expect.arrayContaining(['ConnectionError', 'StagingError', 'Lambda.TooManyRequestsException', 'States.Timeout']),
  );
});

test('the chunk Map takes its concurrency from the request options, defaulted by the definition', () => {
  const def = stateMachineDefinition(ARNS, { defaultMaxConcurrency: 7 });
  const map = tableStates(def).ExtractChunks!;
  expect(map).toMatchObject({ Type: 'Map', ItemsPath: '$.plan.chunks', MaxConcurrencyPath: '$.options.maxWorkers' });
  expect(map.MaxConcurrency).toBeUndefined();
  expect(JSON.stringify(states(def).Defaults)).toContain('"maxWorkers":7');
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
    MaxConcurrencyPath: '$.options.maxWorkers',
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
    Parameters: { 'index.$': '$.extracted.out.index' },
    End: true,
  });
  expect(t.ChunksInLedger).toEqual({ Type: 'Pass', Result: 'in-ledger', ResultPath: '$.chunks', Next: 'BackupOnly' });
});

test('the local rewrite turns only the ItemReader Map into a staged read and the same Map inline', () => {
  const def = stateMachineDefinition(ARNS);
  const local = localDefinition(def);
  const t = tableStates(local);
  expect(t.ExtractChunksDistributed).toEqual({
    Type: 'Task',
    Resource: 'arn:aws:states:::s3:getObject',
    Parameters: {
      'Bucket.$': '$.plan.stagedChunks.bucket',
      'Key.$': '$.plan.stagedChunks.key',
      'run.$': '$.plan.run',
    },
    ResultPath: '$.plan.chunks',
    Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'Abort' }],
    Next: 'ExtractChunksDistributedItems',
  });
  const { ItemReader: _r, ItemProcessor: deployedProcessor, ...deployed } = tableStates(def).ExtractChunksDistributed!;
  const { ItemsPath, ItemProcessor, ...inline } = t.ExtractChunksDistributedItems!;
  expect(ItemsPath).toBe('$.plan.chunks');
  expect(inline).toEqual(deployed);
  expect(ItemProcessor).toEqual({
    ...(deployedProcessor as Record<string, unknown>),
    ProcessorConfig: { Mode: 'INLINE' },
  });
  // Every other state is untouched, and the input definition is not modified.
  const others = (s: Record<string, State>) =>
    Object.fromEntries(Object.entries(s).filter(([k]) => !k.startsWith('ExtractChunksDistributed')));
  expect(others(t)).toEqual(others(tableStates(def)));
  expect(JSON.stringify(def)).not.toContain('ExtractChunksDistributedItems');
});

test('JSONPath only: no JSONata anywhere, and the library validates it with ARN and path checks', () => {
  const text = JSON.stringify(stateMachineDefinition(ARNS));
  expect(text).not.toMatch(/JSONata|QueryLanguage|"Arguments"|"Output"|\{%/);
  expect(
    () =>
      new StateMachine(stateMachineDefinition(ARNS) as unknown as StateMachineDefinition, {
        validationOptions: { checkArn: true, checkPaths: true },
      }),
  ).not.toThrow();
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

/** What the extract step returns for a chunk read in one step (or its last part, with the chunk's totals). */
function chunkResult(index: number, rows: number, bytes: number, rest: unknown = null) {
  return { index, key: `chunk-${index}`, rows, bytes, maxCursor: null, rest };
}

async function execute(input: unknown, handlers: Record<string, (p: Payload) => unknown>) {
  const sm = new StateMachine(stateMachineDefinition(ARNS, { defaultMaxConcurrency: 3 }) as never);
  const wrapped = Object.fromEntries(Object.entries(handlers).map(([k, f]) => [k, lambda(f)])) as LocalHandlers;
  const ex = sm.run(input as never, {
    overrides: { taskResourceLocalHandlers: wrapped, retryIntervalOverrides: { ExtractChunk: 0, Plan: 0 } },
  });
  return ex.result.then(
    (output) => ({ ok: true as const, output }),
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
      Load: (p) => ({ rowsLoaded: (p.chunks as unknown[]).length * 2, rowsStaged: 12, rowsDeleted: 0, files: 6 }),
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
  });
  expect(peak).toBe(3);
  expect(r).toEqual({
    ok: true,
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
  // Every continuation carries the run; the Map's result has one entry per planned chunk, with all its rows.
  for (const p of extracted) expect((p.run as { runId: string }).runId).toBe('run-s.a');
  expect(loads[0]!.chunks).toEqual([
    { index: 0, key: 'chunk-0', rows: 3, bytes: 30, maxCursor: null },
    { index: 1, key: 'chunk-1', rows: 9, bytes: 90, maxCursor: null },
  ]);
});
