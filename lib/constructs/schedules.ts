import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { CfnSchedule } from 'aws-cdk-lib/aws-scheduler';
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { RunRequestSchema } from '../../lambdas/domain/manifests.js';
import type { PipelineSchedule } from '../deployed-pipelines.js';

export interface SchedulesProps {
  readonly stateMachine: IStateMachine;
  /** One EventBridge Scheduler schedule each. */
  readonly schedules: readonly PipelineSchedule[];
  /**
   * Schedule expressions are evaluated in this time zone.
   * @default 'UTC'
   */
  readonly timeZone?: string;
}

/** The input a scheduled run starts with: every table of the pipeline, with the pipeline's processing options. */
export function scheduledRunInput(s: PipelineSchedule): string {
  return JSON.stringify(RunRequestSchema.parse({ pipeline: s.pipeline, tables: [...s.tables], options: s.options }));
}

/** EventBridge Scheduler schedules that start the state machine, one per pipeline with a `schedule:`. */
export class Schedules extends Construct {
  public readonly role: Role;
  /** By pipeline name. */
  public readonly schedules: ReadonlyMap<string, CfnSchedule>;

  constructor(scope: Construct, id: string, props: SchedulesProps) {
    super(scope, id);
    this.role = new Role(this, 'Role', { assumedBy: new ServicePrincipal('scheduler.amazonaws.com') });
    props.stateMachine.grantStartExecution(this.role);
    const schedules = new Map<string, CfnSchedule>();
    for (const s of props.schedules) {
      schedules.set(
        s.pipeline,
        new CfnSchedule(this, `Schedule-${s.pipeline}`, {
          description: `Highwater pipeline ${s.pipeline}`,
          scheduleExpression: s.expression,
          scheduleExpressionTimezone: props.timeZone ?? 'UTC',
          flexibleTimeWindow: { mode: 'OFF' },
          state: 'ENABLED',
          target: {
            arn: props.stateMachine.stateMachineArn,
            roleArn: this.role.roleArn,
            input: scheduledRunInput(s),
            retryPolicy: { maximumRetryAttempts: 0 },
          },
        }),
      );
    }
    this.schedules = schedules;
  }
}
