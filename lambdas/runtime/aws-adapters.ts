/** The AWS adapter kinds: S3 staging, DynamoDB state, Redshift through the Data API. All a Lambda ever loads. */

import { ConfigError } from '../errors.js';
import type { AdapterSet } from './adapter-set.js';

const ON_AWS = 'On AWS, use staging type s3, state type dynamodb and a redshift target.';

function notHere(what: string): never {
  throw new ConfigError(`${what} is local-only and not available in this runtime`, { suggestion: ON_AWS });
}

// Each SDK client is imported when configuration first selects its kind: a local run never loads one.
export const awsAdapters: AdapterSet = {
  async staging(cfg) {
    if (cfg.type !== 's3') return notHere(`staging type ${cfg.type}`);
    const { createS3Staging } = await import('../adapters/s3-staging/index.js');
    return createS3Staging({ bucket: cfg.bucket, region: cfg.region, endpoint: cfg.endpoint });
  },
  async state(cfg) {
    if (cfg.type !== 'dynamodb') return notHere(`state type ${cfg.type}`);
    const { createDynamoDbStateStore } = await import('../adapters/dynamodb-state/index.js');
    return createDynamoDbStateStore({ table: cfg.table, region: cfg.region, endpoint: cfg.endpoint });
  },
  async warehouse(t) {
    if (t.type !== 'redshift') return notHere(`target ${t.name} (type ${t.type})`);
    if (!t.iamRoleArn) throw new ConfigError(`target ${t.name}: iam_role_arn is required for COPY from S3`);
    const { createRedshiftWarehouse } = await import('../adapters/redshift/index.js');
    return createRedshiftWarehouse({
      database: t.database,
      workgroupName: t.workgroup,
      clusterIdentifier: t.clusterIdentifier,
      secretArn: t.secretArn,
      dbUser: t.dbUser,
      iamRoleArn: t.iamRoleArn,
      region: t.region,
      endpoint: t.endpoint,
    });
  },
};
