/** The AWS adapter kinds: S3 staging, DynamoDB state, Redshift through the Data API. All a Lambda ever loads. */
import { createDynamoDbStateStore } from '../adapters/dynamodb-state/index.js';
import { createRedshiftWarehouse } from '../adapters/redshift/index.js';
import { createS3Staging } from '../adapters/s3-staging/index.js';
import type { AdapterSet } from './adapter-set.js';
import { ConfigError } from './errors.js';

const ON_AWS = 'On AWS, use staging type s3, state type dynamodb and a redshift target.';

function notHere(what: string): never {
  throw new ConfigError(`${what} is local-only and not available in this runtime`, { suggestion: ON_AWS });
}

export const awsAdapters: AdapterSet = {
  staging(cfg) {
    if (cfg.type !== 's3') return notHere(`staging type ${cfg.type}`);
    return createS3Staging({ bucket: cfg.bucket, region: cfg.region, endpoint: cfg.endpoint });
  },
  state(cfg) {
    if (cfg.type !== 'dynamodb') return notHere(`state type ${cfg.type}`);
    return createDynamoDbStateStore({ table: cfg.table, region: cfg.region, endpoint: cfg.endpoint });
  },
  warehouse(t) {
    if (t.type !== 'redshift') return notHere(`target ${t.name} (type ${t.type})`);
    if (!t.iamRoleArn) throw new ConfigError(`target ${t.name}: iam_role_arn is required for COPY from S3`);
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
