/**
 * The two state machines (Amazon States Language, JSONPath) that run a sync request: the sync state machine maps
 * over the request's tables and runs each as a child execution of the table state machine (Plan → chunks → Load →
 * Commit, any failure → Abort), so every table has its own history and payloads, and an execution that dies is
 * seen per table (the reaper). The CDK stack deploys both and the local runner executes both with
 * aws-local-stepfunctions. Plain data, no CDK import. See docs/state-machine.md and docs/decisions/0004.
 */
import { CHUNKS_IN_LEDGER } from '../domain/manifests.js';
import { isHighwaterError } from '../errors.js';
import { FUNCTION_SIZING, type FunctionName } from './function-sizing.js';

/** The function ARNs of a table execution's Task states. */
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
  /** Tables run at once by the sync execution's Map (1 = one after another, like the CLI always did). */
  tableConcurrency?: number;
  /** Retry MaxAttempts (retries after the first attempt) on transient errors. */
  retryMaxAttempts?: number;
  /** First retry delay; doubled per attempt, with full jitter. */
  retryIntervalSeconds?: number;
  /**
   * Caps every Lambda Task's TimeoutSeconds (tests). Unset, each Task's TimeoutSeconds is its function's own timeout
   * (function-sizing.ts), so Step Functions and Lambda give up on an invocation at the same moment.
   */
  taskTimeoutSeconds?: number;
  /** A table execution's TimeoutSeconds. */
  tableTimeoutSeconds?: number;
  /** The sync execution's TimeoutSeconds (its tables run one after another by default). */
  syncTimeoutSeconds?: number;
}

/** A table execution may run a day; a sync execution a week (Standard workflows allow a year, quotas.ts). */
export const TABLE_TIMEOUT_SECONDS = 24 * 3600;
export const SYNC_TIMEOUT_SECONDS = 7 * 24 * 3600;

/** The Lambda Task states of a table execution and the handler each one invokes. */
export const TASK_STATES = {
  Plan: 'plan',
  ExtractChunk: 'extract',
  // The same function inside the Distributed Map (state names are unique across a whole state machine).
  ExtractStagedChunk: 'extract',
  Load: 'load',
  Commit: 'commit',
  Abort: 'abort',
  Verify: 'verify',
} as const satisfies Record<string, keyof DefinitionArns & FunctionName>;
export type TaskStateName = keyof typeof TASK_STATES;

/** The sync execution's Task that runs one table as a child execution of the table state machine. */
export const RUN_TABLE = 'RunTable';

/**
 * Transient error names: the Highwater classes that are transient by default, Lambda's service exceptions (the
 * four Step Functions recommends retrying, https://docs.aws.amazon.com/step-functions/latest/dg/bp-lambda-serviceexception.html,
 * and throttling), and a timeout. A function that times out is `Lambda.Unknown`, never retried.
 */
export const TRANSIENT_ERRORS = [
  'ConnectionError',
  'StagingError',
  'Highwater.Transient',
  'Lambda.ClientExecutionTimeoutException',
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
  'States.Timeout',
] as const;

/**
 * Load is never retried on a timeout, and its task never times out before its function does (TimeoutSeconds is
 * the function's limit plus this): a timed-out Load may still have a batch running in Redshift, and a second Load
 * beside it could commit twice (docs/decisions/0006-load-runs-once.md). Its own deadline ends every wait first.
 */
export const LOAD_RETRY_ERRORS = TRANSIENT_ERRORS.filter((e) => e !== 'States.Timeout');
export const LOAD_TIMEOUT_SLACK_SECONDS = 60;

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
/** Start a child execution and wait for it; `:2` returns its output as JSON (connect-stepfunctions.html). */
export const START_EXECUTION_SYNC = 'arn:aws:states:::states:startExecution.sync:2';

type Resolved = Required<DefinitionOptions>;

/**
 * One chunk's states in a Map's item processor: the extract, and a loop back to it while the extract hands back the
 * rest of its range (an extract that neared its deadline stops at a key and returns the next part as `rest`). The
 * iteration's output is the chunk's index only, so the Map's result stays a few bytes per chunk.
 */
function chunkProcessorStates(taskName: string, arn: string, o: Resolved): Record<string, unknown> {
  return {
    [taskName]: task('extract', arn, { 'Payload.$': '$' }, o, {
      ResultSelector: { 'out.$': '$.Payload' },
      ResultPath: '$.extracted',
      Next: `${taskName}HasRest`,
    }),
    [`${taskName}HasRest`]: {
      Type: 'Choice',
      // (`Not … IsNull: true` rather than `IsNull: false`, which aws-local-stepfunctions 3.0.0 treats as true; a result
      // without `rest` — an older function's — ends the chunk.)
      Choices: [
        {
          And: [
            { Variable: '$.extracted.out.rest', IsPresent: true },
            { Not: { Variable: '$.extracted.out.rest', IsNull: true } },
          ],
          Next: `${taskName}Rest`,
        },
      ],
      Default: `${taskName}Done`,
    },
    [`${taskName}Rest`]: {
      Type: 'Pass',
      Parameters: { 'run.$': '$.run', 'chunk.$': '$.extracted.out.rest' },
      Next: taskName,
    },
    [`${taskName}Done`]: { Type: 'Pass', OutputPath: '$.extracted.out.index', End: true },
  };
}

function retrier(errors: readonly string[], o: Resolved): Record<string, unknown> {
  return {
    ErrorEquals: [...errors],
    IntervalSeconds: o.retryIntervalSeconds,
    BackoffRate: 2,
    MaxAttempts: o.retryMaxAttempts,
    MaxDelaySeconds: 60,
    JitterStrategy: 'FULL',
  };
}

/**
 * A Lambda Task: its TimeoutSeconds is its function's timeout (capped by the option) plus `policy.slackSeconds`,
 * its Retry the one rule on `policy.retryOn` (TRANSIENT_ERRORS unless given).
 */
function task(
  fn: FunctionName,
  arn: string,
  payload: Record<string, unknown>,
  o: Resolved,
  rest: Record<string, unknown>,
  policy: { retryOn?: readonly string[]; slackSeconds?: number } = {},
): Record<string, unknown> {
  return {
    Type: 'Task',
    Resource: LAMBDA_INVOKE,
    Parameters: { FunctionName: arn, ...payload },
    TimeoutSeconds: Math.min(o.taskTimeoutSeconds, FUNCTION_SIZING[fn].timeoutSeconds) + (policy.slackSeconds ?? 0),
    Retry: [retrier(policy.retryOn ?? TRANSIENT_ERRORS, o)],
    ...rest,
  };
}

/** The Map state that reads a staged chunk list (ItemReader); the local runner emulates it (local-machine.ts). */
export const DISTRIBUTED_MAP = 'ExtractChunksDistributed';

/** Any failure of a table's run goes to Abort with the error at $.error (run context at $.plan.run). */
const CATCH_TO_ABORT = [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'Abort' }];

/** What Plan's output becomes in the state, and what a failed Plan leaves there for Abort and the outcome. */
const PLAN_FIELDS = ['run', 'chunkCount', 'stagedChunks', 'skipped', 'horizon', 'warnings'] as const;
const EMPTY_PLAN = { run: null, chunkCount: 0, stagedChunks: null, skipped: null, horizon: null, warnings: [] };

/** Plan's notes that every outcome carries for the report. */
const PLAN_NOTES = { 'horizon.$': '$.plan.horizon', 'warnings.$': '$.plan.warnings' };

/**
 * The table execution. Its input is what the sync execution sends, `{pipeline, table, options (with maxWorkers),
 * adhoc (or null)}`; its output is the table's outcome (manifests.ts TableOutcomeSchema). The chunk list is in the
 * state only from Plan to the end of the chunk Map (ChunksInLedger drops it); Load reads the chunks from the ledger.
 */
export function tableStateMachineDefinition(
  arns: DefinitionArns,
  opts: DefinitionOptions = {},
): Record<string, unknown> {
  const o = resolve(opts);
  const table = '$.input.table';
  return {
    Comment: 'Highwater, one table: Plan → Map(ExtractChunk) → Load → Commit; any failure → Abort',
    StartAt: 'TableInput',
    TimeoutSeconds: o.tableTimeoutSeconds,
    States: {
      TableInput: {
        Type: 'Pass',
        Parameters: { 'input.$': '$', plan: EMPTY_PLAN, verified: { output: null }, verifyError: null },
        Next: 'Plan',
      },
      Plan: task(
        'plan',
        arns.plan,
        {
          Payload: {
            'pipeline.$': '$.input.pipeline',
            'table.$': table,
            'options.$': '$.input.options',
            'adhoc.$': '$.input.adhoc',
            // The ledger records which execution runs the run: the reaper finds it by this when the execution dies.
            'execution.$': '$$.Execution.Id',
          },
        },
        o,
        {
          ResultSelector: {
            'chunks.$': '$.Payload.chunks',
            ...Object.fromEntries(PLAN_FIELDS.map((f) => [`${f}.$`, `$.Payload.${f}`])),
          },
          ResultPath: '$.plan',
          Catch: CATCH_TO_ABORT,
          Next: 'HasWork',
        },
      ),
      HasWork: {
        Type: 'Choice',
        Choices: [
          { Variable: '$.plan.run', IsNull: true, Next: 'TableSkipped' },
          // A chunk list too large for the state was staged by Plan: a Distributed Map reads it from S3.
          // (`Not … IsNull: true` rather than `IsNull: false`, which aws-local-stepfunctions 3.0.0 treats as true.)
          { Not: { Variable: '$.plan.stagedChunks', IsNull: true }, Next: DISTRIBUTED_MAP },
        ],
        Default: 'ExtractChunks',
      },
      TableSkipped: {
        Type: 'Pass',
        Parameters: { 'table.$': table, status: 'skipped', 'skipped.$': '$.plan.skipped', ...PLAN_NOTES },
        End: true,
      },
      ExtractChunks: {
        Type: 'Map',
        ItemsPath: '$.plan.chunks',
        ItemSelector: { 'run.$': '$.plan.run', 'chunk.$': '$$.Map.Item.Value' },
        MaxConcurrencyPath: '$.input.options.maxWorkers',
        ItemProcessor: {
          ProcessorConfig: { Mode: 'INLINE' },
          StartAt: 'ExtractChunk',
          States: {
            // Each iteration returns only its chunk index: the Map's result stays a few bytes per chunk.
            ...chunkProcessorStates('ExtractChunk', arns.extract, o),
          },
        },
        ResultPath: null,
        Catch: CATCH_TO_ABORT,
        Next: 'ChunksInLedger',
      },
      [DISTRIBUTED_MAP]: {
        Type: 'Map',
        ItemReader: {
          Resource: 'arn:aws:states:::s3:getObject',
          ReaderConfig: { InputType: 'JSON' },
          Parameters: { 'Bucket.$': '$.plan.stagedChunks.bucket', 'Key.$': '$.plan.stagedChunks.key' },
        },
        ItemSelector: { 'run.$': '$.plan.run', 'chunk.$': '$$.Map.Item.Value' },
        MaxConcurrencyPath: '$.input.options.maxWorkers',
        ItemProcessor: {
          // STANDARD children: an extract may run up to Lambda's 15 minutes, beyond an EXPRESS child's 5.
          ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' },
          StartAt: 'ExtractStagedChunk',
          States: {
            ...chunkProcessorStates('ExtractStagedChunk', arns.extract, o),
          },
        },
        ResultPath: null,
        Catch: CATCH_TO_ABORT,
        Next: 'ChunksInLedger',
      },
      // The chunk list leaves the state here: Load takes the chunks from the ledger, and every later state is small.
      ChunksInLedger: {
        Type: 'Pass',
        Parameters: {
          'input.$': '$.input',
          plan: Object.fromEntries(PLAN_FIELDS.map((f) => [`${f}.$`, `$.plan.${f}`])),
          'verified.$': '$.verified',
          'verifyError.$': '$.verifyError',
        },
        Next: 'BackupOnly',
      },
      BackupOnly: {
        Type: 'Choice',
        Choices: [{ Variable: '$.plan.run.backupOnly', BooleanEquals: true, Next: 'SkipLoad' }],
        Default: 'Load',
      },
      SkipLoad: { Type: 'Pass', Result: { output: null }, ResultPath: '$.loaded', Next: 'Commit' },
      Load: task(
        'load',
        arns.load,
        { Payload: { 'run.$': '$.plan.run', chunks: CHUNKS_IN_LEDGER } },
        o,
        { ResultSelector: { 'output.$': '$.Payload' }, ResultPath: '$.loaded', Catch: CATCH_TO_ABORT, Next: 'Commit' },
        { retryOn: LOAD_RETRY_ERRORS, slackSeconds: LOAD_TIMEOUT_SLACK_SECONDS },
      ),
      Commit: task('commit', arns.commit, { Payload: { 'run.$': '$.plan.run', 'load.$': '$.loaded.output' } }, o, {
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
      Verify: task('verify', arns.verify, { Payload: { 'run.$': '$.plan.run' } }, o, {
        ResultSelector: { 'output.$': '$.Payload' },
        ResultPath: '$.verified',
        Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.verifyError', Next: 'TableCommitted' }],
        Next: 'TableCommitted',
      }),
      TableCommitted: {
        Type: 'Pass',
        Parameters: {
          'table.$': table,
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
          ...PLAN_NOTES,
        },
        End: true,
      },
      Abort: task('abort', arns.abort, { Payload: { 'run.$': '$.plan.run', 'error.$': '$.error' } }, o, {
        ResultSelector: { 'output.$': '$.Payload' },
        ResultPath: '$.abort',
        Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.abortError', Next: 'AbortFailed' }],
        Next: 'TableFailed',
      }),
      TableFailed: {
        Type: 'Pass',
        Parameters: {
          'table.$': table,
          status: 'failed',
          'run.$': '$.plan.run',
          'error.$': '$.error',
          abortError: null,
          ...PLAN_NOTES,
        },
        End: true,
      },
      AbortFailed: {
        Type: 'Pass',
        Parameters: {
          'table.$': table,
          status: 'failed',
          'run.$': '$.plan.run',
          'error.$': '$.error',
          'abortError.$': '$.abortError',
          ...PLAN_NOTES,
        },
        End: true,
      },
    },
  };
}

/**
 * StartExecution refused for a reason that passes (the account's open executions, throttling): worth a retry.
 * A child that ran and failed (States.TaskFailed) is not retried: its table's outcome is that failure.
 */
export const START_EXECUTION_TRANSIENT_ERRORS = [
  'StepFunctions.ExecutionLimitExceededException',
  'StepFunctions.SdkClientException',
  'StepFunctions.AWSStepFunctionsException',
] as const;

/** The Fail state's Cause: short and fixed (a Cause is capped at 32,768 characters); the tables are in the output. */
export const TABLES_FAILED_CAUSE = "at least one table failed: the Summarize state's output lists every table";

/**
 * The sync execution for a RunRequest ({pipeline, tables[], options, adhoc?}): defaults filled in, then one child
 * execution of the table state machine (`tableStateMachineArn`) per table. Its output is `{tables: [summary]}`
 * (manifests.ts TableSummarySchema), each naming the table's execution, whose output is the table's outcome.
 */
export function syncStateMachineDefinition(
  tableStateMachineArn: string,
  opts: DefinitionOptions = {},
): Record<string, unknown> {
  const o = resolve(opts);
  const optionDefaults = { maxWorkers: o.defaultMaxConcurrency, backupOnly: false, redshiftOnly: false, dryRun: false };
  return {
    Comment: 'Highwater: one table execution per table of the request; fails when any table failed',
    StartAt: 'Defaults',
    TimeoutSeconds: o.syncTimeoutSeconds,
    States: {
      // JSONPath has no defaults: merge the request over them (pipeline, adhoc, options, options.maxWorkers). Two
      // copies of the option defaults, because aws-local-stepfunctions' JsonMerge mutates its first argument.
      Defaults: {
        Type: 'Pass',
        Parameters: {
          defaults: { pipeline: 'default', adhoc: null, options: optionDefaults },
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
          'pipeline.$': '$.request.pipeline',
          'table.$': '$$.Map.Item.Value',
          'options.$': '$.options',
          'adhoc.$': '$.request.adhoc',
        },
        ItemProcessor: {
          ProcessorConfig: { Mode: 'INLINE' },
          StartAt: RUN_TABLE,
          States: {
            [RUN_TABLE]: {
              Type: 'Task',
              Resource: START_EXECUTION_SYNC,
              Parameters: {
                StateMachineArn: tableStateMachineArn,
                Input: {
                  'pipeline.$': '$.pipeline',
                  'table.$': '$.table',
                  'options.$': '$.options',
                  'adhoc.$': '$.adhoc',
                  // Links the child to this execution in the console (connect-stepfunctions.html).
                  'AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID.$': '$$.Execution.Id',
                },
              },
              // The child's own timeout ends it first; this only bounds a child that never reports back.
              TimeoutSeconds: o.tableTimeoutSeconds + 300,
              ResultSelector: {
                'table.$': '$.Output.table',
                'status.$': '$.Output.status',
                'execution.$': '$.ExecutionArn',
                error: null,
              },
              Retry: [retrier(START_EXECUTION_TRANSIENT_ERRORS, o)],
              // The child failed, timed out or was stopped outside its own Catch (the reaper released its run).
              Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'TableExecutionFailed' }],
              End: true,
            },
            // Only the error's name: its Cause (the child's description, up to 32,768 characters) stays in the
            // history, where reports read it, so the summary of a table stays a few hundred bytes whatever failed.
            TableExecutionFailed: {
              Type: 'Pass',
              Parameters: {
                'table.$': '$.table',
                status: 'failed',
                execution: null,
                error: { 'Error.$': '$.error.Error' },
              },
              End: true,
            },
          },
        },
        ResultPath: '$.tables',
        Next: 'Summarize',
      },
      Summarize: {
        Type: 'Pass',
        Parameters: { 'tables.$': '$.tables', 'report.$': 'States.JsonToString($.tables)' },
        Next: 'AnyTableFailed',
      },
      AnyTableFailed: {
        Type: 'Choice',
        // In the JSON text only a real status field reads "status":"failed" (quotes inside a Cause are escaped).
        Choices: [{ Variable: '$.report', StringMatches: '*"status":"failed"*', Next: 'TablesFailed' }],
        Default: 'Done',
      },
      // Failing the execution makes CloudWatch's ExecutionsFailed alarm fire.
      TablesFailed: { Type: 'Fail', Error: 'Highwater.TablesFailed', Cause: TABLES_FAILED_CAUSE },
      Done: { Type: 'Pass', Parameters: { 'tables.$': '$.tables' }, End: true },
    },
  };
}

function resolve(opts: DefinitionOptions): Resolved {
  return {
    defaultMaxConcurrency: opts.defaultMaxConcurrency ?? 4,
    tableConcurrency: opts.tableConcurrency ?? 1,
    retryMaxAttempts: opts.retryMaxAttempts ?? 3,
    retryIntervalSeconds: opts.retryIntervalSeconds ?? 2,
    taskTimeoutSeconds: opts.taskTimeoutSeconds ?? Number.POSITIVE_INFINITY,
    tableTimeoutSeconds: opts.tableTimeoutSeconds ?? TABLE_TIMEOUT_SECONDS,
    syncTimeoutSeconds: opts.syncTimeoutSeconds ?? SYNC_TIMEOUT_SECONDS,
  };
}
