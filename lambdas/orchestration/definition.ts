/**
 * The one state machine (Amazon States Language, JSONPath) that runs a sync request: the CDK stack deploys it and
 * the local runner executes it with aws-local-stepfunctions. Plain data, no CDK import, so both can build it
 * cheaply. See docs/state-machine.md for the diagram and the policies.
 */
import { CHUNKS_IN_LEDGER } from '../domain/manifests.js';
import { isHighwaterError } from '../errors.js';

export interface DefinitionArns {
  plan: string;
  extract: string;
  load: string;
  commit: string;
  abort: string;
  verify: string;
}

export interface DefinitionOptions {
  /** Chunk concurrency when the request's `options.maxWorkers` is absent. */
  defaultMaxConcurrency?: number;
  /** Tables run at once by the outer Map (1 = one after another, like the CLI always did). */
  tableConcurrency?: number;
  /** Retry MaxAttempts (retries after the first attempt) on transient errors. */
  retryMaxAttempts?: number;
  /** First retry delay; doubled per attempt, with full jitter. */
  retryIntervalSeconds?: number;
  /** TimeoutSeconds of every Task (Lambda's own limit is 900 s). */
  taskTimeoutSeconds?: number;
}

/** The task states and the handler each one invokes. */
export const TASK_STATES = {
  Plan: 'plan',
  ExtractChunk: 'extract',
  // The same function inside the Distributed Map (state names are unique across a whole state machine).
  ExtractStagedChunk: 'extract',
  Load: 'load',
  Commit: 'commit',
  Abort: 'abort',
  Verify: 'verify',
} as const satisfies Record<string, keyof DefinitionArns>;
export type TaskStateName = keyof typeof TASK_STATES;

/** Transient error names: the Highwater classes that are transient by default, Lambda's own, and a timeout. */
export const TRANSIENT_ERRORS = [
  'ConnectionError',
  'StagingError',
  'Highwater.Transient',
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
  'States.Timeout',
] as const;

const NODE_TRANSIENT_CODES = ['ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'PROTOCOL_CONNECTION_LOST'];

/**
 * The error name a step failure must carry for Retry/Catch to classify it as the runtime does: a transient error
 * whose class is not in TRANSIENT_ERRORS becomes `Highwater.Transient`; an instance marked not transient of a
 * transient class (S3 AccessDenied is a StagingError) becomes `<Class>.Permanent`. A Lambda entry point should set
 * `err.name` to this before rethrowing.
 */
export function aslErrorName(e: unknown): string {
  const name = e instanceof Error ? e.name : 'Error';
  const listed = (TRANSIENT_ERRORS as readonly string[]).includes(name);
  const code = (e as { code?: unknown } | null)?.code;
  const transient = isHighwaterError(e) ? e.transient : typeof code === 'string' && NODE_TRANSIENT_CODES.includes(code);
  if (transient) return listed ? name : 'Highwater.Transient';
  return listed ? `${name}.Permanent` : name;
}

const LAMBDA_INVOKE = 'arn:aws:states:::lambda:invoke';

function task(
  arn: string,
  payload: Record<string, unknown>,
  o: Required<DefinitionOptions>,
  rest: Record<string, unknown>,
): Record<string, unknown> {
  return {
    Type: 'Task',
    Resource: LAMBDA_INVOKE,
    Parameters: { FunctionName: arn, ...payload },
    TimeoutSeconds: o.taskTimeoutSeconds,
    Retry: [
      {
        ErrorEquals: [...TRANSIENT_ERRORS],
        IntervalSeconds: o.retryIntervalSeconds,
        BackoffRate: 2,
        MaxAttempts: o.retryMaxAttempts,
        MaxDelaySeconds: 60,
        JitterStrategy: 'FULL',
      },
    ],
    ...rest,
  };
}

/** The Map state that reads a staged chunk list (ItemReader); the local runner rewrites it (local/orchestration/local-machine.ts). */
export const DISTRIBUTED_MAP = 'ExtractChunksDistributed';

/**
 * The states that extract one chunk, in a Map's item processor (input {run, chunk}): the extract step, and — when
 * it stopped near its deadline and handed back the rest of its range (`rest`) — the same step again on that rest,
 * until a part reaches the chunk's end. `finish` shapes the iteration's output from the last part's result at
 * `$.extracted` (every part's rows counted in it).
 */
function chunkProcessorStates(
  taskName: string,
  arn: string,
  o: Required<DefinitionOptions>,
  finish: Record<string, unknown>,
): Record<string, unknown> {
  return {
    [taskName]: task(arn, { 'Payload.$': '$' }, o, {
      ResultSelector: { 'out.$': '$.Payload' },
      ResultPath: '$.extracted',
      Next: `${taskName}HasRest`,
    }),
    [`${taskName}HasRest`]: {
      Type: 'Choice',
      // (`Not … IsNull: true` rather than `IsNull: false`, which aws-local-stepfunctions 3.0.0 treats as true.)
      Choices: [{ Not: { Variable: '$.extracted.out.rest', IsNull: true }, Next: `${taskName}Rest` }],
      Default: `${taskName}Done`,
    },
    [`${taskName}Rest`]: {
      Type: 'Pass',
      Parameters: { 'run.$': '$.run', 'chunk.$': '$.extracted.out.rest' },
      Next: taskName,
    },
    [`${taskName}Done`]: { Type: 'Pass', ...finish, End: true },
  };
}

/** Any failure of a table's run goes to Abort with the error at $.error (run context at $.plan.run). */
const CATCH_TO_ABORT = [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'Abort' }];

/**
 * The table's outcome: every end of the per-table iterator emits one of these into the outer Map's result, in the
 * shape of manifests.ts TableOutcomeSchema (which the CLI reads back, locally and from AWS).
 */
function tableStates(arns: DefinitionArns, o: Required<DefinitionOptions>): Record<string, unknown> {
  return {
    Plan: task(arns.plan, { 'Payload.$': 'States.JsonMerge($.request, $.item, false)' }, o, {
      ResultSelector: {
        'run.$': '$.Payload.run',
        'chunks.$': '$.Payload.chunks',
        'chunkCount.$': '$.Payload.chunkCount',
        'stagedChunks.$': '$.Payload.stagedChunks',
        'skipped.$': '$.Payload.skipped',
        'horizon.$': '$.Payload.horizon',
        'warnings.$': '$.Payload.warnings',
      },
      ResultPath: '$.plan',
      Catch: CATCH_TO_ABORT,
      Next: 'HasWork',
    }),
    HasWork: {
      Type: 'Choice',
      Choices: [
        { Variable: '$.plan.run', IsNull: true, Next: 'TableSkipped' },
        // A chunk list too large for the payload was staged by Plan: a Distributed Map reads it from S3.
        // (`Not … IsNull: true` rather than `IsNull: false`, which aws-local-stepfunctions 3.0.0 treats as true.)
        { Not: { Variable: '$.plan.stagedChunks', IsNull: true }, Next: DISTRIBUTED_MAP },
      ],
      Default: 'ExtractChunks',
    },
    TableSkipped: {
      Type: 'Pass',
      Parameters: {
        'table.$': '$.item.table',
        status: 'skipped',
        'skipped.$': '$.plan.skipped',
        'horizon.$': '$.plan.horizon',
        'warnings.$': '$.plan.warnings',
      },
      End: true,
    },
    ExtractChunks: {
      Type: 'Map',
      ItemsPath: '$.plan.chunks',
      ItemSelector: { 'run.$': '$.plan.run', 'chunk.$': '$$.Map.Item.Value' },
      MaxConcurrencyPath: '$.options.maxWorkers',
      ItemProcessor: {
        ProcessorConfig: { Mode: 'INLINE' },
        StartAt: 'ExtractChunk',
        // The Map's result keeps what Load compares with the ledger (not `rest`, always null here).
        States: chunkProcessorStates('ExtractChunk', arns.extract, o, {
          Parameters: {
            'index.$': '$.extracted.out.index',
            'key.$': '$.extracted.out.key',
            'rows.$': '$.extracted.out.rows',
            'bytes.$': '$.extracted.out.bytes',
            'maxCursor.$': '$.extracted.out.maxCursor',
          },
        }),
      },
      ResultPath: '$.chunks',
      Catch: CATCH_TO_ABORT,
      Next: 'BackupOnly',
    },
    [DISTRIBUTED_MAP]: {
      Type: 'Map',
      ItemReader: {
        Resource: 'arn:aws:states:::s3:getObject',
        ReaderConfig: { InputType: 'JSON' },
        Parameters: { 'Bucket.$': '$.plan.stagedChunks.bucket', 'Key.$': '$.plan.stagedChunks.key' },
      },
      ItemSelector: { 'run.$': '$.plan.run', 'chunk.$': '$$.Map.Item.Value' },
      MaxConcurrencyPath: '$.options.maxWorkers',
      ItemProcessor: {
        // STANDARD children: an extract may run up to Lambda's 15 minutes, beyond an EXPRESS child's 5.
        ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' },
        StartAt: 'ExtractStagedChunk',
        // Each child returns only its index: the Map's result array stays far below the payload limit, and
        // Load takes the chunk list from the ledger.
        States: chunkProcessorStates('ExtractStagedChunk', arns.extract, o, {
          Parameters: { 'index.$': '$.extracted.out.index' },
        }),
      },
      ResultPath: null,
      Catch: CATCH_TO_ABORT,
      Next: 'ChunksInLedger',
    },
    ChunksInLedger: { Type: 'Pass', Result: CHUNKS_IN_LEDGER, ResultPath: '$.chunks', Next: 'BackupOnly' },
    BackupOnly: {
      Type: 'Choice',
      Choices: [{ Variable: '$.plan.run.backupOnly', BooleanEquals: true, Next: 'SkipLoad' }],
      Default: 'Load',
    },
    SkipLoad: { Type: 'Pass', Result: { output: null }, ResultPath: '$.loaded', Next: 'Commit' },
    Load: task(arns.load, { Payload: { 'run.$': '$.plan.run', 'chunks.$': '$.chunks' } }, o, {
      ResultSelector: { 'output.$': '$.Payload' },
      ResultPath: '$.loaded',
      Catch: CATCH_TO_ABORT,
      Next: 'Commit',
    }),
    Commit: task(arns.commit, { Payload: { 'run.$': '$.plan.run', 'load.$': '$.loaded.output' } }, o, {
      ResultSelector: { 'output.$': '$.Payload' },
      ResultPath: '$.committed',
      Catch: CATCH_TO_ABORT,
      Next: 'VerifyDue',
    }),
    // verify_every: Plan says when a verification is due. It runs after the commit, so a verification that fails
    // (a timeout on a large table, say) is reported with the table, never undoes the committed run.
    VerifyDue: {
      Type: 'Choice',
      Choices: [{ Variable: '$.plan.run.verify', BooleanEquals: true, Next: 'Verify' }],
      Default: 'TableCommitted',
    },
    Verify: task(arns.verify, { Payload: { 'run.$': '$.plan.run' } }, o, {
      ResultSelector: { 'output.$': '$.Payload' },
      ResultPath: '$.verified',
      Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.verifyError', Next: 'TableCommitted' }],
      Next: 'TableCommitted',
    }),
    TableCommitted: {
      Type: 'Pass',
      Parameters: {
        'table.$': '$.item.table',
        'status.$': '$.committed.output.status',
        'runId.$': '$.plan.run.runId',
        'watermarkBefore.$': '$.plan.run.from',
        'watermarkAfter.$': '$.committed.output.watermark',
        'rowsExtracted.$': '$.committed.output.rowsExtracted',
        'rowsLoaded.$': '$.committed.output.rowsLoaded',
        'chunks.$': '$.plan.chunkCount',
        'load.$': '$.loaded.output',
        'verification.$': '$.verified.output',
        'verifyError.$': '$.verifyError',
        'horizon.$': '$.plan.horizon',
        'warnings.$': '$.plan.warnings',
      },
      End: true,
    },
    Abort: task(arns.abort, { Payload: { 'run.$': '$.plan.run', 'error.$': '$.error' } }, o, {
      ResultSelector: { 'output.$': '$.Payload' },
      ResultPath: '$.abort',
      Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.abortError', Next: 'AbortFailed' }],
      Next: 'TableFailed',
    }),
    TableFailed: {
      Type: 'Pass',
      Parameters: {
        'table.$': '$.item.table',
        status: 'failed',
        'run.$': '$.plan.run',
        'error.$': '$.error',
        abortError: null,
        'horizon.$': '$.plan.horizon',
        'warnings.$': '$.plan.warnings',
      },
      End: true,
    },
    AbortFailed: {
      Type: 'Pass',
      Parameters: {
        'table.$': '$.item.table',
        status: 'failed',
        'run.$': '$.plan.run',
        'error.$': '$.error',
        'abortError.$': '$.abortError',
        'horizon.$': '$.plan.horizon',
        'warnings.$': '$.plan.warnings',
      },
      End: true,
    },
  };
}

/** The state machine for a RunRequest ({pipeline, tables[], options, adhoc?}); see docs/state-machine.md. */
export function stateMachineDefinition(arns: DefinitionArns, opts: DefinitionOptions = {}): Record<string, unknown> {
  const o: Required<DefinitionOptions> = {
    defaultMaxConcurrency: opts.defaultMaxConcurrency ?? 4,
    tableConcurrency: opts.tableConcurrency ?? 1,
    retryMaxAttempts: opts.retryMaxAttempts ?? 3,
    retryIntervalSeconds: opts.retryIntervalSeconds ?? 2,
    taskTimeoutSeconds: opts.taskTimeoutSeconds ?? 900,
  };
  const optionDefaults = { maxWorkers: o.defaultMaxConcurrency, backupOnly: false, redshiftOnly: false, dryRun: false };
  return {
    Comment: 'Highwater: Plan → Map(ExtractChunk) → Load → Commit per table; any failure → Abort',
    StartAt: 'Defaults',
    States: {
      // JSONPath has no defaults: merge the request over them (pipeline, options, options.maxWorkers). Two copies of
      // the option defaults, because aws-local-stepfunctions' JsonMerge mutates its first argument.
      Defaults: {
        Type: 'Pass',
        Parameters: {
          defaults: { pipeline: 'default', options: optionDefaults },
          optionDefaults,
          'input.$': '$',
        },
        Next: 'MergeRequest',
      },
      MergeRequest: {
        Type: 'Pass',
        Parameters: {
          'optionDefaults.$': '$.optionDefaults',
          'request.$': 'States.JsonMerge($.defaults, $.input, false)',
        },
        Next: 'MergeOptions',
      },
      MergeOptions: {
        Type: 'Pass',
        Parameters: {
          'request.$': '$.request',
          'options.$': 'States.JsonMerge($.optionDefaults, $.request.options, false)',
        },
        Next: 'Tables',
      },
      Tables: {
        Type: 'Map',
        ItemsPath: '$.request.tables',
        MaxConcurrency: o.tableConcurrency,
        ItemSelector: {
          'request.$': '$.request',
          'options.$': '$.options',
          item: { 'table.$': '$$.Map.Item.Value' },
          // Abort reads $.plan.run; a failed Plan leaves this null run in place.
          plan: {
            run: null,
            chunks: [],
            chunkCount: 0,
            stagedChunks: null,
            skipped: null,
            horizon: null,
            warnings: [],
          },
          // What TableCommitted reads when no Verify ran.
          verified: { output: null },
          verifyError: null,
        },
        ItemProcessor: {
          ProcessorConfig: { Mode: 'INLINE' },
          StartAt: 'Plan',
          States: tableStates(arns, o),
        },
        ResultPath: '$.tables',
        Next: 'Summarize',
      },
      Summarize: {
        Type: 'Pass',
        Parameters: {
          'tables.$': '$.tables',
          'report.$': 'States.JsonToString($.tables)',
        },
        Next: 'AnyTableFailed',
      },
      AnyTableFailed: {
        Type: 'Choice',
        // In the JSON text only a real status field reads "status":"failed" (quotes inside a Cause are escaped).
        Choices: [{ Variable: '$.report', StringMatches: '*"status":"failed"*', Next: 'TablesFailed' }],
        Default: 'Done',
      },
      // Failing the execution makes CloudWatch's ExecutionsFailed alarm fire; the Cause carries every table's result.
      TablesFailed: { Type: 'Fail', Error: 'Highwater.TablesFailed', CausePath: '$.report' },
      Done: { Type: 'Pass', Parameters: { 'tables.$': '$.tables' }, End: true },
    },
  };
}
