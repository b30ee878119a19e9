/**
 * Every AWS stand-in an end-to-end test needs, started once per test file: fauxqs (S3), DynamoDB Local, and the
 * Redshift Data API stand-in over a private PostgreSQL that reads COPY input from fauxqs. Tests then make a fresh
 * bucket, state table and target schema each, so they never see each other's data.
 */
import { randomBytes } from 'node:crypto';
import { createStateTable, type DynamoDbLocal, startDynamoDbLocal } from './dynamodb-local.js';
import { type FauxqsInstance, startFauxqs } from './fauxqs.js';
import { type PostgresInstance, startPostgres } from './postgres.js';
import { type RedshiftDataStandin, startRedshiftDataStandin } from './redshift-data-standin/index.js';

export interface AwsStandins {
  s3: FauxqsInstance;
  dynamo: DynamoDbLocal;
  postgres: PostgresInstance;
  redshift: RedshiftDataStandin;
  /** A fresh bucket, state table and warehouse schema for one test. */
  fresh(): Promise<{ bucket: string; stateTable: string; schema: string }>;
  stop(): Promise<void>;
}

export async function startAwsStandins(): Promise<AwsStandins> {
  // The adapters use the SDK's default credential chain. fauxqs accepts any credentials; DynamoDB Local keeps one
  // database per access key and region, so the adapters must use the same key as the client that made the tables.
  process.env.AWS_ACCESS_KEY_ID = 'local';
  process.env.AWS_SECRET_ACCESS_KEY = 'local';
  process.env.AWS_REGION = 'us-east-1';
  const [s3, dynamo, postgres] = await Promise.all([startFauxqs(), startDynamoDbLocal(), startPostgres()]);
  const redshift = await startRedshiftDataStandin({ connectionString: postgres.connectionString, s3: s3.client });
  return {
    s3,
    dynamo,
    postgres,
    redshift,
    async fresh() {
      const suffix = randomBytes(4).toString('hex');
      const bucket = `hw-test-${suffix}`;
      await s3.createBucket(bucket);
      const stateTable = await createStateTable(dynamo.client, 'hw-state');
      return { bucket, stateTable, schema: `wh_${suffix}` };
    },
    async stop() {
      await Promise.allSettled([redshift.stop(), s3.stop(), dynamo.stop()]);
      await postgres.stop();
    },
  };
}

/**
 * For a suite that plants changes in the warehouse behind Highwater's back: `start` starts the stand-ins and
 * remembers their PostgreSQL; `execute` runs SQL on it directly (its Redshift functions, such as JSON_PARSE and
 * FROM_HEX, are in public, on the search path).
 */
export function standinsWithDirectSql(): {
  start(): Promise<AwsStandins>;
  execute(sql: string): Promise<void>;
} {
  let connectionString = '';
  return {
    async start() {
      const s = await startAwsStandins();
      connectionString = s.postgres.connectionString;
      return s;
    },
    async execute(sql) {
      const { default: pg } = await import('pg');
      const client = new pg.Client({ connectionString });
      await client.connect();
      try {
        await client.query(sql);
      } finally {
        await client.end();
      }
    },
  };
}
