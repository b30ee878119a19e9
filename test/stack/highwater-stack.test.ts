import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { stateTableDefinition } from '../../lambdas/adapters/dynamodb-state/table.js';
import { syncStateMachineDefinition, tableStateMachineDefinition } from '../../lambdas/orchestration/definition.js';
import { FUNCTION_SIZING } from '../../lambdas/orchestration/function-sizing.js';
import type { HighwaterStack } from '../../lib/highwater-stack.js';
import { buildTestApp } from './build-app.js';

interface Statement {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: unknown;
}

let dev: Template;
let prod: Template;
let devStack: HighwaterStack;

beforeAll(async () => {
  const { stacks } = await buildTestApp();
  devStack = stacks.dev!;
  dev = Template.fromStack(stacks.dev!);
  prod = Template.fromStack(stacks.prod!);
});

function statements(t: Template, type = 'AWS::IAM::Policy'): Array<Statement & { policy: string }> {
  return Object.entries(t.findResources(type)).flatMap(([id, r]) =>
    (r.Properties.PolicyDocument.Statement as Statement[]).map((s) => ({ ...s, policy: id })),
  );
}

const actions = (s: Statement): string[] => (Array.isArray(s.Action) ? s.Action : [s.Action]);
const resources = (s: Statement): unknown[] => (Array.isArray(s.Resource) ? s.Resource : [s.Resource]);
const logicalId = (t: Template, type: string, prefix: string): string => {
  const ids = Object.keys(t.findResources(type)).filter((id) => id.startsWith(prefix));
  expect(ids).toHaveLength(1);
  return ids[0]!;
};
/** The policies attached to the role of one function (`Plan`, `Extract`, …). */
const policyOf = (t: Template, fn: string): Array<Statement & { policy: string }> =>
  statements(t).filter((s) => s.policy.startsWith(`${fn}Role`));

describe('staging bucket', () => {
  it('is encrypted, private, retained, and expires staged files and incomplete uploads', () => {
    dev.hasResource('AWS::S3::Bucket', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: {
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
        },
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
        LifecycleConfiguration: {
          Rules: Match.arrayWith([
            Match.objectLike({ Id: 'expire-staged-files', ExpirationInDays: 3, Status: 'Enabled' }),
            Match.objectLike({ AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } }),
          ]),
        },
      },
    });
    prod.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: { Rules: Match.arrayWith([Match.objectLike({ ExpirationInDays: 14 })]) },
    });
  });

  it('has a bucket policy that denies requests without TLS', () => {
    dev.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Principal: { AWS: '*' },
            Action: 's3:*',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      },
    });
  });
});

describe('state table', () => {
  it('has the keys and index of stateTableDefinition, on demand, with PITR and TTL, retained', () => {
    const def = stateTableDefinition('x');
    dev.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      Properties: {
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: def.KeySchema,
        AttributeDefinitions: Match.arrayEquals(def.AttributeDefinitions!.map((a) => Match.objectEquals(a))),
        GlobalSecondaryIndexes: [
          Match.objectLike({
            IndexName: 'gsi1',
            KeySchema: def.GlobalSecondaryIndexes![0]!.KeySchema,
            Projection: { ProjectionType: 'ALL' },
          }),
        ],
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true },
      },
    });
  });
});

describe('functions', () => {
  it('creates the six functions on Node 24 / arm64 with Powertools and resource names in the environment', () => {
    const fns = dev.findResources('AWS::Lambda::Function');
    expect(
      Object.keys(fns)
        .map((id) => id.replace(/Function.*$/, ''))
        .sort(),
    ).toEqual(['Abort', 'Commit', 'Extract', 'Load', 'Plan', 'Verify'].sort());
    for (const fn of Object.values(fns)) {
      expect(fn.Properties).toMatchObject({
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        Handler: 'index.handler',
        LoggingConfig: { LogGroup: { Ref: expect.stringMatching(/Logs/) } },
        Environment: {
          Variables: {
            POWERTOOLS_SERVICE_NAME: 'highwater',
            POWERTOOLS_METRICS_NAMESPACE: 'Highwater',
            HIGHWATER_CONFIG_DIR: '/var/task/config',
            HIGHWATER_STAGING_BUCKET: { Ref: logicalId(dev, 'AWS::S3::Bucket', 'Staging') },
            HIGHWATER_STATE_TABLE: { Ref: logicalId(dev, 'AWS::DynamoDB::Table', 'State') },
            HIGHWATER_COPY_ROLE_ARN: { 'Fn::GetAtt': [logicalId(dev, 'AWS::IAM::Role', 'WarehouseCopyRole'), 'Arn'] },
          },
        },
      });
      expect(fn.Properties.VpcConfig).toBeUndefined();
    }
    // One per function and one per state machine.
    dev.resourcePropertiesCountIs('AWS::Logs::LogGroup', { RetentionInDays: 30 }, 8);
    dev.hasResourceProperties('AWS::Lambda::Function', { MemorySize: 1769, Timeout: 900 });
  });

  it('places the functions in the configured subnets and security groups (prod context)', () => {
    const fns = Object.values(prod.findResources('AWS::Lambda::Function'));
    expect(fns).toHaveLength(6);
    for (const fn of fns) {
      expect(fn.Properties.VpcConfig).toEqual({
        SubnetIds: ['subnet-0123456789abcdef0', 'subnet-0123456789abcdef1'],
        SecurityGroupIds: ['sg-0123456789abcdef0'],
      });
    }
  });
});

describe('IAM', () => {
  // The only statements AWS does not let us scope to a resource, each with the reason in lib/nag-suppressions.ts.
  const WILDCARD_ALLOWED = new Set([
    'redshift-data:DescribeStatement',
    'redshift-data:GetStatementResult',
    'redshift-data:CancelStatement',
    'xray:PutTraceSegments',
    'xray:PutTelemetryRecords',
    'xray:GetSamplingRules',
    'xray:GetSamplingTargets',
    'logs:CreateLogDelivery',
    'logs:GetLogDelivery',
    'logs:UpdateLogDelivery',
    'logs:DeleteLogDelivery',
    'logs:ListLogDeliveries',
    'logs:PutResourcePolicy',
    'logs:DescribeResourcePolicies',
    'logs:DescribeLogGroups',
  ]);

  it("uses Resource '*' only for actions that take no resource", () => {
    for (const t of [dev, prod]) {
      const wild = statements(t).filter((s) => resources(s).includes('*'));
      expect(wild.length).toBeGreaterThan(0);
      for (const s of wild) expect(actions(s).filter((a) => !WILDCARD_ALLOWED.has(a))).toEqual([]);
      // The Data API ones are limited to the caller's own statements.
      const dataApi = wild.find((s) => s.Sid === 'DataApiOwnStatements');
      expect(dataApi?.Condition).toEqual({
        StringEquals: { 'redshift-data:statement-owner-iam-userid': ['${', 'aws:userid}'].join('') },
      });
    }
  });

  it('scopes DynamoDB to the state table and its one index, for every function', () => {
    const table = logicalId(dev, 'AWS::DynamoDB::Table', 'State');
    for (const fn of ['Plan', 'Extract', 'Load', 'Commit', 'Abort']) {
      const ddb = policyOf(dev, fn).filter((s) => actions(s).some((a) => a.startsWith('dynamodb:')));
      expect(ddb, fn).toHaveLength(1);
      expect(resources(ddb[0]!)).toEqual([
        { 'Fn::GetAtt': [table, 'Arn'] },
        { 'Fn::Join': ['', [{ 'Fn::GetAtt': [table, 'Arn'] }, '/index/gsi1']] },
      ]);
      expect(actions(ddb[0]!)).not.toContain('dynamodb:Scan');
    }
  });

  it('gives S3 access to the staging bucket only: plan, extract, load, the COPY role, and the Map reading staged plans', () => {
    const bucket = logicalId(dev, 'AWS::S3::Bucket', 'Staging');
    const s3 = statements(dev).filter((s) => actions(s).some((a) => a.startsWith('s3:')));
    // Verify keeps its findings in the ledger, not in staging (iam-behaviour.test.ts checks every grant is used).
    expect([...new Set(s3.map((s) => s.policy.replace(/(Role|CopyRole|DistributedMapPolicy).*$/, '')))].sort()).toEqual(
      ['Extract', 'Load', 'Plan', 'Sync', 'Warehouse'],
    );
    // The state machine itself may only read staged chunk lists (ItemReader).
    const sync = s3.filter((s) => s.policy.startsWith('SyncDistributedMapPolicy'));
    expect(sync.map((s) => [actions(s), resources(s)])).toEqual([
      [['s3:GetObject'], [{ 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucket, 'Arn'] }, '/*/plan.json']] }]],
    ]);
    for (const s of s3) {
      for (const r of resources(s)) {
        expect(JSON.stringify(r)).toContain(bucket);
      }
    }
    dev.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [Match.objectLike({ Principal: { Service: 'redshift.amazonaws.com' } })],
      },
    });
    const copy = statements(dev).filter((s) => s.policy.startsWith('WarehouseCopyRole'));
    expect(copy.flatMap(actions).sort()).toEqual(['s3:GetBucketLocation', 's3:GetObject', 's3:ListBucket']);
  });

  it('lets plan, extract, load and verify read only the secrets the pipelines reference', () => {
    const secrets = statements(dev).filter((s) => actions(s).includes('secretsmanager:GetSecretValue'));
    expect(secrets.map((s) => s.policy.replace(/Role.*$/, '')).sort()).toEqual(['Extract', 'Load', 'Plan', 'Verify']);
    for (const s of secrets) {
      expect(actions(s)).toEqual(['secretsmanager:GetSecretValue']);
      expect(resources(s)).toEqual([
        {
          'Fn::Join': [
            '',
            [
              'arn:',
              { Ref: 'AWS::Partition' },
              ':secretsmanager:us-east-1:123456789012:secret:highwater/shop-staging-??????',
            ],
          ],
        },
      ]);
    }
  });

  it('runs the Data API and gets workgroup credentials from the plan (delete detection), load and verify functions only', () => {
    const redshift = statements(dev).filter((s) => actions(s).some((a) => a.startsWith('redshift')));
    expect(new Set(redshift.map((s) => s.policy.replace(/Role.*$/, '')))).toEqual(new Set(['Load', 'Plan', 'Verify']));
    const byAction = (a: string) => redshift.find((s) => actions(s).includes(a));
    const anyWorkgroup = {
      'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':redshift-serverless:us-east-1:123456789012:workgroup/*']],
    };
    expect(actions(byAction('redshift-data:ExecuteStatement')!)).toEqual(['redshift-data:ExecuteStatement']);
    expect(resources(byAction('redshift-data:ExecuteStatement')!)).toEqual([anyWorkgroup]);
    // Batches (the load's two transactions) only for load; plan and verify run single queries.
    const batches = redshift.filter((s) => actions(s).includes('redshift-data:BatchExecuteStatement'));
    expect(batches.map((s) => s.policy.replace(/Role.*$/, ''))).toEqual(['Load']);
    expect(resources(batches[0]!)).toEqual([anyWorkgroup]);
    expect(resources(byAction('redshift-serverless:GetCredentials')!)).toEqual([anyWorkgroup]);
  });

  it('names the roles of the functions that call the Data API, so their database users are fixed', () => {
    for (const [t, env] of [
      [dev, 'dev'],
      [prod, 'prod'],
    ] as const) {
      const named = Object.values(t.findResources('AWS::IAM::Role'))
        .map((r) => r.Properties.RoleName as string | undefined)
        .filter((n): n is string => n !== undefined)
        .sort();
      expect(named).toEqual([`highwater-${env}-load`, `highwater-${env}-plan`, `highwater-${env}-verify`]);
      t.hasOutput('RedshiftDatabaseUsers', {
        Value: `IAMR:highwater-${env}-plan, IAMR:highwater-${env}-load, IAMR:highwater-${env}-verify`,
      });
    }
  });

  it('lets the state machine invoke exactly the six functions', () => {
    const invoke = statements(dev).filter((s) => actions(s).includes('lambda:InvokeFunction'));
    expect(invoke).toHaveLength(1);
    const fns = Object.keys(dev.findResources('AWS::Lambda::Function')).sort();
    expect(
      resources(invoke[0]!)
        .map((r) => (r as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0])
        .sort(),
    ).toEqual(fns);
  });
});

describe('state machines', () => {
  const sync = () => logicalId(dev, 'AWS::StepFunctions::StateMachine', 'SyncStateMachine');
  const table = () => logicalId(dev, 'AWS::StepFunctions::StateMachine', 'SyncTableStateMachine');

  it('log everything to their log groups and trace; the table state machine invokes the six functions', () => {
    for (const [id, logs] of [
      [sync(), '^SyncLogs'],
      [table(), '^SyncTableLogs'],
    ] as const) {
      expect(dev.findResources('AWS::StepFunctions::StateMachine')[id]!.Properties).toMatchObject({
        TracingConfiguration: { Enabled: true },
        LoggingConfiguration: {
          Level: 'ALL',
          IncludeExecutionData: true,
          Destinations: [
            { CloudWatchLogsLogGroup: { LogGroupArn: { 'Fn::GetAtt': [expect.stringMatching(logs), 'Arn'] } } },
          ],
        },
      });
    }
    const definition = JSON.stringify(
      dev.findResources('AWS::StepFunctions::StateMachine')[table()]!.Properties.DefinitionString,
    );
    for (const id of Object.keys(dev.findResources('AWS::Lambda::Function'))) expect(definition).toContain(id);
  });

  it("sizes each function from function-sizing.ts, the same timeouts the definition's Tasks and the local runner use", () => {
    for (const [name, s] of Object.entries(FUNCTION_SIZING)) {
      const id = logicalId(dev, 'AWS::Lambda::Function', `${name[0]!.toUpperCase()}${name.slice(1)}Function`);
      expect(dev.findResources('AWS::Lambda::Function')[id]!.Properties).toMatchObject({
        Timeout: s.timeoutSeconds,
        MemorySize: s.memorySize,
      });
    }
  });

  it('lets the sync state machine start, follow and stop table executions, and nothing else of Step Functions', () => {
    const role = (id: string) =>
      (dev.findResources('AWS::StepFunctions::StateMachine')[id]!.Properties.RoleArn as { 'Fn::GetAtt': string[] })[
        'Fn::GetAtt'
      ][0]!;
    const syncRole = role(sync());
    const policies = Object.entries(dev.findResources('AWS::IAM::Policy'))
      .filter(([, p]) => JSON.stringify(p.Properties.Roles).includes(syncRole))
      .flatMap(([, p]) => p.Properties.PolicyDocument.Statement as Statement[]);
    const of = (action: string) => policies.filter((st) => actions(st).includes(action));
    expect(of('states:StartExecution').map(resources)).toEqual([[{ Ref: table() }]]);
    expect(JSON.stringify(of('states:StopExecution').map(resources))).toContain(`${table()}`);
    expect(JSON.stringify(of('events:PutRule').map(resources))).toContain(
      'rule/StepFunctionsGetEventsForStepFunctionsExecutionRule',
    );
    expect(of('lambda:InvokeFunction')).toEqual([]);
  });

  it('sends every table execution that failed, timed out or was stopped to the Abort function (the reaper)', () => {
    const abort = logicalId(dev, 'AWS::Lambda::Function', 'AbortFunction');
    dev.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.states'],
        'detail-type': ['Step Functions Execution Status Change'],
        detail: { status: ['FAILED', 'TIMED_OUT', 'ABORTED'], stateMachineArn: [{ Ref: table() }] },
      },
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [abort, 'Arn'] } })],
    });
    dev.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      FunctionName: { 'Fn::GetAtt': [abort, 'Arn'] },
      Principal: 'events.amazonaws.com',
    });
  });
});

/** Resolves the intrinsics CDK leaves in a DefinitionString (fixed env: account and region are literal). */
function resolveIntrinsics(v: unknown): string {
  if (typeof v === 'string') return v;
  const o = v as Record<string, unknown>;
  if (o['Fn::Join']) {
    const [sep, parts] = o['Fn::Join'] as [string, unknown[]];
    return parts.map(resolveIntrinsics).join(sep);
  }
  if (o['Fn::GetAtt']) {
    const [id, attr] = o['Fn::GetAtt'] as [string, string];
    if (attr !== 'Arn') throw new Error(`unexpected GetAtt ${id}.${attr}`);
    return `arn:aws:lambda:us-east-1:123456789012:function:${id}`;
  }
  if (o.Ref === 'AWS::Partition') return 'aws';
  if (typeof o.Ref === 'string') return `table-state-machine:${o.Ref}`;
  throw new Error(`unexpected intrinsic ${JSON.stringify(v)}`);
}

describe('state machine definitions', () => {
  it('are exactly lambdas/orchestration/definition.ts over the deployed function ARNs and the table state machine', () => {
    const machines = dev.findResources('AWS::StepFunctions::StateMachine');
    const tableId = logicalId(dev, 'AWS::StepFunctions::StateMachine', 'SyncTableStateMachine');
    const syncId = logicalId(dev, 'AWS::StepFunctions::StateMachine', 'SyncStateMachine');
    const arn = (prefix: string) =>
      `arn:aws:lambda:us-east-1:123456789012:function:${logicalId(dev, 'AWS::Lambda::Function', `${prefix}Function`)}`;
    expect(JSON.parse(resolveIntrinsics(machines[tableId]!.Properties.DefinitionString))).toEqual(
      tableStateMachineDefinition({
        plan: arn('Plan'),
        extract: arn('Extract'),
        load: arn('Load'),
        commit: arn('Commit'),
        abort: arn('Abort'),
        verify: arn('Verify'),
      }),
    );
    expect(JSON.parse(resolveIntrinsics(machines[syncId]!.Properties.DefinitionString))).toEqual(
      syncStateMachineDefinition(`table-state-machine:${tableId}`),
    );
  });
});

describe('schedules', () => {
  it('creates one schedule per pipeline with a schedule:, starting a run of all its tables', () => {
    const schedules = Object.values(dev.findResources('AWS::Scheduler::Schedule'));
    expect(schedules).toHaveLength(1);
    const sm = logicalId(dev, 'AWS::StepFunctions::StateMachine', 'SyncStateMachine');
    const s = schedules[0]!.Properties;
    expect(s).toMatchObject({
      ScheduleExpression: 'cron(0/15 * * * ? *)',
      ScheduleExpressionTimezone: 'UTC',
      FlexibleTimeWindow: { Mode: 'OFF' },
      Target: { Arn: { Ref: sm }, RoleArn: { 'Fn::GetAtt': [expect.stringMatching(/^SchedulesRole/), 'Arn'] } },
    });
    // The run request, with the pipeline's processing options (max_workers: 8 in pipelines/sales.yml).
    expect(JSON.parse(s.Target.Input)).toEqual({
      pipeline: 'sales',
      tables: ['shop.orders', 'shop.order_events', 'shop.audit_log', 'shop.countries', 'shop.customers'],
      options: { maxWorkers: 8, backupOnly: false, redshiftOnly: false, dryRun: false, resync: false },
    });
    // The scheduler may start the sync state machine; it starts table executions, which start their Distributed
    // Map children.
    const start = statements(dev).filter((st) => actions(st).includes('states:StartExecution'));
    const table = logicalId(dev, 'AWS::StepFunctions::StateMachine', 'SyncTableStateMachine');
    expect(
      start
        .map((st) => [st.policy.replace(/[0-9A-F]{8}$/, ''), resources(st)])
        .sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
    ).toEqual([
      ['SchedulesRoleDefaultPolicy', [{ Ref: sm }]],
      ['SyncDistributedMapPolicy', [{ Ref: table }]],
      ['SyncStateMachineRoleDefaultPolicy', [{ Ref: table }]],
    ]);
  });
});

describe('alarms and dashboard', () => {
  it('alarms on any failed execution into an encrypted SNS topic; email only where configured', () => {
    const topic = logicalId(dev, 'AWS::SNS::Topic', 'Alarms');
    dev.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/States',
      MetricName: 'ExecutionsFailed',
      Dimensions: [
        {
          Name: 'StateMachineArn',
          Value: { Ref: logicalId(dev, 'AWS::StepFunctions::StateMachine', 'SyncStateMachine') },
        },
      ],
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      AlarmActions: [{ Ref: topic }],
    });
    dev.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    dev.resourceCountIs('AWS::SNS::Subscription', 0);
    prod.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'data-oncall@example.com' });
  });

  it('draws executions, duration and per-table RowsSynced and LagSeconds', () => {
    const body = JSON.stringify(
      Object.values(dev.findResources('AWS::CloudWatch::Dashboard'))[0]!.Properties.DashboardBody,
    );
    for (const needle of ['ExecutionsSucceeded', 'ExecutionsFailed', 'ExecutionTime', 'RowsSynced', 'LagSeconds']) {
      expect(body).toContain(needle);
    }
    expect(body).toContain('{Highwater,service,table}');
  });
});

describe('removal', () => {
  it('retains data by default and deletes it with removeDataOnDestroy=true', async () => {
    expect(devStack.staging.bucket.node.defaultChild).toBeDefined();
    const { stacks } = await buildTestApp({ env: 'dev', removeDataOnDestroy: 'true' });
    const t = Template.fromStack(stacks.dev!);
    t.hasResource('AWS::S3::Bucket', { DeletionPolicy: 'Delete' });
    t.hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Delete' });
    expect(Object.keys(stacks)).toEqual(['dev']);
  });
});
