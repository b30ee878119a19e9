import { RemovalPolicy } from 'aws-cdk-lib';
import { AttributeType, BillingMode, ProjectionType, Table } from 'aws-cdk-lib/aws-dynamodb';
import { type IGrantable, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { STATE_TABLE_TTL_ATTRIBUTE, stateTableDefinition } from '../../lambdas/adapters/dynamodb-state/table.js';
import { ConfigError } from '../../lambdas/errors.js';

export interface StateTableProps {
  /**
   * Delete the table with the stack. It holds the watermarks: losing it means re-syncing every table.
   * @default false (RETAIN)
   */
  readonly removeOnDestroy?: boolean;
}

type KeyElement = { AttributeName?: string; KeyType?: string };
type AttributeDefinition = { AttributeName?: string; AttributeType?: string };

function attribute(
  defs: readonly AttributeDefinition[],
  keys: readonly KeyElement[] | undefined,
  type: 'HASH' | 'RANGE',
): { name: string; type: AttributeType } {
  const name = keys?.find((k) => k.KeyType === type)?.AttributeName;
  const def = defs.find((d) => d.AttributeName === name);
  if (!name || !def?.AttributeType) throw new ConfigError(`stateTableDefinition has no ${type} key with a type`);
  const types: Record<string, AttributeType> = {
    S: AttributeType.STRING,
    N: AttributeType.NUMBER,
    B: AttributeType.BINARY,
  };
  const t = types[def.AttributeType];
  if (!t) throw new ConfigError(`stateTableDefinition: unknown attribute type ${def.AttributeType} for ${name}`);
  return { name, type: t };
}

/**
 * The DynamoDB state table (watermarks, leases, run ledger), built from the same `stateTableDefinition` the adapter
 * and its tests use, so the deployed keys and index cannot drift from the code that reads them.
 */
export class StateTable extends Construct {
  public readonly table: Table;
  /** The sparse index that lists every watermark. */
  public readonly indexName: string;

  constructor(scope: Construct, id: string, props: StateTableProps = {}) {
    super(scope, id);
    const def = stateTableDefinition('unused');
    const defs = def.AttributeDefinitions ?? [];
    const gsi = def.GlobalSecondaryIndexes?.[0];
    if (!gsi?.IndexName) throw new ConfigError('stateTableDefinition has no global secondary index');
    this.indexName = gsi.IndexName;
    this.table = new Table(this, 'Table', {
      partitionKey: attribute(defs, def.KeySchema, 'HASH'),
      sortKey: attribute(defs, def.KeySchema, 'RANGE'),
      billingMode: BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: STATE_TABLE_TTL_ATTRIBUTE,
      removalPolicy: props.removeOnDestroy ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
    });
    this.table.addGlobalSecondaryIndex({
      indexName: gsi.IndexName,
      partitionKey: attribute(defs, gsi.KeySchema, 'HASH'),
      sortKey: attribute(defs, gsi.KeySchema, 'RANGE'),
      projectionType: ProjectionType.ALL,
    });
  }

  /** The item operations of the state adapter, on this table and its one index (not `index/*`). */
  /** `actions` (what the step's state store calls need) on the table and its index. */
  grantStateAccess(grantee: IGrantable, actions: readonly string[]): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({
        actions: [...actions],
        resources: [this.table.tableArn, `${this.table.tableArn}/index/${this.indexName}`],
      }),
    );
  }
}
