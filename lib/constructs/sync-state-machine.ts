import { ArnFormat, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Policy, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import { DefinitionBody, LogLevel, StateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { DefinitionArns } from '../../lambdas/orchestration/definition.js';

export interface SyncFunctions {
  readonly plan: IFunction;
  readonly extract: IFunction;
  readonly load: IFunction;
  readonly commit: IFunction;
  readonly abort: IFunction;
  readonly verify: IFunction;
}

export interface SyncStateMachineProps {
  readonly functions: SyncFunctions;
  /** Where Plan stages a chunk list too large for a payload (naming.ts planKey), read by the Distributed Map. */
  readonly stagingBucket: IBucket;
  /** Builds the ASL (JSONPath) from the functions' ARNs; tokens are resolved by the stack. */
  readonly definition: (arns: DefinitionArns) => Record<string, unknown>;
  /** A run of a whole pipeline goes table after table, each bounded by its lease. @default Duration.hours(6) */
  readonly timeout?: Duration;
  /** @default RetentionDays.ONE_MONTH */
  readonly logRetention?: RetentionDays;
  /** @default false: the log group is retained */
  readonly removeOnDestroy?: boolean;
}

/** The Step Functions state machine of one table run, with execution logs (ALL) and X-Ray tracing. */
export class SyncStateMachine extends Construct {
  public readonly stateMachine: StateMachine;
  public readonly logGroup: LogGroup;

  constructor(scope: Construct, id: string, props: SyncStateMachineProps) {
    super(scope, id);
    const f = props.functions;
    this.logGroup = new LogGroup(this, 'Logs', {
      retention: props.logRetention ?? RetentionDays.ONE_MONTH,
      removalPolicy: props.removeOnDestroy ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
    });
    const asl = props.definition({
      plan: f.plan.functionArn,
      extract: f.extract.functionArn,
      load: f.load.functionArn,
      commit: f.commit.functionArn,
      abort: f.abort.functionArn,
      verify: f.verify.functionArn,
    });
    this.stateMachine = new StateMachine(this, 'StateMachine', {
      definitionBody: DefinitionBody.fromString(Stack.of(this).toJsonString(asl)),
      timeout: props.timeout ?? Duration.hours(6),
      tracingEnabled: true,
      logs: { destination: this.logGroup, level: LogLevel.ALL, includeExecutionData: true },
    });
    // fromString cannot see the ARNs inside the JSON: grant the invocations explicitly, on the unqualified ARNs the
    // definition uses (grantInvoke would add every version and alias, `:*`).
    this.stateMachine.addToRolePolicy(
      new PolicyStatement({
        actions: ['lambda:InvokeFunction'],
        resources: [f.plan, f.extract, f.load, f.commit, f.abort, f.verify].map((fn) => fn.functionArn),
      }),
    );
    // The Distributed Map (ExtractChunksDistributed) reads the staged chunk list and runs each chunk as a child
    // execution of this same state machine. A separate policy: the state machine must not depend on its own ARN.
    const stack = Stack.of(this);
    new Policy(this, 'DistributedMapPolicy', {
      roles: [this.stateMachine.role],
      statements: [
        new PolicyStatement({
          actions: ['s3:GetObject'],
          resources: [props.stagingBucket.arnForObjects('*/plan.json')],
        }),
        new PolicyStatement({ actions: ['states:StartExecution'], resources: [this.stateMachine.stateMachineArn] }),
        new PolicyStatement({
          actions: ['states:DescribeExecution', 'states:StopExecution'],
          resources: [
            stack.formatArn({
              service: 'states',
              resource: 'execution',
              resourceName: `${this.stateMachine.stateMachineName}/*`,
              arnFormat: ArnFormat.COLON_RESOURCE_NAME,
            }),
          ],
        }),
      ],
    });
  }
}
