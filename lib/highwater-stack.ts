/** One environment's Highwater: composes the constructs; resource details live in lib/constructs/. */
import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import { SecurityGroup, Subnet, Vpc } from 'aws-cdk-lib/aws-ec2';
import type { Construct } from 'constructs';
import {
  type DefinitionArns,
  syncStateMachineDefinition,
  tableStateMachineDefinition,
} from '../lambdas/orchestration/definition.js';
import { FUNCTION_SIZING, type FunctionName } from '../lambdas/orchestration/function-sizing.js';
import type { EnvironmentContext } from './app-context.js';
import { Alarms } from './constructs/alarms.js';
import { HighwaterDashboard } from './constructs/dashboard.js';
import { HighwaterFunction, type HighwaterFunctionProps } from './constructs/highwater-function.js';
import { Schedules } from './constructs/schedules.js';
import { StagingBucket } from './constructs/staging-bucket.js';
import { StateTable } from './constructs/state-table.js';
import { SyncStateMachine } from './constructs/sync-state-machine.js';
import { WarehouseAccess } from './constructs/warehouse-access.js';
import type { DeployedPipelines } from './deployed-pipelines.js';

export type { FunctionName } from '../lambdas/orchestration/function-sizing.js';

/** The functions that call the Redshift Data API (delete detection, the load, verification). */
export const DATA_API_FUNCTIONS = ['plan', 'load', 'verify'] as const satisfies readonly FunctionName[];

/**
 * The fixed role name of a function that calls the Data API: `<stack name>-<function>`, lower case. Redshift
 * Serverless signs the Data API's caller in as a database user derived from its IAM identity
 * (https://docs.aws.amazon.com/redshift/latest/mgmt/data-api.html, "Temporary credentials"), `IAMR:<role name>` for
 * a role, so a fixed name gives a fixed user that docs/deploy.md can grant to. Lower case: Redshift folds
 * identifiers to lower case.
 */
export function dataApiRoleName(stackName: string, fn: FunctionName): string {
  return `${stackName}-${fn}`.toLowerCase();
}

export interface HighwaterStackProps extends StackProps {
  readonly settings: EnvironmentContext;
  readonly pipelines: DeployedPipelines;
  readonly projectRoot: string;
  /** The configuration directory bundled into the functions. */
  readonly configDir: string;
  /**
   * The handler module of each function, relative to `projectRoot`.
   * @default lambdas/functions/<name>.ts
   */
  readonly entries?: Partial<Record<FunctionName, string>>;
  /**
   * @default tableStateMachineDefinition and syncStateMachineDefinition of lambdas/orchestration/definition.ts (the
   * ASL the local runner executes)
   */
  readonly definitions?: {
    table?: (arns: DefinitionArns) => Record<string, unknown>;
    sync?: (tableStateMachineArn: string) => Record<string, unknown>;
  };
  /** @default false: bucket, table and log groups are retained */
  readonly removeDataOnDestroy?: boolean;
}

/**
 * What each step calls, as IAM actions: its state store operations and its staged objects. The IAM behaviour test
 * (test/stack/iam-behaviour.aws-standins.test.ts) runs every handler against the stand-ins and checks that these
 * are exactly what the handlers call. (ConditionCheckItem only guards the CLI's manual watermark writes; no function
 * deletes or lists staged objects: s3clean is the CLI's.)
 */
const STATE_ACTIONS: Record<FunctionName, readonly string[]> = {
  plan: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:Query'],
  extract: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:Query'],
  load: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:Query'],
  commit: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:Query'],
  abort: ['dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:Query'],
  verify: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:DeleteItem', 'dynamodb:Query'],
};
const STAGING_ACTIONS: Partial<Record<FunctionName, readonly string[]>> = {
  // Large chunk lists and the keys deleted at the source.
  plan: ['s3:PutObject'],
  // The chunk's Parquet, in parts when large (an upload that fails aborts its parts).
  extract: ['s3:PutObject', 's3:AbortMultipartUpload'],
  // The manifest; the staged deleted keys.
  load: ['s3:PutObject', 's3:GetObject'],
};

/** Each function's size (lambdas/orchestration/function-sizing.ts: the local runner gives handlers the same deadlines). */
function sizing(name: FunctionName): Pick<HighwaterFunctionProps, 'timeout' | 'memorySize' | 'parquetWorker'> {
  const s = FUNCTION_SIZING[name];
  return { timeout: Duration.seconds(s.timeoutSeconds), memorySize: s.memorySize, parquetWorker: s.parquetWorker };
}

export class HighwaterStack extends Stack {
  public readonly staging: StagingBucket;
  public readonly state: StateTable;
  public readonly functions: Readonly<Record<FunctionName, HighwaterFunction>>;
  public readonly warehouse: WarehouseAccess;
  public readonly sync: SyncStateMachine;
  public readonly schedules: Schedules;
  public readonly alarms: Alarms;
  public readonly dashboard: HighwaterDashboard;

  constructor(scope: Construct, id: string, props: HighwaterStackProps) {
    super(scope, id, props);
    const s = props.settings;
    const destroy = props.removeDataOnDestroy ?? false;
    this.staging = new StagingBucket(this, 'Staging', {
      stagedFileExpiryDays: s.stagedFileExpiryDays,
      removeOnDestroy: destroy,
    });
    this.state = new StateTable(this, 'State', { removeOnDestroy: destroy });
    this.warehouse = new WarehouseAccess(this, 'Warehouse', {
      bucket: this.staging,
      workgroups: props.pipelines.redshiftWorkgroups,
      workgroupArns: s.redshiftWorkgroupArns,
      clusters: props.pipelines.redshiftClusters,
      secretIds: props.pipelines.secretIds,
    });

    // Subnets and security groups by id: no VPC lookup, so synth needs no AWS credentials. The functions name their
    // subnets explicitly, so the imported VPC's zone list is never consulted (it only has to be non-empty).
    const vpc = s.vpcId
      ? Vpc.fromVpcAttributes(this, 'Vpc', { vpcId: s.vpcId, availabilityZones: [`${s.region}a`] })
      : undefined;
    const subnets = s.subnetIds?.map((id, i) => Subnet.fromSubnetId(this, `Subnet${i}`, id));
    const securityGroups = s.securityGroupIds?.map((id, i) =>
      SecurityGroup.fromSecurityGroupId(this, `SecurityGroup${i}`, id, { mutable: false }),
    );

    const usesDataApi = (name: FunctionName) => (DATA_API_FUNCTIONS as readonly FunctionName[]).includes(name);
    const make = (name: FunctionName): HighwaterFunction =>
      new HighwaterFunction(this, `${name[0]?.toUpperCase()}${name.slice(1)}`, {
        entry: props.entries?.[name] ?? `lambdas/functions/${name}.ts`,
        ...(usesDataApi(name) ? { roleName: dataApiRoleName(this.stackName, name) } : {}),
        projectRoot: props.projectRoot,
        configDir: props.configDir,
        ...sizing(name),
        environment: {
          HIGHWATER_STAGING_BUCKET: this.staging.bucket.bucketName,
          HIGHWATER_STATE_TABLE: this.state.table.tableName,
          HIGHWATER_COPY_ROLE_ARN: this.warehouse.copyRole.roleArn,
        },
        vpc,
        vpcSubnets: subnets ? { subnets } : undefined,
        securityGroups,
        removeOnDestroy: destroy,
      });
    this.functions = {
      plan: make('plan'),
      extract: make('extract'),
      load: make('load'),
      commit: make('commit'),
      abort: make('abort'),
      verify: make('verify'),
    };

    // What each step touches (lambdas/handlers): every step reads and writes state; plan and extract open the
    // source; plan writes large chunk lists and the keys to delete to staging, and compares keys with the warehouse
    // (delete_detection); extract and load touch staged files; load loads the warehouse.
    for (const [name, f] of Object.entries(this.functions) as [FunctionName, HighwaterFunction][]) {
      this.state.grantStateAccess(f.role, STATE_ACTIONS[name]);
      const staging = STAGING_ACTIONS[name];
      if (staging) this.staging.grantStagingAccess(f.role, staging);
    }
    // verify reads both databases (source and Data API) and keeps what it found in the ledger (state).
    for (const name of ['plan', 'extract', 'load', 'verify'] as const)
      this.warehouse.grantSecrets(this.functions[name].role);
    for (const name of DATA_API_FUNCTIONS)
      this.warehouse.grantDataApi(this.functions[name].role, { batches: name === 'load' });

    this.sync = new SyncStateMachine(this, 'Sync', {
      functions: {
        plan: this.functions.plan.function,
        extract: this.functions.extract.function,
        load: this.functions.load.function,
        commit: this.functions.commit.function,
        abort: this.functions.abort.function,
        verify: this.functions.verify.function,
      },
      stagingBucket: this.staging.bucket,
      tableDefinition: props.definitions?.table ?? ((arns) => tableStateMachineDefinition(arns)),
      syncDefinition: props.definitions?.sync ?? ((arn) => syncStateMachineDefinition(arn)),
      removeOnDestroy: destroy,
    });
    this.schedules = new Schedules(this, 'Schedules', {
      stateMachine: this.sync.stateMachine,
      schedules: props.pipelines.schedules,
    });
    this.alarms = new Alarms(this, 'Alarms', { stateMachine: this.sync.stateMachine, email: s.alarmEmail });
    this.dashboard = new HighwaterDashboard(this, 'Dashboard', { stateMachine: this.sync.stateMachine });

    new CfnOutput(this, 'StateMachineArn', { value: this.sync.stateMachine.stateMachineArn });
    new CfnOutput(this, 'StagingBucketName', { value: this.staging.bucket.bucketName });
    new CfnOutput(this, 'StateTableName', { value: this.state.table.tableName });
    new CfnOutput(this, 'CopyRoleArn', { value: this.warehouse.copyRole.roleArn });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.alarms.topic.topicArn });
    new CfnOutput(this, 'RedshiftDatabaseUsers', {
      description:
        'The database users the functions sign in as with IAM auth (Serverless): grant them as docs/deploy.md says',
      value: DATA_API_FUNCTIONS.map((fn) => `IAMR:${dataApiRoleName(this.stackName, fn)}`).join(', '),
    });
  }
}
