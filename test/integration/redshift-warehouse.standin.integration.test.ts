/**
 * The Redshift warehouse through the real @aws-sdk/client-redshift-data client, against the Data API stand-in
 * (test/support/redshift-data-standin: PostgreSQL underneath, fauxqs for S3). Not real Redshift: what PostgreSQL
 * cannot tell apart from Redshift (SUPER semantics, DISTKEY effects) is checked on the SQL the stand-in recorded.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BatchExecuteStatementCommand,
  CancelStatementCommand,
  DescribeStatementCommand,
  ExecuteStatementCommand,
  GetStatementResultCommand,
  RedshiftDataClient,
} from '@aws-sdk/client-redshift-data';
import { HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createRedshiftWarehouse, type RedshiftWarehouseOptions } from '../../lambdas/adapters/redshift/index.js';
import type { LogicalType } from '../../lambdas/engine/model.js';
import type { LoadRequest, Warehouse } from '../../lambdas/ports/index.js';
import { ConfigError, CountMismatchError, WarehouseError } from '../../lambdas/runtime/errors.js';
import { column, describeWarehouseContract, writeParquetWithDuckDb } from '../contract/warehouse.contract.js';
import { FAUXQS_CREDENTIALS, type FauxqsInstance, startFauxqs } from '../support/fauxqs.js';
import { type PostgresInstance, startPostgres } from '../support/postgres.js';
import { type RedshiftDataStandin, startRedshiftDataStandin } from '../support/redshift-data-standin/index.js';

const BUCKET = 'hw-redshift-standin';
const ROLE_ARN = 'arn:aws:iam::123456789012:role/highwater-copy';
const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:hw-redshift-AbCdEf';
/** The stand-in accepts any credentials; these are obviously not real ones. */
const DATA_API_CREDENTIALS = { accessKeyId: 'HWDATAAPIKEY', secretAccessKey: 'hw-data-api-secret-not-real' };

let pgServer: PostgresInstance;
let s3: FauxqsInstance;
let standin: RedshiftDataStandin;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hw-redshift-'));
  [pgServer, s3] = await Promise.all([startPostgres(), startFauxqs()]);
  await s3.createBucket(BUCKET);
  // Two rows a page, so every multi-row result exercises NextToken paging.
  standin = await startRedshiftDataStandin({ connectionString: pgServer.connectionString, s3: s3.client, pageSize: 2 });
});

afterAll(async () => {
  await standin?.stop();
  await s3?.stop();
  await pgServer?.stop();
  await rm(dir, { recursive: true, force: true });
});

const unique = (name: string) => `${randomBytes(4).toString('hex')}-${name}`;

function dataClient(): RedshiftDataClient {
  return new RedshiftDataClient({ endpoint: standin.endpoint, region: 'us-east-1', credentials: DATA_API_CREDENTIALS });
}

function openRaw(extra: Partial<RedshiftWarehouseOptions> = {}): Warehouse {
  return createRedshiftWarehouse({
    database: 'postgres',
    workgroupName: 'hw-test',
    secretArn: SECRET_ARN,
    iamRoleArn: ROLE_ARN,
    client: dataClient(),
    pollIntervalMs: 5,
    ...extra,
  });
}

async function putObject(key: string, body: Buffer | string): Promise<string> {
  await s3.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));
  return `s3://${BUCKET}/${key}`;
}

async function sizeOf(url: string): Promise<number> {
  const key = url.slice(`s3://${BUCKET}/`.length);
  try {
    return (await s3.client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }))).ContentLength ?? 0;
  } catch {
    return 0; // a missing file: COPY must fail on it, not the harness
  }
}

/** The manifest the Load handler writes: every file, mandatory, with its size (COPY needs it for Parquet). */
async function writeManifest(files: readonly string[]): Promise<string> {
  const entries = await Promise.all(
    files.map(async (url) => ({ url, mandatory: true, meta: { content_length: await sizeOf(url) } })),
  );
  return putObject(`manifests/${unique('manifest')}.json`, JSON.stringify({ entries }));
}

/** The adapter never writes to S3; like the Load handler, the harness writes each load's manifest. */
function withManifests(wh: Warehouse): Warehouse {
  return {
    capabilities: wh.capabilities,
    describeDdl: (request) => wh.describeDdl(request),
    count: (target) => wh.count(target),
    query: <T extends Record<string, unknown>>(sql: string, params?: readonly unknown[]) => wh.query<T>(sql, params),
    close: () => wh.close(),
    load: async (request) => wh.load({ ...request, manifest: await writeManifest(request.files) }),
  };
}

async function parquet(name: string, select: string): Promise<string> {
  const path = join(dir, `${unique(name)}.parquet`);
  await writeParquetWithDuckDb(path, select);
  return putObject(`files/${unique(name)}.parquet`, await readFile(path));
}

describeWarehouseContract('redshift (Data API stand-in over PostgreSQL)', {
  open: async () => withManifests(openRaw()),
  parquet,
  missingLocation: (name) => `s3://${BUCKET}/missing/${name}.parquet`,
});
