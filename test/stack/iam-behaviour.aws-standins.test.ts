/**
 * IAM proven by behaviour: every Lambda entry point (plan, extract, load, commit, abort, verify) runs its real
 * handler against the AWS stand-ins (fauxqs, DynamoDB Local, the Redshift Data API stand-in) with every SDK call
 * recorded (test/support/sdk-recorder.ts). Each call is mapped to the IAM actions it needs (SDK_ACTIONS: an explicit
 * table; a call it does not know fails the test) and must be granted to that function's role in the synthesized
 * template; and every action a role is granted must have been needed by one of its calls, or be listed in
 * NOT_CALLED_BY_HANDLERS with the reason.
 *
 * The scenarios cover every path that reaches AWS: a run (plan, extract, load, commit, verify), a plan with nothing
 * to do, a chunk list staged in S3, delete detection, a load cancelled at its deadline and its abort, a lease taken
 * over from a run that expired, and custom_sql's window found while extracting.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, expect, test } from 'vitest';
import {
  CHUNKS_IN_LEDGER,
  type ChunkResult,
  ChunkSpecSchema,
  type LoadOutput,
  type PlanOutput,
} from '../../lambdas/domain/manifests.js';
import type { FunctionName } from '../../lib/highwater-stack.js';
import { createOrders, insertOrders, T1, T2 } from '../e2e/fixtures.js';
import { type AwsStandins, startAwsStandins } from '../support/aws-standins.js';
import { createHarness, type Harness } from '../support/harness.js';
import { recordSdkCalls, type SdkCall } from '../support/sdk-recorder.js';
import { buildTestApp } from './build-app.js';

type LambdaContext = { getRemainingTimeInMillis(): number };
type Handler = (event: unknown, context?: LambdaContext) => Promise<unknown>;
type Input = Record<string, unknown>;

/** The Data API's own authorization: how a call signs in to the database (data-api-access.html). */
function dataApiAuth(input: Input): string[] {
  if (input.SecretArn) return ['secretsmanager:GetSecretValue'];
  if (input.WorkgroupName) return ['redshift-serverless:GetCredentials'];
  return input.DbUser ? ['redshift:GetClusterCredentials'] : ['redshift:GetClusterCredentialsWithIAM'];
}

/** TransactWriteItems needs the permission of each action it carries (DynamoDB API permissions reference). */
function transactActions(input: Input): string[] {
  const items = (input.TransactItems ?? []) as Record<string, unknown>[];
  const byKind: Record<string, string> = {
    Put: 'dynamodb:PutItem',
    Update: 'dynamodb:UpdateItem',
    Delete: 'dynamodb:DeleteItem',
    ConditionCheck: 'dynamodb:ConditionCheckItem',
  };
  return items.flatMap((item) => Object.keys(item).map((k) => byKind[k] ?? `unknown TransactItems kind ${k}`));
}

/**
 * SDK call → IAM actions. Sources: Amazon S3 actions (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html:
 * the multipart upload operations are authorized by s3:PutObject, except AbortMultipartUpload); DynamoDB
 * (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/api-permissions-reference.html); the Redshift
 * Data API (https://docs.aws.amazon.com/redshift/latest/mgmt/data-api-access.html: the caller also needs what the
 * sign-in takes: the secret, or the workgroup's or cluster's credentials).
 */
const SDK_ACTIONS: Record<string, (input: Input) => string[]> = {
  'S3Client.PutObjectCommand': () => ['s3:PutObject'],
  'S3Client.CreateMultipartUploadCommand': () => ['s3:PutObject'],
  'S3Client.UploadPartCommand': () => ['s3:PutObject'],
  'S3Client.CompleteMultipartUploadCommand': () => ['s3:PutObject'],
  'S3Client.AbortMultipartUploadCommand': () => ['s3:AbortMultipartUpload'],
  'S3Client.GetObjectCommand': () => ['s3:GetObject'],
  'S3Client.HeadObjectCommand': () => ['s3:GetObject'],
  'S3Client.ListObjectsV2Command': () => ['s3:ListBucket'],
  'S3Client.DeleteObjectsCommand': () => ['s3:DeleteObject'],
  'DynamoDBClient.GetItemCommand': () => ['dynamodb:GetItem'],
  'DynamoDBClient.PutItemCommand': () => ['dynamodb:PutItem'],
  'DynamoDBClient.UpdateItemCommand': () => ['dynamodb:UpdateItem'],
  'DynamoDBClient.DeleteItemCommand': () => ['dynamodb:DeleteItem'],
  'DynamoDBClient.QueryCommand': () => ['dynamodb:Query'],
  'DynamoDBClient.TransactWriteItemsCommand': transactActions,
  'RedshiftDataClient.ExecuteStatementCommand': (i) => ['redshift-data:ExecuteStatement', ...dataApiAuth(i)],
  'RedshiftDataClient.BatchExecuteStatementCommand': (i) => ['redshift-data:BatchExecuteStatement', ...dataApiAuth(i)],
  'RedshiftDataClient.DescribeStatementCommand': () => ['redshift-data:DescribeStatement'],
  'RedshiftDataClient.GetStatementResultCommand': () => ['redshift-data:GetStatementResult'],
  'RedshiftDataClient.CancelStatementCommand': () => ['redshift-data:CancelStatement'],
  'SecretsManagerClient.GetSecretValueCommand': () => ['secretsmanager:GetSecretValue'],
};

/** Granted, never called by the handlers on the stand-ins, and why it must stay. */
const NOT_CALLED_BY_HANDLERS: Partial<Record<FunctionName | '*', Record<string, string>>> = {
  '*': {
    'logs:CreateLogStream': 'the Lambda service writes the function’s own log stream',
    'logs:PutLogEvents': 'the Lambda service writes the function’s own log stream',
    'secretsmanager:GetSecretValue':
      'read when a pipeline’s password, key or Redshift secret is a Secrets Manager reference; the stand-ins have no Secrets Manager (the resolver: test/unit/adapters/secrets.test.ts)',
    's3:ListBucket':
      'no call lists, but without it S3 answers a missing staged object with 403 instead of 404 (GetObject, "Permissions")',
  },
  plan: {
    'redshift-data:CancelStatement': 'a delete-detection query past statementTimeoutMs (15 minutes) is cancelled',
  },
  verify: {
    'redshift-data:CancelStatement': 'a verification query past statementTimeoutMs (15 minutes) is cancelled',
    'dynamodb:DeleteItem':
      'verifications beyond the newest 100 of a table are pruned (the state store contract: "the newest 100 are kept")',
  },
  extract: {
    's3:AbortMultipartUpload':
      'a Parquet upload that fails after its first 5 MB part aborts it (test/integration/s3-staging.integration.test.ts)',
  },
};

let aws: AwsStandins;
let h: Harness;
let fns: Record<FunctionName, Handler>;
let closeRuntime: () => Promise<void>;
let template: Template;
let table: string;
const saved = { ...process.env };
const calls: Record<FunctionName, SdkCall[]> = { plan: [], extract: [], load: [], commit: [], abort: [], verify: [] };

async function run<T>(fn: FunctionName, event: unknown, context?: LambdaContext): Promise<T> {
  const { result, calls: seen } = await recordSdkCalls(() => fns[fn](event, context) as Promise<T>);
  calls[fn].push(...seen);
  return result;
}

/** The calls that fail leave their error to the caller, with the calls still recorded. */
async function runFailing(fn: FunctionName, event: unknown, context?: LambdaContext): Promise<unknown> {
  let err: unknown;
  const { calls: seen } = await recordSdkCalls(() => fns[fn](event, context).catch((e: unknown) => (err = e)));
  calls[fn].push(...seen);
  return err;
}

async function extractAll(planned: PlanOutput): Promise<ChunkResult[]> {
  const out: ChunkResult[] = [];
  for (const chunk of planned.chunks) out.push(await run<ChunkResult>('extract', { run: planned.run, chunk }));
  return out;
}

/** A new pipeline YAML; the container runtime (built once per container) is dropped so the next call reads it. */
async function pipeline(extra = '', opts: { maxInlineChunks?: number; leaseSeconds?: number } = {}): Promise<void> {
  await closeRuntime?.();
  const body = extra.includes('cdc_strategy') ? extra : `\n    cdc_strategy: hybrid${extra}`;
  h.writePipeline(`  ${table}:${body}\n    chunk_rows: 3\n    lag: 0`, opts);
}

beforeAll(async () => {
  aws = await startAwsStandins();
  h = await createHarness('iam', aws);
  // IAM authentication, as the deployed functions sign in (docs/deploy.md, "On Redshift"): no secret_arn.
  const connections = join(h.configDir, 'connections.yml');
  writeFileSync(connections, readFileSync(connections, 'utf8').replace(/^ +secret_arn: .*\n/m, ''));
  await createOrders(h);
  table = `${h.db.database}.orders`;
  process.env.HIGHWATER_CONFIG_DIR = h.configDir;
  process.env.HIGHWATER_HOME = h.home;
  // Quiet: the functions' JSON log lines and metrics are not what this test reads.
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  fns = {
    plan: (await import('../../lambdas/functions/plan.js')).handler,
    extract: (await import('../../lambdas/functions/extract.js')).handler,
    load: (await import('../../lambdas/functions/load.js')).handler,
    commit: (await import('../../lambdas/functions/commit.js')).handler,
    abort: (await import('../../lambdas/functions/abort.js')).handler,
    verify: (await import('../../lambdas/functions/verify.js')).handler,
  };
  closeRuntime = (await import('../../lambdas/runtime/aws.js')).closeContainerRuntime;
  template = Template.fromStack((await buildTestApp()).stacks.dev!);

  // 1. A run: plan → extract → load → commit, then verify. 2. Nothing new: plan skips (and lets the lease go).
  await pipeline();
  await insertOrders(h, [1, 2, 3, 4, 5], T1);
  let planned = await run<PlanOutput>('plan', { pipeline: 'test', table, options: {} });
  let loaded = await run<LoadOutput>('load', { run: planned.run, chunks: await extractAll(planned) });
  await run('commit', { run: planned.run, load: loaded });
  await run('verify', { run: planned.run });
  expect((await run<PlanOutput>('plan', { pipeline: 'test', table, options: {} })).run).toBeNull();

  // 3. A chunk list too long for the payload is staged in S3; Load takes the chunks from the ledger.
  await pipeline('', { maxInlineChunks: 1 });
  await insertOrders(h, [6, 7, 8, 9], T2);
  planned = await run<PlanOutput>('plan', { pipeline: 'test', table, options: {} });
  expect(planned.stagedChunks).not.toBeNull();
  // The Distributed Map's children extract the staged chunks (the test reads the list as the ItemReader would).
  const staged = await aws.s3.client.send(
    new GetObjectCommand({ Bucket: planned.stagedChunks!.bucket ?? '', Key: planned.stagedChunks!.key }),
  );
  const specs = ChunkSpecSchema.array().parse(JSON.parse(await staged.Body!.transformToString()));
  for (const chunk of specs) await run<ChunkResult>('extract', { run: planned.run, chunk });
  loaded = await run<LoadOutput>('load', { run: planned.run, chunks: CHUNKS_IN_LEDGER });
  await run('commit', { run: planned.run, load: loaded });

  // 4. Delete detection: Plan compares keys with the warehouse and stages the deleted ones; Load applies them.
  await pipeline('\n    delete_detection: hard');
  await h.db.conn.query('DELETE FROM orders WHERE id = 2');
  planned = await run<PlanOutput>('plan', { pipeline: 'test', table, options: {} });
  expect(planned.run?.deletes?.count).toBe(1);
  loaded = await run<LoadOutput>('load', { run: planned.run, chunks: await extractAll(planned) });
  await run('commit', { run: planned.run, load: loaded });

  // 5. A load cancelled at its deadline (its apply batch hangs), then the run aborted.
  await pipeline();
  await insertOrders(h, [10], T2);
  planned = await run<PlanOutput>('plan', { pipeline: 'test', table, options: {} });
  const chunks = await extractAll(planned);
  const target = `INSERT INTO "${h.warehouseSchema}"."orders"`;
  let end: number | undefined;
  const sent = aws.redshift.sqlLog.length;
  const dying: LambdaContext = {
    getRemainingTimeInMillis: () => {
      if (end === undefined && aws.redshift.sqlLog.slice(sent).some((sql) => sql.startsWith(target))) {
        end = Date.now() + 61_000; // the 60 s cancel margin, and one second to wait
      }
      return end === undefined ? 600_000 : Math.max(0, end - Date.now());
    },
  };
  aws.redshift.hangWhen((sql) => sql.startsWith(target));
  const cancelled = await runFailing('load', { run: planned.run, chunks }, dying).finally(() =>
    aws.redshift.hangWhen(undefined),
  );
  expect(String(cancelled)).toContain('was cancelled and rolled back');
  await run('abort', { run: planned.run, error: { Error: 'WarehouseError', Cause: 'cancelled' } });

  // 6. A run whose lease expired unfinished: the next Plan takes the lease over and marks it failed.
  await pipeline('', { leaseSeconds: 1 });
  await insertOrders(h, [11], T2);
  const abandoned = await run<PlanOutput>('plan', { pipeline: 'test', table, options: {} });
  await new Promise((r) => setTimeout(r, 1100));
  planned = await run<PlanOutput>('plan', { pipeline: 'test', table, options: {} });
  expect(planned.run?.runId).not.toBe(abandoned.run?.runId);
  await run('abort', { run: planned.run, error: { Error: 'X', Cause: 'the test ends this run' } });

  // 7. custom_sql finds its window while reading: Extract moves the run's upper bound in the ledger.
  await pipeline(
    '\n    cdc_strategy: custom_sql\n    custom_query: "SELECT o.* FROM {table_name} AS o WHERE (o.updated_at, o.id) > (:last_timestamp, :last_id) AND o.updated_at <= :upper_timestamp"',
  );
  planned = await run<PlanOutput>('plan', { pipeline: 'test', table, options: {} });
  await extractAll(planned);
  await run('abort', { run: planned.run, error: { Error: 'X', Cause: 'the test ends this run' } });
}, 300_000);

afterAll(async () => {
  await closeRuntime?.();
  process.env = saved;
  await h?.cleanup();
  await aws?.stop();
});

/** The actions granted to one function's role in the template (its inline policies). */
function granted(fn: FunctionName): Set<string> {
  const prefix = `${fn[0]?.toUpperCase()}${fn.slice(1)}Role`;
  const out = new Set<string>();
  for (const [id, r] of Object.entries(template.findResources('AWS::IAM::Policy'))) {
    if (!id.startsWith(prefix)) continue;
    for (const s of r.Properties.PolicyDocument.Statement as { Effect: string; Action: string | string[] }[]) {
      expect(s.Effect).toBe('Allow');
      for (const a of Array.isArray(s.Action) ? s.Action : [s.Action]) out.add(a);
    }
  }
  return out;
}

function needed(fn: FunctionName): Set<string> {
  const out = new Set<string>();
  for (const c of calls[fn]) {
    const map = SDK_ACTIONS[`${c.client}.${c.command}`];
    if (!map) throw new Error(`${fn} called ${c.client}.${c.command}, which SDK_ACTIONS does not map to IAM actions`);
    for (const a of map(c.input)) out.add(a);
  }
  return out;
}

const FUNCTIONS: FunctionName[] = ['plan', 'extract', 'load', 'commit', 'abort', 'verify'];

test.each(FUNCTIONS)('%s: every AWS action its handler calls is granted to its role', (fn) => {
  expect(calls[fn].length, `${fn} made no AWS call`).toBeGreaterThan(0);
  const missing = [...needed(fn)].filter((a) => !granted(fn).has(a)).sort();
  expect(missing, `${fn} calls these without a grant`).toEqual([]);
});

test.each(FUNCTIONS)('%s: every action granted to its role is called, or listed with its reason', (fn) => {
  const reasons = { ...NOT_CALLED_BY_HANDLERS['*'], ...NOT_CALLED_BY_HANDLERS[fn] };
  const use = needed(fn);
  const unused = [...granted(fn)].filter((a) => !use.has(a) && reasons[a] === undefined).sort();
  expect(unused, `${fn}'s role grants these, which no handler call needed`).toEqual([]);
  // A listed exception must still be granted (a stale entry would hide a change).
  const listed = Object.keys(NOT_CALLED_BY_HANDLERS[fn] ?? {});
  expect(listed.filter((a) => !granted(fn).has(a))).toEqual([]);
});
