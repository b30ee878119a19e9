/**
 * Every cdk-nag acknowledgement of the stack, by construct path, each with its reason. Nothing is acknowledged
 * stack-wide: a new resource that trips a rule fails test/stack/nag.test.ts until it is fixed or listed here.
 */
import { type CfnElement, Token, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { ConfigError } from '../lambdas/errors.js';
import type { HighwaterStack } from './highwater-stack.js';

export interface NagAcknowledgement {
  /** Construct path below the stack, e.g. `Extract/Role/DefaultPolicy`. */
  readonly path: string;
  /** A rule id, or a rule id with its finding: `AwsSolutions-IAM5[Resource::*]`. */
  readonly id: string;
  readonly reason: string;
}

export function nagAcknowledgements(stack: HighwaterStack): NagAcknowledgement[] {
  const bucketId = stack.getLogicalId(stack.staging.bucket.node.defaultChild as CfnElement);
  const objects = `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/*]`;
  const tableMachineId = stack.getLogicalId(stack.sync.tableStateMachine.node.defaultChild as CfnElement);
  // cdk-nag prints an environment-agnostic stack's region and account as their pseudo parameters.
  const region = Token.isUnresolved(stack.region) ? '<AWS::Region>' : stack.region;
  const account = Token.isUnresolved(stack.account) ? '<AWS::AccountId>' : stack.account;
  const objectsReason =
    'Staged object keys are made per run and chunk (lambdas/engine/naming.ts); access is limited to this one bucket.';
  const list: NagAcknowledgement[] = [
    {
      path: 'Staging/Bucket',
      id: 'AwsSolutions-S1',
      reason:
        'Holds transient staged Parquet that expires after a few days; a log bucket would outlive the data it audits. Use CloudTrail S3 data events where access must be audited.',
    },
    {
      path: 'Warehouse/CopyRole/DefaultPolicy',
      id: objects,
      reason: `Redshift COPY reads the run's files. ${objectsReason}`,
    },
    { path: 'Extract/Role/DefaultPolicy', id: objects, reason: `Extract writes the run's Parquet. ${objectsReason}` },
    {
      path: 'Load/Role/DefaultPolicy',
      id: objects,
      reason: `Load writes and reads the run's manifest. ${objectsReason}`,
    },
    {
      path: 'Plan/Role/DefaultPolicy',
      id: objects,
      reason: `Plan writes a run's large chunk list and the keys it deletes. ${objectsReason}`,
    },
    ...(['Plan', 'Load', 'Verify'] as const).map((fn) => ({
      path: `${fn}/Role/DefaultPolicy`,
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'AWS requires Resource * for redshift-data:DescribeStatement/GetStatementResult/CancelStatement; the statement-owner condition limits them to statements this role started.',
    })),
    ...['Sync/StateMachine/Role/DefaultPolicy', 'Sync/TableStateMachine/Role/DefaultPolicy'].map((path) => ({
      path,
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'AWS requires Resource * for the X-Ray tracing actions (xray:PutTraceSegments, …) and for CloudWatch Logs delivery (logs:CreateLogDelivery, …) that Step Functions logging uses.',
    })),
    {
      path: 'Sync/DistributedMapPolicy/Resource',
      id: `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/*/plan.json]`,
      reason:
        "The Distributed Map reads a run's staged chunk list; its key holds the pipeline, table and run id (naming.ts planKey), so only the file name is fixed.",
    },
    {
      path: 'Sync/DistributedMapPolicy/Resource',
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:${region}:${account}:execution:<${tableMachineId}.Name>/*]`,
      reason:
        "The Distributed Map describes and stops its own child executions, whose names Step Functions generates; scoped to the table state machine's executions.",
    },
    {
      path: 'Sync/StateMachine/Role/DefaultPolicy',
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:${region}:${account}:execution:<${tableMachineId}.Name>/*]`,
      reason:
        "RunTable (states:startExecution.sync:2) describes and stops the table executions it starts, whose names Step Functions generates; scoped to the table state machine's executions (stepfunctions-iam.html).",
    },
  ];
  if (stack.warehouse.workgroupWildcard) {
    for (const fn of ['Plan', 'Load', 'Verify']) {
      list.push({
        path: `${fn}/Role/DefaultPolicy`,
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:redshift-serverless:${stack.region}:${stack.account}:workgroup/*]`,
        reason:
          'Workgroup ARNs end in the workgroup id, which the pipelines (workgroup names) do not give; set redshiftWorkgroupArns in cdk.json context to scope this to named workgroups.',
      });
    }
  }
  return list;
}

function find(root: IConstruct, path: string): IConstruct | undefined {
  let node: IConstruct | undefined = root;
  for (const part of path.split('/')) node = node?.node.tryFindChild(part);
  return node;
}

/** Applies the acknowledgements; an entry whose path no longer exists is an error, so none goes stale. */
export function addNagSuppressions(stack: HighwaterStack): void {
  for (const a of nagAcknowledgements(stack)) {
    const target = find(stack, a.path);
    if (!target) throw new ConfigError(`nag acknowledgement ${a.id}: no construct at ${stack.stackName}/${a.path}`);
    Validations.of(target).acknowledge({ id: a.id, reason: a.reason });
  }
}
