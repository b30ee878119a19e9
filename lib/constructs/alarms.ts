import { Duration } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, Metric, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';

export interface AlarmsProps {
  readonly stateMachine: IStateMachine;
  /** @default no subscription (subscribe to the topic yourself) */
  readonly email?: string;
  /** The Powertools namespace and service the Lambdas emit under. @default 'Highwater' / 'highwater' */
  readonly metricsNamespace?: string;
  readonly serviceName?: string;
}

/** A failed execution → an SNS topic (encrypted, TLS only) → email when configured. */
export class Alarms extends Construct {
  public readonly topic: Topic;
  public readonly topicKey: Key;
  public readonly executionsFailed: Alarm;
  public readonly tableDiffers: Alarm;

  constructor(scope: Construct, id: string, props: AlarmsProps) {
    super(scope, id);
    // A customer managed key: CloudWatch cannot publish to a topic under the AWS managed SNS key.
    this.topicKey = new Key(this, 'TopicKey', { enableKeyRotation: true, description: 'Highwater alarm topic' });
    this.topicKey.grant(new ServicePrincipal('cloudwatch.amazonaws.com'), 'kms:Decrypt', 'kms:GenerateDataKey*');
    this.topic = new Topic(this, 'Topic', { masterKey: this.topicKey, enforceSSL: true });
    if (props.email) this.topic.addSubscription(new EmailSubscription(props.email));
    this.executionsFailed = new Alarm(this, 'ExecutionsFailed', {
      alarmDescription: 'A Highwater sync execution failed (its watermark did not move; see the execution history)',
      metric: props.stateMachine.metricFailed({ period: Duration.minutes(5), statistic: 'Sum' }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    this.executionsFailed.addAlarmAction(new SnsAction(this.topic));
    // The Verify step (verify_every) emits TableDiffers: 1 for a table whose warehouse differs from the source. The
    // per-table metric is for the dashboard; this one, without the table, is what an alarm can watch.
    this.tableDiffers = new Alarm(this, 'TableDiffers', {
      alarmDescription:
        'A verification found the warehouse different from the source (see the run report; `highwater verify --repair` fixes it)',
      metric: new Metric({
        namespace: props.metricsNamespace ?? 'Highwater',
        metricName: 'TableDiffers',
        dimensionsMap: { service: props.serviceName ?? 'highwater' },
        period: Duration.minutes(5),
        statistic: 'Maximum',
      }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    this.tableDiffers.addAlarmAction(new SnsAction(this.topic));
  }
}
