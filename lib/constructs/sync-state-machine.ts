import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { DefinitionBody, LogLevel, StateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { DefinitionArns } from '../../lambdas/orchestration/definition.js';

export interface SyncFunctions {
  readonly plan: IFunction;
  readonly extract: IFunction;
  readonly load: IFunction;
  readonly commit: IFunction;
  readonly abort: IFunction;
}

export interface SyncStateMachineProps {
  readonly functions: SyncFunctions;
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
        resources: [f.plan, f.extract, f.load, f.commit, f.abort].map((fn) => fn.functionArn),
      }),
    );
  }
}
