import { Duration } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
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
}

/** A failed execution → an SNS topic (encrypted, TLS only) → email when configured. */
export class Alarms extends Construct {
  public readonly topic: Topic;
  public readonly topicKey: Key;
  public readonly executionsFailed: Alarm;

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
  }
}
