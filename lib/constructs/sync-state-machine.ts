import { ArnFormat, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Rule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { Policy, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import { DefinitionBody, LogLevel, StateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { EXECUTION_STATUS_CHANGE, REAPED_STATUSES } from '../../lambdas/handlers/reap.js';
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
  /** Builds the table state machine's ASL (JSONPath) from the functions' ARNs; tokens are resolved by the stack. */
  readonly tableDefinition: (arns: DefinitionArns) => Record<string, unknown>;
  /** Builds the sync state machine's ASL from the table state machine's ARN. */
  readonly syncDefinition: (tableStateMachineArn: string) => Record<string, unknown>;
  /** @default RetentionDays.ONE_MONTH */
  readonly logRetention?: RetentionDays;
  /** @default false: the log groups are retained */
  readonly removeOnDestroy?: boolean;
}

/**
 * The two state machines (lambdas/orchestration/definition.ts) with execution logs (ALL) and X-Ray tracing: the
 * sync state machine, which schedules and the CLI start, runs each table as a child execution of the table state
 * machine; and the reaper: an EventBridge rule that sends every table execution that failed, timed out or was
 * stopped to the Abort function, which ends the runs it held (lambdas/handlers/reap.ts). Timeouts are in the
 * definitions themselves (TimeoutSeconds), so the local runner enforces the same ones.
 */
export class SyncStateMachine extends Construct {
  /** The sync state machine: what a schedule, the console or the CLI starts. */
  public readonly stateMachine: StateMachine;
  /** The table state machine: one execution per table of a run. */
  public readonly tableStateMachine: StateMachine;
  public readonly logGroup: LogGroup;
  public readonly tableLogGroup: LogGroup;
  /** The reaper's rule. */
  public readonly reaperRule: Rule;

  constructor(scope: Construct, id: string, props: SyncStateMachineProps) {
    super(scope, id);
    const f = props.functions;
    const logs = (logId: string) =>
      new LogGroup(this, logId, {
        retention: props.logRetention ?? RetentionDays.ONE_MONTH,
        removalPolicy: props.removeOnDestroy ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
      });
    this.logGroup = logs('Logs');
    this.tableLogGroup = logs('TableLogs');
    const stack = Stack.of(this);

    const tableAsl = props.tableDefinition({
      plan: f.plan.functionArn,
      extract: f.extract.functionArn,
      load: f.load.functionArn,
      commit: f.commit.functionArn,
      abort: f.abort.functionArn,
      verify: f.verify.functionArn,
    });
    this.tableStateMachine = new StateMachine(this, 'TableStateMachine', {
      definitionBody: DefinitionBody.fromString(stack.toJsonString(tableAsl)),
      tracingEnabled: true,
      logs: { destination: this.tableLogGroup, level: LogLevel.ALL, includeExecutionData: true },
    });
    // fromString cannot see the ARNs inside the JSON: grant the invocations explicitly, on the unqualified ARNs the
    // definition uses (grantInvoke would add every version and alias, `:*`).
    this.tableStateMachine.addToRolePolicy(
      new PolicyStatement({
        actions: ['lambda:InvokeFunction'],
        resources: [f.plan, f.extract, f.load, f.commit, f.abort, f.verify].map((fn) => fn.functionArn),
      }),
    );
    const executionsOf = (machine: StateMachine) =>
      stack.formatArn({
        service: 'states',
        resource: 'execution',
        resourceName: `${machine.stateMachineName}/*`,
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      });
    // The Distributed Map (ExtractChunksDistributed) reads the staged chunk list and runs each chunk as a child
    // execution of the table state machine. A separate policy: a state machine must not depend on its own ARN.
    new Policy(this, 'DistributedMapPolicy', {
      roles: [this.tableStateMachine.role],
      statements: [
        new PolicyStatement({
          actions: ['s3:GetObject'],
          resources: [props.stagingBucket.arnForObjects('*/plan.json')],
        }),
        new PolicyStatement({
          actions: ['states:StartExecution'],
          resources: [this.tableStateMachine.stateMachineArn],
        }),
        new PolicyStatement({
          actions: ['states:DescribeExecution', 'states:StopExecution'],
          resources: [executionsOf(this.tableStateMachine)],
        }),
      ],
    });

    this.stateMachine = new StateMachine(this, 'StateMachine', {
      definitionBody: DefinitionBody.fromString(
        stack.toJsonString(props.syncDefinition(this.tableStateMachine.stateMachineArn)),
      ),
      tracingEnabled: true,
      logs: { destination: this.logGroup, level: LogLevel.ALL, includeExecutionData: true },
    });
    // RunTable (states:startExecution.sync:2) starts a table execution, follows it, and stops it if the sync
    // execution is stopped; `.sync` follows it through a managed EventBridge rule.
    // https://docs.aws.amazon.com/step-functions/latest/dg/stepfunctions-iam.html
    this.stateMachine.addToRolePolicy(
      new PolicyStatement({ actions: ['states:StartExecution'], resources: [this.tableStateMachine.stateMachineArn] }),
    );
    this.stateMachine.addToRolePolicy(
      new PolicyStatement({
        actions: ['states:DescribeExecution', 'states:StopExecution'],
        resources: [executionsOf(this.tableStateMachine)],
      }),
    );
    this.stateMachine.addToRolePolicy(
      new PolicyStatement({
        actions: ['events:PutTargets', 'events:PutRule', 'events:DescribeRule'],
        resources: [
          stack.formatArn({
            service: 'events',
            resource: 'rule',
            resourceName: 'StepFunctionsGetEventsForStepFunctionsExecutionRule',
          }),
        ],
      }),
    );

    // The reaper: a table execution that ended without its own Catch running (failed outside it, timed out,
    // stopped) has its runs ended by the Abort function, which tells this event from a Catch's by its shape.
    // https://docs.aws.amazon.com/eventbridge/latest/ref/events-ref-states.html
    this.reaperRule = new Rule(this, 'ReaperRule', {
      description: 'Highwater: end the runs of a table execution that failed, timed out or was stopped',
      eventPattern: {
        source: ['aws.states'],
        detailType: [EXECUTION_STATUS_CHANGE],
        detail: {
          status: [...REAPED_STATUSES],
          stateMachineArn: [this.tableStateMachine.stateMachineArn],
        },
      },
      targets: [new LambdaFunction(f.abort, { retryAttempts: 8, maxEventAge: Duration.hours(6) })],
    });
  }
}
