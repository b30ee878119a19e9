import { ArnFormat, Stack } from 'aws-cdk-lib';
import { type IGrantable, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import type { StagingBucket } from './staging-bucket.js';

export interface WarehouseAccessProps {
  /** The staging bucket Redshift COPYs from. */
  readonly bucket: StagingBucket;
  /** Redshift Serverless workgroup names used by the pipelines. */
  readonly workgroups: readonly string[];
  /**
   * The workgroups' ARNs (they end in the workgroup id, which the names do not give).
   * @default every workgroup of the account and region (`workgroup/*`), when any pipeline uses a workgroup
   */
  readonly workgroupArns?: readonly string[];
  /** Provisioned clusters used by the pipelines. */
  readonly clusters: ReadonlyArray<{ readonly cluster: string; readonly database: string; readonly dbUser?: string }>;
  /** Secrets Manager ids (names or ARNs) the Lambdas may read. */
  readonly secretIds: readonly string[];
}

/**
 * The warehouse side of the permissions: the COPY role Redshift assumes to read staged files, and the statements a
 * Lambda needs to run the Data API against the pipelines' workgroups and clusters and to read their secrets.
 */
// An IAM policy variable, not a template literal.
const AWS_USERID_VARIABLE = ['${', 'aws:userid}'].join('');

export class WarehouseAccess extends Construct {
  /** Attach to the Redshift namespace or cluster; put its ARN in the pipeline target's `iam_role_arn`. */
  public readonly copyRole: Role;
  /** Statements for a function that runs Data API queries (statements, credentials). */
  public readonly dataApiStatements: readonly PolicyStatement[];
  /** BatchExecuteStatement on the same workgroups and clusters: only for the function that loads. */
  public readonly dataApiBatchStatement: PolicyStatement | undefined;
  /** True when the Data API statements name every workgroup of the account (no `workgroupArns` given). */
  public readonly workgroupWildcard: boolean;
  /** Statement for every function that opens a source or warehouse connection; undefined when no secret is used. */
  public readonly secretsStatement: PolicyStatement | undefined;

  constructor(scope: Construct, id: string, props: WarehouseAccessProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.copyRole = new Role(this, 'CopyRole', {
      assumedBy: new ServicePrincipal('redshift.amazonaws.com'),
      description: 'Redshift COPY of Highwater staged Parquet',
    });
    props.bucket.grantCopyRead(this.copyRole);

    const statements: PolicyStatement[] = [];
    // AWS: workgroup ARNs end in the workgroup id, unknown from a name at synth time.
    const anyWorkgroup = stack.formatArn({ service: 'redshift-serverless', resource: 'workgroup', resourceName: '*' });
    const workgroupArns = props.workgroups.length === 0 ? [] : [...(props.workgroupArns ?? [anyWorkgroup])];
    this.workgroupWildcard = props.workgroups.length > 0 && props.workgroupArns === undefined;
    const clusterArns = props.clusters.map((c) =>
      stack.formatArn({
        service: 'redshift',
        resource: 'cluster',
        resourceName: c.cluster,
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      }),
    );
    if (workgroupArns.length + clusterArns.length > 0) {
      statements.push(
        new PolicyStatement({
          sid: 'DataApiExecute',
          actions: ['redshift-data:ExecuteStatement'],
          resources: [...workgroupArns, ...clusterArns],
        }),
        // AWS: these actions take no resource; the condition keeps them to this role's own statements.
        new PolicyStatement({
          sid: 'DataApiOwnStatements',
          actions: [
            'redshift-data:DescribeStatement',
            'redshift-data:GetStatementResult',
            'redshift-data:CancelStatement',
          ],
          resources: ['*'],
          conditions: { StringEquals: { 'redshift-data:statement-owner-iam-userid': AWS_USERID_VARIABLE } },
        }),
      );
    }
    if (workgroupArns.length > 0) {
      statements.push(
        new PolicyStatement({
          sid: 'ServerlessCredentials',
          actions: ['redshift-serverless:GetCredentials'],
          resources: workgroupArns,
        }),
      );
    }
    for (const c of props.clusters) {
      const arn = (resource: string, name: string): string =>
        stack.formatArn({
          service: 'redshift',
          resource,
          resourceName: name,
          arnFormat: ArnFormat.COLON_RESOURCE_NAME,
        });
      statements.push(
        new PolicyStatement({
          actions: ['redshift:GetClusterCredentials'],
          resources: [
            arn('dbname', `${c.cluster}/${c.database}`),
            // Without a db_user the Data API signs in as IAM:<role name>.
            arn('dbuser', `${c.cluster}/${c.dbUser ?? '*'}`),
          ],
        }),
      );
    }
    this.dataApiStatements = statements;
    this.dataApiBatchStatement =
      workgroupArns.length + clusterArns.length === 0
        ? undefined
        : new PolicyStatement({
            sid: 'DataApiBatch',
            actions: ['redshift-data:BatchExecuteStatement'],
            resources: [...workgroupArns, ...clusterArns],
          });

    this.secretsStatement =
      props.secretIds.length === 0
        ? undefined
        : new PolicyStatement({
            sid: 'PipelineSecrets',
            actions: ['secretsmanager:GetSecretValue'],
            resources: props.secretIds.map((id) => secretArn(stack, id)),
          });
  }

  /** The Data API for queries; `batches` adds BatchExecuteStatement (the load's two transactions). */
  grantDataApi(grantee: IGrantable, opts: { batches: boolean } = { batches: false }): void {
    for (const s of this.dataApiStatements) grantee.grantPrincipal.addToPrincipalPolicy(s);
    if (opts.batches && this.dataApiBatchStatement)
      grantee.grantPrincipal.addToPrincipalPolicy(this.dataApiBatchStatement);
  }

  grantSecrets(grantee: IGrantable): void {
    if (this.secretsStatement) grantee.grantPrincipal.addToPrincipalPolicy(this.secretsStatement);
  }
}

/** A secret's ARN from its name or ARN; a name matches the six random characters AWS appends. */
export function secretArn(stack: Stack, id: string): string {
  if (id.startsWith('arn:')) return id;
  return stack.formatArn({
    service: 'secretsmanager',
    resource: 'secret',
    resourceName: `${id}-??????`,
    arnFormat: ArnFormat.COLON_RESOURCE_NAME,
  });
}
